// tokki/engine/llama_engine_impl.h — the embedded engine's internal state, shared by its
// parts (not a public header: only src/engine/llama_*.cc include it).
//
//   llama_engine.cc    loading the model, the public methods
//   llama_scheduler.cc the decode thread: admission, one batched step, sampling, finishing
//   llama_kv_cache.cc  sequences and cells: persona prefixes, per-conversation caches,
//                      eviction to the host/disk tiers (kv_tiers.h) and restore
//   sampler.cc         the sampler chain of one request
//   text_stream.cc     UTF-8 holdback and stop strings
//
// Threads: callers touch only what `mu` guards (queue, commands, replies); everything
// else belongs to the decode thread (Run), which alone calls into the llama_context.
#pragma once

#include <llama.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "engine/kv_tiers.h"
#include "engine/llama_engine.h"
#include "engine/prompt.h"
#include "engine/snapshot.h"
#include "engine/text_stream.h"

namespace tokki::engine {
namespace internal {

// Lets a Generation handle wake the decode thread without outliving the engine.
struct Waker {
  Mutex mu;
  CondVar* cv TOKKI_GUARDED_BY(mu) = nullptr;  // null once the engine is gone
  void Wake() TOKKI_EXCLUDES(mu) {
    MutexLock lock(&mu);
    if (cv) cv->Signal();
  }
};

class GenerationHandle : public Generation {
 public:
  explicit GenerationHandle(std::shared_ptr<Waker> waker) : waker_(std::move(waker)) {}
  void Cancel() override {
    cancelled_.store(true);
    waker_->Wake();
  }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
  std::shared_ptr<Waker> waker_;
};

struct Prefix;

// A conversation's cache. Decode thread only. Resident while seq >= 0; otherwise its
// snapshot, if any, is in the host or disk tier under `key`.
struct Conversation {
  std::string key;                  // "" = one-off request, freed after it finishes
  int seq = -1;                     // resident sequence id, -1 when not resident
  std::vector<llama_token> tokens;  // tokens in the KV cache (resident)
  std::shared_ptr<Prefix> prefix;   // cells [0, shared_len) are shared with this prefix
  size_t shared_len = 0;
  int64_t last_used_us = 0;
  bool busy = false;              // a request is using it
  bool forget_when_done = false;  // Forget() arrived while busy
};

// A shared persona prefix. Decode thread only.
struct Prefix {
  std::string key;
  int seq = -1;  // -1: dropped (its cells may live on in conversations, see refs)
  std::vector<llama_token> tokens;
  int refs = 0;          // conversations sharing its cells
  bool pending = false;  // being prefilled by `owner`
  uint64_t owner = 0;
  int64_t last_used_us = 0;
};

enum class Phase { kWaitPrefix, kPrefill, kGenerate };

// One submitted generation.
struct Request {
  uint64_t id = 0;
  GenerateRequest req;
  RenderedPrompt prompt;
  GenerateCallbacks cb;
  std::shared_ptr<GenerationHandle> handle;
  int64_t t_submit_us = 0;
  int64_t t_first_us = 0;
  // Decode-thread state.
  Conversation* conv = nullptr;
  std::unique_ptr<Conversation> own_conv;  // for requests without a conversation_key
  Phase phase = Phase::kPrefill;
  size_t n_past = 0;  // prompt tokens in the KV cache
  llama_sampler* smpl = nullptr;
  std::vector<llama_token> generated;
  llama_token last_token = -1;
  int batch_idx = -1;
  TextStream text;  // what the client sees (UTF-8 and stop strings held back)
  Usage usage;
};

size_t CommonPrefix(const std::vector<llama_token>& a, const std::vector<llama_token>& b);

}  // namespace internal

struct LlamaEngine::Impl {
  using Conversation = internal::Conversation;
  using Prefix = internal::Prefix;
  using Request = internal::Request;
  using Phase = internal::Phase;

