// CharChat-MT — Tokki's serving benchmark (docs: ../shared/docs/bench.md beside the repository, docs/engine.md).
//
// U users each talk T turns to one of C characters (distinct: C = U; popular: C = U/4,
// Zipf 1.2), zero think time, ~400-token personas, ~30-token user messages, replies of
// exactly R tokens (ignore_eos). Runs the same workload against
//   (a) Tokki's LlamaEngine in this process (persona prefix sharing + resident KV), and
//   (b) llama-server through its OpenAI API (full history resent each turn),
// alternating per configuration, and prints TTFT p50/p99 (overall and by turn), aggregate
// tokens/s, prompt cache hit rate, peak RSS, the longest stream stall and the ratios
// against the targets.
//
// Random-weight models emit random tokens; to keep replies re-tokenizing stably both
// systems get the same +30 logit bias on ~200 common whole-word tokens.
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
#include "engine/llama_engine.h"
#include "engine/model_gen.h"
#include "engine/remote_engine.h"
#include "llama_server.h"

namespace tokki::bench {
namespace {

using engine::ChatMessage;
using engine::Engine;
using engine::GenerateCallbacks;
using engine::GenerateRequest;
using engine::GenerateResult;

const char* kWords[] = {
    "the",     "and",      "you",       "that",   "was",    "for",       "are",       "with",
    "his",     "they",     "this",      "have",   "from",   "one",       "had",       "word",
    "but",     "not",      "what",      "all",    "were",   "when",      "your",      "can",
    "said",    "there",    "use",       "each",   "which",  "she",       "how",       "their",
    "will",    "other",    "about",     "out",    "many",   "then",      "them",      "these",
    "some",    "her",      "would",     "make",   "like",   "him",       "into",      "time",
    "has",     "look",     "two",       "more",   "write",  "see",       "number",    "way",
    "could",   "people",   "than",      "first",  "water",  "been",      "call",      "who",
    "its",     "now",      "find",      "long",   "down",   "day",       "did",       "get",
    "come",    "made",     "may",       "part",   "over",   "new",       "sound",     "take",
    "only",    "little",   "work",      "know",   "place",  "year",      "live",      "back",
    "give",    "most",     "very",      "after",  "thing",  "our",       "just",      "name",
    "good",    "sentence", "man",       "think",  "say",    "great",     "where",     "help",
    "through", "much",     "before",    "line",   "right",  "too",       "mean",      "old",
    "any",     "same",     "tell",      "boy",    "follow", "came",      "want",      "show",
    "also",    "around",   "form",      "three",  "small",  "set",       "put",       "end",
    "does",    "another",  "well",      "large",  "must",   "big",       "even",      "such",
    "because", "turn",     "here",      "why",    "ask",    "went",      "men",       "read",
    "need",    "land",     "different", "home",   "move",   "try",       "kind",      "hand",
    "picture", "again",    "change",    "off",    "play",   "spell",     "air",       "away",
    "animal",  "house",    "point",     "page",   "letter", "mother",    "answer",    "found",
    "study",   "still",    "learn",     "should", "world",  "high",      "every",     "near",
    "add",     "food",     "between",   "own",    "below",  "country",   "plant",     "last",
    "school",  "father",   "keep",      "tree",   "never",  "start",     "city",      "earth",
    "eye",     "light",    "thought",   "head",   "under",  "story",     "saw",       "left",
    "few",     "while",    "along",     "might",  "close",  "something", "seem",      "next",
    "hard",    "open",     "example",   "begin",  "life",   "always",    "those",     "both",
    "paper",   "together", "got",       "group",  "often",  "run",       "important", "until",
    "children"};

struct Config {
  int users = 8;
  std::string mix = "popular";  // distinct | popular
  int turns = 6;
  int reply_tokens = 48;
  int persona_tokens = 400;
  int user_msg_tokens = 30;
};

struct TurnSample {
  int turn = 0;
  double ttft_ms = 0;
  int prompt_tokens = 0;
  int cached_tokens = 0;
  int completion_tokens = 0;
  double max_gap_ms = 0;  // longest pause between two tokens of this reply
  bool ok = false;
};

struct RunResult {
  std::string system;
  Config cfg;
  std::vector<TurnSample> samples;
  double wall_s = 0;
  int64_t peak_rss_kb = 0;
  int errors = 0;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double idx = p * (v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(idx)), hi = static_cast<size_t>(std::ceil(idx));
  return v[lo] + (v[hi] - v[lo]) * (idx - lo);
}

int64_t ReadHwmKb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return 0;
}

void ResetHwm(pid_t pid) {
  std::ofstream f("/proc/" + std::to_string(pid) + "/clear_refs");
  f << "5";
}

// Deterministic text of about `n_tokens` whole words.
std::string Words(std::mt19937_64& rng, int n_words) {
  std::string s;
  const size_t n = sizeof(kWords) / sizeof(kWords[0]);
  for (int i = 0; i < n_words; ++i) {
    if (!s.empty()) s += ' ';
    s += kWords[rng() % n];
    if (i % 12 == 11) s += '.';
  }
  return s;
}

std::string Persona(int run_id, int c, int n_tokens, engine::LlamaEngine& tok) {
  std::mt19937_64 rng(1000003ull * run_id + c);
  std::string s = "You are Character " + std::to_string(run_id) + "-" + std::to_string(c) +
                  ", a warm and curious friend. Stay in character and answer briefly. ";
  while (tok.CountTokens(s) < n_tokens) s += Words(rng, 24) + " ";
  return s;
}

std::vector<int> AssignCharacters(const Config& cfg, uint64_t seed) {
  std::vector<int> who(cfg.users);
  if (cfg.mix == "distinct") {
    for (int u = 0; u < cfg.users; ++u) who[u] = u;
    return who;
  }
  const int n_chars = std::max(1, cfg.users / 4);
  std::vector<double> w(n_chars);
  for (int c = 0; c < n_chars; ++c) w[c] = 1.0 / std::pow(c + 1, 1.2);
  std::discrete_distribution<int> zipf(w.begin(), w.end());
  std::mt19937_64 rng(seed);
  for (int u = 0; u < cfg.users; ++u) who[u] = zipf(rng);
  return who;
}

struct Workload {
  std::vector<std::string> personas;                // by character
  std::vector<int> character_of;                    // by user
  std::vector<std::vector<std::string>> user_msgs;  // [user][turn]
};

Workload MakeWorkload(const Config& cfg, int run_id, engine::LlamaEngine& tok) {
  Workload w;
  w.character_of = AssignCharacters(cfg, 77 + run_id);
  const int n_chars = *std::max_element(w.character_of.begin(), w.character_of.end()) + 1;
  for (int c = 0; c < n_chars; ++c)
    w.personas.push_back(Persona(run_id, c, cfg.persona_tokens, tok));
  w.user_msgs.resize(cfg.users);
  for (int u = 0; u < cfg.users; ++u) {
    std::mt19937_64 rng(5000011ull * run_id + 131 * u);
    for (int t = 0; t < cfg.turns; ++t) {
      std::string m = Words(rng, cfg.user_msg_tokens - 2) + "?";
      w.user_msgs[u].push_back(m);
    }
  }
  return w;
}

// Runs one configuration against one engine. `prefix_sharing` sets prefix_key /
// n_static_messages (Tokki's API); the OpenAI path just resends the history.
RunResult RunWorkload(const std::string& system, Engine& e, const Config& cfg, const Workload& w,
                      int run_id, const std::vector<std::pair<int32_t, float>>& bias,
                      bool prefix_sharing, pid_t rss_pid) {
  RunResult res;
  res.system = system;
  res.cfg = cfg;
  ResetHwm(rss_pid);
  std::mutex mu;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int u = 0; u < cfg.users; ++u) {
    threads.emplace_back([&, u] {
      std::vector<ChatMessage> history = {{"system", w.personas[w.character_of[u]]}};
      for (int t = 0; t < cfg.turns; ++t) {
        history.push_back({"user", w.user_msgs[u][t]});
        GenerateRequest req;
        req.conversation_key = "run" + std::to_string(run_id) + ":user" + std::to_string(u);
        if (prefix_sharing) {
          req.prefix_key =
              "run" + std::to_string(run_id) + ":char" + std::to_string(w.character_of[u]);
          req.n_static_messages = 1;
        }
        req.messages = history;
        req.sampling.max_tokens = cfg.reply_tokens;
        req.sampling.ignore_eos = true;
        req.sampling.temperature = 1.0f;
        req.sampling.top_k = 40;
        req.sampling.top_p = 1.0f;
        req.sampling.min_p = 0.0f;
        req.sampling.seed = static_cast<uint32_t>(run_id * 1000 + u * 10 + t);
        req.sampling.logit_bias = bias;
        struct State {
          std::string text;
          int64_t t_submit = 0, t_first = 0, t_last = 0;
          double max_gap_ms = 0;
          std::promise<Result<GenerateResult>> done;
        };
        auto st = std::make_shared<State>();
        GenerateCallbacks cb;
        cb.on_token = [st](std::string_view piece) {
          const int64_t now = NowSteadyUs();
          if (st->t_first == 0) {
            st->t_first = now;
          } else {
            st->max_gap_ms = std::max(st->max_gap_ms, (now - st->t_last) / 1000.0);
          }
          st->t_last = now;
          st->text += piece;
        };
        cb.on_done = [st](Result<GenerateResult> r) { st->done.set_value(std::move(r)); };
        st->t_submit = NowSteadyUs();
        auto h = e.Submit(req, cb);
        TurnSample s;
        s.turn = t;
        if (h.ok()) {
          Result<GenerateResult> r = st->done.get_future().get();
          if (r.ok()) {
            s.ok = true;
            s.ttft_ms = (st->t_first - st->t_submit) / 1000.0;
            s.prompt_tokens = r->usage.prompt_tokens;
            s.cached_tokens = r->usage.cached_tokens;
            s.completion_tokens = r->usage.completion_tokens;
            s.max_gap_ms = st->max_gap_ms;
          } else {
            std::fprintf(stderr, "  %s: %s\n", system.c_str(), r.status().ToString().c_str());
          }
        } else {
          std::fprintf(stderr, "  %s: %s\n", system.c_str(), h.status().ToString().c_str());
        }
        {
          std::lock_guard<std::mutex> lock(mu);
          res.samples.push_back(s);
          if (!s.ok) res.errors++;
        }
        history.push_back({"assistant", st->text});
      }
    });
  }
  for (auto& t : threads) t.join();
  res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.peak_rss_kb = ReadHwmKb(rss_pid);
  return res;
}

