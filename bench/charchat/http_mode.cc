// charchat's http mode: the CharChat-MT workload through a real `tokki serve` and through
// llama-server, alternating, each on a fresh server; the figures the targets are judged on.
#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "drivers.h"
#include "engine/llama_engine.h"
#include "llama_server.h"
#include "modes.h"
#include "report.h"
#include "tokki_serve.h"

namespace tokki::bench {
namespace {

using boost::asio::awaitable;

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& a : v) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Flags of `tokki serve` for the workload: the model, the engine's threads and parallelism;
// the per-address and per-user connection caps lifted as bench/http does (every simulated
// user connects from 127.0.0.1), and sign-ups from one address unlimited.
std::vector<std::string> ServeArgs(const Options& o) {
  std::vector<std::string> a = {"--model",
                                o.model,
                                "--engine-threads",
                                std::to_string(o.threads),
                                "--parallel",
                                std::to_string(o.parallel),
                                "--max-connections-per-address",
                                "0",
                                "--max-streams-per-user",
                                "0",
                                "--max-characters-per-user",
                                "0",
                                "--max-signups-per-hour",
                                "0"};
  if (o.tokki_ctx > 0) {
    a.push_back("--ctx-size");
    a.push_back(std::to_string(o.tokki_ctx));
  }
  if (!o.tokki_kv_type.empty()) {
    a.push_back("--kv-type");
    a.push_back(o.tokki_kv_type);
  }
  return a;
}

// bench.md's baseline: a KV cache per slot. --server-kvu shares one cache, as Tokki does.
std::vector<std::string> LlamaServerArgs(const Options& o) {
  std::vector<std::string> a = {"--parallel", std::to_string(o.parallel),
                                "-c",         std::to_string(o.server_ctx),
                                "-t",         std::to_string(o.threads)};
  if (o.server_kvu) a.push_back("--kv-unified");
  if (!o.server_kv_type.empty())
    a.insert(a.end(), {"-ctk", o.server_kv_type, "-ctv", o.server_kv_type});
  return a;
}


struct Measured {
  RunResult result;
  Summary summary;
  std::map<std::string, double> engine_delta;  // tokki /metrics counters over the run
  bool ok = false;
};

Measured RunTokki(const Options& o, const Workload& w) {
  Measured m;
  m.result.system = "tokki serve";
  m.result.cfg = o.cfg;
  TokkiServe serve;
  const std::string bin = o.tokki_bin.empty() ? TokkiBinaryBesideSelf() : o.tokki_bin;
  if (!serve.Start(bin, ServeArgs(o), 180)) return m;
  const uint16_t port = serve.port();
  std::vector<TokkiUser> users;
  std::string setup_error;
  std::string ex = RunToEnd(
      {[&]() -> awaitable<void> { setup_error = co_await SetUpTokkiUsers(port, w, &users); }});
  if (!ex.empty() || !setup_error.empty()) {
    std::fprintf(stderr, "charchat: tokki setup failed: %s%s\n", ex.c_str(), setup_error.c_str());
    return m;
  }
  const auto before = serve.EngineCounters();
  ResetPeakRss(serve.pid());
  std::vector<std::vector<TurnSample>> per_user(users.size());
  std::vector<std::function<awaitable<void>()>> tasks;
  const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
  for (int u = 0; u < o.cfg.users; ++u)
    tasks.push_back([&, u] {
      return TokkiUserTurns(port, o.cfg, w, u, users[static_cast<size_t>(u)], deadline,
                            &per_user[static_cast<size_t>(u)]);
    });
  const auto t0 = Clock::now();
  ex = RunToEnd(std::move(tasks));
  m.result.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  m.result.peak_rss_kb = PeakRssKb(serve.pid());
  const auto after = serve.EngineCounters();
  for (auto& [k, v] : after) m.engine_delta[k] = v - (before.count(k) ? before.at(k) : 0);
  serve.Stop();
  CollectSamples(per_user, &m.result);
  if (!ex.empty() && m.result.first_error.empty()) m.result.first_error = ex;
  m.summary = Summarize(m.result);
  m.ok = true;
  return m;
}

Measured RunLlamaServer(const Options& o, const Workload& w) {
  Measured m;
  m.result.system = "llama-server";
  m.result.cfg = o.cfg;
  engine::testing::LlamaServer server;
  if (!server.Start(o.model, LlamaServerArgs(o), 180)) {
    std::fprintf(stderr,
                 "charchat: llama-server (%s) did not start; run tools/deps/llama.sh --tools\n",
                 engine::testing::LlamaServer::Binary().c_str());
    return m;
  }
  TrackChild(server.pid(), "");
  const uint16_t port = static_cast<uint16_t>(server.port());
  ResetPeakRss(server.pid());
  std::vector<std::vector<TurnSample>> per_user(static_cast<size_t>(o.cfg.users));
  std::vector<std::function<awaitable<void>()>> tasks;
  const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
  for (int u = 0; u < o.cfg.users; ++u)
    tasks.push_back([&, u] {
      return LlamaServerUserTurns(port, o.cfg, w, u, deadline, &per_user[static_cast<size_t>(u)]);
    });
  const auto t0 = Clock::now();
  std::string ex = RunToEnd(std::move(tasks));
  m.result.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  m.result.peak_rss_kb = PeakRssKb(server.pid());
  UntrackChild(server.pid());
  server.Stop();
  CollectSamples(per_user, &m.result);
  if (!ex.empty() && m.result.first_error.empty()) m.result.first_error = ex;
  m.summary = Summarize(m.result);
  m.ok = true;
  return m;
}

void PrintEngineDelta(const std::map<std::string, double>& d) {
  auto get = [&](const char* k) { return d.count(k) ? d.at(k) : 0.0; };
  const double prompt = get("prompt_tokens_total"), cached = get("cached_tokens_total");
  std::printf(
      "  %-13s engine (/metrics over the run): prompt %.0f, cached %.0f (%.1f %%, all turns), "
      "prefilled %.0f, decoded %.0f tokens\n",
      "", prompt, cached, prompt > 0 ? cached / prompt * 100 : 0, get("prefill_tokens_total"),
      get("decode_tokens_total"));
}

}  // namespace