  LlamaEngineOptions opt;
  llama_model* model = nullptr;
  llama_context* ctx = nullptr;
  const llama_vocab* vocab = nullptr;
  std::unique_ptr<PromptRenderer> renderer;
  ModelInfo info;
  uint64_t model_hash = 0;
  int seq_ctx_limit = 0;  // max tokens of one sequence
  int n_vocab = 0;
  bool trace = std::getenv("TOKKI_ENGINE_TRACE") != nullptr;  // logs every step
  std::vector<llama_token> eog_tokens;
  std::unique_ptr<KvTiers> tiers;  // host RAM and disk snapshots

  // ---- shared with callers (mu) ----
  mutable Mutex mu;
  CondVar cv;  // wakes the decode thread
  std::shared_ptr<internal::Waker> waker = std::make_shared<internal::Waker>();
  std::deque<std::unique_ptr<Request>> queue TOKKI_GUARDED_BY(mu);
  // Admission order per user (for round robin among users).
  std::unordered_map<std::string, int64_t> last_served TOKKI_GUARDED_BY(mu);
  int64_t n_admitted TOKKI_GUARDED_BY(mu) = 0;
  std::deque<std::function<void()>> commands TOKKI_GUARDED_BY(mu);
  bool stopping TOKKI_GUARDED_BY(mu) = false;
  uint64_t next_id TOKKI_GUARDED_BY(mu) = 1;
  // conversation_key -> generated replies (text, ids), newest last.
  std::unordered_map<std::string, std::deque<std::pair<std::string, std::vector<llama_token>>>>
      replies TOKKI_GUARDED_BY(mu);

  // ---- decode thread ----
  std::thread thread;
  std::vector<std::unique_ptr<Request>> active;
  // Background requests that gave way to more urgent ones: their conversations keep
  // their sequences and KV; they go back into `active` when nobody more urgent waits.
  std::deque<std::unique_ptr<Request>> parked;
  std::unordered_map<std::string, std::unique_ptr<Conversation>> convs;
  std::unordered_map<std::string, std::shared_ptr<Prefix>> prefixes;
  std::list<std::shared_ptr<Prefix>> dropped_prefixes;  // seq == -1, refs > 0
  std::vector<int> free_seqs;
  // Sequences that are the target of a stream copy llama.cpp has not yet made (it makes
  // them at the next llama_decode): their state cannot be read or reused before then.
  std::vector<int> copy_pending;
  llama_batch batch{};
  // Measured step costs (moving averages) that size prefill chunks.
  double decode_step_us = 0;    // a step with generating sequences only
  double prefill_token_us = 0;  // one prompt token on top of that
  static constexpr int kMinPrefillChunk = 32;
  // Prompt tokens per step while only background work runs (see Step).
  static constexpr int kBackgroundPrefillChunk = 32;
  static constexpr int kDecodeHeadroom = 64;  // cells kept per generating reply (unified)

  // ---- stats ----
  std::atomic<int64_t> st_queue{0}, st_active{0}, st_resident{0};
  std::atomic<int64_t> st_prompt{0}, st_cached{0}, st_prefill{0}, st_decode{0};
  std::atomic<int64_t> st_t_prefill_us{0}, st_t_decode_us{0};

  ~Impl() {
    tiers.reset();  // finishes pending snapshot writes
    if (batch.token) llama_batch_free(batch);
    if (ctx) llama_free(ctx);
    if (model) llama_model_free(model);
  }

  // ---- setup (llama_engine.cc) ----
  Status Load();
  void Wake() { cv.Signal(); }

  // Runs `fn` on the decode thread and waits for it.
  template <typename T>
  T RunOnDecodeThread(std::function<T()> fn, T if_stopped) TOKKI_EXCLUDES(mu) {
    auto task = std::make_shared<std::packaged_task<T()>>(std::move(fn));
    std::future<T> fut = task->get_future();
    {
      MutexLock lock(&mu);
      if (stopping) return if_stopped;
      commands.emplace_back([task] { (*task)(); });
    }
    Wake();
    return fut.get();
  }