struct Summary {
  double p50 = 0, p99 = 0, turn0_p50 = 0, tok_s = 0, hit_rate = 0, max_gap_ms = 0;
  std::vector<double> p50_by_turn, p99_by_turn;
};

Summary Summarize(const RunResult& r) {
  Summary s;
  std::vector<double> all;
  std::map<int, std::vector<double>> by_turn;
  int64_t gen = 0, prompt_later = 0, cached_later = 0;
  for (const TurnSample& t : r.samples) {
    if (!t.ok) continue;
    all.push_back(t.ttft_ms);
    by_turn[t.turn].push_back(t.ttft_ms);
    gen += t.completion_tokens;
    if (t.turn >= 1) {
      prompt_later += t.prompt_tokens;
      cached_later += t.cached_tokens;
    }
    s.max_gap_ms = std::max(s.max_gap_ms, t.max_gap_ms);
  }
  s.p50 = Percentile(all, 0.5);
  s.p99 = Percentile(all, 0.99);
  s.turn0_p50 = Percentile(by_turn[0], 0.5);
  for (int t = 0; t < r.cfg.turns; ++t) {
    s.p50_by_turn.push_back(Percentile(by_turn[t], 0.5));
    s.p99_by_turn.push_back(Percentile(by_turn[t], 0.99));
  }
  s.tok_s = r.wall_s > 0 ? gen / r.wall_s : 0;
  s.hit_rate = prompt_later > 0 ? static_cast<double>(cached_later) / prompt_later : 0;
  return s;
}

