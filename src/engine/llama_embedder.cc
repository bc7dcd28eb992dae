// The embedding model in this process. See llama_embedder.h.
#include "engine/llama_embedder.h"

#include <llama.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/log.h"
#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "engine/llama_init.h"
#include "engine/model_file.h"
#include "engine/prompt.h"

namespace tokki::engine {
namespace {

const char* PoolingName(enum llama_pooling_type t) {
  switch (t) {
    case LLAMA_POOLING_TYPE_MEAN:
      return "mean";
    case LLAMA_POOLING_TYPE_CLS:
      return "cls";
    case LLAMA_POOLING_TYPE_LAST:
      return "last";
    case LLAMA_POOLING_TYPE_RANK:
      return "rank";
    default:
      return "none";
  }
}

// The pooling a model declares in its GGUF ("<arch>.pooling_type"); UNSPECIFIED when it
// declares none, or "none" (per-token vectors, which Embed does not return).
enum llama_pooling_type DeclaredPooling(const llama_model* model) {
  const std::string arch = MetaString(model, "general.architecture");
  const std::string value = MetaString(model, (arch + ".pooling_type").c_str());
  if (value.empty()) return LLAMA_POOLING_TYPE_UNSPECIFIED;
  switch (std::atoi(value.c_str())) {
    case LLAMA_POOLING_TYPE_MEAN:
      return LLAMA_POOLING_TYPE_MEAN;
    case LLAMA_POOLING_TYPE_CLS:
      return LLAMA_POOLING_TYPE_CLS;
    case LLAMA_POOLING_TYPE_LAST:
      return LLAMA_POOLING_TYPE_LAST;
    case LLAMA_POOLING_TYPE_RANK:
      return LLAMA_POOLING_TYPE_RANK;
    default:
      return LLAMA_POOLING_TYPE_UNSPECIFIED;
  }
}

}  // namespace

struct LlamaEmbedder::Impl {
  LlamaEmbedderOptions opt;
  llama_model* model = nullptr;
  const llama_vocab* vocab = nullptr;
  EmbeddingInfo info;
  // Special tokens the model puts before / after every text (e.g. BOS; CLS ... SEP).
  std::vector<llama_token> prefix, suffix;

  // One decode at a time: the context and its batch are not shareable.
  mutable Mutex mu;
  llama_context* ctx TOKKI_GUARDED_BY(mu) = nullptr;
  llama_batch batch TOKKI_GUARDED_BY(mu) = {};

  ~Impl() {
    if (batch.token) llama_batch_free(batch);
    if (ctx) llama_free(ctx);
    if (model) llama_model_free(model);
  }

  Status Load() TOKKI_EXCLUDES(mu) {
    InitBackendOnce();
    uint64_t size = 0;
    TOKKI_RETURN_IF_ERROR(CheckModelFile(opt.model_path, opt.max_model_bytes, &size));
    model = llama_model_load_from_file(opt.model_path.c_str(), CpuModelParams());
    if (!model) {
      return Status::InvalidArgument("llama.cpp cannot load " + opt.model_path +
                                     " (unsupported architecture or corrupt weights)");
    }
    if (llama_model_has_encoder(model) && llama_model_has_decoder(model)) {
      return Status::InvalidArgument("an encoder-decoder model cannot embed: " + opt.model_path);
    }
    enum llama_pooling_type pooling = DeclaredPooling(model);
    if (pooling == LLAMA_POOLING_TYPE_RANK) {
      return Status::InvalidArgument("a reranking model, not an embedding model: " +
                                     opt.model_path);
    }
    if (pooling == LLAMA_POOLING_TYPE_UNSPECIFIED) pooling = LLAMA_POOLING_TYPE_MEAN;
    vocab = llama_model_get_vocab(model);

    opt.n_batch = std::max(opt.n_batch, 16);
    opt.n_seq_max =
        std::clamp<int>(opt.n_seq_max, 1, static_cast<int>(llama_max_parallel_sequences()));
    if (opt.n_threads <= 0)
      opt.n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    llama_context_params cp = llama_context_default_params();
    cp.embeddings = true;
    cp.pooling_type = pooling;
    // The KV cache holds one decode's texts and is cleared before the next decode. The
    // whole batch is one ubatch: llama.cpp pools a sequence within one ubatch only.
    cp.n_ctx = static_cast<uint32_t>(opt.n_batch);
    cp.n_batch = static_cast<uint32_t>(opt.n_batch);
    cp.n_ubatch = static_cast<uint32_t>(opt.n_batch);
    cp.n_seq_max = static_cast<uint32_t>(opt.n_seq_max);
    cp.kv_unified = true;
    cp.n_threads = opt.n_threads;
    cp.n_threads_batch = opt.n_threads;
    cp.no_perf = true;
    // Plain attention: a text's vector stays within ~1e-7 whatever is decoded beside it.
    // Flash attention is about twice as fast on CPU but moves it by up to ~1e-4.
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    llama_context* c = llama_init_from_model(model, cp);
    if (!c) return Status::Unavailable("cannot create a llama.cpp context for " + opt.model_path);
    {
      MutexLock lock(&mu);
      ctx = c;
      batch = llama_batch_init(opt.n_batch, 0, 1);
    }

    int max_text_tokens = opt.n_batch;
    if (const int n_ctx_train = llama_model_n_ctx_train(model); n_ctx_train > 0)
      max_text_tokens = std::min(max_text_tokens, n_ctx_train);
    FindSpecialTokens();
    if (static_cast<int>(prefix.size() + suffix.size()) >= max_text_tokens)
      return Status::InvalidArgument("n_batch too small for the embedding model");

    info.available = true;
    info.model = MetaString(model, "general.name");
    if (info.model.empty()) info.model = std::filesystem::path(opt.model_path).stem().string();
    info.backend = "llama.cpp";
    info.n_dim = llama_model_n_embd_out(model);
    info.pooling = PoolingName(pooling);
    info.max_text_tokens = max_text_tokens;
    TOKKI_LOG(info, "embedding model loaded", "name", info.model, "n_dim", info.n_dim, "pooling",
              info.pooling, "max_text_tokens", max_text_tokens, "n_seq_max", opt.n_seq_max);
    return Status::Ok();
  }