  // ---- the decode thread (llama_scheduler.cc) ----
  void Run() TOKKI_EXCLUDES(mu);
  bool HasWork() const;
  void FinishQueued(Request& r, Status status);
  // Moves queued requests into `active` while there is room (most urgent first, fair
  // across users); background work only while no user's request runs or waits, and a
  // user's request parks every running background request.
  void Admit() TOKKI_EXCLUDES(mu);
  // The queued request to run next, or queue.end().
  std::deque<std::unique_ptr<Request>>::iterator PickQueued() TOKKI_REQUIRES(mu);
  bool ConversationBusy(const Request& r) const;
  // Parks the newest running background request; false when none runs.
  bool ParkNewestBackground();
  // Parked requests go back to `active` while there is room and no user's request runs
  // or is queued.
  void ResumeParked() TOKKI_EXCLUDES(mu);
  void DropCancelled();
  // Requests waiting for a persona prefix (or a sequence id): retry their setup.
  void RetryWaiting();
  // One llama_decode over every running reply and a budget of prompt tokens.
  void Step();
  // Prompt tokens the next step may add to n_gen generating ones (adaptive prefill).
  int PrefillBudget(int n_gen, int budget_max) const;
  void LearnStepCost(int n_gen, int n_prefilled, int64_t dt_us);
  // Handles a sampled token. Returns a finish reason when the request ends.
  std::optional<FinishReason> Accept(Request* r, llama_token tok);
  void Emit(Request* r, std::string_view text);
  // The cache is full and one running request must give way: background work first;
  // then, fair across users like Admit, one of the user with the most requests running,
  // so one user's many long replies cannot make another user's request fail. Among that
  // user's requests (or when every user runs as many), a prefill goes first, then the
  // newest.
  void FailForRoom(const std::string& why);
  void FinishError(Request* r, Status status) {
    Finish(r, FinishReason::kStop, std::move(status));
  }
  // Ends a request: flushes text, reports, frees its sequence for others (the
  // conversation's KV stays resident for its next turn).
  void Finish(Request* r, FinishReason reason, Status status = Status::Ok()) TOKKI_EXCLUDES(mu);

  // ---- sequences, cells and tiers (llama_kv_cache.cc) ----
  llama_memory_t Mem() const { return llama_get_memory(ctx); }
  int64_t UsedCells() const;
  void UnshareConv(Conversation& c);
  // Truncates a resident conversation's KV to `n` tokens.
  void TruncateConv(Conversation& c, size_t n);
  void ReleaseSeq(Conversation& c);
  void DropPrefix(const std::shared_ptr<Prefix>& p);
  // Frees one sequence (and its cells) by evicting the least recently used idle
  // conversation, else an idle persona prefix. False when nothing can be evicted.
  bool EvictOne();
  int AcquireSeq();
  bool EnsureCells(int64_t n);
  // Gives `dst` the first `n` cached tokens of `src` (shared cells when unified, a stream
  // copy otherwise).
  void CopySeq(int src, int dst, size_t n);
  SnapshotHeader Header(const std::string& key) const;
  std::string SeqState(int seq);
  // Where a conversation's cache is.
  CacheTier TierOf(const Conversation& c) const;
  // Moves an idle resident conversation to the host tier (it may spill on to disk).
  void EvictToHost(Conversation& c);
  // Loads a host/disk snapshot back into a fresh sequence. On any mismatch the
  // conversation simply starts empty (the prompt is recomputed).
  void Restore(Conversation& c, int seq);
  Conversation* FindOrAddConv(const std::string& key);
  // Token ids of the conversation's cache wherever it is (to judge whether restoring
  // pays off), without restoring it.
  std::vector<llama_token> CachedTokens(const Conversation& c);
  // Places the request's conversation in a sequence, reusing the longest cached prefix.
  // Returns false when no sequence id can be found (request waits in the queue).
  bool Setup(Request* r);
  // Once the owner of a pending persona prefix has prefilled it, keep a copy to share.
  void MaybeRegisterPrefix(Request* r);
  // Forgets a conversation everywhere (after it finishes, when it is running).
  void ForgetNow(const std::string& key) TOKKI_EXCLUDES(mu);
};

}  // namespace tokki::engine