int RunHttpMode(const Options& o, std::unique_ptr<engine::LlamaEngine> tokenizer) {
  const int rounds = std::max(1, o.best_of);
  const int base_run_id = static_cast<int>(::getpid() % 1000) * 100;
  std::vector<Workload> workloads;
  for (int r = 0; r < rounds; ++r)
    workloads.push_back(MakeWorkload(
        o.cfg, base_run_id + r, [&](std::string_view s) { return tokenizer->CountTokens(s); }));
  tokenizer->Shutdown();
  tokenizer.reset();

  const Config& cfg = o.cfg;
  std::printf(
      "CharChat-MT over HTTP: %d users, %s mix (%s), %d turns x %d reply tokens "
      "(ignore_eos), persona ~%d tokens, user messages ~%d tokens, zero think time\n",
      cfg.users, cfg.mix.c_str(),
      cfg.mix == "distinct" ? "one character each" : "users drawn over U/4 characters, Zipf 1.2",
      cfg.turns, cfg.reply_tokens, cfg.persona_tokens, cfg.user_msg_tokens);
  std::printf("model %s, %d engine threads on each side; a fresh server for every run\n",
              o.model.c_str(), o.threads);
  std::printf(
      "tokki:    tokki serve %s%s\n"
      "          each user registers, creates (first user of a character, public) or picks its "
      "character, opens a conversation and sends each turn streamed (Accept: "
      "text/event-stream)\n",
      Join(ServeArgs(o)).c_str(), o.tokki_ctx > 0 ? "" : " (--ctx-size: serve default)");
  if (o.with_server)
    std::printf(
        "baseline: llama-server %s; /v1/chat/completions stream:true, the full history resent "
        "each turn (the messages Tokki's prompt builder makes: character text, user line, "
        "greeting, turns)\n",
        Join(LlamaServerArgs(o)).c_str());
  std::printf(
      "sampling: temperature 1, top-k 40, top-p 1, min-p 0, no penalties, the same seed per "
      "(user, turn) on both sides\n"
      "re-tokenization: no logit bias on either side (tokki serve takes none, per request or "
      "as a serve option), so replies are random tokens on both and may re-tokenize "
      "differently the next turn; hit rates are what each server reports (Tokki: "
      "done.usage.cached_tokens; llama-server: usage.prompt_tokens_details.cached_tokens)\n"
      "TTFT: send -> first token event; ITL: gap between consecutive token events as the client "
      "reads them; tok/s: completion tokens / wall time of the chat phase; turns numbered from 1\n"
      "\n");

  std::optional<Measured> best_tokki, best_server;
  for (int r = 0; r < rounds; ++r) {
    const auto& who = workloads[static_cast<size_t>(r)].character_of;
    std::printf("round %d of %d: characters talked to: %zu\n", r + 1, rounds,
                std::set<int>(who.begin(), who.end()).size());
    // Alternate which side goes first, so neither always runs on a warmer machine.
    const bool tokki_first = r % 2 == 0;
    for (int k = 0; k < 2; ++k) {
      const bool do_tokki = (k == 0) == tokki_first;
      if (!do_tokki && !o.with_server) continue;
      Measured m = do_tokki ? RunTokki(o, workloads[static_cast<size_t>(r)])
                            : RunLlamaServer(o, workloads[static_cast<size_t>(r)]);
      if (!m.ok) {
        std::printf("  %-13s did not run (see stderr)\n",
                    do_tokki ? "tokki serve" : "llama-server");
        continue;
      }
      PrintRun(m.result, m.summary);
      if (do_tokki) PrintEngineDelta(m.engine_delta);
      std::fflush(stdout);
      auto& best = do_tokki ? best_tokki : best_server;
      if (!best || m.summary.tok_s > best->summary.tok_s) best = std::move(m);
    }
    std::printf("\n");
  }
  if (!best_tokki) {
    std::printf("tokki serve did not run; no figures\n");
    return 1;
  }
  if (rounds > 1) {
    std::printf("kept: each side's best aggregate tok/s of %d rounds\n", rounds);
    PrintRun(best_tokki->result, best_tokki->summary);
    if (best_server) PrintRun(best_server->result, best_server->summary);
    std::printf("\n");
  }
  PrintTargets(cfg, best_tokki->summary, best_server ? &best_server->summary : nullptr);
  std::printf(
      "(figures from a shared 2-core machine are noisy; only same-run ratios mean something)\n");
  return best_tokki->summary.n_failed == 0 ? 0 : 1;
}

}  // namespace tokki::bench
