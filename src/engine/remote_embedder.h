// tokki/engine/remote_embedder.h — an Embedder backed by OpenAI-compatible embedding
// servers: POST {base}/v1/embeddings with {"model", "input": [texts...]} (llama-server
// started with --embeddings, vLLM, hosted APIs).
//
// One Embed call is one request. Several base URLs share the load in turn; a server that
// cannot be reached or answers 5xx is skipped for `down_backoff_ms` and the call goes to
// the next one. The vector length is learned from the first answer (Info().n_dim is 0
// until then); an answer with another length later is kConflict (the server's model
// changed, vectors stored so far no longer compare). Truncation of long texts is the
// server's rule (llama-server refuses a text longer than its batch).
//
// Thread safety: all methods are thread-safe; Embed blocks its caller for the exchange.
//
// Start reading at RemoteEmbedder::Open.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/embedder.h"

namespace tokki::engine {

struct RemoteEmbedderOptions {
  std::vector<std::string> base_urls;  // e.g. "http://127.0.0.1:8082" (a trailing /v1 is fine)
  std::string model;                   // sent as "model"; also Info().model
  std::string api_key;                 // sent as "Authorization: Bearer ..." when set
  int connect_timeout_ms = 3000;
  int timeout_ms = 60000;      // one request, all texts
  int down_backoff_ms = 5000;  // an unreachable server is skipped this long
};

class RemoteEmbedder : public Embedder {
 public:
  // Checks the URLs; does not contact the servers.
  static Result<std::unique_ptr<RemoteEmbedder>> Open(RemoteEmbedderOptions options);
  ~RemoteEmbedder() override;

  Result<Embeddings> Embed(const std::vector<std::string>& texts) override;
  EmbeddingInfo Info() const override;

  struct Impl;

 private:
  explicit RemoteEmbedder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokki::engine
