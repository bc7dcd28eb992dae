// bench/charchat/drivers.h — one simulated user of CharChat-MT over HTTP, for each system:
//   Tokki       registers, creates or picks its character, opens a conversation and sends
//               each turn as a streamed message — the server keeps the history;
//   llama-server the client keeps the history and resends all of it each turn through
//               /v1/chat/completions: the same messages Tokki's prompt builder makes (the
//               character's static text, the line about the user, the greeting, the turns).
// Zero think time: a user sends its next message as soon as the reply is done.
//
// Thread safety: coroutines; run them on one io_context thread.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "http_client.h"
#include "workload.h"

namespace tokki::bench {

struct TokkiUser {
  std::string token;
  int64_t conversation_id = 0;
};

// Registers every user of `w`, creates each character (as its first user, public) and
// opens one conversation per user. "" or what failed.
boost::asio::awaitable<std::string> SetUpTokkiUsers(uint16_t port, const Workload& w,
                                                    std::vector<TokkiUser>* users);

// User u's cfg.turns turns; one sample per turn is appended to *out. A failed turn is
// recorded and the user goes on with the next one.
boost::asio::awaitable<void> TokkiUserTurns(uint16_t port, const Config& cfg, const Workload& w,
                                            int u, TokkiUser user, Clock::time_point deadline,
                                            std::vector<TurnSample>* out);
boost::asio::awaitable<void> LlamaServerUserTurns(uint16_t port, const Config& cfg,
                                                  const Workload& w, int u,
                                                  Clock::time_point deadline,
                                                  std::vector<TurnSample>* out);

// The seed of one reply, the same for both systems.
uint32_t ReplySeed(int run_id, int user, int turn);

// Runs the coroutines made by `tasks` to their end on a new io_context (this thread);
// returns the first exception's text, or "".
std::string RunToEnd(std::vector<std::function<boost::asio::awaitable<void>()>> tasks);

}  // namespace tokki::bench
