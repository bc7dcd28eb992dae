// tokki/api/server.h — the HTTP/1.1 server: Boost.Beast with C++20 coroutines
// (asio::awaitable), one coroutine per connection on its own strand. It knows routes
// (route.h) and nothing of what they do.
//
// What it guarantees to everyone else (ServerOptions holds every number):
// - No exception leaves a connection; a malformed request costs only its own connection.
// - Limits are checked before work: the header (and chunked trailers) against
//   max_header_bytes; a body against its route's limit from Content-Length before it is
//   read; uploads only after sign-in; at most max_inflight_body_bytes of bodies are read
//   at once (503 past it).
// - Nobody can take everything: connections per client address, event streams per user,
//   a short header timeout until a connection has signed in.
// - I/O threads only move bytes. Handlers (store and CPU work) run on a worker pool;
//   password hashing on its own pool; a request that waits for a reply waits in its
//   coroutine, holding no thread.
// - Cookie-authenticated writes must come from the same origin; JSON routes take only
//   `application/json`; every response carries the security headers (http.cc).
//
// Thread safety: Start/Stop from one controlling thread. Start reading at Server::Start.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/metrics.h"
#include "api/route.h"
#include "core/result.h"

namespace tokki::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int n_threads = 2;  // I/O threads
  int n_workers = 4;  // handler threads (store and CPU work)
  int n_hashers = 2;  // password hashing threads
  size_t max_header_bytes = 16 * 1024;          // header and chunked trailers together
  size_t max_body_bytes = 1024 * 1024;          // JSON bodies
  size_t max_upload_bytes = 16 * 1024 * 1024;   // card imports and avatars (signed in)
  size_t max_inflight_body_bytes = 64 * 1024 * 1024;
  int header_timeout_s = 10;  // a request's header must arrive within this (anonymous)
  int idle_timeout_s = 60;    // keep-alive wait after a signed-in request
  int body_timeout_s = 60;    // a request's body must arrive within this
  int max_connections = 4096;
  int max_connections_per_address = 64;  // 0 = unlimited; not applied to trusted proxies
  int max_streams_per_user = 32;         // open server-sent event streams per user
  int heartbeat_ms = 15000;
  std::string web_dir;                       // built web app; "" = none
  std::vector<std::string> trusted_proxies;  // CIDR ranges allowed to set X-Forwarded-*
  bool secure_cookies = false;               // always mark the session cookie Secure
  std::vector<std::string> allowed_origins;  // extra origins allowed to write with a cookie
};

class Server {
 public:
  Server(ServerOptions options, std::vector<Route> routes, Authenticator auth, Metrics* metrics);
  ~Server();

  // Binds and starts the I/O threads. Returns the bound port (useful with port 0).
  Result<uint16_t> Start();
  // Stops accepting new connections.
  void StopAccepting();
  // Ends idle connections and event channels; waits up to `timeout_ms` for all to close,
  // then stops the I/O threads.
  void Stop(int timeout_ms = 5000);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokki::api
