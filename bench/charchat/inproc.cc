// charchat's inproc mode (a diagnostic; the targets are judged on the http mode):
// Tokki's LlamaEngine inside this process (persona prefix sharing + resident KV) against
// llama-server through RemoteEngine (full history resent each turn), alternating per
// configuration; both with the same +30 logit bias on ~200 common whole-word tokens, so
// replies re-tokenize stably. `--batched B,..` instead compares plain batched decode with
// llama-batched-bench.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "ggml-cpu.h"
#include "drivers.h"  // ReplySeed
#include "engine/llama_engine.h"
#include "engine/model_gen.h"
#include "engine/remote_engine.h"
#include "llama_server.h"
#include "modes.h"
#include "report.h"
#include "tokki_serve.h"  // PeakRssKb
#include "workload.h"

namespace tokki::bench {
namespace {

using engine::ChatMessage;
using engine::Engine;
using engine::GenerateCallbacks;
using engine::GenerateRequest;
using engine::GenerateResult;

// Runs one configuration against one engine. `prefix_sharing` sets prefix_key /
// n_static_messages (Tokki's API); the OpenAI path just resends the history.
RunResult RunWorkload(const std::string& system, Engine& e, const Config& cfg, const Workload& w,
                      int run_id, const std::vector<std::pair<int32_t, float>>& bias,
                      bool prefix_sharing, pid_t rss_pid) {
  RunResult res;
  res.system = system;
  res.cfg = cfg;
  ResetPeakRss(rss_pid);
  std::mutex mu;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int u = 0; u < cfg.users; ++u) {
    threads.emplace_back([&, u] {
      const auto uu = static_cast<size_t>(u);
      std::vector<ChatMessage> history = {
          {"system", w.characters[static_cast<size_t>(w.character_of[uu])].StaticText()}};
      for (int t = 0; t < cfg.turns; ++t) {
        history.push_back({"user", w.user_msgs[uu][static_cast<size_t>(t)]});
        GenerateRequest req;
        req.conversation_key = "run" + std::to_string(run_id) + ":user" + std::to_string(u);
        if (prefix_sharing) {
          req.prefix_key =
              "run" + std::to_string(run_id) + ":char" + std::to_string(w.character_of[uu]);
          req.n_static_messages = 1;
        }
        req.messages = history;
        req.sampling.max_tokens = cfg.reply_tokens;
        req.sampling.ignore_eos = true;
        req.sampling.temperature = 1.0f;
        req.sampling.top_k = 40;
        req.sampling.top_p = 1.0f;
        req.sampling.min_p = 0.0f;
        req.sampling.seed = ReplySeed(run_id, u, t);
        req.sampling.logit_bias = bias;
        struct State {
          std::string text;
          int64_t t_submit = 0, t_first = 0, t_last = 0;
          std::vector<double> gaps_ms;
          std::promise<Result<GenerateResult>> done;
        };
        auto st = std::make_shared<State>();
        GenerateCallbacks cb;
        cb.on_token = [st](std::string_view piece) {
          const int64_t now = NowSteadyUs();
          if (st->t_first == 0) {
            st->t_first = now;
          } else {
            st->gaps_ms.push_back(static_cast<double>(now - st->t_last) / 1000.0);
          }
          st->t_last = now;
          st->text += piece;
        };
        cb.on_done = [st](Result<GenerateResult> r) { st->done.set_value(std::move(r)); };
        st->t_submit = NowSteadyUs();
        auto h = e.Submit(req, cb);
        TurnSample s;
        s.user = u;
        s.turn = t;
        if (h.ok()) {
          Result<GenerateResult> r = st->done.get_future().get();
          if (r.ok()) {
            s.ok = true;
            s.ttft_ms = (st->t_first - st->t_submit) / 1000.0;
            s.prompt_tokens = r->usage.prompt_tokens;
            s.cached_tokens = r->usage.cached_tokens;
            s.completion_tokens = r->usage.completion_tokens;
            s.gaps_ms = st->gaps_ms;
            s.token_events = static_cast<int>(st->gaps_ms.size()) + 1;
          } else {
            s.error = r.status().ToString();
          }
        } else {
          s.error = h.status().ToString();
        }
        {
          std::lock_guard<std::mutex> lock(mu);
          res.samples.push_back(s);
          if (!s.ok && res.first_error.empty()) res.first_error = s.error;
          if (!s.ok) res.errors++;
        }
        history.push_back({"assistant", st->text});
      }
    });
  }
  for (auto& t : threads) t.join();
  res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.peak_rss_kb = PeakRssKb(rss_pid);
  return res;
}

// Plain batched decode, like llama-batched-bench -npp 400 -ntg 48 -npl B: B distinct
// 400-token prompts submitted together, 48 tokens each. Returns {S t/s, S_TG t/s}: S over
// the whole run; S_TG over the phase where every sequence has its first token (tokens
// generated after the last first token / that phase's wall time), since the engine
// prefills later prompts while earlier replies already decode.
std::pair<double, double> TokkiBatched(engine::LlamaEngine& e, int b, int run_id,
                                       const std::vector<std::pair<int32_t, float>>& bias) {
  std::vector<std::future<std::vector<int64_t>>> futs;
  Config pc;
  pc.users = b;
  pc.mix = "distinct";
  pc.turns = 0;
  const Workload w =
      MakeWorkload(pc, run_id, [&e](std::string_view t) { return e.CountTokens(t); });
  std::vector<std::string> prompts;
  for (const Character& c : w.characters) prompts.push_back(c.StaticText());
  const int64_t t0 = NowSteadyUs();
  for (int i = 0; i < b; ++i) {
    futs.push_back(std::async(std::launch::async, [&, i] {
      GenerateRequest req;
      req.messages = {{"user", prompts[static_cast<size_t>(i)]}};
      req.sampling.max_tokens = 48;
      req.sampling.ignore_eos = true;
      req.sampling.temperature = 1.0f;
      req.sampling.top_k = 40;
      req.sampling.logit_bias = bias;
      auto times = std::make_shared<std::vector<int64_t>>();  // written by the engine thread
      auto done = std::make_shared<std::promise<void>>();
      GenerateCallbacks cb;
      cb.on_token = [times](std::string_view) { times->push_back(NowSteadyUs()); };
      cb.on_done = [done](Result<GenerateResult>) { done->set_value(); };
      auto h = e.Submit(req, cb);
      if (!h.ok()) return std::vector<int64_t>();
      done->get_future().wait();
      return *times;
    }));
  }
  std::vector<std::vector<int64_t>> all;
  int64_t last_first = 0, last_end = 0;
  for (auto& f : futs) {
    all.push_back(f.get());
    if (all.back().empty()) continue;
    last_first = std::max(last_first, all.back().front());
    last_end = std::max(last_end, all.back().back());
  }
  int64_t n_tg = 0;
  for (const auto& times : all)
    for (int64_t t : times) n_tg += t > last_first;
  const double wall_s = (last_end - t0) / 1e6;
  const double tg_s = (last_end - last_first) / 1e6;
  const int n_prompt = e.CountTokens(prompts[0]);
  return {b * (n_prompt + 48) / wall_s, tg_s > 0 ? static_cast<double>(n_tg) / tg_s : 0};
}

// Runs llama-batched-bench and returns {S t/s, S_TG t/s} of its result row.
std::pair<double, double> LlamaBatchedBench(const std::string& model, int b, int threads) {
  const std::string bin = std::string(TOKKI_LLAMA_TOOLS_DIR) + "/llama-batched-bench";
  const std::string cmd = bin + " -m " + model +
                          " -c 16384 -b 2048 -ub 512 -npp 400 -ntg 48 -npl " + std::to_string(b) +
                          " -t " + std::to_string(threads) +
                          // The same rule as the engine: off llama.cpp's AMX buffer type.
                          (ggml_cpu_has_amx_int8() ? " --no-repack" : "") + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {0, 0};
  char line[512];
  std::pair<double, double> out{0, 0};
  while (std::fgets(line, sizeof(line), p)) {
    // |    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s | S
    // t/s |
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '|')) cols.push_back(c);
    if (cols.size() >= 11 && std::atoi(cols[1].c_str()) == 400) {
      out = {std::atof(cols[10].c_str()), std::atof(cols[8].c_str())};
    }
  }
  ::pclose(p);
  return out;
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::atoi(item.c_str()));
  return out;
}

}  // namespace

