// tokki/engine/engine.h — the Engine interface: turns a chat (message list) into a
// stream of reply tokens.
//
// Implementations: the embedded llama.cpp engine (llama_engine.h) and the
// OpenAI-compatible remote client (remote_engine.h). Tests provide their own. Embed comes
// from an Embedder (embedder.h) the engine was opened with.
//
// Thread safety: every method may be called from any thread. Callbacks of one
// generation are called one at a time, in order, from an engine-owned thread; they must
// return quickly (post the work elsewhere) and must not call back into the engine
// except Generation::Cancel().
//
// Start reading at Engine::Submit.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace tokki::engine {

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

struct SamplingParams {
  int max_tokens = 256;
  float temperature = 0.8f;
  float top_p = 0.95f;
  float min_p = 0.05f;
  int top_k = 40;
  float repeat_penalty = 1.0f;  // 1.0 = off
  int repeat_last_n = 64;
  float dry_multiplier = 0.0f;  // 0 = DRY off
  float dry_base = 1.75f;
  int dry_allowed_length = 2;
  uint32_t seed = 0xFFFFFFFF;     // 0xFFFFFFFF = random
  bool ignore_eos = false;        // for benchmarks: always produce max_tokens
  std::vector<std::string> stop;  // stop strings (not included in the output)
  // Additive logit bias per token id of the engine's tokenizer (e.g. LlamaEngine::Tokenize;
  // a remote backend passes it on as OpenAI `logit_bias`).
  std::vector<std::pair<int32_t, float>> logit_bias;
  // Constrained output, at most one of the two (CheckRequest states the rules): the reply
  // is a JSON document valid under `json_schema` (JSON Schema text), or text matching the
  // GBNF `grammar` (llama.cpp's grammar format, start rule `root`). The embedded engine
  // samples only tokens the grammar allows and finishes with "stop" when it is complete;
  // a remote backend gets OpenAI `response_format` or llama-server's `grammar`.
  std::string json_schema;
  std::string grammar;
};

// Who is waiting for a generation. Interactive replies (a user just sent a message) go
// first, then regenerations and continuations; background work (summaries, proactive
// messages, drafts) runs only in capacity nobody else needs and gives way at once.
enum class Priority { kInteractive = 0, kRegenerate = 1, kBackground = 2 };

struct GenerateRequest {
  // Identity of the conversation, used to keep its KV cache between turns ("" = none).
  std::string conversation_key;
  // Identity of the user it is for ("" = anonymous): admission is fair across users, so
  // one user's many requests cannot starve another's.
  std::string user_key;
  Priority priority = Priority::kInteractive;
  // Identity of the static persona block (e.g. "character:12:rev:3"); messages
  // [0, n_static_messages) are that block, byte-identical for every user of the
  // character, so the engine can prefill it once and share it.
  std::string prefix_key;
  size_t n_static_messages = 0;
  std::vector<ChatMessage> messages;
  // When true the last message is an assistant message to be continued (no new turn).
  bool continue_last = false;
  SamplingParams sampling;
};

// The longest JSON schema or grammar text an engine accepts.
inline constexpr size_t kMaxConstraintBytes = 64 * 1024;

// The checks every engine makes at Submit (kInvalidArgument): at least one message, a
// positive max_tokens, and for constrained output at most one of a JSON schema and a
// grammar, each at most kMaxConstraintBytes without NUL bytes, and no ignore_eos (a
// constrained reply ends when its grammar is complete). Each engine then checks the
// schema or grammar itself: the embedded one builds it (grammar.h), a remote one parses
// the schema it sends.
inline Status CheckRequest(const GenerateRequest& r) {
  if (r.messages.empty()) return Status::InvalidArgument("no messages");
  const SamplingParams& s = r.sampling;
  if (s.max_tokens <= 0) return Status::InvalidArgument("max_tokens must be positive");
  if (s.json_schema.empty() && s.grammar.empty()) return Status::Ok();
  if (!s.json_schema.empty() && !s.grammar.empty())
    return Status::InvalidArgument("give a JSON schema or a grammar, not both");
  if (s.ignore_eos)
    return Status::InvalidArgument(
        "ignore_eos cannot be used with a JSON schema or grammar: the reply ends when it is complete");
  const std::string& text = s.json_schema.empty() ? s.grammar : s.json_schema;
  if (text.size() > kMaxConstraintBytes)
    return Status::InvalidArgument("the JSON schema or grammar is over " +
                                   std::to_string(kMaxConstraintBytes) + " bytes");
  if (text.find('\0') != std::string::npos)
    return Status::InvalidArgument("the JSON schema or grammar must not contain NUL bytes");
  return Status::Ok();
}

