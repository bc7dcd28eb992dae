// The embedded llama.cpp engine: loading the model and the public methods. The decode
// thread is in llama_scheduler.cc, the KV cache in llama_kv_cache.cc; the state they
// share is LlamaEngine::Impl (llama_engine_impl.h). See llama_engine.h and
// docs/engine.md.
#include "engine/llama_engine.h"

#include <llama.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "core/clock.h"
#include "core/hash.h"
#include "core/log.h"
#include "engine/grammar.h"
#include "engine/llama_engine_impl.h"
#include "engine/llama_init.h"
#include "engine/model_file.h"
#include "engine/model_gen.h"

namespace tokki::engine {
namespace {
namespace fs = std::filesystem;
}  // namespace

using internal::GenerationHandle;
using Conversation = internal::Conversation;
using Request = internal::Request;

// ---------------------------------------------------------------- setup
Status LlamaEngine::Impl::Load() {
  InitBackendOnce();
  uint64_t size = 0;
  TOKKI_RETURN_IF_ERROR(CheckModelFile(opt.model_path, opt.max_model_bytes, &size));
  model = llama_model_load_from_file(opt.model_path.c_str(), CpuModelParams());
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

  if (opt.n_seq_max <= 0) opt.n_seq_max = opt.kv_unified ? 64 : opt.n_parallel + 4;
  opt.n_seq_max =
      std::clamp<int>(opt.n_seq_max, 2, static_cast<int>(llama_max_parallel_sequences()));
  opt.n_parallel = std::clamp(opt.n_parallel, 1, opt.n_seq_max - 1);
  opt.n_batch = std::max(opt.n_batch, opt.n_parallel + 1);
  opt.prefill_chunk_tokens = std::clamp(opt.prefill_chunk_tokens, 1, opt.n_batch);
  if (opt.n_threads <= 0)
    opt.n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  ggml_type kv_type = GGML_TYPE_F16;
  if (opt.kv_type == "q8_0") {
    kv_type = GGML_TYPE_Q8_0;
  } else if (opt.kv_type == "q4_0") {
    kv_type = GGML_TYPE_Q4_0;
  } else if (opt.kv_type != "f16") {
    return Status::InvalidArgument("unknown KV cache type \"" + opt.kv_type +
                                   "\" (f16, q8_0 or q4_0)");
  }
  if (kv_type != GGML_TYPE_F16 && !opt.flash_attn)
    return Status::InvalidArgument("a quantized KV cache (" + opt.kv_type +
                                   ") needs flash attention");
  if (kv_type != GGML_TYPE_F16) {
    const int n_head = llama_model_n_head(model);
    const int head = n_head > 0 ? llama_model_n_embd(model) / n_head : 0;
    const int block = static_cast<int>(ggml_blck_size(kv_type));
    if (head <= 0 || head % block != 0)
      return Status::InvalidArgument("a " + opt.kv_type + " KV cache needs a head size divisible by " +
                                     std::to_string(block) + "; this model's is " +
                                     std::to_string(head) + " (use --kv-type f16)");
  }
  // Snapshots of one KV type do not load into another.
  if (kv_type != GGML_TYPE_F16) model_hash = Mix64(model_hash ^ Fnv1a64(opt.kv_type));

  llama_context_params cp = llama_context_default_params();
  cp.type_k = kv_type;
  cp.type_v = kv_type;
  cp.n_ctx = opt.kv_unified ? static_cast<uint32_t>(opt.n_ctx)
                            : static_cast<uint32_t>(opt.n_ctx_seq) * opt.n_seq_max;
  cp.n_batch = static_cast<uint32_t>(opt.n_batch);
  cp.n_ubatch = static_cast<uint32_t>(opt.n_batch);
  cp.n_seq_max = static_cast<uint32_t>(opt.n_seq_max);
  cp.n_threads = opt.n_threads;
  cp.n_threads_batch = opt.n_threads;
  cp.kv_unified = opt.kv_unified;
  cp.flash_attn_type =
      opt.flash_attn ? LLAMA_FLASH_ATTN_TYPE_AUTO : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  cp.no_perf = true;
  ctx = llama_init_from_model(model, cp);
  if (!ctx) return Status::Unavailable("cannot create a llama.cpp context (n_ctx too large?)");
  const int n_ctx_train = llama_model_n_ctx_train(model);
  seq_ctx_limit = static_cast<int>(llama_n_ctx_seq(ctx));
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
  TOKKI_ASSIGN_OR_RETURN(tiers, KvTiers::Open(KvTiersOptions{opt.host_cache_max_bytes,
                                                             opt.disk_cache_dir,
                                                             opt.disk_cache_max_bytes}));
  TOKKI_LOG(info, "model loaded", "name", info.name, "n_ctx", llama_n_ctx(ctx), "n_ctx_seq",
            llama_n_ctx_seq(ctx), "kv_unified", opt.kv_unified, "n_seq_max",
            opt.n_seq_max, "n_parallel", opt.n_parallel, "threads", opt.n_threads);
  return Status::Ok();
}

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
  TOKKI_RETURN_IF_ERROR(CheckRequest(request));
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
  const std::string key = request.conversation_key;
  r->text = TextStream(request.sampling.stop);
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
  // A snapshot on disk is read into RAM by the tiers' I/O thread while this waits.
  if (!key.empty()) m.tiers->Warm(key);
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

ModelInfo LlamaEngine::Info() const {
  ModelInfo info = impl_->info;
  if (impl_->opt.embedder) info.embedding = impl_->opt.embedder->Info();
  return info;
}

Result<Embeddings> LlamaEngine::Embed(const std::vector<std::string>& texts) {
  if (!impl_->opt.embedder) return Engine::Embed(texts);
  return impl_->opt.embedder->Embed(texts);
}

EngineStats LlamaEngine::Stats() const {
  const Impl& m = *impl_;
  EngineStats s;
  s.queue_depth = m.st_queue;
  s.active_sequences = m.st_active;
  s.resident_sequences = m.st_resident;
  s.host_sequences = m.tiers->host_count();
  s.disk_sequences = m.tiers->disk_count();
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
        if (it != m->convs.end()) return m->TierOf(*it->second);
        return m->tiers->Where(key);
      },
      CacheTier::kNone);
}

