// The embedded llama.cpp engine. See llama_engine.h and docs/engine.md.
//
// Layout of this file: helpers (logging bridge, UTF-8 stream, file checks), the decode
// thread's data (Request, Conversation, Prefix), LlamaEngine::Impl with the scheduler
// loop (Run -> Admit -> Step), the cache tiers (Evict*/Restore*), and the public methods.
#include "engine/llama_engine.h"

#include <gguf.h>
#include <llama.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <thread>
#include <unordered_map>

#include "core/clock.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "engine/grammar.h"
#include "engine/llama_init.h"
#include "engine/model_gen.h"
#include "engine/prompt.h"
#include "engine/snapshot.h"

namespace tokki::engine {
namespace {

namespace fs = std::filesystem;

// ---- UTF-8: emit only complete code points; invalid bytes become U+FFFD ----
int Utf8SeqLen(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

bool ValidContinuation(const unsigned char* s, int len) {
  for (int i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) return false;
  }
  const unsigned char c0 = s[0], c1 = s[1];
  if (len == 3 && c0 == 0xE0 && c1 < 0xA0) return false;  // overlong
  if (len == 3 && c0 == 0xED && c1 > 0x9F) return false;  // surrogate
  if (len == 4 && c0 == 0xF0 && c1 < 0x90) return false;  // overlong
  if (len == 4 && c0 == 0xF4 && c1 > 0x8F) return false;  // > U+10FFFF
  return true;
}

// Moves the complete, valid prefix of `bytes` to `out`; keeps an incomplete tail unless
// `flush` (then it becomes U+FFFD).
void DrainUtf8(std::string& bytes, std::string& out, bool flush) {
  size_t i = 0;
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  while (i < bytes.size()) {
    const int len = Utf8SeqLen(s[i]);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (i + len > bytes.size()) {
      // Incomplete: hold it back unless what we have is already invalid.
      bool ok = true;
      for (size_t k = i + 1; k < bytes.size(); ++k) ok = ok && (s[k] & 0xC0) == 0x80;
      if (ok && !flush) break;
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (!ValidContinuation(s + i, len)) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(bytes, i, len);
    i += len;
  }
  bytes.erase(0, i);
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string.
size_t StopHoldback(std::string_view text, const std::vector<std::string>& stops) {
  size_t best = 0;
  for (const std::string& stop : stops) {
    const size_t max_len = std::min(text.size(), stop.size() - 1);
    for (size_t len = max_len; len > best; --len) {
      if (text.substr(text.size() - len) == std::string_view(stop).substr(0, len)) {
        best = len;
        break;
      }
    }
  }
  return best;
}

uint64_t HashModelFile(const std::string& path, uint64_t size) {
  std::ifstream f(path, std::ios::binary);
  const size_t kChunk = 1 << 20;
  std::string buf(std::min<uint64_t>(kChunk, size), '\0');
  f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  uint64_t h = Fnv1a64(std::string_view(reinterpret_cast<const char*>(&size), sizeof(size)));
  h = Fnv1a64(buf, h);
  if (size > kChunk) {
    f.seekg(static_cast<std::streamoff>(size - std::min<uint64_t>(kChunk, size)));
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h = Fnv1a64(buf, h);
  }
  return h;
}

// Checks what llama.cpp would otherwise report only in its log (or not at all).
Status CheckModelFile(const std::string& path, int64_t max_bytes, uint64_t* size_out) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound("model file not found: " + path);
  if (!fs::is_regular_file(path, ec)) return Status::InvalidArgument("not a file: " + path);
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return Status::Unavailable("cannot stat " + path + ": " + ec.message());
  *size_out = size;
  char magic[4] = {};
  {
    std::ifstream f(path, std::ios::binary);
    f.read(magic, 4);
    if (f.gcount() != 4 || std::memcmp(magic, "GGUF", 4) != 0) {
      return Status::InvalidArgument("not a GGUF model file: " + path);
    }
  }
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  gguf_context* g = gguf_init_from_file(path.c_str(), params);
  if (!g) return Status::Corruption("corrupt or truncated GGUF header: " + path);
  uint64_t end = gguf_get_data_offset(g);
  for (int64_t i = 0; i < gguf_get_n_tensors(g); ++i) {
    end = std::max<uint64_t>(
        end, gguf_get_data_offset(g) + gguf_get_tensor_offset(g, i) + gguf_get_tensor_size(g, i));
  }
  const int64_t arch_id = gguf_find_key(g, "general.architecture");
  std::string arch = arch_id >= 0 && gguf_get_kv_type(g, arch_id) == GGUF_TYPE_STRING
                         ? gguf_get_val_str(g, arch_id)
                         : "";
  const int64_t n_tensors = gguf_get_n_tensors(g);
  gguf_free(g);
  if (arch.empty())
    return Status::InvalidArgument("GGUF file has no general.architecture: " + path);
  if (n_tensors == 0)
    return Status::InvalidArgument("GGUF file has no weights (vocab only?): " + path);
  if (end > size) {
    return Status::Corruption("truncated model file: " + path + " has " + std::to_string(size) +
                              " bytes, its tensors need " + std::to_string(end));
  }
  if (max_bytes <= 0) {
    const int64_t pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    max_bytes = pages > 0 && page > 0 ? pages / 5 * 4 * page : 0;
  }
  if (max_bytes > 0 && static_cast<int64_t>(size) > max_bytes) {
    return Status::TooLarge("model of " + std::to_string(size >> 20) + " MiB exceeds the " +
                            std::to_string(max_bytes >> 20) + " MiB allowed on this machine");
  }
  return Status::Ok();
}

std::string MetaString(const llama_model* model, const char* key) {
  char buf[512];
  const int n = llama_model_meta_val_str(model, key, buf, sizeof(buf));
  return n >= 0 ? std::string(buf) : std::string();
}

size_t CommonPrefix(const std::vector<llama_token>& a, const std::vector<llama_token>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

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

// A conversation's cache. Decode thread only.
struct Conversation {
  std::string key;                  // "" = one-off request, freed after it finishes
  int seq = -1;                     // resident sequence id, -1 when not resident
  std::vector<llama_token> tokens;  // tokens in the KV cache (resident) or in the snapshot
  std::shared_ptr<Prefix> prefix;   // cells [0, shared_len) are shared with this prefix
  size_t shared_len = 0;
  CacheTier tier = CacheTier::kNone;
  std::string host_blob;  // kHost: encoded snapshot
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
  std::string bytes;       // undecoded UTF-8 tail
  std::string held;        // decoded text held back (possible stop-string start)
  std::string emitted;     // everything sent to on_token
  bool text_exact = true;  // emitted == concatenation of the generated pieces
  Usage usage;
};

}  // namespace

struct LlamaEngine::Impl {
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

  // ---- shared with callers (mu) ----
  mutable Mutex mu;
  CondVar cv;  // wakes the decode thread
  std::shared_ptr<Waker> waker = std::make_shared<Waker>();
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
  std::unordered_map<std::string, std::unique_ptr<Conversation>> convs;
  std::unordered_map<std::string, std::shared_ptr<Prefix>> prefixes;
  std::list<std::shared_ptr<Prefix>> dropped_prefixes;  // seq == -1, refs > 0
  std::vector<int> free_seqs;
  int64_t host_bytes = 0;
  llama_batch batch{};

  // ---- stats ----
  std::atomic<int64_t> st_queue{0}, st_active{0}, st_resident{0}, st_host{0}, st_disk{0};
  std::atomic<int64_t> st_prompt{0}, st_cached{0}, st_prefill{0}, st_decode{0};
  std::atomic<int64_t> st_t_prefill_us{0}, st_t_decode_us{0};

  ~Impl() {
    if (batch.token) llama_batch_free(batch);
    if (ctx) llama_free(ctx);
    if (model) llama_model_free(model);
  }

  // ---------------------------------------------------------------- setup
  Status Load() {
    InitBackendOnce();
    uint64_t size = 0;
    TOKKI_RETURN_IF_ERROR(CheckModelFile(opt.model_path, opt.max_model_bytes, &size));
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    model = llama_model_load_from_file(opt.model_path.c_str(), mp);
    if (!model) {
      return Status::InvalidArgument("llama.cpp cannot load " + opt.model_path +
                                     " (unsupported architecture or corrupt weights)");
    }
    if (!llama_model_has_decoder(model) || llama_model_has_encoder(model)) {
      return Status::InvalidArgument("not a decoder-only chat model: " + opt.model_path);
    }
    vocab = llama_model_get_vocab(model);
    n_vocab = llama_vocab_n_tokens(vocab);
    for (llama_token t = 0; t < n_vocab; ++t) {
      if (llama_vocab_is_eog(vocab, t)) eog_tokens.push_back(t);
    }
    model_hash = HashModelFile(opt.model_path, size);

    opt.n_seq_max =
        std::clamp<int>(opt.n_seq_max, 2, static_cast<int>(llama_max_parallel_sequences()));
    opt.n_parallel = std::clamp(opt.n_parallel, 1, opt.n_seq_max - 1);
    opt.n_batch = std::max(opt.n_batch, opt.n_parallel + 1);
    opt.prefill_chunk_tokens = std::clamp(opt.prefill_chunk_tokens, 1, opt.n_batch);
    if (opt.n_threads <= 0)
      opt.n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(opt.n_ctx);
    cp.n_batch = static_cast<uint32_t>(opt.n_batch);
    cp.n_ubatch = static_cast<uint32_t>(opt.n_batch);
    cp.n_seq_max = static_cast<uint32_t>(opt.n_seq_max);
    cp.n_threads = opt.n_threads;
    cp.n_threads_batch = opt.n_threads;
    cp.kv_unified = true;  // seq_cp shares cells: one persona prefix, many conversations
    cp.flash_attn_type =
        opt.flash_attn ? LLAMA_FLASH_ATTN_TYPE_AUTO : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.no_perf = true;
    ctx = llama_init_from_model(model, cp);
    if (!ctx) return Status::Unavailable("cannot create a llama.cpp context (n_ctx too large?)");
    const int n_ctx_train = llama_model_n_ctx_train(model);
    seq_ctx_limit = static_cast<int>(llama_n_ctx(ctx));
    if (n_ctx_train > 0) seq_ctx_limit = std::min(seq_ctx_limit, n_ctx_train);
    batch = llama_batch_init(opt.n_batch, 0, 1);
    for (int s = opt.n_seq_max - 1; s >= 0; --s) free_seqs.push_back(s);

    std::string tmpl;
    if (const char* t = llama_model_chat_template(model, nullptr)) tmpl = t;
    bool tmpl_ok = !tmpl.empty();
    if (tmpl_ok) {
      PromptRenderer probe(vocab, tmpl, false);
      std::string out;
      tmpl_ok = probe.Apply({{"user", "hi"}}, 1, true, &out);
    }
    if (!tmpl_ok) {
      TOKKI_LOG(warn, "model has no usable chat template, using ChatML", "model", opt.model_path);
      tmpl = "chatml";
    }
    renderer = std::make_unique<PromptRenderer>(vocab, tmpl, llama_vocab_get_add_bos(vocab));

    info.name = MetaString(model, "general.name");
    if (info.name.empty()) info.name = fs::path(opt.model_path).stem().string();
    info.backend = "llama.cpp";
    info.n_ctx = seq_ctx_limit;
    info.is_generated = info.name.rfind(kGeneratedModelNamePrefix, 0) == 0;
    if (!opt.disk_cache_dir.empty()) {
      std::error_code ec;
      fs::create_directories(opt.disk_cache_dir, ec);
      if (ec)
        return Status::Unavailable("cannot create cache dir " + opt.disk_cache_dir + ": " +
                                   ec.message());
    }
    TOKKI_LOG(info, "model loaded", "name", info.name, "n_ctx", llama_n_ctx(ctx), "n_seq_max",
              opt.n_seq_max, "n_parallel", opt.n_parallel, "threads", opt.n_threads);
    return Status::Ok();
  }

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

  // ---------------------------------------------------------------- decode thread
  void Run() TOKKI_EXCLUDES(mu) {
    while (true) {
      std::deque<std::function<void()>> cmds;
      {
        MutexLock lock(&mu);
        while (!stopping && commands.empty() && active.empty() && queue.empty()) cv.Wait(&mu);
        if (stopping) break;
        cmds.swap(commands);
      }
      for (auto& c : cmds) c();
      Admit();
      DropCancelled();
      RetryWaiting();
      if (!HasWork()) {
        // Everything admitted is waiting for capacity; sleep until something changes.
        MutexLock lock(&mu);
        cv.WaitFor(&mu, std::chrono::milliseconds(20));
        continue;
      }
      Step();
    }
    // Shutdown: cancel everything.
    std::deque<std::unique_ptr<Request>> rest;
    std::deque<std::function<void()>> cmds;
    {
      MutexLock lock(&mu);
      rest.swap(queue);
      cmds.swap(commands);
    }
    for (auto& c : cmds) c();
    for (auto& r : rest) FinishQueued(*r, Status::Cancelled("engine shut down"));
    while (!active.empty()) Finish(active.back().get(), "cancelled");
    st_queue = 0;
  }

  bool HasWork() const {
    for (const auto& r : active) {
      if (r->phase != Phase::kWaitPrefix) return true;
    }
    return false;
  }

  void FinishQueued(Request& r, Status status) {
    if (status.code() == Status::Code::kCancelled) {
      GenerateResult res;
      res.finish_reason = "cancelled";
      res.usage.prompt_tokens = static_cast<int>(r.prompt.tokens.size());
      res.total_ms = (NowSteadyUs() - r.t_submit_us) / 1000.0;
      if (r.cb.on_done) r.cb.on_done(res);
    } else if (r.cb.on_done) {
      r.cb.on_done(status);
    }
  }

  // Moves queued requests into `active` while there is room.
  void Admit() TOKKI_EXCLUDES(mu) {
    while (static_cast<int>(active.size()) < opt.n_parallel) {
      std::unique_ptr<Request> r;
      {
        MutexLock lock(&mu);
        // Fair across users: among queued requests whose conversation is not busy (turns
        // of one conversation run in order), the oldest one of the user with the fewest
        // requests running now, and among those the user served longest ago (round robin).
        std::unordered_map<std::string, int> running;
        for (auto& a : active) ++running[a->req.user_key];
        auto best = queue.end();
        std::pair<int, int64_t> best_rank{0, 0};
        for (auto it = queue.begin(); it != queue.end(); ++it) {
          const std::string& key = (*it)->req.conversation_key;
          auto c = key.empty() ? convs.end() : convs.find(key);
          if (c != convs.end() && c->second->busy) continue;
          const std::string& user = (*it)->req.user_key;
          std::pair<int, int64_t> rank{0, -1};
          if (!user.empty()) {
            auto rn = running.find(user);
            auto ls = last_served.find(user);
            rank = {rn == running.end() ? 0 : rn->second, ls == last_served.end() ? -1 : ls->second};
          }
          if (best == queue.end() || rank < best_rank) {
            best = it;
            best_rank = rank;
          }
        }
        if (best != queue.end()) {
          r = std::move(*best);
          queue.erase(best);
          if (!r->req.user_key.empty()) {
            if (last_served.size() > 100000) last_served.clear();  // bounded; fairness restarts
            last_served[r->req.user_key] = ++n_admitted;
          }
        }
        st_queue = static_cast<int64_t>(queue.size());
      }
      if (!r) return;
      if (r->handle->cancelled()) {
        FinishQueued(*r, Status::Cancelled("cancelled"));
        continue;
      }
      Request* raw = r.get();
      active.push_back(std::move(r));
      st_active = static_cast<int64_t>(active.size());
      if (!Setup(raw)) {
        // No sequence id free (all busy): put it back at the front and wait.
        raw->conv = nullptr;
        auto it =
            std::find_if(active.begin(), active.end(), [&](auto& p) { return p.get() == raw; });
        std::unique_ptr<Request> back = std::move(*it);
        active.erase(it);
        st_active = static_cast<int64_t>(active.size());
        MutexLock lock(&mu);
        queue.push_front(std::move(back));
        return;
      }
    }
  }

  void DropCancelled() {
    for (size_t i = 0; i < active.size();) {
      if (active[i]->handle->cancelled()) {
        Finish(active[i].get(), "cancelled");
      } else {
        ++i;
      }
    }
  }

  // ---- sequence ids and KV cells ----
  llama_memory_t Mem() const { return llama_get_memory(ctx); }

  int64_t UsedCells() const {
    int64_t used = 0;
    for (const auto& [k, p] : prefixes) {
      if (p->seq >= 0 || p->refs > 0) used += static_cast<int64_t>(p->tokens.size());
    }
    for (const auto& p : dropped_prefixes) used += static_cast<int64_t>(p->tokens.size());
    auto add_conv = [&](const Conversation& c) {
      if (c.seq < 0) return;
      used += static_cast<int64_t>(c.tokens.size() - (c.prefix ? c.shared_len : 0));
    };
    for (const auto& [k, c] : convs) add_conv(*c);
    for (const auto& r : active) {
      if (r->own_conv) add_conv(*r->own_conv);
    }
    return used;
  }

  void UnshareConv(Conversation& c) {
    if (!c.prefix) return;
    std::shared_ptr<Prefix> p = std::move(c.prefix);
    c.prefix.reset();
    c.shared_len = 0;
    if (--p->refs == 0 && p->seq < 0) dropped_prefixes.remove(p);
  }

  // Truncates a resident conversation's KV to `n` tokens.
  void TruncateConv(Conversation& c, size_t n) {
    if (c.seq < 0) return;
    if (n < c.tokens.size()) {
      llama_memory_seq_rm(Mem(), c.seq, static_cast<llama_pos>(n), -1);
      c.tokens.resize(n);
    }
    if (c.prefix && c.shared_len > n) c.shared_len = n;
    if (c.prefix && c.shared_len == 0) UnshareConv(c);
  }

  void ReleaseSeq(Conversation& c) {
    if (c.seq < 0) return;
    llama_memory_seq_rm(Mem(), c.seq, -1, -1);
    free_seqs.push_back(c.seq);
    c.seq = -1;
    UnshareConv(c);
    if (c.tier == CacheTier::kResident) c.tier = CacheTier::kNone;
  }

  void DropPrefix(const std::shared_ptr<Prefix>& p) {
    if (p->seq >= 0) {
      llama_memory_seq_rm(Mem(), p->seq, -1, -1);
      free_seqs.push_back(p->seq);
      p->seq = -1;
    }
    prefixes.erase(p->key);
    if (p->refs > 0) dropped_prefixes.push_back(p);
  }

  // Frees one sequence (and its cells) by evicting the least recently used idle
  // conversation, else an idle persona prefix. False when nothing can be evicted.
  bool EvictOne() {
    Conversation* lru = nullptr;
    for (auto& [k, c] : convs) {
      if (c->seq >= 0 && !c->busy && (!lru || c->last_used_us < lru->last_used_us)) lru = c.get();
    }
    if (lru) {
      EvictToHost(*lru);
      return true;
    }
    std::shared_ptr<Prefix> lp;
    for (auto& [k, p] : prefixes) {
      if (p->seq >= 0 && !p->pending && (!lp || p->last_used_us < lp->last_used_us)) lp = p;
    }
    if (lp) {
      DropPrefix(lp);
      return true;
    }
    return false;
  }

  int AcquireSeq() {
    while (free_seqs.empty()) {
      if (!EvictOne()) return -1;
    }
    const int s = free_seqs.back();
    free_seqs.pop_back();
    return s;
  }

  bool EnsureCells(int64_t n) {
    const int64_t cap = static_cast<int64_t>(llama_n_ctx(ctx));
    while (UsedCells() + n > cap) {
      if (!EvictOne()) return false;
    }
    return true;
  }

  // ---- cache tiers ----
  std::string DiskPath(const std::string& key) const {
    char name[32];
    std::snprintf(name, sizeof(name), "%016llx.kv", static_cast<unsigned long long>(Fnv1a64(key)));
    return (fs::path(opt.disk_cache_dir) / name).string();
  }

  SnapshotHeader Header(const std::string& key) const {
    return SnapshotHeader{model_hash, llama_n_ctx(ctx), key};
  }

  std::string SeqState(int seq) {
    std::string state(llama_state_seq_get_size(ctx, seq), '\0');
    const size_t n =
        llama_state_seq_get_data(ctx, reinterpret_cast<uint8_t*>(state.data()), state.size(), seq);
    state.resize(n);
    return state;
  }

  void EvictToHost(Conversation& c) {
    if (c.seq < 0 || c.busy) return;
    Snapshot s;
    s.header = Header(c.key);
    s.tokens.assign(c.tokens.begin(), c.tokens.end());
    s.state = SeqState(c.seq);
    ReleaseSeq(c);
    st_resident--;
    if (c.tokens.empty() || s.state.empty()) {
      c.tokens.clear();
      c.tier = CacheTier::kNone;
      return;
    }
    c.host_blob = EncodeSnapshot(s);
    host_bytes += static_cast<int64_t>(c.host_blob.size());
    c.tier = CacheTier::kHost;
    st_host++;
    EnforceHostBudget(&c);
  }

  void EnforceHostBudget(Conversation* keep) {
    while (host_bytes > opt.host_cache_max_bytes) {
      Conversation* lru = nullptr;
      for (auto& [k, c] : convs) {
        if (c->tier == CacheTier::kHost && c.get() != keep &&
            (!lru || c->last_used_us < lru->last_used_us)) {
          lru = c.get();
        }
      }
      if (!lru) lru = keep && keep->tier == CacheTier::kHost ? keep : nullptr;
      if (!lru) return;
      HostToDisk(*lru);
    }
  }

  void HostToDisk(Conversation& c) {
    if (c.tier != CacheTier::kHost) return;
    host_bytes -= static_cast<int64_t>(c.host_blob.size());
    st_host--;
    std::string blob = std::move(c.host_blob);
    c.host_blob.clear();
    c.tier = CacheTier::kNone;
    if (opt.disk_cache_dir.empty()) {
      c.tokens.clear();
      return;
    }
    const std::string path = DiskPath(c.key);
    const std::string tmp = path + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f.write(blob.data(), static_cast<std::streamsize>(blob.size()));
      if (!f) {
        TOKKI_LOG(warn, "cannot write KV snapshot", "path", tmp);
        c.tokens.clear();
        return;
      }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
      c.tokens.clear();
      return;
    }
    c.tier = CacheTier::kDisk;
    st_disk++;
  }

  Result<std::string> ReadDisk(const std::string& key) {
    std::ifstream f(DiskPath(key), std::ios::binary);
    if (!f) return Status::NotFound("no snapshot");
    std::string blob((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return blob;
  }

  // Loads a host/disk snapshot back into a fresh sequence. On any mismatch the
  // conversation simply starts empty (the prompt is recomputed).
  void Restore(Conversation& c, int seq) {
    std::string blob;
    if (c.tier == CacheTier::kHost) {
      blob = std::move(c.host_blob);
      c.host_blob.clear();
      host_bytes -= static_cast<int64_t>(blob.size());
      st_host--;
    } else if (c.tier == CacheTier::kDisk) {
      Result<std::string> r = ReadDisk(c.key);
      std::error_code ec;
      fs::remove(DiskPath(c.key), ec);
      st_disk--;
      if (r.ok()) blob = std::move(r).value();
    }
    c.tier = CacheTier::kNone;
    c.seq = seq;
    c.tokens.clear();
    st_resident++;
    c.tier = CacheTier::kResident;
    if (blob.empty()) return;
    Result<Snapshot> s = DecodeSnapshot(blob, Header(c.key));
    if (!s.ok()) {
      TOKKI_LOG(warn, "KV snapshot rejected, recomputing", "reason", s.status().ToString());
      return;
    }
    if (!EnsureCells(static_cast<int64_t>(s->tokens.size()))) return;
    const size_t n = llama_state_seq_set_data(
        ctx, reinterpret_cast<const uint8_t*>(s->state.data()), s->state.size(), seq);
    if (n == 0) {
      llama_memory_seq_rm(Mem(), seq, -1, -1);
      TOKKI_LOG(warn, "KV snapshot restore failed, recomputing", "key", c.key);
      return;
    }
    c.tokens.assign(s->tokens.begin(), s->tokens.end());
  }

  // A conversation from disk not yet known in memory (e.g. after a restart).
  Conversation* FindOrLoadConv(const std::string& key) {
    auto it = convs.find(key);
    if (it != convs.end()) return it->second.get();
    auto c = std::make_unique<Conversation>();
    c->key = key;
    if (!opt.disk_cache_dir.empty()) {
      std::error_code ec;
      if (fs::exists(DiskPath(key), ec)) {
        c->tier = CacheTier::kDisk;
        st_disk++;
      }
    }
    Conversation* raw = c.get();
    convs.emplace(key, std::move(c));
    return raw;
  }

  // Snapshot token ids without restoring (to judge whether restoring pays off).
  std::vector<llama_token> PeekTokens(Conversation& c) {
    std::string_view blob;
    std::string disk;
    if (c.tier == CacheTier::kHost) {
      blob = c.host_blob;
    } else if (c.tier == CacheTier::kDisk) {
      Result<std::string> r = ReadDisk(c.key);
      if (!r.ok()) return {};
      disk = std::move(r).value();
      blob = disk;
    } else {
      return c.tokens;
    }
    Result<Snapshot> s = DecodeSnapshot(blob, Header(c.key));
    if (!s.ok()) return {};
    return std::vector<llama_token>(s->tokens.begin(), s->tokens.end());
  }

  // ---- request setup ----
  // Places the request's conversation in a sequence, reusing the longest cached prefix.
  // Returns false when no sequence id can be found (request waits in the queue).
  bool Setup(Request* r) {
    const std::vector<llama_token>& prompt = r->prompt.tokens;
    const int64_t now = NowSteadyUs();
    Conversation* c;
    if (r->req.conversation_key.empty()) {
      r->own_conv = std::make_unique<Conversation>();
      c = r->own_conv.get();
    } else {
      c = FindOrLoadConv(r->req.conversation_key);
    }
    r->conv = c;
    c->busy = true;
    c->last_used_us = now;

    // Best cached prefix of the conversation itself.
    size_t conv_lcp = 0;
    if (c->seq >= 0) {
      conv_lcp = CommonPrefix(c->tokens, prompt);
    } else if (c->tier == CacheTier::kHost || c->tier == CacheTier::kDisk) {
      conv_lcp = CommonPrefix(PeekTokens(*c), prompt);
    }
    // Shared persona prefix.
    size_t plen = 0;
    std::shared_ptr<Prefix> p;
    const size_t n_static = r->prompt.n_static_tokens;
    if (!r->req.prefix_key.empty() && n_static > 0 && n_static < prompt.size()) {
      auto it = prefixes.find(r->req.prefix_key);
      if (it != prefixes.end()) {
        p = it->second;
        const bool same = p->tokens.size() == n_static &&
                          std::equal(p->tokens.begin(), p->tokens.end(), prompt.begin());
        if (p->pending && conv_lcp < n_static && p->owner != r->id) {
          // Someone is prefilling this persona right now: wait for it.
          r->phase = Phase::kWaitPrefix;
          return true;
        }
        if (!same && !p->pending) {
          DropPrefix(p);
          p.reset();
        } else if (same && p->seq >= 0) {
          plen = n_static;
        }
      }
      if (!p && conv_lcp < n_static) {
        p = std::make_shared<Prefix>();
        p->key = r->req.prefix_key;
        p->tokens.assign(prompt.begin(), prompt.begin() + static_cast<long>(n_static));
        p->pending = true;
        p->owner = r->id;
        prefixes[p->key] = p;
      }
    }

    if (c->seq < 0) {
      const int seq = AcquireSeq();
      if (seq < 0) {
        c->busy = false;
        if (p && p->pending && p->owner == r->id) prefixes.erase(p->key);
        return false;
      }
      if (conv_lcp > plen && (c->tier == CacheTier::kHost || c->tier == CacheTier::kDisk)) {
        Restore(*c, seq);
      } else {
        DiscardSnapshot(*c);
        c->seq = seq;
        c->tokens.clear();
        c->tier = CacheTier::kResident;
        st_resident++;
      }
      conv_lcp = CommonPrefix(c->tokens, prompt);
      // Making room may have dropped the persona prefix we meant to use.
      if (p && p->seq < 0) plen = 0;
    }
    size_t keep;
    if (plen > conv_lcp) {
      // Start from the shared persona prefix.
      TruncateConv(*c, 0);
      llama_memory_seq_rm(Mem(), c->seq, -1, -1);
      llama_memory_seq_cp(Mem(), p->seq, c->seq, 0, static_cast<llama_pos>(plen));
      c->tokens = p->tokens;
      c->prefix = p;
      c->shared_len = plen;
      p->refs++;
      p->last_used_us = now;
      keep = plen;
    } else {
      keep = conv_lcp;
    }
    // At least one prompt token must be decoded to get logits.
    keep = std::min(keep, prompt.size() - 1);
    TruncateConv(*c, keep);
    r->n_past = keep;
    r->usage.prompt_tokens = static_cast<int>(prompt.size());
    r->usage.cached_tokens = static_cast<int>(keep);
    r->phase = Phase::kPrefill;
    st_prompt += static_cast<int64_t>(prompt.size());
    st_cached += static_cast<int64_t>(keep);
    return true;
  }

  void DiscardSnapshot(Conversation& c) {
    if (c.tier == CacheTier::kHost) {
      host_bytes -= static_cast<int64_t>(c.host_blob.size());
      c.host_blob.clear();
      st_host--;
    } else if (c.tier == CacheTier::kDisk) {
      std::error_code ec;
      fs::remove(DiskPath(c.key), ec);
      st_disk--;
    }
    c.tier = CacheTier::kNone;
  }

  llama_sampler* MakeSampler(const Request& r) {
    const SamplingParams& sp = r.req.sampling;
    llama_sampler_chain_params scp = llama_sampler_chain_default_params();
    scp.no_perf = true;
    llama_sampler* chain = llama_sampler_chain_init(scp);
    std::vector<llama_logit_bias> bias;
    for (const auto& [tok, b] : sp.logit_bias) {
      if (tok >= 0 && tok < n_vocab) bias.push_back({tok, b});
    }
    if (sp.ignore_eos) {
      for (llama_token t : eog_tokens) bias.push_back({t, -INFINITY});
    }
    if (!bias.empty()) {
      llama_sampler_chain_add(chain, llama_sampler_init_logit_bias(
                                         n_vocab, static_cast<int32_t>(bias.size()), bias.data()));
    }
    if (sp.repeat_penalty != 1.0f && sp.repeat_last_n != 0) {
      llama_sampler_chain_add(chain, llama_sampler_init_penalties(n_vocab, sp.repeat_last_n,
                                                                  sp.repeat_penalty, 0.0f, 0.0f));
    }
    if (sp.dry_multiplier > 0.0f) {
      static const char* kBreakers[] = {"\n", ":", "\"", "*"};
      llama_sampler_chain_add(chain,
                              llama_sampler_init_dry(vocab, sp.dry_multiplier, sp.dry_base,
                                                     sp.dry_allowed_length, -1, kBreakers, 4));
    }
    if (sp.temperature <= 0.0f) {
      llama_sampler_chain_add(chain, llama_sampler_init_greedy());
    } else {
      if (sp.top_k > 0) llama_sampler_chain_add(chain, llama_sampler_init_top_k(sp.top_k));
      if (sp.top_p < 1.0f) llama_sampler_chain_add(chain, llama_sampler_init_top_p(sp.top_p, 1));
      if (sp.min_p > 0.0f) llama_sampler_chain_add(chain, llama_sampler_init_min_p(sp.min_p, 1));
      llama_sampler_chain_add(chain, llama_sampler_init_temp(sp.temperature));
      llama_sampler_chain_add(chain, llama_sampler_init_dist(sp.seed));
    }
    // Penalties look at recent history: feed them the end of the prompt.
    if ((sp.repeat_penalty != 1.0f && sp.repeat_last_n != 0) || sp.dry_multiplier > 0.0f) {
      const auto& toks = r.prompt.tokens;
      const size_t from = toks.size() > 256 ? toks.size() - 256 : 0;
      for (size_t i = from; i < toks.size(); ++i) llama_sampler_accept(chain, toks[i]);
    }
    return ConstrainSampler(chain, vocab, sp.grammar);  // the grammar first (grammar.h)
  }

  // ---- one scheduler step ----
  // Requests waiting for a persona prefix (or a sequence id): retry their setup.
  void RetryWaiting() {
    for (auto& r : active) {
      if (r->phase != Phase::kWaitPrefix) continue;
      r->conv->busy = false;
      if (!Setup(r.get())) {
        r->phase = Phase::kWaitPrefix;
        r->conv->busy = true;
      }
    }
  }

  void Step() {
    batch.n_tokens = 0;
    auto add = [&](llama_token t, llama_pos pos, int seq, bool logits) {
      const int i = batch.n_tokens++;
      batch.token[i] = t;
      batch.pos[i] = pos;
      batch.n_seq_id[i] = 1;
      batch.seq_id[i][0] = seq;
      batch.logits[i] = logits;
      return i;
    };
    std::vector<std::pair<Request*, int>> prefill_parts;  // request, n tokens this step
    int n_gen = 0;
    for (auto& r : active) {
      r->batch_idx = -1;
      if (r->phase != Phase::kGenerate) continue;
      r->batch_idx =
          add(r->last_token, static_cast<llama_pos>(r->conv->tokens.size()), r->conv->seq, true);
      ++n_gen;
    }
    int budget = std::min(opt.prefill_chunk_tokens, opt.n_batch - n_gen);
    for (auto& r : active) {
      if (budget <= 0) break;
      if (r->phase != Phase::kPrefill) continue;
      const auto& prompt = r->prompt.tokens;
      const int n = static_cast<int>(std::min<size_t>(budget, prompt.size() - r->n_past));
      for (int k = 0; k < n; ++k) {
        const size_t i = r->n_past + k;
        const int bi =
            add(prompt[i], static_cast<llama_pos>(i), r->conv->seq, i + 1 == prompt.size());
        if (i + 1 == prompt.size()) r->batch_idx = bi;
      }
      prefill_parts.emplace_back(r.get(), n);
      budget -= n;
    }
    if (batch.n_tokens == 0) return;
    if (!EnsureCells(batch.n_tokens)) {
      if (n_gen > 0 && !prefill_parts.empty() && EnsureCells(n_gen)) {
        // No room for new prompts now: this step only advances the running replies
        // (their tokens come first in the batch); the prompts wait until replies finish
        // and their cells can be evicted, instead of failing someone's request.
        batch.n_tokens = n_gen;
        for (auto& [r, n] : prefill_parts) r->batch_idx = -1;
        prefill_parts.clear();
      } else {
        // Not even evicting everything idle makes room for what is running: fail one
        // request of the user running the most.
        FailForRoom("KV cache is full; try again later");
        return;
      }
    }
    const int64_t t0 = NowSteadyUs();
    int rc = llama_decode(ctx, batch);
    while (rc == 1) {
      if (!EvictOne()) break;
      rc = llama_decode(ctx, batch);
    }
    const int64_t dt = NowSteadyUs() - t0;
    if (rc == 1) {
      FailForRoom("KV cache is full; try again later");
      return;
    }
    if (rc != 0) {
      TOKKI_LOG(error, "llama_decode failed", "rc", rc, "n_tokens", batch.n_tokens);
      // Roll every participating sequence back to what we believe it holds.
      std::vector<Request*> failed;
      for (auto& r : active) {
        if (r->phase == Phase::kWaitPrefix) continue;
        llama_memory_seq_rm(Mem(), r->conv->seq, static_cast<llama_pos>(r->conv->tokens.size()),
                            -1);
        failed.push_back(r.get());
      }
      for (Request* r : failed)
        FinishError(r, Status::Internal("llama_decode failed (" + std::to_string(rc) + ")"));
      return;
    }
    int n_prefilled = 0;
    for (auto& [r, n] : prefill_parts) {
      const auto& prompt = r->prompt.tokens;
      r->conv->tokens.insert(r->conv->tokens.end(), prompt.begin() + static_cast<long>(r->n_past),
                             prompt.begin() + static_cast<long>(r->n_past + n));
      r->n_past += n;
      n_prefilled += n;
      MaybeRegisterPrefix(r);
    }
    st_prefill += n_prefilled;
    st_decode += n_gen;
    if (n_prefilled > 0) st_t_prefill_us += dt * n_prefilled / batch.n_tokens;
    if (n_gen > 0) st_t_decode_us += dt * n_gen / batch.n_tokens;

    // Sample every sequence that produced logits.
    std::vector<Request*> done;
    std::vector<std::string> reasons;
    for (auto& r : active) {
      if (r->batch_idx < 0) continue;
      const bool was_gen = r->phase == Phase::kGenerate;
      if (was_gen) r->conv->tokens.push_back(r->last_token);
      if (!was_gen && r->n_past < r->prompt.tokens.size()) continue;
      if (!r->smpl) r->smpl = MakeSampler(*r);
      const llama_token tok = llama_sampler_sample(r->smpl, ctx, r->batch_idx);
      if (r->t_first_us == 0) r->t_first_us = NowSteadyUs();
      r->phase = Phase::kGenerate;
      std::string reason = Accept(r.get(), tok);
      if (!reason.empty()) {
        done.push_back(r.get());
        reasons.push_back(reason);
      }
    }
    for (size_t i = 0; i < done.size(); ++i) Finish(done[i], reasons[i]);
    if (trace) {
      TOKKI_LOG(info, "step", "n_tokens", batch.n_tokens, "n_gen", n_gen, "n_prefill", n_prefilled,
                "decode_ms", dt / 1000.0, "sample_ms", (NowSteadyUs() - t0 - dt) / 1000.0);
    }
  }

  void MaybeRegisterPrefix(Request* r) {
    if (r->req.prefix_key.empty()) return;
    auto it = prefixes.find(r->req.prefix_key);
    if (it == prefixes.end()) return;
    std::shared_ptr<Prefix> p = it->second;
    if (!p->pending || p->owner != r->id || r->n_past < p->tokens.size()) return;
    const int seq = AcquireSeq();
    p->pending = false;
    p->owner = 0;
    if (seq < 0) {
      prefixes.erase(it);
      return;
    }
    p->seq = seq;
    llama_memory_seq_cp(Mem(), r->conv->seq, seq, 0, static_cast<llama_pos>(p->tokens.size()));
    p->last_used_us = NowSteadyUs();
    Conversation& c = *r->conv;
    if (!c.prefix && c.tokens.size() >= p->tokens.size()) {
      c.prefix = p;
      c.shared_len = p->tokens.size();
      p->refs++;
    }
  }

  // Handles a sampled token. Returns a finish reason, or "" to continue.
  std::string Accept(Request* r, llama_token tok) {
    const SamplingParams& sp = r->req.sampling;
    if (!sp.ignore_eos && llama_vocab_is_eog(vocab, tok)) return "stop";
    r->generated.push_back(tok);
    r->usage.completion_tokens++;
    char buf[256];
    int n = llama_token_to_piece(vocab, tok, buf, sizeof(buf), 0, false);
    std::string piece;
    if (n < 0) {
      piece.resize(-n);
      n = llama_token_to_piece(vocab, tok, piece.data(), -n, 0, false);
      piece.resize(std::max(n, 0));
    } else {
      piece.assign(buf, n);
    }
    r->bytes += piece;
    DrainUtf8(r->bytes, r->held, false);
    if (!sp.stop.empty()) {
      size_t best = std::string::npos;
      for (const std::string& s : sp.stop) {
        if (s.empty()) continue;
        const size_t pos = r->held.find(s);
        if (pos != std::string::npos) best = std::min(best, pos);
      }
      if (best != std::string::npos) {
        r->held.resize(best);
        r->text_exact = false;
        Emit(r, r->held);
        r->held.clear();
        r->bytes.clear();
        return "stop";
      }
      const size_t hold = StopHoldback(r->held, sp.stop);
      if (r->held.size() > hold) {
        Emit(r, std::string_view(r->held).substr(0, r->held.size() - hold));
        r->held.erase(0, r->held.size() - hold);
      }
    } else if (!r->held.empty()) {
      Emit(r, r->held);
      r->held.clear();
    }
    if (r->usage.completion_tokens >= sp.max_tokens) return "length";
    if (static_cast<int>(r->conv->tokens.size()) + 1 >= seq_ctx_limit) return "length";
    r->last_token = tok;
    return "";
  }

  void Emit(Request* r, std::string_view text) {
    if (text.empty()) return;
    r->emitted.append(text);
    if (r->cb.on_token) r->cb.on_token(text);
  }

  // The cache is full and one running request must give way. Fair across users like
  // Admit: it is taken from the user with the most requests running, so one user's many
  // long replies cannot make another user's request fail. Among that user's requests (or
  // when every user runs as many), a prefill goes first, then the newest.
  void FailForRoom(const std::string& why) {
    std::unordered_map<std::string, int> running;
    for (auto& a : active) ++running[a->req.user_key];
    Request* victim = nullptr;
    int victim_running = 0;
    bool victim_prefill = false;
    for (auto it = active.rbegin(); it != active.rend(); ++it) {  // newest first
      Request* r = it->get();
      const int n = r->req.user_key.empty() ? 1 : running[r->req.user_key];
      const bool prefill = r->phase == Phase::kPrefill;
      if (!victim || n > victim_running || (n == victim_running && prefill && !victim_prefill)) {
        victim = r;
        victim_running = n;
        victim_prefill = prefill;
      }
    }
    if (victim) FinishError(victim, Status::Unavailable(why));
  }

  void FinishError(Request* r, Status status) { Finish(r, "", std::move(status)); }

  // Ends a request: flushes text, reports, frees its sequence for others (the
  // conversation's KV stays resident for its next turn).
  void Finish(Request* r, const std::string& reason, Status status = Status::Ok())
      TOKKI_EXCLUDES(mu) {
    auto it = std::find_if(active.begin(), active.end(), [&](auto& p) { return p.get() == r; });
    std::unique_ptr<Request> owned = std::move(*it);
    active.erase(it);
    st_active = static_cast<int64_t>(active.size());
    if (status.ok() && reason != "cancelled") {
      // Flush any held-back text.
      DrainUtf8(r->bytes, r->held, true);
      if (!r->held.empty()) Emit(r, r->held);
      r->held.clear();
    }
    if (r->smpl) llama_sampler_free(r->smpl);
    r->smpl = nullptr;
    // Give up a persona prefix this request was supposed to build.
    if (!r->req.prefix_key.empty()) {
      auto pit = prefixes.find(r->req.prefix_key);
      if (pit != prefixes.end() && pit->second->pending && pit->second->owner == r->id) {
        prefixes.erase(pit);
      }
    }
    Conversation* c = r->conv;
    if (c) {
      c->busy = false;
      c->last_used_us = NowSteadyUs();
      if (c->key.empty()) {
        if (c->seq >= 0) st_resident--;
        ReleaseSeq(*c);
      } else if (status.ok() && r->text_exact && reason != "cancelled" && !r->generated.empty()) {
        // Remember the generated ids so the next turn reuses them verbatim.
        std::string text = r->emitted;
        std::string check;
        for (llama_token t : r->generated) {
          char buf[256];
          const int n = llama_token_to_piece(vocab, t, buf, sizeof(buf), 0, false);
          if (n > 0) check.append(buf, n);
        }
        if (check == text) {
          MutexLock lock(&mu);
          auto& dq = replies[c->key];
          dq.emplace_back(std::move(text), r->generated);
          while (dq.size() > 64) dq.pop_front();
        }
      }
    }
    if (c && c->forget_when_done && !c->busy) {
      const std::string key = c->key;
      r->conv = nullptr;
      ForgetNow(key);
    }
    GenerateResult res;
    res.finish_reason = reason;
    res.usage = r->usage;
    const int64_t now = NowSteadyUs();
    res.ttft_ms = r->t_first_us ? (r->t_first_us - r->t_submit_us) / 1000.0 : 0.0;
    res.total_ms = (now - r->t_submit_us) / 1000.0;
    if (r->cb.on_done) {
      if (status.ok()) {
        r->cb.on_done(res);
      } else {
        r->cb.on_done(status);
      }
    }
  }

  // ---- commands (run on the decode thread) ----
  void ForgetNow(const std::string& key) TOKKI_EXCLUDES(mu) {
    {
      MutexLock lock(&mu);
      replies.erase(key);
    }
    auto it = convs.find(key);
    if (it == convs.end()) {
      if (!opt.disk_cache_dir.empty()) {
        std::error_code ec;
        fs::remove(DiskPath(key), ec);
      }
      return;
    }
    Conversation& c = *it->second;
    if (c.busy) {
      c.forget_when_done = true;  // the running turn finishes; nothing is kept afterwards
      return;
    }
    if (c.seq >= 0) {
      ReleaseSeq(c);
      st_resident--;
    }
    DiscardSnapshot(c);
    if (!opt.disk_cache_dir.empty()) {
      std::error_code ec;
      fs::remove(DiskPath(key), ec);
    }
    convs.erase(it);
  }
};

// ------------------------------------------------------------------ public methods

LlamaEngine::LlamaEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LlamaEngine::~LlamaEngine() { Shutdown(); }

Result<std::unique_ptr<LlamaEngine>> LlamaEngine::OpenLlama(LlamaEngineOptions options) {
  if (options.model_path.empty()) return Status::InvalidArgument("no model path");
  if (options.n_ctx < 64) return Status::InvalidArgument("n_ctx must be at least 64");
  auto impl = std::make_unique<Impl>();
  impl->opt = std::move(options);
  TOKKI_RETURN_IF_ERROR(impl->Load());
  Impl* raw = impl.get();
  {
    MutexLock lock(&raw->waker->mu);
    raw->waker->cv = &raw->cv;
  }
  std::unique_ptr<LlamaEngine> engine(new LlamaEngine(std::move(impl)));
  raw->thread = std::thread([raw] { raw->Run(); });
  return engine;
}

Result<std::unique_ptr<Engine>> LlamaEngine::Open(LlamaEngineOptions options) {
  TOKKI_ASSIGN_OR_RETURN(std::unique_ptr<LlamaEngine> e, OpenLlama(std::move(options)));
  return std::unique_ptr<Engine>(std::move(e));
}

void LlamaEngine::Shutdown() {
  if (!impl_) return;
  {
    MutexLock lock(&impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.SignalAll();
  if (impl_->thread.joinable()) impl_->thread.join();
  MutexLock lock(&impl_->waker->mu);
  impl_->waker->cv = nullptr;
}

Result<std::shared_ptr<Generation>> LlamaEngine::Submit(GenerateRequest request,
                                                        GenerateCallbacks callbacks) {
  Impl& m = *impl_;
  if (request.messages.empty()) return Status::InvalidArgument("no messages");
  if (request.sampling.max_tokens <= 0)
    return Status::InvalidArgument("max_tokens must be positive");
  TOKKI_RETURN_IF_ERROR(ResolveGrammar(&request.sampling, m.vocab));  // schema -> checked GBNF
  auto r = std::make_unique<Request>();
  r->t_submit_us = NowSteadyUs();
  // Render outside the lock; the reply lookup takes it briefly.
  std::deque<std::pair<std::string, std::vector<llama_token>>> known;
  if (!request.conversation_key.empty()) {
    MutexLock lock(&m.mu);
    auto it = m.replies.find(request.conversation_key);
    if (it != m.replies.end()) known = it->second;
  }
  ReplyLookup lookup = [&known](std::string_view text) -> const std::vector<llama_token>* {
    for (auto it = known.rbegin(); it != known.rend(); ++it) {
      if (it->first == text) return &it->second;
    }
    return nullptr;
  };
  TOKKI_ASSIGN_OR_RETURN(r->prompt, m.renderer->Render(request.messages, request.n_static_messages,
                                                       request.continue_last, lookup));
  if (static_cast<int>(r->prompt.tokens.size()) + 1 > m.seq_ctx_limit) {
    return Status::TooLarge("prompt of " + std::to_string(r->prompt.tokens.size()) +
                            " tokens does not fit the context of " +
                            std::to_string(m.seq_ctx_limit));
  }
  if (static_cast<int64_t>(r->prompt.tokens.size()) + 1 >
      static_cast<int64_t>(llama_n_ctx(m.ctx))) {
    return Status::TooLarge("prompt does not fit the KV cache");
  }
  r->req = std::move(request);
  r->cb = std::move(callbacks);
  r->handle = std::make_shared<GenerationHandle>(m.waker);
  std::shared_ptr<Generation> handle = r->handle;
  {
    MutexLock lock(&m.mu);
    if (m.stopping) return Status::Unavailable("engine is shutting down");
    if (static_cast<int>(m.queue.size()) >= m.opt.max_queued) {
      return Status::Unavailable("engine queue is full (" + std::to_string(m.opt.max_queued) + ")");
    }
    r->id = m.next_id++;
    m.queue.push_back(std::move(r));
    m.st_queue = static_cast<int64_t>(m.queue.size());
  }
  m.Wake();
  return handle;
}

int LlamaEngine::CountTokens(std::string_view text) const {
  return static_cast<int>(impl_->renderer->Tokenize(text, false).size());
}

std::vector<int32_t> LlamaEngine::Tokenize(std::string_view text) const {
  auto t = impl_->renderer->Tokenize(text, false);
  return std::vector<int32_t>(t.begin(), t.end());
}

std::string LlamaEngine::TokenText(int32_t token) const {
  if (token < 0 || token >= impl_->n_vocab) return "";
  char buf[256];
  const int n = llama_token_to_piece(impl_->vocab, token, buf, sizeof(buf), 0, false);
  return n > 0 ? std::string(buf, n) : std::string();
}

int32_t LlamaEngine::VocabSize() const { return impl_->n_vocab; }

ModelInfo LlamaEngine::Info() const { return impl_->info; }

EngineStats LlamaEngine::Stats() const {
  const Impl& m = *impl_;
  EngineStats s;
  s.queue_depth = m.st_queue;
  s.active_sequences = m.st_active;
  s.resident_sequences = m.st_resident;
  s.host_sequences = m.st_host;
  s.disk_sequences = m.st_disk;
  s.prompt_tokens_total = m.st_prompt;
  s.cached_tokens_total = m.st_cached;
  s.prefill_tokens_total = m.st_prefill;
  s.decode_tokens_total = m.st_decode;
  const int64_t tp = m.st_t_prefill_us, td = m.st_t_decode_us;
  s.prefill_tokens_per_s = tp > 0 ? m.st_prefill * 1e6 / tp : 0;
  s.decode_tokens_per_s = td > 0 ? m.st_decode * 1e6 / td : 0;
  return s;
}

void LlamaEngine::Forget(std::string_view conversation_key) {
  std::string key(conversation_key);
  Impl* m = impl_.get();
  m->RunOnDecodeThread<bool>(
      [m, key] {
        m->ForgetNow(key);
        return true;
      },
      false);
}

CacheTier LlamaEngine::Tier(std::string_view conversation_key) {
  std::string key(conversation_key);
  Impl* m = impl_.get();
  return m->RunOnDecodeThread<CacheTier>(
      [m, key] {
        auto it = m->convs.find(key);
        if (it != m->convs.end()) return it->second->tier;
        if (!m->opt.disk_cache_dir.empty()) {
          std::error_code ec;
          if (fs::exists(m->DiskPath(key), ec)) return CacheTier::kDisk;
        }
        return CacheTier::kNone;
      },
      CacheTier::kNone);
}

Status LlamaEngine::Evict(std::string_view conversation_key, CacheTier to) {
  std::string key(conversation_key);
  Impl* m = impl_.get();
  return m->RunOnDecodeThread<Status>(
      [m, key, to]() -> Status {
        auto it = m->convs.find(key);
        if (it == m->convs.end()) return Status::NotFound("no cached conversation " + key);
        Conversation& c = *it->second;
        if (c.busy) return Status::Conflict("conversation is generating");
        if (to == CacheTier::kHost || to == CacheTier::kDisk) {
          if (c.seq >= 0) m->EvictToHost(c);
          if (to == CacheTier::kDisk) {
            if (m->opt.disk_cache_dir.empty()) return Status::InvalidArgument("no disk cache dir");
            m->HostToDisk(c);
          }
          return c.tier == to ? Status::Ok() : Status::Unavailable("eviction failed");
        }
        return Status::InvalidArgument("can only evict to host or disk");
      },
      Status::Unavailable("engine stopped"));
}

Status LlamaEngine::Prefetch(std::string_view conversation_key) {
  std::string key(conversation_key);
  Impl* m = impl_.get();
  return m->RunOnDecodeThread<Status>(
      [m, key]() -> Status {
        Conversation* c = m->FindOrLoadConv(key);
        if (c->seq >= 0 || c->busy) return Status::Ok();
        if (c->tier != CacheTier::kHost && c->tier != CacheTier::kDisk) {
          m->convs.erase(key);
          return Status::NotFound("no cached conversation " + key);
        }
        const int seq = m->AcquireSeq();
        if (seq < 0) return Status::Unavailable("no free sequence");
        m->Restore(*c, seq);
        c->last_used_us = NowSteadyUs();
        if (c->tokens.empty()) return Status::Corruption("snapshot could not be restored");
        return Status::Ok();
      },
      Status::Unavailable("engine stopped"));
}

Result<std::string> LlamaEngine::SequenceState(std::string_view conversation_key) {
  std::string key(conversation_key);
  Impl* m = impl_.get();
  return m->RunOnDecodeThread<Result<std::string>>(
      [m, key]() -> Result<std::string> {
        auto it = m->convs.find(key);
        if (it == m->convs.end() || it->second->seq < 0)
          return Status::NotFound("not resident: " + key);
        return m->SeqState(it->second->seq);
      },
      Status::Unavailable("engine stopped"));
}

Result<std::vector<int32_t>> LlamaEngine::ConversationTokens(std::string_view conversation_key) {
  std::string key(conversation_key);
  Impl* m = impl_.get();
  return m->RunOnDecodeThread<Result<std::vector<int32_t>>>(
      [m, key]() -> Result<std::vector<int32_t>> {
        auto it = m->convs.find(key);
        if (it == m->convs.end()) return Status::NotFound("unknown conversation " + key);
        auto t = m->PeekTokens(*it->second);
        return std::vector<int32_t>(t.begin(), t.end());
      },
      Status::Unavailable("engine stopped"));
}

}  // namespace tokki::engine