int RunInProcess(int argc, char** argv) {
  std::string model = DefaultModelPath();
  std::string users_arg = "1,8,16";
  std::string mixes_arg = "distinct,popular";
  int turns = 6, reply = 48, threads = 2;
  bool quick = false, with_server = true;
  std::string batched_arg;
  int n_ctx = 16384;
  int prefill_chunk = 256;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--model")
      model = next();
    else if (a == "--users")
      users_arg = next();
    else if (a == "--mix")
      mixes_arg = next();
    else if (a == "--turns")
      turns = std::atoi(next().c_str());
    else if (a == "--reply")
      reply = std::atoi(next().c_str());
    else if (a == "--threads")
      threads = std::atoi(next().c_str());
    else if (a == "--ctx")
      n_ctx = std::atoi(next().c_str());
    else if (a == "--prefill-chunk")
      prefill_chunk = std::atoi(next().c_str());
    else if (a == "--quick")
      quick = true;
    else if (a == "--no-server")
      with_server = false;
    else if (a == "--batched")
      batched_arg = next();
    else {
      std::printf(
          "usage: charchat inproc [--quick] [--model smol.gguf] [--users 1,8,16]\n"
          "                [--mix distinct,popular] [--turns 6] [--reply 48] [--threads 2]\n"
          "                [--ctx 16384] [--prefill-chunk 256] [--no-server] [--batched 1,8,16]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (quick) {
    users_arg = "1,8";
    mixes_arg = "popular";
    turns = std::min(turns, 4);
  }
  if (!EnsureModel(model)) return 1;

  engine::LlamaEngineOptions eo;
  eo.model_path = model;
  eo.kv_unified = std::getenv("TOKKI_BENCH_KV_UNIFIED") != nullptr;  // default: streams
  eo.n_ctx = n_ctx;  // with the unified cache
  eo.n_threads = threads;
  eo.n_parallel = 16;
  eo.n_seq_max = 0;  // the layout's default
  eo.prefill_chunk_tokens = prefill_chunk;
  auto opened = engine::LlamaEngine::OpenLlama(eo);
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", model.c_str(), opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<engine::LlamaEngine> tokki = std::move(opened).value();

  // Whole-word logit bias, identical for both systems.
  std::vector<std::pair<int32_t, float>> bias;
  for (const std::string& w : CommonWords()) {
    auto ids = tokki->Tokenize(" " + w);
    if (ids.size() == 1) bias.emplace_back(ids[0], 30.0f);
  }

  if (!batched_arg.empty()) {
    std::printf(
        "batched decode, 400-token prompts, 48 generated, %d threads (S = all tokens / wall, "
        "S_TG = generated tokens / decode phase)\n",
        threads);
    int rid = 900000;
    for (int b : ParseList(batched_arg)) {
      auto t = TokkiBatched(*tokki, b, ++rid, bias);
      auto l = LlamaBatchedBench(model, b, threads);
      std::printf(
          "  B=%-2d tokki S %6.1f S_TG %6.1f tok/s | llama-batched-bench S %6.1f S_TG %6.1f tok/s "
          "| tokki/batched-bench S %.0f%% S_TG %.0f%%\n",
          b, t.first, t.second, l.first, l.second, l.first > 0 ? t.first / l.first * 100 : 0,
          l.second > 0 ? t.second / l.second * 100 : 0);
      std::fflush(stdout);
    }
    return 0;
  }

  engine::testing::LlamaServer server;
  std::unique_ptr<Engine> remote;
  if (with_server) {
    if (!server.Start(model, {"--parallel", "16", "-c", "32768", "-t", std::to_string(threads)},
                      120)) {
      std::fprintf(stderr, "llama-server did not start (%s); run tools/deps/llama.sh --tools\n",
                   engine::testing::LlamaServer::Binary().c_str());
      with_server = false;
    } else {
      TrackChild(server.pid(), "");
      engine::RemoteEngineOptions ro;
      ro.base_urls = {server.url()};
      ro.model = "smol";
      remote = engine::RemoteEngine::Open(ro).value();
    }
  }

  std::printf(
      "CharChat-MT in-process (a diagnostic: the targets are judged on `charchat http`)\n"
      "model=%s  threads=%d  turns=%d  reply=%d tokens (ignore_eos)  "
      "persona~400 tokens  user msg~30 tokens  think time 0\n",
      model.c_str(), threads, turns, reply);
  std::printf(
      "re-tokenization: +30 logit bias on %zu whole-word single tokens, same for both systems "
      "(temperature 1, top-k 40)\n",
      bias.size());
  std::printf(
      "tokki: LlamaEngine in-process (n_ctx %d, n_parallel 16, prefill chunk %d); "
      "baseline: llama-server --parallel 16 -c 32768 via /v1/chat/completions (full history each "
      "turn)\n\n",
      n_ctx, prefill_chunk);

  int run_id = static_cast<int>(::getpid() % 1000) * 100;
  struct Pair {
    Config cfg;
    Summary tokki, server;
    bool has_server = false;
  };
  std::vector<Pair> pairs;
  for (const std::string& mix : {std::string("distinct"), std::string("popular")}) {
    if (mixes_arg.find(mix) == std::string::npos) continue;
    for (int users : ParseList(users_arg)) {
      Config cfg;
      cfg.users = users;
      cfg.mix = mix;
      cfg.turns = turns;
      cfg.reply_tokens = reply;
      Pair p;
      p.cfg = cfg;
      // Alternate which system goes first.
      const bool tokki_first = pairs.size() % 2 == 0;
      for (int k = 0; k < 2; ++k) {
        const bool do_tokki = (k == 0) == tokki_first;
        if (!do_tokki && !with_server) continue;
        Workload w =
            MakeWorkload(cfg, ++run_id, [&](std::string_view t) { return tokki->CountTokens(t); });
        RunResult r =
            do_tokki
                ? RunWorkload("tokki", *tokki, cfg, w, run_id, bias, true, ::getpid())
                : RunWorkload("llama-server", *remote, cfg, w, run_id, bias, false, server.pid());
        Summary s = Summarize(r);
        PrintRun(r, s);
        std::fflush(stdout);
        if (do_tokki) {
          p.tokki = s;
        } else {
          p.server = s;
          p.has_server = true;
        }
      }
      pairs.push_back(p);
      std::printf("\n");
    }
  }

  for (const Pair& p : pairs) {
    PrintTargets(p.cfg, p.tokki, p.has_server ? &p.server : nullptr);
    std::printf("\n");
  }
  engine::EngineStats es = tokki->Stats();
  std::printf(
      "\ntokki engine totals: prompt %lld, cached %lld, prefilled %lld, decoded %lld tokens; "
      "prefill %.0f tok/s, decode %.0f tok/s (time-weighted share of steps)\n",
      static_cast<long long>(es.prompt_tokens_total),
      static_cast<long long>(es.cached_tokens_total),
      static_cast<long long>(es.prefill_tokens_total),
      static_cast<long long>(es.decode_tokens_total), es.prefill_tokens_per_s,
      es.decode_tokens_per_s);
  tokki->Shutdown();
  if (remote) remote->Shutdown();
  if (with_server) UntrackChild(server.pid());
  server.Stop();
  return 0;
}

}  // namespace tokki::bench