struct Usage {
  int prompt_tokens = 0;      // tokens in the rendered prompt
  int cached_tokens = 0;      // of those, reused from cache (not prefilled)
  int completion_tokens = 0;  // tokens generated
};

// Why a generation ended.
enum class FinishReason {
  kStop,           // end of turn, or a stop string
  kLength,         // max_tokens or the context limit
  kCancelled,      // Generation::Cancel or shutdown
  kContentFilter,  // a policy refused the text (set by the caller or the backend)
};

// The OpenAI-style name ("stop", "length", "cancelled", "content_filter").
inline std::string_view FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kContentFilter: return "content_filter";
  }
  return "stop";
}

// The reverse of FinishReasonName; an unknown name (a backend's own) counts as kStop.
inline FinishReason ParseFinishReason(std::string_view name) {
  if (name == "length") return FinishReason::kLength;
  if (name == "cancelled") return FinishReason::kCancelled;
  if (name == "content_filter") return FinishReason::kContentFilter;
  return FinishReason::kStop;
}

struct GenerateResult {
  FinishReason finish_reason = FinishReason::kStop;
  Usage usage;
  double ttft_ms = 0;   // submit -> first token
  double total_ms = 0;  // submit -> done
};

// Streaming callbacks. `on_token` gets each decoded piece of text (valid UTF-8 boundaries
// are the engine's job). `on_done` is called exactly once, last.
struct GenerateCallbacks {
  std::function<void(std::string_view text)> on_token;
  std::function<void(Result<GenerateResult> result)> on_done;
};

// A submitted generation. Dropping the handle does not cancel it.
class Generation {
 public:
  virtual ~Generation() = default;
  // Stops the generation as soon as possible; on_done then reports "cancelled".
  // Idempotent; safe after completion.
  virtual void Cancel() = 0;
};

// One vector per input text, in input order (see Engine::Embed).
using Embeddings = std::vector<std::vector<float>>;

// What Engine::Embed offers.
struct EmbeddingInfo {
  bool available = false;   // false: Embed answers kUnavailable
  std::string model;        // name of the embedding model
  std::string backend;      // "llama.cpp" | "openai"
  int n_dim = 0;            // length of every vector (0 = unknown until a remote server answers)
  std::string pooling;      // "mean" | "cls" | "last" ("" = the remote server's choice)
  int max_text_tokens = 0;  // longer texts keep their first tokens (0 = the remote server's rule)
};

struct ModelInfo {
  std::string name;           // model or backend name
  std::string backend;        // "llama.cpp" | "openai" | ...
  int n_ctx = 0;              // context window in tokens (0 = unknown)
  bool is_generated = false;  // a random-weight model made by `tokki model gen`
  EmbeddingInfo embedding;
};

// Counters for /metrics.
struct EngineStats {
  int64_t queue_depth = 0;
  int64_t active_sequences = 0;
  int64_t resident_sequences = 0;
  int64_t host_sequences = 0;
  int64_t disk_sequences = 0;
  int64_t prompt_tokens_total = 0;
  int64_t cached_tokens_total = 0;
  int64_t prefill_tokens_total = 0;
  int64_t decode_tokens_total = 0;
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Queues a generation. Returns kUnavailable at once when the queue is full (the API
  // answers 503 with Retry-After), kInvalidArgument for a bad request.
  virtual Result<std::shared_ptr<Generation>> Submit(GenerateRequest request,
                                                     GenerateCallbacks callbacks) = 0;

  // Number of tokens `text` takes with this engine's tokenizer (an estimate when the
  // engine has none).
  virtual int CountTokens(std::string_view text) const = 0;

  virtual ModelInfo Info() const = 0;
  virtual EngineStats Stats() const = 0;

  // One L2-normalised vector per text, in order, each ModelInfo::embedding.n_dim long
  // (dense retrieval). Blocks the calling thread until done, so call it from a worker,
  // never from an I/O thread or an engine callback. An empty list gives an empty list; an
  // empty text is kInvalidArgument; a text longer than the embedding model's limit is
  // truncated (embedder.h). kUnavailable when no embedding model is configured.
  virtual Result<Embeddings> Embed(const std::vector<std::string>& /*texts*/) {
    return Status::Unavailable("no embedding model configured");
  }

  // Forgets any cached state of a conversation (it was deleted or edited).
  virtual void Forget(std::string_view conversation_key) {}

  // Stops accepting work, cancels what is running, joins threads. Idempotent.
  virtual void Shutdown() {}
};

}  // namespace tokki::engine
