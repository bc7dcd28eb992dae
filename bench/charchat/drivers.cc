#include "drivers.h"

#include <boost/asio.hpp>

#include <exception>
#include <map>
#include <utility>

namespace tokki::bench {

namespace asio = boost::asio;
using asio::awaitable;

uint32_t ReplySeed(int run_id, int user, int turn) {
  return static_cast<uint32_t>(static_cast<uint64_t>(run_id) * 100000u +
                               static_cast<uint64_t>(user) * 100u + static_cast<uint64_t>(turn));
}

awaitable<std::string> SetUpTokkiUsers(uint16_t port, const Workload& w,
                                       std::vector<TokkiUser>* users) {
  std::string error;
  users->assign(w.user_names.size(), TokkiUser{});
  for (size_t u = 0; u < w.user_names.size(); ++u) {
    (*users)[u].token = co_await TokkiRegister(port, w.user_names[u], &error);
    if (!error.empty()) co_return error;
  }
  std::map<int, int64_t> character_ids;
  for (size_t u = 0; u < w.user_names.size(); ++u) {
    const int c = w.character_of[u];
    auto it = character_ids.find(c);
    if (it == character_ids.end()) {
      const int64_t id = co_await TokkiCreateCharacter(
          port, (*users)[u].token, w.characters[static_cast<size_t>(c)], &error);
      if (!error.empty()) co_return error;
      it = character_ids.emplace(c, id).first;
    }
    (*users)[u].conversation_id =
        co_await TokkiOpenConversation(port, (*users)[u].token, it->second, &error);
    if (!error.empty()) co_return error;
  }
  co_return error;
}

awaitable<void> TokkiUserTurns(uint16_t port, const Config& cfg, const Workload& w, int u,
                               TokkiUser user, Clock::time_point deadline,
                               std::vector<TurnSample>* out) {
  for (int t = 0; t < cfg.turns; ++t) {
    Sampling sampling{cfg.reply_tokens, ReplySeed(w.run_id, u, t)};
    SendResult r = co_await TokkiSend(port, user.token, user.conversation_id,
                                      w.user_msgs[static_cast<size_t>(u)][static_cast<size_t>(t)],
                                      sampling, deadline);
    r.sample.user = u;
    r.sample.turn = t;
    out->push_back(std::move(r.sample));
    if (Clock::now() >= deadline) break;
  }
}

awaitable<void> LlamaServerUserTurns(uint16_t port, const Config& cfg, const Workload& w, int u,
                                     Clock::time_point deadline, std::vector<TurnSample>* out) {
  const Character& c = w.characters[static_cast<size_t>(w.character_of[static_cast<size_t>(u)])];
  Json history = Json::array();
  history.push_back({{"role", "system"}, {"content", c.StaticText()}});
  history.push_back(
      {{"role", "system"}, {"content", UserLine(w.user_names[static_cast<size_t>(u)])}});
  history.push_back({{"role", "assistant"}, {"content", c.greeting}});
  for (int t = 0; t < cfg.turns; ++t) {
    history.push_back({{"role", "user"},
                       {"content", w.user_msgs[static_cast<size_t>(u)][static_cast<size_t>(t)]}});
    std::string reply;
    Sampling sampling{cfg.reply_tokens, ReplySeed(w.run_id, u, t)};
    TurnSample s = co_await LlamaServerChat(port, history, sampling, deadline, &reply);
    s.user = u;
    s.turn = t;
    out->push_back(std::move(s));
    history.push_back({{"role", "assistant"}, {"content", reply}});
    if (Clock::now() >= deadline) break;
  }
}

std::string RunToEnd(std::vector<std::function<awaitable<void>()>> tasks) {
  asio::io_context ioc(1);
  std::string first_error;
  for (auto& task : tasks) {
    asio::co_spawn(ioc, task(), [&first_error](std::exception_ptr e) {
      if (!e || !first_error.empty()) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        first_error = ex.what();
      }
    });
  }
  ioc.run();
  return first_error;
}

}  // namespace tokki::bench