void Print(const RunResult& r, const Summary& s) {
  std::printf(
      "  %-13s users=%-2d mix=%-8s TTFT p50 %7.3f s  p99 %7.3f s  turn0 p50 %7.3f s  "
      "%6.1f tok/s  hit(turn>=1) %5.1f%%  stall max %6.3f s  peak RSS %5lld MiB  wall %5.1f s%s\n",
      r.system.c_str(), r.cfg.users, r.cfg.mix.c_str(), s.p50 / 1000, s.p99 / 1000,
      s.turn0_p50 / 1000, s.tok_s, s.hit_rate * 100, s.max_gap_ms / 1000,
      static_cast<long long>(r.peak_rss_kb / 1024), r.wall_s,
      r.errors ? ("  ERRORS " + std::to_string(r.errors)).c_str() : "");
  std::printf("  %-13s   TTFT p50 by turn:", "");
  for (double v : s.p50_by_turn) std::printf(" %6.3f", v / 1000);
  std::printf("   p99 by turn:");
  for (double v : s.p99_by_turn) std::printf(" %6.3f", v / 1000);
  std::printf("\n");
}

// Plain batched decode, like llama-batched-bench -npp 400 -ntg 48 -npl B: B distinct
// 400-token prompts submitted together, 48 tokens each. Returns {S t/s, S_TG t/s}.
std::pair<double, double> TokkiBatched(engine::LlamaEngine& e, int b, int run_id,
                                       const std::vector<std::pair<int32_t, float>>& bias) {
  std::vector<std::future<std::pair<int64_t, int64_t>>> futs;
  std::vector<std::string> prompts;
  for (int i = 0; i < b; ++i) prompts.push_back(Persona(run_id, i, 400, e));
  const int64_t t0 = NowSteadyUs();
  for (int i = 0; i < b; ++i) {
    futs.push_back(std::async(std::launch::async, [&, i] {
      GenerateRequest req;
      req.messages = {{"user", prompts[i]}};
      req.sampling.max_tokens = 48;
      req.sampling.ignore_eos = true;
      req.sampling.temperature = 1.0f;
      req.sampling.top_k = 40;
      req.sampling.logit_bias = bias;
      auto first = std::make_shared<std::atomic<int64_t>>(0);
      auto done = std::make_shared<std::promise<int64_t>>();
      GenerateCallbacks cb;
      cb.on_token = [first](std::string_view) {
        if (first->load() == 0) first->store(NowSteadyUs());
      };
      cb.on_done = [done](Result<GenerateResult>) { done->set_value(NowSteadyUs()); };
      auto h = e.Submit(req, cb);
      if (!h.ok()) return std::make_pair(int64_t{0}, int64_t{0});
      const int64_t end = done->get_future().get();
      return std::make_pair(first->load(), end);
    }));
  }
  int64_t last_first = 0, last_end = 0;
  for (auto& f : futs) {
    auto [first, end] = f.get();
    last_first = std::max(last_first, first);
    last_end = std::max(last_end, end);
  }
  const double wall_s = (last_end - t0) / 1e6;
  const double tg_s = (last_end - last_first) / 1e6;
  const int n_prompt = e.CountTokens(prompts[0]);
  return {b * (n_prompt + 48) / wall_s, tg_s > 0 ? b * 47 / tg_s : 0};
}

