// tokki/chat/memory_service.h — what a friend remembers: memories (notes and pins), the
// rolling "story so far", recall of old turns, and forgetting. docs/memory.md has the
// design and the measured figures.
//
// Memory belongs to a relationship (one user x one character) and is shared by all of
// that user's conversations with the character. Every call takes the acting user and one
// of their conversations; another user's conversation is NotFound, so one user's
// memories never reach another's prompt or answer.
//
// Recall: only a user message that brings up something specific the window does not hold
// asks for it (its terms minus those of the kept history, NewTerms, that at most
// recall_term_max_messages old messages hold); those terms, and separately the previous
// reply's, are searched in the relationship's indexed
// messages (store SearchMessages, BM25), each list ranked by BM25 x recency x importance,
// skipping what the prompt already holds, and fused by weighted reciprocal rank fusion
// (the message 1, the reply 0.5: a chatty reply must not crowd out what the user asked
// about); near-duplicates are dropped and persona::BuildPrompt keeps the best that fit
// its token budget. With an embedding model (the engine's Info().embedding), messages are
// also embedded in the background and the message is embedded each turn; its nearest
// messages by cosine join the fusion (1), on every turn (paraphrases share no words).
// Vectors of recently used relationships stay in memory (kMaxCachedRelationships).
//
// Summaries: when history leaves the prompt's window, a job summarises the newest
// messages that left it (after the summary's coverage; at most summary_input_tokens) into
// a new summary version. Jobs run one at a time
// on the service's thread at engine Priority::kBackground, so they use only capacity no
// user's reply needs (the engine parks them when a reply arrives). A conversation's
// prompts keep the summary version they used while the window keeps its first message;
// a newer generated version comes in when the window next moves (AfterPrompt), so the
// cached history after the summary is invalidated once, not twice. A version the user
// wrote comes in at once.
//
// Thread safety: all methods are thread-safe. Start reading at Prepare().
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "core/result.h"
#include "core/thread_annotations.h"
#include "engine/engine.h"
#include "persona/prompt.h"
#include "store/store.h"

namespace tokki::chat {

struct MemoryOptions {
  int max_items = 50;               // memories per relationship
  size_t max_chars = 2000;          // characters per memory
  size_t max_summary_chars = 4000;  // characters of a summary the user writes
  int recall_candidates = 40;       // full-text hits ranked per turn
  int recall_max_tokens = 384;      // prompt tokens for recalled passages
  // A term asks for recall only when at most this many of the relationship's messages
  // hold it (about what the recall block shows): a word found everywhere singles nothing out.
  int recall_term_max_messages = 8;
  bool summaries = true;            // run the summary job
  int summary_max_tokens = 200;     // length of one generated summary
  int summary_input_tokens = 1500;  // newest history one job reads at most
  bool demo_model = false;          // the engine is the generated demo model
  bool dense_recall = true;         // embeddings too, when the engine has an embedder
  int dense_candidates = 20;        // nearest messages fused per turn
  int embed_batch = 32;             // messages embedded per Embed call
};

struct MemoryView {
  std::vector<store::Memory> items;
  std::optional<store::MemorySummary> summary;
};

struct MemoryStats {
  int64_t summaries_written = 0;
  int64_t summaries_failed = 0;
  int64_t summary_jobs_queued = 0;
  int64_t messages_embedded = 0;
};

class MemoryService {
 public:
  // `engine` may be null (no summaries then).
  MemoryService(store::Store* store, engine::Engine* engine, MemoryOptions options);
  ~MemoryService();

  const MemoryOptions& options() const { return options_; }

  Result<MemoryView> List(Id user_id, Id conversation_id);
  // InvalidArgument past the limits (saying which), or for empty text.
  Result<store::Memory> AddNote(Id user_id, Id conversation_id, std::string content);
  // The message must be in one of the relationship's conversations (NotFound otherwise);
  // AlreadyExists when it is pinned.
  Result<store::Memory> Pin(Id user_id, Id conversation_id, Id message_id);
  Result<store::Memory> Edit(Id user_id, Id conversation_id, Id memory_id, std::string content);
  Status Delete(Id user_id, Id conversation_id, Id memory_id);
  Result<std::vector<store::Memory>> Reorder(Id user_id, Id conversation_id,
                                             const std::vector<Id>& ids);
  // A new summary version written by the user ("" clears the summary).
  Result<store::MemorySummary> SetSummary(Id user_id, Id conversation_id, std::string content);
  // The message stays in the chat and is never recalled again.
  Status Forget(Id user_id, Id conversation_id, Id message_id);

  // Fills the relationship's memories, summary and recall into `in` (whose history
  // messages carry their ids). Recall looks for `last_user` (the message being answered)
  // first and `last_reply` (the character's previous reply) second.
  Status Prepare(const store::Conversation& conversation, std::string last_user,
                 std::string last_reply, persona::PromptInput* in);
  // After a prompt was built from `in` for the selected path (`path`: its message ids,
  // oldest first) with `n_dropped` oldest messages left out. When the window's first
  // message moved and a newer summary than the one `in` used exists, puts it in `in` and
  // returns true: build the prompt again and call this again. Otherwise, unless
  // `dry_run` (the prompt inspector), remembers the window and the summary used, queues a
  // summary job when the dropped messages reach past the summary's coverage, and returns
  // false.
  bool AfterPrompt(const store::Conversation& conversation, const std::vector<Id>& path,
                   int n_dropped, persona::PromptInput* in, bool dry_run = false)
      TOKKI_EXCLUDES(mu_);
  static constexpr size_t kMaxHeldSummaries = 4096;  // conversations remembered

