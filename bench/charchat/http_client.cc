#include "http_client.h"

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdlib>
#include <optional>
#include <utility>

namespace tokki::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

tcp::endpoint Loopback(uint16_t port) { return {asio::ip::address_v4::loopback(), port}; }

http::request<http::string_body> MakeRequest(http::verb verb, std::string target, std::string body,
                                             const std::string& token, bool event_stream) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (event_stream) req.set(http::field::accept, "text/event-stream");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

template <typename Fields>
int RetryAfter(const Fields& f) {
  auto it = f.find(http::field::retry_after);
  return it == f.end() ? -1 : std::atoi(std::string(it->value()).c_str());
}

std::string Brief(const std::string& s) { return s.size() > 200 ? s.substr(0, 200) + "…" : s; }

// Sampling both systems get (see the header).
Json SamplingJson(const Sampling& s) {
  return Json{{"max_tokens", s.max_tokens},
              {"temperature", 1.0},
              {"top_k", 40},
              {"top_p", 1.0},
              {"min_p", 0.0},
              {"repeat_penalty", 1.0},
              {"dry_multiplier", 0.0},
              {"seed", s.seed},
              {"ignore_eos", true}};
}

// Records the arrival of token events: TTFT from `start`, the gaps between them.
struct TokenClock {
  Clock::time_point start, last;
  bool any = false;
  void Token(Clock::time_point at, TurnSample* s) {
    if (!any) {
      s->ttft_ms = std::chrono::duration<double, std::milli>(at - start).count();
      any = true;
    } else {
      s->gaps_ms.push_back(std::chrono::duration<double, std::milli>(at - last).count());
    }
    last = at;
    ++s->token_events;
  }
};

}  // namespace

awaitable<HttpReply> HttpCall(uint16_t port, http::verb verb, std::string target, std::string body,
                              std::string token, std::chrono::seconds timeout) {
  HttpReply out;
  beast::tcp_stream s(co_await asio::this_coro::executor);
  s.expires_after(timeout);
  auto [cec] = co_await s.async_connect(Loopback(port), kTuple);
  if (cec) {
    out.error = "connect: " + cec.message();
    co_return out;
  }
  auto req = MakeRequest(verb, std::move(target), std::move(body), token, false);
  auto [wec, wn] = co_await http::async_write(s, req, kTuple);
  if (wec) {
    out.error = "write: " + wec.message();
    co_return out;
  }
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  auto [rec, rn] = co_await http::async_read(s, buf, res, kTuple);
  if (rec) {
    out.error = "read: " + rec.message();
    co_return out;
  }
  out.status = res.result_int();
  out.retry_after_s = RetryAfter(res);
  out.body = std::move(res.body());
  beast::error_code ignored;
  s.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return out;
}

awaitable<HttpReply> HttpStream(uint16_t port, std::string target, std::string body,
                                std::string token, Clock::time_point deadline, EventFn on_event) {
  HttpReply out;
  beast::tcp_stream s(co_await asio::this_coro::executor);
  s.expires_at(deadline);
  auto [cec] = co_await s.async_connect(Loopback(port), kTuple);
  if (cec) {
    out.error = "connect: " + cec.message();
    co_return out;
  }
  auto req = MakeRequest(http::verb::post, std::move(target), std::move(body), token, true);
  auto [wec, wn] = co_await http::async_write(s, req, kTuple);
  if (wec) {
    out.error = "write: " + wec.message();
    co_return out;
  }
  beast::flat_buffer buf;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  auto [hec, hn] = co_await http::async_read_header(s, buf, parser, kTuple);
  if (hec) {
    out.error = "read: " + hec.message();
    co_return out;
  }
  out.status = parser.get().result_int();
  out.retry_after_s = RetryAfter(parser.get());
  engine::SseParser sse;
  bool more = true;
  char chunk[16384];
  // read_some parses what has arrived, so each event is seen when its bytes come in (a
  // chunked or an unframed body alike).
  while (more && !parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof(chunk);
    auto [ec, n] = co_await http::async_read_some(s, buf, parser, kTuple);
    if (ec == http::error::need_buffer) ec = {};
    const Clock::time_point now = Clock::now();
    const size_t got = sizeof(chunk) - parser.get().body().size;
    if (out.status != 200) {
      out.body.append(chunk, got);
    } else if (got > 0) {
      sse.Feed(std::string_view(chunk, got), [&](const engine::SseEvent& e) {
        if (more && !on_event(e, now)) more = false;
      });
    }
    if (ec) {
      if (ec != http::error::end_of_stream) out.error = "read: " + ec.message();
      break;
    }
  }
  beast::error_code ignored;
  s.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return out;
}

// ---------------------------------------------------------------- Tokki

awaitable<std::string> TokkiRegister(uint16_t port, std::string username, std::string* error) {
  Json body{{"username", username}, {"password", "charchat-password"}};
  HttpReply r = co_await HttpCall(port, http::verb::post, "/api/auth/register", body.dump(), "",
                                  std::chrono::seconds(60));
  if (r.status != 201) {
    *error = "register: " + std::to_string(r.status) + " " + r.error + Brief(r.body);
    co_return std::string();
  }
  co_return Json::parse(r.body).at("token").get<std::string>();
}

