// A small synchronous HTTP/1.1 client for tests (Beast), with a reader for server-sent
// events.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace tokki::testing {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
  nlohmann::json json() const { return nlohmann::json::parse(data, nullptr, false); }
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : port_(port) {}

  HttpResult Request(http::verb method, const std::string& target, const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {}) {
    boost::asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
    if (!body.empty()) req.set(http::field::content_type, "application/json");  // unless a header says otherwise
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    beast::error_code wec;
    http::write(stream, req, wec);  // the server may answer (413) before reading it all
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::error_code ec;
    http::read(stream, buf, parser, ec);
    HttpResult r;
    if (ec) return r;
    auto res = parser.release();
    r.status = res.result_int();
    r.body = res.body();
    for (auto& f : res) r.headers[std::string(f.name_string())] = std::string(f.value());
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return r;
  }

  HttpResult Get(const std::string& t) { return Request(http::verb::get, t); }
  HttpResult Post(const std::string& t, const nlohmann::json& j) { return Request(http::verb::post, t, j.dump()); }
  HttpResult Patch(const std::string& t, const nlohmann::json& j) { return Request(http::verb::patch, t, j.dump()); }
  HttpResult Put(const std::string& t, const nlohmann::json& j) { return Request(http::verb::put, t, j.dump()); }
  HttpResult Delete(const std::string& t) { return Request(http::verb::delete_, t); }

  // Sends a request and reads server-sent events until `stop_event` (or the stream ends,
  // or `max_events`, or the timeout). Returns the HTTP status in *status.
  std::vector<SseEvent> Stream(http::verb method, const std::string& target, const std::string& body,
                               const std::string& stop_event = "done", size_t max_events = 100000,
                               std::map<std::string, std::string> headers = {}, int* status = nullptr,
                               int timeout_ms = 20000) {
    boost::asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::accept, "text/event-stream");
    if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
    if (!body.empty()) req.set(http::field::content_type, "application/json");  // unless a header says otherwise
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    struct timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    beast::flat_buffer buf;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    beast::error_code ec;
    http::read_header(stream, buf, parser, ec);
    if (status) *status = ec ? 0 : parser.get().result_int();
    std::vector<SseEvent> events;
    if (ec) return events;
    std::string pending;
    char chunk[4096];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      http::read_some(stream, buf, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) break;
      pending.append(chunk, sizeof chunk - parser.get().body().size);
      size_t pos;
      while ((pos = pending.find("\n\n")) != std::string::npos) {
        std::string block = pending.substr(0, pos);
        pending.erase(0, pos + 2);
        SseEvent e;
        size_t start = 0;
        while (start < block.size()) {
          size_t nl = block.find('\n', start);
          if (nl == std::string::npos) nl = block.size();
          std::string line = block.substr(start, nl - start);
          start = nl + 1;
          if (line.rfind("id: ", 0) == 0) e.id = line.substr(4);
          else if (line.rfind("event: ", 0) == 0) e.event = line.substr(7);
          else if (line.rfind("data: ", 0) == 0) e.data += line.substr(6);
          else if (line.rfind(":", 0) == 0 && e.event.empty()) e.event = "comment";
        }
        events.push_back(e);
        if (e.event == stop_event || e.event == "error" || events.size() >= max_events) {
          beast::error_code ignored;
          stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
          return events;
        }
      }
    }
    return events;
  }

  void set_token(std::string t) { token_ = std::move(t); }
  const std::string& token() const { return token_; }

  // Registers (or logs in) and keeps the token.
  nlohmann::json SignUp(const std::string& user, const std::string& pass = "correct-horse") {
    auto r = Post("/api/auth/register", {{"username", user}, {"password", pass}});
    auto j = r.json();
    if (j.contains("token")) token_ = j["token"];
    return j;
  }

 private:
  uint16_t port_;
  std::string token_;
};

}  // namespace tokki::testing
