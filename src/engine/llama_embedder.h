// tokki/engine/llama_embedder.h — an Embedder running a GGUF model in this process.
//
// The model gets its own llama_context with embeddings on and pooling: the model's own
// pooling type when its GGUF declares one (mean, cls or last), else mean pooling — which
// also turns a decoder-only chat model into a (weak) embedding model. A reranking model
// (pooling "rank") or an encoder-decoder model is refused.
//
// Batching: the texts of one Embed call are packed, in order, into as few llama_decode
// calls as possible, each with at most `n_seq_max` texts (one sequence id each) and
// `n_batch` tokens; the KV cache is cleared before each. A text always lies within one
// decode, so its vector does not depend on its neighbours.
//
// Truncation: a text keeps its first `max_text_tokens` tokens, counting the special
// tokens the model adds around every text (e.g. BOS, or CLS and SEP), which are kept;
// max_text_tokens = min(n_batch, the model's training context).
//
// Thread safety: all methods are thread-safe. Embed runs on the caller's thread;
// tokenization runs in parallel, decoding one call at a time (mutex), independent of the
// chat engine's decode thread.
//
// Start reading at LlamaEmbedder::Open.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/embedder.h"

namespace tokki::engine {

struct LlamaEmbedderOptions {
  std::string model_path;
  int n_batch = 512;            // tokens in one llama_decode; also the longest text kept
  int n_seq_max = 16;           // texts in one llama_decode
  int n_threads = 0;            // 0 = all cores
  int64_t max_model_bytes = 0;  // 0 = 80 % of physical RAM
};

class LlamaEmbedder : public Embedder {
 public:
  // Checks the file (as the chat model's: missing, not GGUF, truncated, too large give a
  // clear Status), loads the model and creates its context.
  static Result<std::unique_ptr<LlamaEmbedder>> Open(LlamaEmbedderOptions options);
  ~LlamaEmbedder() override;

  Result<Embeddings> Embed(const std::vector<std::string>& texts) override;
  EmbeddingInfo Info() const override;

  // The tokens a text is embedded as (special tokens added, truncated): for tests.
  std::vector<int32_t> Tokens(const std::string& text) const;

  struct Impl;

 private:
  explicit LlamaEmbedder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokki::engine
