#include "serve_cache.h"

#include <unistd.h>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <functional>

#include "corpus.h"
#include "store_fill.h"
#include "store/store.h"
#include "drivers.h"
#include "tokki_serve.h"

namespace tokki::bench::memory {
namespace {

using boost::asio::awaitable;

struct ServeWorkload {
  Workload w;
  std::vector<std::vector<Exchange>> history;  // per user: written before the run
};

// Each user's conversation: the corpus of their language (facts over its first third),
// `history` exchanges of it stored before the run, the rest sent live, the last quarter
// of the live turns asking the shared-word probes.
ServeWorkload MakeServeWorkload(const ServeOptions& o, int run_id) {
  const auto& langs = Languages();
  ServeWorkload sw;
  Workload& w = sw.w;
  w.run_id = run_id;
  for (const Language& l : langs)
    w.characters.push_back({l.character_name, "", l.character_description, l.greeting});
  for (int u = 0; u < o.users; ++u) {
    const Language& l = langs[static_cast<size_t>(u) % langs.size()];
    w.character_of.push_back(u % static_cast<int>(langs.size()));
    w.user_names.push_back("mb" + std::to_string(run_id) + "u" + std::to_string(u));
    std::vector<std::string> msgs;
    auto conv = MakeConversation(l, o.history + o.turns, o.seed + static_cast<uint64_t>(u), 0.33);
    for (int t = 0; t < o.turns; ++t) {
      if (t >= o.turns * 3 / 4) {
        const Fact& f = l.facts[static_cast<size_t>(t) % l.facts.size()];
        msgs.push_back(f.shared_probe);
      } else {
        msgs.push_back(conv[static_cast<size_t>(o.history + t)].user);
      }
    }
    w.user_msgs.push_back(std::move(msgs));
    conv.resize(static_cast<size_t>(o.history));
    sw.history.push_back(std::move(conv));
  }
  return sw;
}

// Appends each user's stored history to their conversation (the server is paused).
bool WriteHistory(const std::string& data_dir, const std::vector<TokkiUser>& users,
                  const ServeWorkload& sw) {
  auto opened = store::OpenSqliteStore(data_dir + "/tokki.db");
  if (!opened.ok()) {
    std::fprintf(stderr, "memory_bench: %s\n", opened.status().ToString().c_str());
    return false;
  }
  store::Store& st = **opened;
  for (size_t u = 0; u < users.size(); ++u) {
    auto all = st.ListMessages(users[u].conversation_id);
    if (!all.ok() || all->empty()) return false;
    auto written = AppendExchanges(st, users[u].conversation_id, all->back().id, sw.history[u]);
    if (!written.ok()) {
      std::fprintf(stderr, "memory_bench: %s\n", written.status().ToString().c_str());
      return false;
    }
  }
  return true;
}

// One run on a fresh server; false when it did not come up.
bool RunOnce(const ServeOptions& o, bool memory, const ServeWorkload& sw, ServeFigures* f) {
  RunResult* out = &f->result;
  const Workload& w = sw.w;
  TokkiServe serve;
  const std::string bin = o.tokki_bin.empty() ? TokkiBinaryBesideSelf() : o.tokki_bin;
  if (!serve.Start(bin, ServeArgs(o, memory), 180)) return false;
  std::vector<TokkiUser> users;
  std::string setup_error;
  std::string ex = RunToEnd({[&]() -> awaitable<void> {
    setup_error = co_await SetUpTokkiUsers(serve.port(), w, &users);
  }});
  if (!ex.empty() || !setup_error.empty()) {
    std::fprintf(stderr, "memory_bench: tokki setup failed: %s%s\n", ex.c_str(),
                 setup_error.c_str());
    return false;
  }
  if (o.history > 0) {
    serve.Pause();
    if (!WriteHistory(serve.data_dir(), users, sw) || !serve.Resume(180)) return false;
  }
  const uint16_t port = serve.port();
  std::vector<std::vector<TurnSample>> per_user(users.size());
  std::vector<std::function<awaitable<void>()>> tasks;
  // No turn starts after `stop_at`; one that runs past it gets two more minutes.
  const auto stop_at = Clock::now() + std::chrono::seconds(o.timeout_s);
  for (int u = 0; u < o.users; ++u)
    tasks.push_back([&, u]() -> awaitable<void> {
      const TokkiUser& user = users[static_cast<size_t>(u)];
      for (int t = 0; t < o.turns && Clock::now() < stop_at; ++t) {
        Sampling sampling{o.reply_tokens, ReplySeed(w.run_id, u, t)};
        SendResult r =
            co_await TokkiSend(port, user.token, user.conversation_id,
                               w.user_msgs[static_cast<size_t>(u)][static_cast<size_t>(t)],
                               sampling, stop_at + std::chrono::seconds(120));
        r.sample.user = u;
        r.sample.turn = t;
        per_user[static_cast<size_t>(u)].push_back(std::move(r.sample));
      }
    });
  const auto t0 = Clock::now();
  ex = RunToEnd(std::move(tasks));
  out->wall_s += std::chrono::duration<double>(Clock::now() - t0).count();
  auto counters = serve.EngineCounters();
  f->engine_prefill_tokens += counters["prefill_tokens_total"];
  f->engine_decode_tokens += counters["decode_tokens_total"];
  serve.Stop();
  CollectSamples(per_user, out);
  if (!ex.empty() && out->first_error.empty()) out->first_error = ex;
  return true;
}

}  // namespace

std::vector<std::string> ServeArgs(const ServeOptions& o, bool memory) {
  return {"--model",
          o.model,
          "--engine-threads",
          std::to_string(o.threads),
          "--parallel",
          std::to_string(o.users),
          "--ctx-size",
          std::to_string(o.ctx_size),
          "--memory",
          memory ? "true" : "false",
          "--max-connections-per-address",
          "0",
          "--max-streams-per-user",
          "0",
          "--max-signups-per-hour",
          "0"};
}

std::vector<ServeFigures> RunServe(const ServeOptions& o) {
  std::vector<ServeFigures> out(2);
  out[0].memory = true;
  out[1].memory = false;
  for (auto& f : out) {
    f.result.system = f.memory ? "memory on" : "memory off";
    f.result.cfg.users = o.users;
    f.result.cfg.turns = o.turns;
    f.result.cfg.reply_tokens = o.reply_tokens;
  }
  const int base_run_id = static_cast<int>(::getpid() % 1000) * 100;
  for (int r = 0; r < o.rounds; ++r) {
    const ServeWorkload w = MakeServeWorkload(o, base_run_id + r);
    for (int k = 0; k < 2; ++k) {
      ServeFigures& f = out[static_cast<size_t>((k + r) % 2)];
      const size_t before = f.result.samples.size();
      if (RunOnce(o, f.memory, w, &f)) {
        if (f.result.samples.size() - before < static_cast<size_t>(o.users * o.turns))
          f.cut_short = true;
        f.ok = true;
      } else {
        std::fprintf(stderr, "memory_bench: tokki serve (%s) did not run\n",
                     f.result.system.c_str());
      }
    }
  }
  for (auto& f : out) f.summary = Summarize(f.result);
  return out;
}

}  // namespace tokki::bench::memory
