#include "api/server.h"

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/codec.h"
#include "api/static_files.h"
#include "core/clock.h"
#include "core/log.h"

namespace tokki::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

namespace {

struct MatchedRoute {
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  bool path_known = false;  // some route has this path (for 405)
};

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') { ++i; continue; }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string SseEvent(std::string_view event, const Json& data, int64_t id) {
  std::string out;
  if (id > 0) out += "id: " + std::to_string(id) + "\n";
  out += "event: ";
  out += event;
  out += "\ndata: ";
  out += data.dump(-1, ' ', false, Json::error_handler_t::replace);
  out += "\n\n";
  return out;
}

std::string BearerOrCookie(const Request& req) {
  auto auth = req[http::field::authorization];
  if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer "))
    return std::string(auth.substr(7));
  auto cookie = req[http::field::cookie];
  std::string_view c(cookie.data(), cookie.size());
  size_t pos = 0;
  while (pos < c.size()) {
    while (pos < c.size() && (c[pos] == ' ' || c[pos] == ';')) ++pos;
    size_t end = c.find(';', pos);
    if (end == std::string_view::npos) end = c.size();
    auto kv = c.substr(pos, end - pos);
    if (kv.substr(0, 14) == "tokki_session=") return std::string(kv.substr(14));
    pos = end + 1;
  }
  return "";
}

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, Services services, Metrics* metrics)
      : options_(std::move(options)),
        services_(std::move(services)),
        metrics_(metrics),
        ioc_(options_.n_threads),
        acceptor_(ioc_),
        pool_(8),
        statics_(options_.web_dir) {
    routes_ = MakeRoutes(services_, options_, metrics_);
  }

  Result<uint16_t> Start() {
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
    for (int i = 0; i < options_.n_threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
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
      std::lock_guard<std::mutex> lock(conns_mu_);
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
    pool_.join();
  }

 private:
  struct Conn {
    beast::tcp_stream stream;
    std::shared_ptr<asio::steady_timer> wake;  // SSE loops wait on it
    std::atomic<bool> pending{false};
    explicit Conn(tcp::socket s) : stream(std::move(s)) {}
  };

  awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kTuple);
      if (ec) {
        if (stopping_ || ec == asio::error::operation_aborted) co_return;
        TOKKI_LOG(warn, "accept failed", "error", ec.message());
        continue;
      }
      auto ex = socket.get_executor();
      asio::co_spawn(ex, Session(std::move(socket)), asio::detached);
    }
  }

  awaitable<void> Session(tcp::socket socket) {
    metrics_->ConnectionOpened();
    auto conn = std::make_shared<Conn>(std::move(socket));
    conn->wake = std::make_shared<asio::steady_timer>(conn->stream.get_executor());
    uint64_t conn_id = next_conn_id_.fetch_add(1);
    std::string remote_ip;
    {
      beast::error_code ec;
      auto ep = conn->stream.socket().remote_endpoint(ec);
      if (!ec) remote_ip = ep.address().to_string();
    }
    {
      std::lock_guard<std::mutex> lock(conns_mu_);
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
    if (metrics_->open_connections() > options_.max_connections) {
      Request dummy;
      auto res = ErrorResponse(dummy, http::status::service_unavailable, "unavailable",
                               "too many connections; try again shortly");
      res.keep_alive(false);
      co_await http::async_write(conn->stream, res, kTuple);
    } else {
      co_await Serve(conn, remote_ip);
    }
    beast::error_code ec;
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    {
      std::lock_guard<std::mutex> lock(conns_mu_);
      conns_.erase(conn_id);
    }
    metrics_->ConnectionClosed();
  }

  awaitable<void> Serve(std::shared_ptr<Conn> conn, std::string remote_ip) {
    beast::flat_buffer buffer;
    for (;;) {
      if (stopping_) co_return;
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_upload_bytes);
      conn->stream.expires_after(std::chrono::seconds(options_.idle_timeout_s));
      auto [ec, n] = co_await http::async_read(conn->stream, buffer, parser, kTuple);
      if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
          ec == beast::error::timeout || ec == asio::error::eof || ec == asio::error::connection_reset)
        co_return;
      if (ec == http::error::body_limit || ec == http::error::header_limit ||
          ec == http::error::buffer_overflow) {
        Request r;
        auto res = ErrorResponse(r, http::status::payload_too_large, "too_large",
                                 ec == http::error::body_limit ? "the request body is too large"
                                                               : "the request headers are too large");
        res.keep_alive(false);
        co_await http::async_write(conn->stream, res, kTuple);
        co_await Drain(conn);
        co_return;
      }
      if (ec) {
        Request r;
        auto res = ErrorResponse(r, http::status::bad_request, "invalid_argument",
                                 "malformed HTTP request: " + ec.message());
        res.keep_alive(false);
        co_await http::async_write(conn->stream, res, kTuple);
        co_return;
      }
      Request req = parser.release();
      conn->stream.expires_never();
      int64_t start_us = NowSteadyUs();
      uint64_t rid = next_request_id_.fetch_add(1);

      std::string target(req.target());
      size_t q = target.find('?');
      RequestContext ctx{req, target.substr(0, q)};
      if (q != std::string::npos) ctx.query = ParseQuery(std::string_view(target).substr(q + 1));
      ctx.remote_ip = remote_ip;
      ctx.request_id = rid;

      HandlerResult result = co_await Dispatch(ctx);
      if (auto* res = std::get_if<Response>(&result)) {
        res->set("X-Request-Id", std::to_string(rid));
        int status = res->result_int();
        bool keep = res->keep_alive() && !stopping_;
        res->keep_alive(keep);
        Record(ctx, req, status, start_us);  // before the write: visible to the next request
        auto [wec, wn] = co_await http::async_write(conn->stream, *res, kTuple);
        if (wec || !keep) co_return;
        continue;
      }
      Record(ctx, req, 200, start_us);
      metrics_->StreamOpened();
      if (auto* plan = std::get_if<ReplyStreamPlan>(&result)) {
        co_await StreamReply(conn, req, *plan);
      } else if (auto* plan2 = std::get_if<UserEventsPlan>(&result)) {
        co_await StreamUserEvents(conn, req, *plan2);
      }
      metrics_->StreamClosed();
      co_return;  // streams end the connection
    }
  }

  // After an early error answer: read and drop what the client still sends (bounded), so
  // that closing the socket does not reset the connection before the answer is read.
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

  void Record(const RequestContext& ctx, const Request& req, int status, int64_t start_us) {
    int64_t us = NowSteadyUs() - start_us;
    metrics_->Observe(ctx.route.empty() ? "other" : ctx.route, std::string(req.method_string()),
                      status, us);
    // Every request at debug; failures (4xx/5xx) also at info, so they show by default.
    if (status >= 400 || spdlog::should_log(spdlog::level::debug)) {
      TOKKI_LOG(info, "request", "rid", ctx.request_id, "method", std::string(req.method_string()),
                "path", ctx.path, "status", status, "us", us, "user", ctx.user_id);
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

  awaitable<HandlerResult> Dispatch(RequestContext& ctx) {
    const Request& req = ctx.req;
    if (ctx.path.rfind("/api/", 0) != 0 && ctx.path != "/healthz" && ctx.path != "/metrics") {
      ctx.route = "static";
      co_return statics_.Serve(req, ctx.path);
    }
    auto m = Match(req.method(), ctx.path);
    if (!m.route) {
      if (m.path_known)
        co_return ErrorResponse(req, http::status::method_not_allowed, "method_not_allowed",
                                "this path does not accept " + std::string(req.method_string()));
      co_return ErrorResponse(req, http::status::not_found, "not_found", "no such route: " + ctx.path);
    }
    ctx.route = m.route->pattern;
    ctx.params = std::move(m.params);
    if (!m.route->large_body && req.body().size() > options_.max_body_bytes)
      co_return ErrorResponse(req, http::status::payload_too_large, "too_large",
                              "the request body is over " + std::to_string(options_.max_body_bytes) +
                                  " bytes");
    std::string token = BearerOrCookie(req);
    if (!token.empty()) {
      auto uid = services_.auth->Authenticate(token);
      if (uid.ok()) ctx.user_id = *uid;
    }
    if (m.route->auth_required && ctx.user_id == kNoId)
      co_return ErrorResponse(req, http::status::unauthorized, "unauthenticated", "sign in first");
    const Route* route = m.route;
    if (route->blocking) {
      // Run on the worker pool, then resume on this connection's strand.
      co_return co_await asio::co_spawn(
          pool_, [route, &ctx]() -> awaitable<HandlerResult> { co_return Invoke(*route, ctx); },
          use_awaitable);
    }
    co_return Invoke(*route, ctx);
  }

  static HandlerResult Invoke(const Route& route, RequestContext& ctx) {
    try {
      return route.handler(ctx);
    } catch (const std::exception& e) {
      TOKKI_LOG(error, "handler threw", "rid", ctx.request_id, "error", e.what());
      return ErrorResponse(ctx, Status::Internal("internal error"));
    }
  }

  awaitable<bool> WriteSseHeader(std::shared_ptr<Conn> conn, const Request& req) {
    http::response<http::empty_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "tokki");
    res.set(http::field::content_type, "text/event-stream; charset=utf-8");
    res.set(http::field::cache_control, "no-cache");
    res.set("X-Accel-Buffering", "no");
    res.keep_alive(false);
    http::response_serializer<http::empty_body> sr{res};
    auto [ec, n] = co_await http::async_write_header(conn->stream, sr, kTuple);
    co_return !ec;
  }

  awaitable<bool> WriteRaw(std::shared_ptr<Conn> conn, std::string data) {
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

  awaitable<void> StreamReply(std::shared_ptr<Conn> conn, const Request& req, ReplyStreamPlan plan) {
    if (!co_await WriteSseHeader(conn, req)) co_return;
    std::string head;
    for (auto& [name, data] : plan.preface) head += SseEvent(name, data, 0);
    if (!head.empty() && !co_await WriteRaw(conn, head)) co_return;
    int sub = plan.stream->Subscribe(Waker(conn));
    int64_t last = plan.after_seq;
    for (;;) {
      bool finished = false;
      auto events = plan.stream->Since(last, &finished);
      std::string out;
      for (auto& e : events) {
        last = e.seq;
        switch (e.kind) {
          case chat::ReplyEvent::Kind::kToken:
            out += SseEvent("token", Json{{"text", e.text}}, e.seq);
            break;
          case chat::ReplyEvent::Kind::kDone:
            out += SseEvent("done",
                            Json{{"message_id", plan.stream->message_id()},
                                 {"finish_reason", e.finish_reason},
                                 {"usage", {{"prompt_tokens", e.usage.prompt_tokens},
                                            {"cached_tokens", e.usage.cached_tokens},
                                            {"completion_tokens", e.usage.completion_tokens}}},
                                 {"timings", {{"ttft_ms", e.ttft_ms}, {"total_ms", e.total_ms}}}},
                            e.seq);
            break;
          case chat::ReplyEvent::Kind::kError:
            out += SseEvent("error", Json{{"code", e.code}, {"message", e.text}}, e.seq);
            break;
        }
      }
      if (!out.empty() && !co_await WriteRaw(conn, std::move(out))) break;
      if (finished) break;
      bool woken = co_await WaitWake(conn);
      if (!woken && !co_await WriteRaw(conn, ": ping\n\n")) break;
      if (stopping_ && !woken && plan.stream->finished()) break;
    }
    plan.stream->Unsubscribe(sub);
  }

  awaitable<void> StreamUserEvents(std::shared_ptr<Conn> conn, const Request& req, UserEventsPlan plan) {
    if (!co_await WriteSseHeader(conn, req)) co_return;
    if (!co_await WriteRaw(conn, ": connected\nretry: 2000\n\n")) co_return;
    int sub = services_.events->Subscribe(plan.user_id, Waker(conn));
    int64_t last = plan.after_seq;
    while (!stopping_) {
      auto events = services_.events->Since(plan.user_id, last);
      std::string out;
      for (auto& e : events) {
        last = e.seq;
        Json data{{"conversation_id", e.conversation_id}};
        auto m = services_.store->GetMessage(e.message_id);
        if (m.ok()) {
          auto alts = services_.chat->AlternativeCount(*m);
          data["message"] = MessageJson(*m, alts.ok() ? *alts : 1);
        }
        out += SseEvent(e.type, data, e.seq);
      }
      if (!out.empty() && !co_await WriteRaw(conn, std::move(out))) break;
      bool woken = co_await WaitWake(conn);
      if (stopping_) break;
      if (!woken && !co_await WriteRaw(conn, ": ping\n\n")) break;
    }
    services_.events->Unsubscribe(plan.user_id, sub);
  }

  const ServerOptions options_;
  const Services services_;
  Metrics* const metrics_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::thread_pool pool_;
  StaticFiles statics_;
  std::vector<Route> routes_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_conn_id_{1};
  std::atomic<uint64_t> next_request_id_{1};
  std::mutex conns_mu_;
  std::map<uint64_t, std::function<void()>> conns_;  // GUARDED_BY(conns_mu_)
};

Server::Server(ServerOptions options, Services services)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(services), &metrics_)) {}
Server::~Server() = default;
Result<uint16_t> Server::Start() { return impl_->Start(); }
void Server::StopAccepting() { impl_->StopAccepting(); }
void Server::Stop(int timeout_ms) { impl_->Stop(timeout_ms); }

}  // namespace tokki::api
