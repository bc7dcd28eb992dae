// tokki/api/route.h — what the HTTP server needs to know about a route, and nothing of
// what the route does: its method and path pattern, who may call it, what body it takes,
// and which pool runs it. Route tables are built in routes_*.cc; the server (server.h)
// matches, authenticates, checks limits and runs handlers.
//
// A handler runs on a worker thread (never on an I/O thread) and must not wait: a request
// that has to wait for something (a reply to finish) returns a WaitPlan, and the server
// waits in the connection's coroutine on the same wake-up path server-sent events use.
//
// Thread safety: handlers are called concurrently; they share only thread-safe services.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "api/event_source.h"
#include "api/http.h"

namespace tokki::api {

// Who may call a route. The server answers 401 / 403 before reading the body.
enum class Access { kPublic, kUser, kModerator, kAdmin };

// What body a route takes. kNone: a small body is read and ignored (clients send "{}");
// kJson: up to ServerOptions::max_body_bytes of `application/json` (415 otherwise);
// kUpload: up to max_upload_bytes of any type, read only after the caller signed in.
enum class BodyKind { kNone, kJson, kUpload };

// Which pool runs the handler: kHashing keeps password hashing from queueing behind (or
// in front of) everything else.
enum class Work { kWorker, kHashing };

// Turns the connection into a server-sent event stream from `source`.
struct StreamPlan {
  std::shared_ptr<EventSource> source;
  int64_t after_seq = 0;  // Last-Event-ID: events after this one
  std::string preface;    // SSE text sent before the source's events
};

// Waits (in the connection's coroutine, holding no thread) until `source` finishes or
// `timeout_ms` passes, then answers with `then`, which runs on a worker thread.
struct WaitPlan {
  std::shared_ptr<EventSource> source;
  std::function<Response(RequestContext&)> then;
  int64_t timeout_ms = 10 * 60 * 1000;
};

using HandlerResult = std::variant<Response, StreamPlan, WaitPlan>;
using Handler = std::function<HandlerResult(RequestContext&)>;

struct Route {
  http::verb method = http::verb::get;
  std::string pattern;  // "/api/characters/{id}"
  Access access = Access::kUser;
  BodyKind body = BodyKind::kNone;
  Work work = Work::kWorker;
  Handler handler;
};

// The signed-in caller behind a session token.
struct Principal {
  Id user_id = kNoId;
  store::Role role = store::Role::kUser;
};

// Token -> principal. `cached` must be cheap and never touch the store (it runs on an I/O
// thread; nullopt = not known); `full` may read the store (it runs on a worker thread).
struct Authenticator {
  std::function<std::optional<Result<Principal>>(std::string_view token)> cached;
  std::function<Result<Principal>(std::string_view token)> full;
};

}  // namespace tokki::api