  // Which special tokens the tokenizer adds around a text: the difference between a probe
  // tokenized with and without them.
  void FindSpecialTokens() {
    const std::vector<llama_token> bare = Tokenize(vocab, "a", false, false);
    const std::vector<llama_token> full = Tokenize(vocab, "a", true, false);
    for (size_t at = 0; !bare.empty() && at + bare.size() <= full.size(); ++at) {
      if (std::equal(bare.begin(), bare.end(), full.begin() + static_cast<ptrdiff_t>(at))) {
        prefix.assign(full.begin(), full.begin() + static_cast<ptrdiff_t>(at));
        suffix.assign(full.begin() + static_cast<ptrdiff_t>(at + bare.size()), full.end());
        return;
      }
    }
    if (llama_vocab_get_add_bos(vocab)) prefix = {llama_vocab_bos(vocab)};
    if (llama_vocab_get_add_eos(vocab)) suffix = {llama_vocab_eos(vocab)};
  }

  // prefix + the text's first tokens + suffix, at most info.max_text_tokens in all.
  std::vector<llama_token> TextTokens(const std::string& text) const {
    std::vector<llama_token> content = Tokenize(vocab, text, false, false);
    const size_t keep = static_cast<size_t>(info.max_text_tokens) - prefix.size() - suffix.size();
    if (content.size() > keep) content.resize(keep);
    std::vector<llama_token> out = prefix;
    out.insert(out.end(), content.begin(), content.end());
    out.insert(out.end(), suffix.begin(), suffix.end());
    return out;
  }

  // Embeds texts[first, first + n) in one llama_decode, sequence id i for text first + i.
  Status Decode(const std::vector<std::vector<llama_token>>& texts, size_t first, size_t n,
                Embeddings& out) TOKKI_REQUIRES(mu) {
    llama_memory_clear(llama_get_memory(ctx), true);
    batch.n_tokens = 0;
    for (size_t i = 0; i < n; ++i) {
      const std::vector<llama_token>& toks = texts[first + i];
      for (size_t p = 0; p < toks.size(); ++p) {
        const int k = batch.n_tokens++;
        batch.token[k] = toks[p];
        batch.pos[k] = static_cast<llama_pos>(p);
        batch.n_seq_id[k] = 1;
        batch.seq_id[k][0] = static_cast<llama_seq_id>(i);
        batch.logits[k] = 1;
      }
    }
    if (const int rc = llama_decode(ctx, batch); rc != 0) {
      return Status::Internal("llama_decode failed for the embedding model (" + std::to_string(rc) +
                              ")");
    }
    for (size_t i = 0; i < n; ++i) {
      const float* v = llama_get_embeddings_seq(ctx, static_cast<llama_seq_id>(i));
      if (!v) return Status::Internal("llama.cpp returned no pooled embedding");
      std::vector<float>& dst = out[first + i];
      dst.assign(v, v + info.n_dim);
      NormalizeL2(dst);
    }
    return Status::Ok();
  }
};

LlamaEmbedder::LlamaEmbedder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LlamaEmbedder::~LlamaEmbedder() = default;

Result<std::unique_ptr<LlamaEmbedder>> LlamaEmbedder::Open(LlamaEmbedderOptions options) {
  if (options.model_path.empty()) return Status::InvalidArgument("no embedding model path");
  auto impl = std::make_unique<Impl>();
  impl->opt = std::move(options);
  TOKKI_RETURN_IF_ERROR(impl->Load());
  return std::unique_ptr<LlamaEmbedder>(new LlamaEmbedder(std::move(impl)));
}

Result<Embeddings> LlamaEmbedder::Embed(const std::vector<std::string>& texts) {
  TOKKI_RETURN_IF_ERROR(CheckEmbedTexts(texts));
  Impl& m = *impl_;
  // Tokenize on the caller's thread, outside the lock.
  std::vector<std::vector<llama_token>> tokens;
  tokens.reserve(texts.size());
  for (const std::string& t : texts) tokens.push_back(m.TextTokens(t));
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].empty())
      return Status::InvalidArgument("text " + std::to_string(i) + " has no tokens");
  }
  Embeddings out(texts.size());
  MutexLock lock(&m.mu);
  // Pack texts in order: a decode ends when the next text would pass n_batch tokens or
  // n_seq_max texts. Every text fits a decode of its own (max_text_tokens <= n_batch).
  size_t first = 0, n = 0, n_tokens = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (n > 0 && (n_tokens + tokens[i].size() > static_cast<size_t>(m.opt.n_batch) ||
                  n == static_cast<size_t>(m.opt.n_seq_max))) {
      TOKKI_RETURN_IF_ERROR(m.Decode(tokens, first, n, out));
      first = i;
      n = 0;
      n_tokens = 0;
    }
    ++n;
    n_tokens += tokens[i].size();
  }
  if (n > 0) TOKKI_RETURN_IF_ERROR(m.Decode(tokens, first, n, out));
  return out;
}

EmbeddingInfo LlamaEmbedder::Info() const { return impl_->info; }

std::vector<int32_t> LlamaEmbedder::Tokens(const std::string& text) const {
  std::vector<llama_token> t = impl_->TextTokens(text);
  return std::vector<int32_t>(t.begin(), t.end());
}

}  // namespace tokki::engine
