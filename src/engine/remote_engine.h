// tokki/engine/remote_engine.h — an Engine backed by OpenAI-compatible servers
// (llama-server, vLLM, hosted APIs): POST {base}/v1/chat/completions with stream=true,
// parsed as server-sent events.
//
// Several base URLs: each conversation sticks to one server (consistent-hashing ring on
// conversation_key, so the server's own prompt cache keeps working and adding a server
// moves few conversations); a server that cannot be reached is skipped for a while and
// the request goes to the next one on the ring. A failure after tokens were streamed is
// reported, not retried.
//
// Thread safety: all methods are thread-safe. Each generation runs on its own thread;
// callbacks run there.
//
// Start reading at RemoteEngine::Open.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/embedder.h"
#include "engine/engine.h"

namespace tokki::engine {

struct RemoteEngineOptions {
  std::vector<std::string> base_urls;  // e.g. "http://127.0.0.1:8081" (a trailing /v1 is fine)
  std::string model;                   // sent as "model"; also ModelInfo::name
  std::string api_key;                 // sent as "Authorization: Bearer ..." when set
  int max_in_flight = 64;              // more concurrent generations -> kUnavailable
  int connect_timeout_ms = 3000;
  int down_backoff_ms = 5000;  // an unreachable server is skipped this long
  int n_ctx = 0;               // reported context window (0 = unknown)
  // Answers Embed (e.g. a RemoteEmbedder for the embedding server); null = none. The chat
  // servers are not asked: a llama-server started with --embeddings serves nothing else.
  std::shared_ptr<Embedder> embedder;
};

class RemoteEngine : public Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(RemoteEngineOptions options);
  ~RemoteEngine() override;

  Result<std::shared_ptr<Generation>> Submit(GenerateRequest request,
                                             GenerateCallbacks callbacks) override;
  // An estimate: about 4 bytes per token.
  int CountTokens(std::string_view text) const override;
  ModelInfo Info() const override;
  EngineStats Stats() const override;
  Result<Embeddings> Embed(const std::vector<std::string>& texts) override;
  void Shutdown() override;

  // The base URL a conversation is assigned to while every server is up.
  std::string ServerFor(std::string_view conversation_key) const;

  struct Impl;

 private:
  explicit RemoteEngine(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace tokki::engine