Status LlamaEngine::Evict(std::string_view conversation_key, CacheTier to) {
  std::string key(conversation_key);
  Impl* m = impl_.get();
  Status st = m->RunOnDecodeThread<Status>(
      [m, key, to]() -> Status {
        auto it = m->convs.find(key);
        if (it == m->convs.end()) return Status::NotFound("no cached conversation " + key);
        Conversation& c = *it->second;
        if (c.busy) return Status::Conflict("conversation is generating");
        if (to != CacheTier::kHost && to != CacheTier::kDisk)
          return Status::InvalidArgument("can only evict to host or disk");
        if (to == CacheTier::kDisk && m->opt.disk_cache_dir.empty())
          return Status::InvalidArgument("no disk cache dir");
        if (c.seq >= 0) m->EvictToHost(c);
        if (to == CacheTier::kDisk) TOKKI_RETURN_IF_ERROR(m->tiers->Spill(key));
        return m->TierOf(c) == to ? Status::Ok() : Status::Unavailable("eviction failed");
      },
      Status::Unavailable("engine stopped"));
  if (st.ok() && to == CacheTier::kDisk) m->tiers->Flush();  // written when this returns
  return st;
}

Status LlamaEngine::Prefetch(std::string_view conversation_key) {
  std::string key(conversation_key);
  Impl* m = impl_.get();
  return m->RunOnDecodeThread<Status>(
      [m, key]() -> Status {
        Conversation* c = m->FindOrAddConv(key);
        if (c->seq >= 0 || c->busy) return Status::Ok();
        const CacheTier tier = m->TierOf(*c);
        if (tier != CacheTier::kHost && tier != CacheTier::kDisk) {
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
        auto t = m->CachedTokens(*it->second);
        return std::vector<int32_t>(t.begin(), t.end());
      },
      Status::Unavailable("engine stopped"));
}

}  // namespace tokki::engine
