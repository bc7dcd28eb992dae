// charchat's fairness mode: users B-D chat normally with `tokki serve`, alone and then while
// user A floods it with concurrent streamed sends; B-D's TTFT with/without A.
#include <unistd.h>

#include <boost/asio.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "drivers.h"
#include "engine/llama_engine.h"
#include "modes.h"
#include "report.h"
#include "tokki_serve.h"

namespace tokki::bench {
namespace {

namespace asio = boost::asio;
using asio::awaitable;

// tokki serve with its default per-user limits (at most 4 replies at once, 32 streams,
// 1000 messages a day); only what every client on 127.0.0.1 would share is lifted.
std::vector<std::string> FairnessServeArgs(const Options& o) {
  std::vector<std::string> a = {"--model",
                                o.model,
                                "--engine-threads",
                                std::to_string(o.threads),
                                "--max-connections-per-address",
                                "0",
                                "--max-signups-per-hour",
                                "0"};
  if (o.tokki_ctx > 0) {
    a.push_back("--ctx-size");
    a.push_back(std::to_string(o.tokki_ctx));
  }
  return a;
}

struct Flooder {
  std::string token;
  std::vector<int64_t> conversations;
  std::vector<std::string> messages;
};

// What A's sends were answered.
struct FloodTally {
  std::map<std::string, long> counts;
  void Add(const std::string& what) { ++counts[what]; }
};

awaitable<void> Pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

// One of A's senders: sends in its conversation as soon as the last reply ended, until
// `stop`; after a refusal it waits flood_retry_ms and asks again.
awaitable<void> FloodSender(uint16_t port, const Options& o, const Flooder& a, int i,
                            const std::atomic<bool>* stop, Clock::time_point deadline,
                            FloodTally* tally) {
  int n = 0;
  while (!*stop && Clock::now() < deadline) {
    Sampling sampling{o.flood_reply_tokens, static_cast<uint32_t>(7000000 + i * 1000 + n)};
    SendResult r = co_await TokkiSend(port, a.token, a.conversations[static_cast<size_t>(i)],
                                      a.messages[static_cast<size_t>(n) % a.messages.size()],
                                      sampling, deadline);
    ++n;
    if (r.status == 200) {
      tally->Add(r.sample.ok ? "200, reply done" : "200, reply failed");
      continue;
    }
    tally->Add(r.status ? std::to_string(r.status) : "no answer");
    co_await Pause(std::chrono::milliseconds(o.flood_retry_ms));
  }
}

awaitable<std::string> SetUpFlooder(uint16_t port, const Options& o, int run_id, Flooder* a,
                                    const CountTokensFn& count_tokens) {
  std::string error;
  a->token = co_await TokkiRegister(port, "flooder" + std::to_string(run_id), &error);
  if (!error.empty()) co_return error;
  Config fc;
  fc.users = o.flood_characters;
  fc.mix = "distinct";
  Workload chars = MakeWorkload(fc, run_id, count_tokens);
  std::vector<int64_t> ids;
  for (const Character& c : chars.characters) {
    ids.push_back(co_await TokkiCreateCharacter(port, a->token, c, &error));
    if (!error.empty()) co_return error;
  }
  for (int i = 0; i < o.flood_sends; ++i) {
    a->conversations.push_back(co_await TokkiOpenConversation(
        port, a->token, ids[static_cast<size_t>(i) % ids.size()], &error));
    if (!error.empty()) co_return error;
  }
  std::mt19937_64 rng(static_cast<uint64_t>(run_id));
  for (int k = 0; k < 16; ++k) a->messages.push_back(Words(rng, 28) + "? Tell me everything.");
  co_return error;
}

// B-D's sessions of one phase: each on its own workload (own characters, so no phase
// starts with another's cache), with the flood running around them when `a` is given.
RunResult Phase(const std::string& name, const TokkiServe& serve, const Options& o,
                const Config& normal, const std::vector<Workload>& workloads,
                const std::vector<std::vector<TokkiUser>>& users, const Flooder* a,
                FloodTally* tally) {
  RunResult r;
  r.system = name;
  r.cfg = normal;
  const uint16_t port = serve.port();
  double wall = 0;
  for (size_t k = 0; k < workloads.size(); ++k) {
    std::vector<std::vector<TurnSample>> per_user(static_cast<size_t>(normal.users));
    std::atomic<bool> stop{false};
    int remaining = normal.users;
    const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
    std::vector<std::function<awaitable<void>()>> tasks;
    if (a)
      for (int i = 0; i < o.flood_sends; ++i)
        tasks.push_back([&, i] { return FloodSender(port, o, *a, i, &stop, deadline, tally); });
    Clock::time_point t0{};
    for (int u = 0; u < normal.users; ++u)
      tasks.push_back([&, u, k]() -> awaitable<void> {
        if (a) co_await Pause(std::chrono::seconds(3));  // A's replies are running by then
        if (t0 == Clock::time_point{}) t0 = Clock::now();
        co_await TokkiUserTurns(port, normal, workloads[k], u, users[k][static_cast<size_t>(u)],
                                deadline, &per_user[static_cast<size_t>(u)]);
        if (--remaining == 0) {
          wall += std::chrono::duration<double>(Clock::now() - t0).count();
          stop = true;
        }
      });
    std::string ex = RunToEnd(std::move(tasks));
    if (!ex.empty() && r.first_error.empty()) r.first_error = ex;
    for (auto& samples : per_user)
      for (auto& s : samples) {
        if (!s.ok && r.first_error.empty()) r.first_error = s.error;
        r.errors += !s.ok;
        r.samples.push_back(std::move(s));
      }
  }
  r.wall_s = wall;
  r.peak_rss_kb = PeakRssKb(serve.pid());
  return r;
}

}  // namespace

int RunFairness(const Options& o, std::unique_ptr<engine::LlamaEngine> tokenizer) {
  Config normal = o.cfg;
  normal.users = o.normal_users;
  normal.mix = "distinct";
  const int base_run_id = static_cast<int>(::getpid() % 1000) * 100 + 50;
  auto count = [&](std::string_view s) { return tokenizer->CountTokens(s); };
  const int reps = std::max(1, o.repeat);
  std::vector<Workload> alone, flooded;
  for (int k = 0; k < reps; ++k) {
    alone.push_back(MakeWorkload(normal, base_run_id + 2 * k, count));
    flooded.push_back(MakeWorkload(normal, base_run_id + 2 * k + 1, count));
  }

  std::printf(
      "CharChat-MT fairness through tokki serve: users B-D (%d users, own characters, %d turns x "
      "%d reply tokens, zero think time), %d session(s) each alone, then while user A floods "
      "%d concurrent streamed sends over %d conversations (%d characters, %d-token replies, "
      "%d ms pause after a refused send)\n",
      normal.users, normal.turns, normal.reply_tokens, reps, o.flood_sends, o.flood_sends,
      o.flood_characters, o.flood_reply_tokens, o.flood_retry_ms);
  std::printf(
      "tokki serve with its default per-user limits (--max-replies-per-user 4, "
      "--max-streams-per-user 32, --max-messages-per-day 1000): A's 429s are expected and "
      "counted, not errors; lifted: only --max-connections-per-address and "
      "--max-signups-per-hour (every client here is 127.0.0.1)\n");
  std::printf("tokki serve %s\n\n",
              [&] {
                std::string s;
                for (auto& a : FairnessServeArgs(o)) s += (s.empty() ? "" : " ") + a;
                return s;
              }()
                  .c_str());

  TokkiServe serve;
  const std::string bin = o.tokki_bin.empty() ? TokkiBinaryBesideSelf() : o.tokki_bin;
  if (!serve.Start(bin, FairnessServeArgs(o), 180)) return 1;
  const uint16_t port = serve.port();
  Flooder a;
  std::vector<std::vector<TokkiUser>> alone_users(alone.size()), flooded_users(flooded.size());
  std::string error;
  std::string ex = RunToEnd({[&]() -> awaitable<void> {
    error = co_await SetUpFlooder(port, o, base_run_id + 99, &a, count);
    for (size_t k = 0; k < alone.size() && error.empty(); ++k)
      error = co_await SetUpTokkiUsers(port, alone[k], &alone_users[k]);
    for (size_t k = 0; k < flooded.size() && error.empty(); ++k)
      error = co_await SetUpTokkiUsers(port, flooded[k], &flooded_users[k]);
  }});
  tokenizer->Shutdown();
  tokenizer.reset();
  if (!ex.empty() || !error.empty()) {
    std::fprintf(stderr, "charchat: setup failed: %s%s\n", ex.c_str(), error.c_str());
    return 1;
  }

  FloodTally tally;
  ResetPeakRss(serve.pid());
  RunResult without = Phase("B-D alone", serve, o, normal, alone, alone_users, nullptr, nullptr);
  Summary s_without = Summarize(without);
  PrintRun(without, s_without);
  std::fflush(stdout);
  RunResult with = Phase("B-D with A", serve, o, normal, flooded, flooded_users, &a, &tally);
  Summary s_with = Summarize(with);
  PrintRun(with, s_with);
  serve.Stop();

  std::printf("  A's sends were answered:");
  for (auto& [what, n] : tally.counts) std::printf("  %s: %ld", what.c_str(), n);
  std::printf("\n\n");
  const double p99 = s_without.ttft_p99 > 0 ? s_with.ttft_p99 / s_without.ttft_p99 : 0;
  char fig[160];
  std::snprintf(fig, sizeof fig, "%s s with A / %s s without = %.2fx",
                Seconds(s_with.ttft_p99).c_str(), Seconds(s_without.ttft_p99).c_str(), p99);
  std::printf("Fairness against the targets:\n");
  PrintTarget("B-D TTFT p99 with/without A", fig, "target <= 1.5x", p99 > 0 && p99 <= 1.5);
  std::snprintf(fig, sizeof fig, "%s s with A / %s s without = %.2fx",
                Seconds(s_with.ttft_p50).c_str(), Seconds(s_without.ttft_p50).c_str(),
                s_without.ttft_p50 > 0 ? s_with.ttft_p50 / s_without.ttft_p50 : 0);
  std::printf("  %-4s  %-30s %s\n", "", "B-D TTFT p50 with/without A", fig);
  std::snprintf(fig, sizeof fig, "%d of %d with A, %d of %d without", s_with.n_failed,
                s_with.n_ok + s_with.n_failed, s_without.n_failed,
                s_without.n_ok + s_without.n_failed);
  PrintTarget("B-D failed replies", fig, "target: none",
              s_with.n_failed == 0 && s_without.n_failed == 0);
  std::printf(
      "(B-D have %d replies per phase: p99 is close to the slowest one; --repeat N adds "
      "sessions; the machine is shared, so figures are noisy)\n",
      normal.users * normal.turns * reps);
  return s_with.n_failed == 0 && s_without.n_failed == 0 ? 0 : 1;
}

}  // namespace tokki::bench