  // Ranking of recall (exposed for tests): full-text hits → passages, best first.
  static std::vector<persona::RecalledPassage> Rank(std::vector<store::RecallHit> hits,
                                                    int64_t now_ms);
  // Weighted reciprocal rank fusion (k = 60) of rankings (best first) of message ids:
  // score(id) = sum of weight / (60 + rank).
  static std::vector<Id> Fuse(const std::vector<std::pair<std::vector<Id>, double>>& rankings);
  // Passages without near-duplicates (term sets overlapping by kNearDuplicate or more,
  // Jaccard), keeping the first of each group.
  static std::vector<persona::RecalledPassage> WithoutNearDuplicates(
      std::vector<persona::RecalledPassage> passages);
  static constexpr double kNearDuplicate = 0.6;
  // The `terms` (QueryTerms) that no `window` message holds, in order, leaving out the
  // newest user message and the reply before it (the query's own text).
  static std::vector<std::string> NewTerms(std::span<const persona::PromptMessage> window,
                                           const std::vector<std::string>& terms);
  // True when recall uses embeddings too.
  bool dense() const { return dense_; }
  static constexpr size_t kMaxCachedRelationships = 64;

  // Waits until no summary job is queued or running (tests, shutdown).
  void WaitIdle() TOKKI_EXCLUDES(mu_);
  void Shutdown() TOKKI_EXCLUDES(mu_);
  MemoryStats Stats() const TOKKI_EXCLUDES(mu_);

 private:
  struct Job {
    Id user_id = kNoId;
    Id character_id = kNoId;
    Id conversation_id = kNoId;
    Id until_message_id = kNoId;  // the newest message that left the window
  };
  // A relationship's message vectors, loaded incrementally from the store.
  struct VectorSet {
    Mutex mu;
    Id last_id TOKKI_GUARDED_BY(mu) = kNoId;
    size_t dim TOKKI_GUARDED_BY(mu) = 0;
    std::vector<Id> ids TOKKI_GUARDED_BY(mu);
    std::vector<float> data TOKKI_GUARDED_BY(mu);  // ids.size() x dim, unit rows
    int64_t last_used TOKKI_GUARDED_BY(mu) = 0;
  };
  using Pair = std::pair<Id, Id>;  // (user, character)
  // The summary a conversation's prompts use while its window keeps its first message.
  struct HeldSummary {
    Pair pair;
    Id window_first = kNoId;
    int version = 0;  // 0: none
    std::string content;
    int64_t used = 0;  // use_clock_
  };
  void QueueSummary(const store::Conversation& conv, Id until,
                    const std::optional<store::MemorySummary>& latest) TOKKI_EXCLUDES(mu_);
  Result<store::Conversation> Owned(Id user_id, Id conversation_id);
  // A message in any conversation of `conv`'s relationship, or a memory of it; NotFound
  // otherwise (another user's looks unknown).
  Result<store::Message> RelationshipMessage(const store::Conversation& conv, Id message_id);
  Result<store::Memory> RelationshipMemory(const store::Conversation& conv, Id memory_id);
  std::vector<persona::RecalledPassage> Recall(const store::Conversation& conv,
                                               const std::string& last_user,
                                               const std::string& last_reply,
                                               std::span<const persona::PromptMessage> window);
  // The `terms` at most options_.recall_term_max_messages old messages hold, in order.
  std::vector<std::string> SpecificTerms(const store::Conversation& conv,
                                         std::vector<std::string> terms);
  // BM25 hits for `terms`, ranked (Rank).
  std::vector<persona::RecalledPassage> Search(const store::Conversation& conv,
                                               const std::vector<std::string>& terms,
                                               const std::vector<Id>& in_window);
  // Nearest messages to `query` among the relationship's vectors, best first.
  std::vector<Id> Nearest(Pair pair, const std::string& query, const std::vector<Id>& in_window)
      TOKKI_EXCLUDES(mu_);
  std::shared_ptr<VectorSet> Vectors(Pair pair) TOKKI_EXCLUDES(mu_);
  void QueueEmbedding(Pair pair) TOKKI_EXCLUDES(mu_);
  Status EmbedBacklog(Pair pair);
  Status CheckText(const std::string& content) const;
  void Worker() TOKKI_EXCLUDES(mu_);
  Status RunJob(const Job& job);

  store::Store* const store_;
  engine::Engine* const engine_;
  const MemoryOptions options_;

  mutable Mutex mu_;
  CondVar cv_;
  std::deque<Job> queue_ TOKKI_GUARDED_BY(mu_);
  std::set<Pair> pending_ TOKKI_GUARDED_BY(mu_);  // summary queued or running
  std::deque<Pair> embed_queue_ TOKKI_GUARDED_BY(mu_);
  std::set<Pair> embed_pending_ TOKKI_GUARDED_BY(mu_);
  std::map<Pair, std::shared_ptr<VectorSet>> vectors_ TOKKI_GUARDED_BY(mu_);
  std::unordered_map<Id, HeldSummary> held_ TOKKI_GUARDED_BY(mu_);  // by conversation
  int64_t use_clock_ TOKKI_GUARDED_BY(mu_) = 0;
  bool dense_ = false;
  std::string embed_model_;
  bool running_ TOKKI_GUARDED_BY(mu_) = false;
  bool stopping_ TOKKI_GUARDED_BY(mu_) = false;
  std::shared_ptr<engine::Generation> current_ TOKKI_GUARDED_BY(mu_);
  MemoryStats stats_ TOKKI_GUARDED_BY(mu_);
  std::thread worker_;
};

}  // namespace tokki::chat
