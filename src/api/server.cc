#include "api/server.h"

#include <malloc.h>

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <map>
#include <thread>

#include "api/client_address.h"
#include "api/limits.h"
#include "api/static_files.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/text.h"

namespace tokki::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

namespace {

constexpr size_t kReadChunk = 16 * 1024;
const std::string kPing = ": ping\n\n";
constexpr size_t kIgnoredBodyBytes = 4096;  // BodyKind::kNone and static files

struct MatchedRoute {
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  bool path_known = false;  // some route has this path (for 405)
};

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsSafeMethod(http::verb v) {
  return v == http::verb::get || v == http::verb::head || v == http::verb::options;
}

bool IsJsonContentType(std::string_view ct) {
  auto semi = ct.find(';');
  std::string type = AsciiLower(ct.substr(0, semi));
  return type == "application/json" || (type.rfind("application/", 0) == 0 && type.size() > 5 &&
                                         type.compare(type.size() - 5, 5, "+json") == 0);
}

// "http://host:port" -> "host:port" (lowercase); "" when it is not a web origin.
std::string OriginHost(std::string_view origin) {
  auto sep = origin.find("://");
  if (sep == std::string_view::npos) return "";
  return AsciiLower(origin.substr(sep + 3));
}

enum class ReadResult { kOk, kClosed, kTimeout, kTooLarge, kBodyTooLarge, kBad };

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, std::vector<Route> routes, Authenticator auth, Metrics* metrics)
      : options_(std::move(options)),
        routes_(std::move(routes)),
        auth_(std::move(auth)),
        metrics_(metrics),
        ioc_(options_.n_threads),
        acceptor_(ioc_),
        workers_(static_cast<size_t>(std::max(1, options_.n_workers))),
        hashers_(static_cast<size_t>(std::max(1, options_.n_hashers))),
        statics_(options_.web_dir),
        per_address_(options_.max_connections_per_address),
        streams_per_user_(options_.max_streams_per_user),
        body_budget_(options_.max_inflight_body_bytes) {}

  Result<uint16_t> Start() {
    TOKKI_ASSIGN_OR_RETURN(proxies_, TrustedProxies::Parse(options_.trusted_proxies));
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return Status::InvalidArgument("bad --host '" + options_.host + "': " + ec.message());
    tcp::endpoint ep(address, options_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return Status::Unavailable("cannot listen on " + options_.host + ":" +
                                 std::to_string(options_.port) + ": " + ec.message());
    uint16_t port = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, Accept(), asio::detached);
    for (int i = 0; i < options_.n_threads; ++i) threads_.emplace_back([this] { RunIo(); });
    return port;
  }

  void StopAccepting() {
    stopping_ = true;
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
  }

  void Stop(int timeout_ms) {
    StopAccepting();
    std::vector<std::function<void()>> stoppers;
    {
      MutexLock lock(&conns_mu_);
      for (auto& [id, fn] : conns_) stoppers.push_back(fn);
    }
    for (auto& fn : stoppers) fn();
    int64_t deadline = NowSteadyUs() + int64_t{timeout_ms} * 1000;
    while (metrics_->open_connections() > 0 && NowSteadyUs() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ioc_.stop();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
    workers_.join();
    hashers_.join();
  }

 private:
  struct Conn {
    beast::tcp_stream stream;
    std::shared_ptr<asio::steady_timer> wake;  // stream and wait loops sleep on it
    std::atomic<bool> pending{false};
    explicit Conn(tcp::socket s) : stream(std::move(s)) {}
  };

  // An I/O thread. Exceptions are caught per connection (Session); this is the last line.
  void RunIo() {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        TOKKI_LOG(error, "I/O thread caught an exception", "error", e.what());
      } catch (...) {
        TOKKI_LOG(error, "I/O thread caught an unknown exception");
      }
    }
  }

  awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kTuple);
      if (ec) {
        if (stopping_ || ec == asio::error::operation_aborted) co_return;
        TOKKI_LOG(warn, "accept failed", "error", ec.message());
        continue;
      }
      auto ex = socket.get_executor();
      asio::co_spawn(ex, Session(std::move(socket)), [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex2) {
          TOKKI_LOG(error, "connection ended by an exception", "error", ex2.what());
        } catch (...) {
          TOKKI_LOG(error, "connection ended by an unknown exception");
        }
      });
    }
  }

  awaitable<void> Session(tcp::socket socket) {
    metrics_->ConnectionOpened();
    auto conn = std::make_shared<Conn>(std::move(socket));
    conn->wake = std::make_shared<asio::steady_timer>(conn->stream.get_executor());
    uint64_t conn_id = next_conn_id_.fetch_add(1);
    std::string peer_ip;
    {
      beast::error_code ec;
      auto ep = conn->stream.socket().remote_endpoint(ec);
      if (!ec) peer_ip = ep.address().to_string();
    }
    Register(conn_id, conn);
    Response rej;
    try {
      const bool peer_is_proxy = proxies_.Contains(peer_ip);
      KeyedSlot address_slot;
      if (!peer_is_proxy) address_slot = AcquireSlot(&per_address_, peer_ip);
      if (metrics_->open_connections() > options_.max_connections ||
          (!peer_is_proxy && !address_slot)) {
        rej = ErrorResponse(Request{}, http::status::service_unavailable,
                                                   "unavailable", "too many connections; try again shortly");
        co_await WriteAndClose(conn, rej);
      } else {
        co_await Serve(conn, peer_ip);
      }
    } catch (const std::exception& e) {
      TOKKI_LOG(error, "connection failed", "error", e.what());
    }
    beast::error_code ec;
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    {
      MutexLock lock(&conns_mu_);
      conns_.erase(conn_id);
    }
    metrics_->ConnectionClosed();
  }

  void Register(uint64_t conn_id, const std::shared_ptr<Conn>& conn) TOKKI_EXCLUDES(conns_mu_) {
    MutexLock lock(&conns_mu_);
    std::weak_ptr<Conn> weak = conn;
    auto ex = conn->stream.get_executor();
    conns_[conn_id] = [weak, ex] {
      asio::post(ex, [weak] {
        if (auto c = weak.lock()) {
          c->pending = true;
          c->wake->cancel();
          beast::error_code ec;
          c->stream.socket().cancel(ec);
        }
      });
    };
  }

  // Parses what is buffered and reads more until the header (or the whole message) is in.
  // `max_unparsed` bounds bytes that the parser cannot consume yet: the header itself, or
  // a chunk header and the trailers after the body.
  awaitable<ReadResult> Read(Conn& conn, beast::flat_buffer& buf,
                             http::request_parser<http::string_body>& parser, bool header_only,
                             size_t max_unparsed, size_t* consumed) {
    for (;;) {
      while (buf.size() > 0) {
        beast::error_code ec;
        size_t used = 0;
        try {
          used = parser.put(buf.data(), ec);
        } catch (const std::exception&) {
          co_return ReadResult::kTooLarge;  // a field larger than Beast can hold
        }
        buf.consume(used);
        if (consumed) *consumed += used;
        if (ec == http::error::need_more) break;
        if (ec == http::error::body_limit) co_return ReadResult::kBodyTooLarge;
        if (ec == http::error::header_limit) co_return ReadResult::kTooLarge;
        if (ec) {
          TOKKI_LOG(debug, "malformed request", "error", ec.message());
          co_return ReadResult::kBad;
        }
        if (header_only ? parser.is_header_done() : parser.is_done()) co_return ReadResult::kOk;
        if (used == 0) break;
      }
      if (header_only ? parser.is_header_done() : parser.is_done()) co_return ReadResult::kOk;
      if (buf.size() > max_unparsed) co_return ReadResult::kTooLarge;
      auto [ec, n] = co_await conn.stream.async_read_some(buf.prepare(kReadChunk), kTuple);
      if (ec) {
        if (ec == beast::error::timeout) co_return ReadResult::kTimeout;
        if (ec == asio::error::eof && !header_only && parser.is_header_done()) {
          beast::error_code eof_ec;
          parser.put_eof(eof_ec);
          if (!eof_ec && parser.is_done()) co_return ReadResult::kOk;
        }
        co_return ReadResult::kClosed;
      }
      buf.commit(n);
    }
  }

  awaitable<void> Serve(std::shared_ptr<Conn> conn, std::string peer_ip) {
    beast::flat_buffer buffer;
    bool signed_in = false;
    Response rej;  // an early answer (named: see `early` below)
    for (;;) {
      if (stopping_) co_return;
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      parser.body_limit(boost::none);  // the route's limit is applied once the header is in
      // The whole header must arrive in time: short until the connection has signed in.
      conn->stream.expires_after(
          std::chrono::seconds(signed_in ? options_.idle_timeout_s : options_.header_timeout_s));
      size_t header_bytes = 0;
      ReadResult rr = co_await Read(*conn, buffer, parser, /*header_only=*/true,
                                    options_.max_header_bytes, &header_bytes);
      if (rr == ReadResult::kClosed || rr == ReadResult::kTimeout) co_return;
      if (rr == ReadResult::kTooLarge || rr == ReadResult::kBodyTooLarge) {
        rej = ErrorResponse(Request{}, http::status::payload_too_large, "too_large",
                                            "the request headers are too large");
        co_await Reject(conn, rej);
        co_return;
      }
      if (rr != ReadResult::kOk) {
        rej = ErrorResponse(Request{}, http::status::bad_request,
                                                   "invalid_argument", "malformed HTTP request");
        co_await WriteAndClose(conn, rej);
        co_return;
      }
      conn->stream.expires_never();
      const int64_t start_us = NowSteadyUs();
      const uint64_t rid = next_request_id_.fetch_add(1);

      // ---- everything decided from the header, before the body is read
      Request& head = parser.get();
      std::string target(head.target());
      size_t q = target.find('?');
      std::string path = target.substr(0, q);
      ClientAddress client = ResolveClient(proxies_, peer_ip, head["X-Forwarded-For"],
                                           head["X-Forwarded-Proto"]);
      const bool is_static =
          path.rfind("/api/", 0) != 0 && path != "/healthz" && path != "/metrics";
      MatchedRoute m;
      if (!is_static) m = Match(head.method(), path);
      std::string route_name = is_static ? "static" : m.route ? m.route->pattern : "other";
      // Answers that end the connection before the body is read. (Responses are passed to
      // coroutines by reference to named objects: GCC 12 destroys temporaries in a co_await
      // expression twice.)
      auto early = [&](Response& res) -> awaitable<void> {
        Record(route_name, head, res.result_int(), start_us, rid, path, kNoId);
        co_await Reject(conn, res);
      };
      if (!is_static && !m.route) {
        if (m.path_known)
          rej = ErrorResponse(head, http::status::method_not_allowed, "method_not_allowed",
                              "this path does not accept " + std::string(head.method_string()));
        else
          rej = ErrorResponse(head, http::status::not_found, "not_found", "no such route: " + path);
        co_await early(rej);
        co_return;
      }
      const Route* route = m.route;

      // Who is calling.
      Principal who;
      bool cookie_auth = false;
      std::string token = SessionToken(head, &cookie_auth);
      if (!token.empty() && !is_static) {
        std::optional<Result<Principal>> cached = auth_.cached ? auth_.cached(token) : std::nullopt;
        Result<Principal> p = Status::Unauthenticated("sign in first");
        if (cached) {
          p = *cached;
        } else {
          // Named, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
          auto check = OnPool(workers_, [this, token] { return auth_.full(token); });
          auto full = co_await std::move(check);
          p = std::move(*full);
        }
        if (p.ok()) {
          who = *p;
          signed_in = true;
        } else {
          cookie_auth = false;
        }
      }
      if (route) {
        if (route->access != Access::kPublic && who.user_id == kNoId) {
          rej = ErrorResponse(head, http::status::unauthorized, "unauthenticated", "sign in first");
          co_await early(rej);
          co_return;
        }
        const bool need_mod = route->access == Access::kModerator;
        const bool need_admin = route->access == Access::kAdmin;
        if ((need_mod && who.role == store::Role::kUser) || (need_admin && who.role != store::Role::kAdmin)) {
          rej = ErrorResponse(head, http::status::forbidden, "permission_denied",
                                       need_admin ? "this needs an administrator" : "this needs a moderator");
          co_await early(rej);
          co_return;
        }
        // Cross-site request forgery: a write that rides on the cookie must come from us.
        if (cookie_auth && !IsSafeMethod(head.method()) && !SameOrigin(head, route->body)) {
          rej = ErrorResponse(head, http::status::forbidden, "permission_denied",
                                       "cross-site request refused");
          co_await early(rej);
          co_return;
        }
      }

      // The body: its limit is known before a byte of it is read.
      const BodyKind body_kind = route ? route->body : BodyKind::kNone;
      const size_t limit = body_kind == BodyKind::kJson     ? options_.max_body_bytes
                           : body_kind == BodyKind::kUpload ? options_.max_upload_bytes
                                                            : kIgnoredBodyBytes;
      auto declared = parser.content_length();
      const bool has_body = parser.chunked() || (declared && *declared > 0);
      if (declared && *declared > limit) {
        rej = ErrorResponse(head, http::status::payload_too_large, "too_large",
                                     "the request body is over " + std::to_string(limit) + " bytes");
        co_await early(rej);
        co_return;
      }
      if (body_kind == BodyKind::kJson && has_body &&
          !IsJsonContentType(std::string_view(head[http::field::content_type]))) {
        rej = ErrorResponse(head, http::status::unsupported_media_type, "unsupported_media_type",
                                     "send the body as application/json");
        co_await early(rej);
        co_return;
      }
      BudgetHold body_hold;
      const size_t reserve = declared ? static_cast<size_t>(*declared) : (parser.chunked() ? limit : 0);
      if (reserve > 0) {
        if (!body_budget_.TryTake(reserve)) {
          rej = ErrorResponse(head, http::status::service_unavailable, "unavailable",
                                       "the server is busy reading other uploads; try again shortly");
          co_await early(rej);
          co_return;
        }
        body_hold = BudgetHold(&body_budget_, reserve);
      }
      if (has_body) {
        parser.body_limit(limit);
        parser.eager(true);
        conn->stream.expires_after(std::chrono::seconds(options_.body_timeout_s));
        size_t trailer_room = options_.max_header_bytes > header_bytes ? options_.max_header_bytes - header_bytes : 0;
        rr = co_await Read(*conn, buffer, parser, /*header_only=*/false, trailer_room, nullptr);
        conn->stream.expires_never();
        if (rr == ReadResult::kClosed || rr == ReadResult::kTimeout) co_return;
        if (rr == ReadResult::kTooLarge || rr == ReadResult::kBodyTooLarge) {
          rej = ErrorResponse(head, http::status::payload_too_large, "too_large",
                                       rr == ReadResult::kBodyTooLarge
                                           ? "the request body is over " + std::to_string(limit) + " bytes"
                                           : "the request headers and trailers are too large");
          co_await early(rej);
          co_return;
        }
        if (rr == ReadResult::kOk && parser.chunked()) {
          // Trailer fields join the header's: together they get the header's limit.
          size_t field_bytes = 0;
          for (const auto& f : parser.get()) field_bytes += f.name_string().size() + f.value().size() + 4;
          if (field_bytes > options_.max_header_bytes) rr = ReadResult::kTooLarge;
        }
        if (rr == ReadResult::kTooLarge) {
          rej = ErrorResponse(head, http::status::payload_too_large, "too_large",
                              "the request headers and trailers are too large");
          co_await early(rej);
          co_return;
        }
        if (rr != ReadResult::kOk) {
          rej = ErrorResponse(head, http::status::bad_request, "invalid_argument",
                                       "malformed HTTP request body");
          co_await early(rej);
          co_return;
        }
      }
      Request req = parser.release();

      RequestContext ctx{req, path};
      if (q != std::string::npos) ctx.query = ParseQuery(std::string_view(target).substr(q + 1));
      ctx.params = std::move(m.params);
      ctx.route = route_name;
      ctx.remote_ip = client.ip;
      ctx.secure = client.secure || options_.secure_cookies;
      ctx.request_id = rid;
      ctx.user_id = who.user_id;
      ctx.role = who.role;
      ctx.cookie_auth = cookie_auth;

      // A client that asks for a stream takes a stream slot before anything is done.
      KeyedSlot stream_slot;
      if (route && WantsEventStream(req) && who.user_id != kNoId) {
        stream_slot = AcquireSlot(&streams_per_user_, std::to_string(who.user_id));
        if (!stream_slot) {
          rej = TooManyStreams(ctx);
          co_await Finish(conn, ctx, rej, start_us);
          co_return;
        }
      }

      std::optional<HandlerResult> ran;
      if (is_static) {
        auto job = OnPool(workers_, [this, &req, &path] { return HandlerResult(statics_.Serve(req, path)); });
        ran = co_await std::move(job);
      } else {
        auto job = OnPool(route->work == Work::kHashing ? hashers_ : workers_,
                          [route, &ctx] { return Invoke(*route, ctx); });
        ran = co_await std::move(job);
      }
      HandlerResult result = std::move(*ran);
      if (reserve > 1024 * 1024) asio::post(workers_, [] { malloc_trim(0); });
      body_hold = BudgetHold();

      if (auto* res = std::get_if<Response>(&result)) {
        bool keep = co_await Finish(conn, ctx, *res, start_us);
        if (!keep) co_return;
        continue;
      }
      if (auto* wait = std::get_if<WaitPlan>(&result)) {
        co_await WaitFor(conn, *wait);
        auto job = OnPool(workers_, [wait, &ctx] { return InvokeThen(*wait, ctx); });
        auto answered = co_await std::move(job);
        bool keep = co_await Finish(conn, ctx, *answered, start_us);
        if (!keep) co_return;
        continue;
      }
      auto& plan = std::get<StreamPlan>(result);
      if (!stream_slot) {
        stream_slot = AcquireSlot(&streams_per_user_, std::to_string(who.user_id));
        if (!stream_slot) {
          rej = TooManyStreams(ctx);
          co_await Finish(conn, ctx, rej, start_us);
          co_return;
        }
      }
      Record(ctx.route, req, 200, start_us, rid, path, ctx.user_id);
      metrics_->StreamOpened();
      co_await StreamEvents(conn, req, plan);
      metrics_->StreamClosed();
      co_return;  // streams end the connection
    }
  }

  Response TooManyStreams(const RequestContext& ctx) {
    return ErrorResponse(ctx, Status::ResourceExhausted(
                                  "too many open streams for this account (" +
                                  std::to_string(options_.max_streams_per_user) + "); close some first")
                                  .WithRetryAfter(5));
  }

  // Writes a handler's response; false when the connection must end.
  awaitable<bool> Finish(std::shared_ptr<Conn> conn, RequestContext& ctx, Response& res, int64_t start_us) {
    res.set("X-Request-Id", std::to_string(ctx.request_id));
    ApplySecurityHeaders(res);
    const int status = res.result_int();
    const bool keep = res.keep_alive() && ctx.req.keep_alive() && !stopping_;
    res.keep_alive(keep);
    Record(ctx.route, ctx.req, status, start_us, ctx.request_id, ctx.path, ctx.user_id);
    auto [ec, n] = co_await http::async_write(conn->stream, res, kTuple);
    co_return !ec && keep;
  }

  // Answers before the request was read to its end: the connection cannot be reused.
  awaitable<void> Reject(std::shared_ptr<Conn> conn, Response res) {
    co_await WriteAndClose(conn, res);
    co_await Drain(conn);
  }

  awaitable<void> WriteAndClose(std::shared_ptr<Conn> conn, Response& res) {
    ApplySecurityHeaders(res);
    res.keep_alive(false);
    conn->stream.expires_after(std::chrono::seconds(10));
    co_await http::async_write(conn->stream, res, kTuple);
    conn->stream.expires_never();
  }

  // After an early answer: read and drop what the client still sends (bounded in bytes and
  // time), so that closing the socket does not reset the connection before the answer is read.
  awaitable<void> Drain(std::shared_ptr<Conn> conn) {
    beast::error_code ec;
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    conn->stream.expires_after(std::chrono::seconds(2));
    std::vector<char> sink(64 * 1024);
    size_t total = 0;
    while (total < 4 * options_.max_upload_bytes) {
      auto [rec, n] = co_await conn->stream.async_read_some(asio::buffer(sink), kTuple);
      if (rec) break;
      total += n;
    }
  }

  // Runs `fn` on `pool`; awaiting the result resumes on the calling connection's strand.
  // The value travels in an optional (co_spawn needs a default-constructible result); the
  // caller awaits it in a statement of its own (GCC 12 mishandles temporaries otherwise).
  template <typename Fn>
  static awaitable<std::optional<std::invoke_result_t<Fn>>> OnPool(asio::thread_pool& pool, Fn fn) {
    using T = std::invoke_result_t<Fn>;
    return asio::co_spawn(
        pool, [fn = std::move(fn)]() mutable -> awaitable<std::optional<T>> { co_return std::optional<T>(fn()); },
        use_awaitable);
  }

  static HandlerResult Invoke(const Route& route, RequestContext& ctx) {
    try {
      return route.handler(ctx);
    } catch (const std::exception& e) {
      TOKKI_LOG(error, "handler threw", "rid", ctx.request_id, "error", e.what());
      return ErrorResponse(ctx, Status::Internal("internal error"));
    }
  }

  static Response InvokeThen(const WaitPlan& plan, RequestContext& ctx) {
    try {
      return plan.then(ctx);
    } catch (const std::exception& e) {
      TOKKI_LOG(error, "handler threw", "rid", ctx.request_id, "error", e.what());
      return ErrorResponse(ctx, Status::Internal("internal error"));
    }
  }

  bool SameOrigin(const Request& req, BodyKind body) const {
    auto site = std::string_view(req["Sec-Fetch-Site"]);
    if (!site.empty()) return site == "same-origin" || site == "none";
    auto origin = std::string_view(req[http::field::origin]);
    if (origin.empty()) {
      // No browser metadata at all: a non-browser client, or a browser too old to send it.
      // A JSON body cannot be sent cross-site without a CORS preflight, which we never grant.
      return body == BodyKind::kJson;
    }
    for (auto& o : options_.allowed_origins)
      if (AsciiLower(o) == AsciiLower(origin)) return true;
    std::string host = AsciiLower(std::string_view(req[http::field::host]));
    return !host.empty() && OriginHost(origin) == host;
  }

  void Record(const std::string& route, const Request& req, int status, int64_t start_us, uint64_t rid,
              const std::string& path, Id user_id) {
    int64_t us = NowSteadyUs() - start_us;
    metrics_->Observe(route, std::string(req.method_string()), status, us);
    // Every request at debug; failures (4xx/5xx) also at info, so they show by default.
    if (status >= 400 || spdlog::should_log(spdlog::level::debug)) {
      TOKKI_LOG(info, "request", "rid", rid, "method", std::string(req.method_string()), "path", path,
                "status", status, "us", us, "user", user_id);
    }
  }

  MatchedRoute Match(http::verb method, const std::string& path) {
    MatchedRoute m;
    auto segs = Split(path);
    for (auto& r : routes_) {
      auto pat = Split(r.pattern);
      if (pat.size() != segs.size()) continue;
      std::map<std::string, std::string> params;
      bool ok = true;
      for (size_t i = 0; i < pat.size() && ok; ++i) {
        if (pat[i].size() > 2 && pat[i].front() == '{' && pat[i].back() == '}')
          params[std::string(pat[i].substr(1, pat[i].size() - 2))] = std::string(segs[i]);
        else
          ok = pat[i] == segs[i];
      }
      if (!ok) continue;
      m.path_known = true;
      if (r.method != method) continue;
      m.route = &r;
      m.params = std::move(params);
      return m;
    }
    return m;
  }

  awaitable<bool> WriteSseHeader(std::shared_ptr<Conn> conn, const Request& req) {
    http::response<http::empty_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "tokki");
    res.set(http::field::content_type, "text/event-stream; charset=utf-8");
    res.set(http::field::cache_control, "no-cache");
    res.set("X-Accel-Buffering", "no");
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(false);
    http::response_serializer<http::empty_body> sr{res};
    auto [ec, n] = co_await http::async_write_header(conn->stream, sr, kTuple);
    co_return !ec;
  }

  awaitable<bool> WriteRaw(std::shared_ptr<Conn> conn, const std::string& data) {
    conn->stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await asio::async_write(conn->stream, asio::buffer(data), kTuple);
    conn->stream.expires_never();
    co_return !ec;
  }

  // Waits until woken or the heartbeat interval passes; returns false on timeout.
  awaitable<bool> WaitWake(std::shared_ptr<Conn> conn) {
    if (conn->pending.exchange(false)) co_return true;
    conn->wake->expires_after(std::chrono::milliseconds(options_.heartbeat_ms));
    auto [ec] = co_await conn->wake->async_wait(kTuple);
    conn->pending = false;
    co_return ec == asio::error::operation_aborted;
  }

  std::function<void()> Waker(const std::shared_ptr<Conn>& conn) {
    std::weak_ptr<Conn> weak = conn;
    auto ex = conn->stream.get_executor();
    return [weak, ex] {
      if (auto c = weak.lock()) {
        c->pending = true;
        asio::post(ex, [weak] {
          if (auto c2 = weak.lock()) c2->wake->cancel();
        });
      }
    };
  }

  awaitable<void> StreamEvents(std::shared_ptr<Conn> conn, const Request& req, StreamPlan plan) {
    bool ok = co_await WriteSseHeader(conn, req);
    if (!ok) co_return;
    if (!plan.preface.empty()) {
      ok = co_await WriteRaw(conn, plan.preface);
      if (!ok) co_return;
    }
    int sub = plan.source->Subscribe(Waker(conn));
    int64_t last = plan.after_seq;
    for (;;) {
      bool finished = false;
      std::string out = plan.source->Poll(&last, &finished);
      if (!out.empty()) {
        ok = co_await WriteRaw(conn, out);
        if (!ok) break;
      }
      if (finished) break;
      bool woken = co_await WaitWake(conn);
      if (stopping_) {
        out = plan.source->Poll(&last, &finished);
        if (!out.empty()) {
          ok = co_await WriteRaw(conn, out);
        }
        break;
      }
      if (!woken) {
        ok = co_await WriteRaw(conn, kPing);
        if (!ok) break;
      }
    }
    plan.source->Unsubscribe(sub);
  }

  awaitable<void> WaitFor(std::shared_ptr<Conn> conn, const WaitPlan& plan) {
    int sub = plan.source->Subscribe(Waker(conn));
    const int64_t deadline = NowSteadyUs() + plan.timeout_ms * 1000;
    int64_t last = 0;
    for (;;) {
      bool finished = false;
      plan.source->Poll(&last, &finished);
      if (finished || stopping_ || NowSteadyUs() > deadline) break;
      co_await WaitWake(conn);
    }
    plan.source->Unsubscribe(sub);
  }

  const ServerOptions options_;
  const std::vector<Route> routes_;
  const Authenticator auth_;
  Metrics* const metrics_;
  TrustedProxies proxies_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::thread_pool workers_;
  asio::thread_pool hashers_;
  StaticFiles statics_;
  KeyedCounter per_address_;
  KeyedCounter streams_per_user_;
  ByteBudget body_budget_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_conn_id_{1};
  std::atomic<uint64_t> next_request_id_{1};
  Mutex conns_mu_;
  std::map<uint64_t, std::function<void()>> conns_ TOKKI_GUARDED_BY(conns_mu_);
};

Server::Server(ServerOptions options, std::vector<Route> routes, Authenticator auth, Metrics* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(routes), std::move(auth), metrics)) {}
Server::~Server() = default;
Result<uint16_t> Server::Start() { return impl_->Start(); }
void Server::StopAccepting() { impl_->StopAccepting(); }
void Server::Stop(int timeout_ms) { impl_->Stop(timeout_ms); }

}  // namespace tokki::api