awaitable<int64_t> TokkiCreateCharacter(uint16_t port, std::string token, Character c,
                                        std::string* error) {
  Json body{{"name", c.name},          {"system_prompt", c.head}, {"description", c.body},
            {"first_mes", c.greeting}, {"tags", {"charchat"}},    {"language", "en"},
            {"visibility", "public"}};
  HttpReply r = co_await HttpCall(port, http::verb::post, "/api/characters", body.dump(), token,
                                  std::chrono::seconds(60));
  if (r.status != 201) {
    *error = "create character: " + std::to_string(r.status) + " " + r.error + Brief(r.body);
    co_return 0;
  }
  co_return Json::parse(r.body).at("id").get<int64_t>();
}

awaitable<int64_t> TokkiOpenConversation(uint16_t port, std::string token, int64_t character_id,
                                         std::string* error) {
  Json body{{"character_id", character_id}};
  HttpReply r = co_await HttpCall(port, http::verb::post, "/api/conversations", body.dump(), token,
                                  std::chrono::seconds(60));
  if (r.status != 201) {
    *error = "open conversation: " + std::to_string(r.status) + " " + r.error + Brief(r.body);
    co_return 0;
  }
  co_return Json::parse(r.body).at("id").get<int64_t>();
}

awaitable<SendResult> TokkiSend(uint16_t port, std::string token, int64_t conversation_id,
                                std::string content, Sampling sampling,
                                Clock::time_point deadline) {
  SendResult out;
  TurnSample& s = out.sample;
  TokenClock clock;
  clock.start = Clock::now();
  bool done = false;
  Json body{{"content", std::move(content)}, {"generation", SamplingJson(sampling)}};
  HttpReply r = co_await HttpStream(
      port, "/api/conversations/" + std::to_string(conversation_id) + "/messages", body.dump(),
      token, deadline, [&](const engine::SseEvent& e, Clock::time_point at) {
        if (e.event == "token") {
          clock.Token(at, &s);
          return true;
        }
        if (e.event == "done") {
          Json d = Json::parse(e.data, nullptr, false);
          if (d.is_object() && d.contains("usage")) {
            const Json& u = d["usage"];
            s.prompt_tokens = u.value("prompt_tokens", 0);
            s.cached_tokens = u.value("cached_tokens", 0);
            if (d.contains("timings") && d["timings"].is_object())
              s.engine_ttft_ms = d["timings"].value("ttft_ms", 0.0);
            s.completion_tokens = u.value("completion_tokens", 0);
          }
          done = true;
          return false;
        }
        if (e.event == "error") {
          s.error = "event: error " + Brief(e.data);
          return false;
        }
        return true;
      });
  out.status = r.status;
  out.retry_after_s = r.retry_after_s;
  if (r.status != 200) {
    s.error = r.status ? "status " + std::to_string(r.status) + " " + Brief(r.body) : r.error;
  } else if (!done && s.error.empty()) {
    s.error = "the stream ended without done" + (r.error.empty() ? "" : " (" + r.error + ")");
  }
  s.ok = done && s.error.empty() && clock.any;
  if (done && !clock.any) s.error = "no token before done";
  co_return out;
}

// ---------------------------------------------------------------- llama-server

awaitable<TurnSample> LlamaServerChat(uint16_t port, Json messages, Sampling sampling,
                                      Clock::time_point deadline, std::string* reply_text) {
  TurnSample s;
  TokenClock clock;
  clock.start = Clock::now();
  bool done = false;
  Json body = SamplingJson(sampling);
  body["messages"] = std::move(messages);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  body["cache_prompt"] = true;
  HttpReply r = co_await HttpStream(
      port, "/v1/chat/completions", body.dump(), "", deadline,
      [&](const engine::SseEvent& e, Clock::time_point at) {
        if (e.data == "[DONE]") {
          done = true;
          return false;
        }
        Json d = Json::parse(e.data, nullptr, false);
        if (!d.is_object()) return true;
        if (d.contains("error")) {
          s.error = "error " + Brief(d["error"].dump());
          return false;
        }
        if (d.contains("choices") && d["choices"].is_array() && !d["choices"].empty()) {
          const Json& delta = d["choices"][0].value("delta", Json::object());
          if (delta.contains("content") && delta["content"].is_string()) {
            const std::string piece = delta["content"].get<std::string>();
            if (!piece.empty()) {
              clock.Token(at, &s);
              *reply_text += piece;
            }
          }
        }
        if (d.contains("usage") && d["usage"].is_object()) {
          const Json& u = d["usage"];
          s.prompt_tokens = u.value("prompt_tokens", 0);
          s.completion_tokens = u.value("completion_tokens", 0);
          if (u.contains("prompt_tokens_details"))
            s.cached_tokens = u["prompt_tokens_details"].value("cached_tokens", 0);
        }
        return true;
      });
  if (r.status != 200) {
    s.error = r.status ? "status " + std::to_string(r.status) + " " + Brief(r.body) : r.error;
  } else if (!done && s.error.empty()) {
    s.error = "the stream ended without [DONE]" + (r.error.empty() ? "" : " (" + r.error + ")");
  }
  s.ok = done && s.error.empty() && clock.any;
  if (done && !clock.any) s.error = "no token before [DONE]";
  co_return s;
}

}  // namespace tokki::bench
