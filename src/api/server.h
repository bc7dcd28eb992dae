// tokki/api/server.h — the HTTP/1.1 server: Boost.Beast with C++20 coroutines
// (asio::awaitable) throughout, one coroutine per connection on its own strand.
//
// Limits are explicit (ServerOptions): header and body size (413), idle timeout, maximum
// concurrent connections (503). Streaming replies and the per-user event channel are
// server-sent events with ids, heartbeats and Last-Event-ID resume.
//
// Thread safety: Start/Stop from one controlling thread; handlers run on I/O threads.
// Start reading at Server::Start, then routes.cc.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "api/auth.h"
#include "api/http.h"
#include "api/metrics.h"
#include "chat/chat_service.h"
#include "engine/engine.h"
#include "store/store.h"

namespace tokki::discover {
class Deck;
}

namespace tokki::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int n_threads = 2;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;         // JSON bodies
  size_t max_upload_bytes = 16 * 1024 * 1024;  // card imports and avatars
  int idle_timeout_s = 60;
  int max_connections = 4096;
  int heartbeat_ms = 15000;
  std::string web_dir;  // built web app; "" = none
  std::string version = "0.1.0";
};

// Everything the routes use; owned by the app, outliving the server.
struct Services {
  store::Store* store = nullptr;
  chat::ChatService* chat = nullptr;
  chat::UserEvents* events = nullptr;
  engine::Engine* engine = nullptr;  // may be null
  discover::Deck* deck = nullptr;    // may be null
  Auth* auth = nullptr;
  // Engagement signal for the deck: a message sent or a reply rated (may be empty).
  std::function<void(Id user_id, Id character_id, int n_messages, int rating)> on_engagement;
  // Keeps the deck's index in step with character edits (may be empty).
  std::function<void(const store::Character&)> deck_upsert;
  std::function<void(Id)> deck_remove;
  // Extra Prometheus text appended to /metrics (engine, store, deck figures).
  std::function<std::string()> extra_metrics;
};

// A handler either answers at once or turns the connection into an SSE stream.
struct ReplyStreamPlan {
  std::shared_ptr<chat::ReplyStream> stream;
  int64_t after_seq = 0;
  std::vector<std::pair<std::string, Json>> preface;  // events sent before the tokens
};
struct UserEventsPlan {
  Id user_id = kNoId;
  int64_t after_seq = 0;
};
using HandlerResult = std::variant<Response, ReplyStreamPlan, UserEventsPlan>;
using Handler = std::function<HandlerResult(RequestContext&)>;

struct Route {
  http::verb method;
  std::string pattern;  // "/api/characters/{id}"
  bool auth_required = true;
  bool blocking = false;     // runs on the worker pool (password hashing)
  bool large_body = false;   // accepts up to max_upload_bytes
  Handler handler;
};

class Server {
 public:
  Server(ServerOptions options, Services services);
  ~Server();

  // Binds and starts the I/O threads. Returns the bound port (useful with port 0).
  Result<uint16_t> Start();
  // Stops accepting new connections.
  void StopAccepting();
  // Ends idle connections and event channels; waits up to `timeout_ms` for all to close,
  // then stops the I/O threads.
  void Stop(int timeout_ms = 5000);

  Metrics& metrics() { return metrics_; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  Metrics metrics_;
};

// Every route of the API (routes.cc).
std::vector<Route> MakeRoutes(const Services& services, const ServerOptions& options,
                              Metrics* metrics);

}  // namespace tokki::api
