// bench/memory/recall.h — memory_bench's in-process part: long conversations written
// straight into a SqliteStore (one user x one character per language), then probes built
// into prompts through the prompt inspector's code path (ChatService::InspectPrompt with
// PersonaPromptBuilder and a MemoryService), tokens counted by the real tokenizer.
//
// Thread safety: one owner.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "corpus.h"
#include "engine/engine.h"
#include "store/store.h"

namespace tokki::bench::memory {

struct RecallOptions {
  int n_messages = 10000;  // stored messages per relationship (user/assistant alternating)
  int n_ctx = 8192;        // the prompt builder's window
  int n_reply_tokens = 512;
  uint64_t seed = 20240303;
};

// One language's relationship, written once and probed by every retrieval mode.
class Relationship {
 public:
  // Creates a store in a new temporary directory and writes the conversation into it.
  // `engine` only opens the conversation (ChatService). Null (and a message on stderr) on
  // failure.
  static std::unique_ptr<Relationship> Write(const Language& lang, const RecallOptions& o,
                                             engine::Engine* engine);
  ~Relationship();  // removes the directory

  const Language& language() const { return lang_; }
  store::Store* store() const { return store_.get(); }
  Id user_id() const { return user_id_; }
  Id conversation_id() const { return conversation_id_; }
  int64_t n_messages() const { return n_messages_; }
  double write_s() const { return write_s_; }

 private:
  explicit Relationship(const Language& lang) : lang_(lang) {}
  const Language& lang_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  Id user_id_ = kNoId;
  Id conversation_id_ = kNoId;
  int64_t n_messages_ = 0;
  double write_s_ = 0;
};

// What one retrieval mode gave on one language.
struct RecallFigures {
  std::string mode;  // "bm25" | "hybrid"
  std::string lang;
  bool dense = false;      // the engine reported embeddings available
  int64_t n_embedded = 0;  // messages the service embedded before the probes
  double embed_s = 0;      // the first prompt and waiting for that backlog
  int shared_hits = 0, shared_n = 0;
  int paraphrase_hits = 0, paraphrase_n = 0;
  std::vector<double> recalled_tokens;  // per probe: tokens of the `recalled` section
  std::vector<double> build_ms;         // per probe: InspectPrompt wall time
  std::vector<double> prompt_tokens;    // per probe: the builder's count
  int errors = 0;
  std::string first_error;
  std::vector<std::string> missed;  // shared-word probes whose fact was not in the prompt
};

// MEMORY_BENCH_SHOW_MISSES=1 prints the recalled section of every missed probe on stderr.
// Asks every probe of `rel`'s language (shared-word and paraphrase, `rounds` times each:
// the first round warms the caches and is not timed) through InspectPrompt on `engine`.
RecallFigures ProbeRelationship(const Relationship& rel, engine::Engine* engine,
                                const std::string& mode, const RecallOptions& o, int rounds);

}  // namespace tokki::bench::memory
