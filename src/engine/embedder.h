// tokki/engine/embedder.h — turns texts into embedding vectors (dense retrieval).
//
// An Engine answers Engine::Embed through the Embedder it was opened with
// (LlamaEngineOptions::embedder, RemoteEngineOptions::embedder), so either chat engine can
// use either embedder: a GGUF embedding model in this process (llama_embedder.h) or an
// OpenAI-compatible /v1/embeddings server (remote_embedder.h).
//
// The contract of every Embedder:
//   - one vector per text, in input order, each Info().n_dim long with L2 norm 1;
//   - an empty list gives an empty list and does no work; an empty text is
//     kInvalidArgument naming its index (CheckEmbedTexts), and nothing is embedded;
//   - a text's vector does not depend on the texts it is sent with (up to float rounding);
//   - a text longer than Info().max_text_tokens keeps its first tokens.
//
// Thread safety: all methods may be called from any thread; Embed blocks its caller.
//
// Start reading at Embedder::Embed.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "engine/engine.h"

namespace tokki::engine {

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual Result<Embeddings> Embed(const std::vector<std::string>& texts) = 0;
  virtual EmbeddingInfo Info() const = 0;
};

// The input rule of every Embedder: OK, or kInvalidArgument naming the first empty text.
Status CheckEmbedTexts(const std::vector<std::string>& texts);

// Scales `v` to L2 norm 1 (a zero vector stays zero).
void NormalizeL2(std::vector<float>& v);

}  // namespace tokki::engine
