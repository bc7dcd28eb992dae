// bench/charchat/http_client.h — charchat's HTTP client: Boost.Beast coroutines, one
// connection per request, 127.0.0.1 only. Speaks Tokki's API (docs/api.md: register,
// characters, conversations, streaming sends) and llama-server's /v1/chat/completions with
// stream:true, and times every token event as it arrives.
//
// Both systems get the same sampling: temperature 1, top-k 40, top-p 1, min-p 0, no
// repetition or DRY penalty, a seed per (run, user, turn), exactly max_tokens (ignore_eos).
//
// Thread safety: the functions are coroutines; run each on one io_context thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "engine/sse_parser.h"
#include "workload.h"

namespace tokki::bench {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct HttpReply {
  int status = 0;  // 0: no answer (`error` says why)
  std::string body;
  int retry_after_s = -1;  // the Retry-After header, when there was one
  std::string error;
};

// One request on a new connection to 127.0.0.1:port; the whole answer.
boost::asio::awaitable<HttpReply> HttpCall(uint16_t port, boost::beast::http::verb verb,
                                           std::string target, std::string body, std::string token,
                                           std::chrono::seconds timeout);

// A POST whose answer is a server-sent event stream. Calls on_event with each event and the
// time its bytes arrived, until on_event returns false, the stream ends or `deadline`.
// A status other than 200 comes back with its body and no events.
using EventFn = std::function<bool(const engine::SseEvent&, Clock::time_point)>;
boost::asio::awaitable<HttpReply> HttpStream(uint16_t port, std::string target, std::string body,
                                             std::string token, Clock::time_point deadline,
                                             EventFn on_event);

struct Sampling {
  int max_tokens = 48;
  uint32_t seed = 0;
};

// ---- Tokki's API. Each returns "" / 0 and sets *error when the server refused.

// POST /api/auth/register; the session token.
boost::asio::awaitable<std::string> TokkiRegister(uint16_t port, std::string username,
                                                  std::string* error);
// POST /api/characters (public, so other users can talk to it); its id.
boost::asio::awaitable<int64_t> TokkiCreateCharacter(uint16_t port, std::string token,
                                                     Character character, std::string* error);
// POST /api/conversations; its id.
boost::asio::awaitable<int64_t> TokkiOpenConversation(uint16_t port, std::string token,
                                                      int64_t character_id, std::string* error);

// One streamed send (POST /api/conversations/{id}/messages, Accept: text/event-stream),
// read to `event: done`. `status` is the answer's HTTP status (429 for a refused send).
struct SendResult {
  TurnSample sample;
  int status = 0;
  int retry_after_s = -1;
};
boost::asio::awaitable<SendResult> TokkiSend(uint16_t port, std::string token,
                                             int64_t conversation_id, std::string content,
                                             Sampling sampling, Clock::time_point deadline);

// ---- llama-server: POST /v1/chat/completions, stream:true with usage in the last chunk.
// `messages` is the whole history; the reply's text comes back in *reply_text.
boost::asio::awaitable<TurnSample> LlamaServerChat(uint16_t port, Json messages, Sampling sampling,
                                                   Clock::time_point deadline,
                                                   std::string* reply_text);

}  // namespace tokki::bench