// Runs llama-batched-bench and returns {S t/s, S_TG t/s} of its result row.
std::pair<double, double> LlamaBatchedBench(const std::string& model, int b, int threads) {
  const std::string bin = std::string(TOKKI_LLAMA_TOOLS_DIR) + "/llama-batched-bench";
  const std::string cmd = bin + " -m " + model +
                          " -c 16384 -b 2048 -ub 512 -npp 400 -ntg 48 -npl " + std::to_string(b) +
                          " -t " + std::to_string(threads) + " 2>/dev/null";
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

int Main(int argc, char** argv) {
  std::string model = std::string(TOKKI_BENCH_MODEL_DIR) + "/smol-q8_0.gguf";
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
          "usage: charchat [--quick] [--model smol.gguf] [--users 1,8,16] [--mix "
          "distinct,popular]\n"
          "                [--turns 6] [--reply 48] [--threads 2] [--ctx 16384] [--prefill-chunk "
          "256]\n"
          "                [--no-server]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (quick) {
    users_arg = "1,8";
    mixes_arg = "popular";
    turns = std::min(turns, 4);
  }
  if (!std::filesystem::exists(model)) {
    std::printf("generating %s (smol, q8_0)...\n", model.c_str());
    engine::ModelGenOptions g;
    g.preset = "smol";
    g.type = "q8_0";
    g.output_path = model;
    Status st = engine::GenerateModel(g);
    if (!st.ok()) {
      std::fprintf(stderr, "model gen failed: %s\n", st.ToString().c_str());
      return 1;
    }
  }

  engine::LlamaEngineOptions eo;
  eo.model_path = model;
  eo.n_ctx = n_ctx;
  eo.n_threads = threads;
  eo.n_parallel = 16;
  eo.kv_unified = std::getenv("KV_UNIFIED") != nullptr;
  eo.n_seq_max = eo.kv_unified ? 64 : 0;
  eo.prefill_chunk_tokens = prefill_chunk;
  auto opened = engine::LlamaEngine::OpenLlama(eo);
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", model.c_str(), opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<engine::LlamaEngine> tokki = std::move(opened).value();

  // Whole-word logit bias, identical for both systems.
  std::vector<std::pair<int32_t, float>> bias;
  for (const char* w : kWords) {
    auto ids = tokki->Tokenize(std::string(" ") + w);
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
    if (!server.Start(model, {"--parallel", "8", "-c", "16384", "-t", std::to_string(threads)},
                      120)) {
      std::fprintf(stderr, "llama-server did not start (%s); run tools/deps/llama.sh --tools\n",
                   engine::testing::LlamaServer::Binary().c_str());
      with_server = false;
    } else {
      engine::RemoteEngineOptions ro;
      ro.base_urls = {server.url()};
      ro.model = "smol";
      remote = engine::RemoteEngine::Open(ro).value();
    }
  }

  std::printf(
      "CharChat-MT  model=%s  threads=%d  turns=%d  reply=%d tokens (ignore_eos)  "
      "persona~400 tokens  user msg~30 tokens  think time 0\n",
      model.c_str(), threads, turns, reply);
  std::printf(
      "re-tokenization: +30 logit bias on %zu whole-word single tokens, same for both systems "
      "(temperature 1, top-k 40)\n",
      bias.size());
  std::printf(
      "tokki: LlamaEngine in-process (n_ctx %d, n_parallel 16, prefill chunk %d); "
      "baseline: llama-server --parallel 8 -c 16384 via /v1/chat/completions (full history each "
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
        Workload w = MakeWorkload(cfg, ++run_id, *tokki);
        RunResult r =
            do_tokki
                ? RunWorkload("tokki", *tokki, cfg, w, run_id, bias, true, ::getpid())
                : RunWorkload("llama-server", *remote, cfg, w, run_id, bias, false, server.pid());
        Summary s = Summarize(r);
        Print(r, s);
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

  std::printf("Ratios (tokki vs llama-server, same run) and targets:\n");
  for (const Pair& p : pairs) {
    const Summary& t = p.tokki;
    const double drift = t.p50_by_turn.size() > 1 && t.p50_by_turn[1] > 0
                             ? t.p50_by_turn.back() / t.p50_by_turn[1]
                             : 0;
    std::printf("  users=%-2d mix=%-8s", p.cfg.users, p.cfg.mix.c_str());
    if (p.has_server) {
      std::printf("  TTFT p99 %.2fx (target <= 0.20)  tok/s %.2fx (target >= 2.0)",
                  p.server.p99 > 0 ? t.p99 / p.server.p99 : 0,
                  p.server.tok_s > 0 ? t.tok_s / p.server.tok_s : 0);
    }
    std::printf("  tokki turn%d/turn2 TTFT p50 %.2f (target <= 1.2)  hit %.1f%% (target >= 95%%)",
                p.cfg.turns, drift, t.hit_rate * 100);
    if (p.cfg.users == 16) {
      std::printf(
          "  tok/s vs bench.md batched-bench B=16 figure 254 (quiet machine): %.0f%% (target >= "
          "80%%; use --batched for a same-run ratio)",
          t.tok_s / 254 * 100);
    } else if (p.cfg.users == 8) {
      std::printf("  tok/s vs bench.md batched-bench B=8 figure 197 (quiet machine): %.0f%%",
                  t.tok_s / 197 * 100);
    }
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
  server.Stop();
  return 0;
}

}  // namespace
}  // namespace tokki::bench

int main(int argc, char** argv) { return tokki::bench::Main(argc, argv); }
