// CharChat-MT — Tokki's serving benchmark (workload: ../shared/docs/bench.md beside the
// repository; docs/engine.md). Prints figures; not a test.
//
//   charchat [http] [flags]   (default) a real `tokki serve` driven over its HTTP API exactly
//                             as the web app does — register, create or pick a character, open
//                             a conversation, streamed sends (SSE) — against llama-server
//                             (/v1/chat/completions, stream:true, full history each turn),
//                             alternating, a fresh server for each run. The targets are judged
//                             on this mode.
//   charchat fairness [flags] through `tokki serve` (its default per-user limits): users B-D
//                             chat alone, then while user A floods 64 concurrent streamed
//                             sends; B-D's TTFT with/without A.
//   charchat inproc [flags]   diagnostic: Tokki's LlamaEngine in this process against
//                             llama-server, with a shared logit bias (see inproc.cc).
//
// U users each talk T turns to one of C characters (distinct: C = U; popular: C = U/4,
// Zipf 1.2), zero think time, ~400-token personas, ~30-token user messages, replies of
// exactly R tokens (ignore_eos). Printed per system: aggregate tok/s, TTFT p50/p99 (and by
// turn), inter-token latency p50/p99, the prompt cache hit rate on turns 2..T, peak RSS;
// then Tokki/llama-server ratios with PASS/MISS against the targets.
//
// Files: workload.{h,cc} (texts, samples, summary), http_client.{h,cc} (Beast client, both
// APIs), drivers.{h,cc} (one simulated user per system), tokki_serve.{h,cc} (the child
// server), report.{h,cc} (printing), http_mode.cc, fairness.cc, inproc.cc. On CPUs with
// AMX both servers keep quantized weights out of llama.cpp's AMX buffer type (its Q8_0
// kernel crashes on multi-token batches): tokki serve on its own, llama-server through
// LlamaServer's --no-repack (docs/engine.md, "KV layout").
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/llama_engine.h"
#include "engine/model_gen.h"
#include "modes.h"
#include "tokki_serve.h"

namespace tokki::bench {

std::string DefaultModelPath() { return std::string(TOKKI_BENCH_MODEL_DIR) + "/smol-q8_0.gguf"; }

bool EnsureModel(const std::string& path) {
  if (std::filesystem::exists(path)) return true;
  std::printf("generating %s (smol, q8_0)...\n", path.c_str());
  engine::ModelGenOptions g;
  g.preset = "smol";
  g.type = "q8_0";
  g.output_path = path;
  Status st = engine::GenerateModel(g);
  if (!st.ok()) std::fprintf(stderr, "model gen failed: %s\n", st.ToString().c_str());
  return st.ok();
}

namespace {

void Usage() {
  std::printf(
      "usage: charchat [http] [--quick] [--model smol.gguf] [--users 16] [--mix popular|distinct]\n"
      "                [--turns 6] [--reply 48] [--threads 2] [--parallel 16] [--best-of 1|2]\n"
      "                [--tokki-ctx N (default: the serve default)] [--server-ctx 32768] "
      "[--server-kvu]\n"
      "                [--tokki-kv-type f16|q8_0|q4_0] [--server-kv-type f16|q8_0|q4_0]\n"
      "                [--no-server] [--tokki-bin PATH] [--timeout-s 1800] [--omp-passive]\n"
      "       charchat fairness [--quick] [--model ..] [--turns 6] [--reply 48] [--users 3]\n"
      "                [--flood 64] [--flood-characters 8] [--flood-reply 128]\n"
      "                [--flood-retry-ms 1000] [--repeat 1] [--tokki-ctx N] [--timeout-s 1800]\n"
      "       charchat inproc --help\n"
      "--quick: http 4 users x 2 turns x 16 tokens; fairness 2 turns x 16 tokens, a flood of 16\n");
}

// Opens the model once, only to count tokens while the texts are made.
std::unique_ptr<engine::LlamaEngine> OpenTokenizer(const std::string& model) {
  engine::LlamaEngineOptions eo;
  eo.model_path = model;
  eo.n_ctx = 1024;
  eo.n_parallel = 1;
  eo.n_seq_max = 2;
  eo.n_threads = 1;
  auto opened = engine::LlamaEngine::OpenLlama(eo);
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", model.c_str(), opened.status().ToString().c_str());
    return nullptr;
  }
  return std::move(opened).value();
}

int Main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows in a log file too
  InstallChildCleanup();
  std::string mode = "http";
  int first = 1;
  if (argc > 1 && argv[1][0] != '-') {
    mode = argv[1];
    first = 2;
  }
  if (mode == "inproc") return RunInProcess(argc - 1, argv + 1);
  if (mode != "http" && mode != "fairness") {
    Usage();
    return 2;
  }
  Options o;
  o.model = DefaultModelPath();
  bool quick = false, users_set = false;
  for (int i = first; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    auto num = [&]() { return std::atoi(next().c_str()); };
    if (a == "--model") {
      o.model = next();
    } else if (a == "--users") {
      o.cfg.users = o.normal_users = num();
      users_set = true;
    } else if (a == "--mix") {
      o.cfg.mix = next();
    } else if (a == "--turns") {
      o.cfg.turns = num();
    } else if (a == "--reply") {
      o.cfg.reply_tokens = num();
    } else if (a == "--threads") {
      o.threads = num();
    } else if (a == "--parallel") {
      o.parallel = num();
    } else if (a == "--best-of") {
      o.best_of = num();
    } else if (a == "--tokki-ctx") {
      o.tokki_ctx = num();
    } else if (a == "--server-ctx") {
      o.server_ctx = num();
    } else if (a == "--server-kvu") {
      o.server_kvu = true;
    } else if (a == "--tokki-kv-type") {
      o.tokki_kv_type = next();
    } else if (a == "--server-kv-type") {
      o.server_kv_type = next();
    } else if (a == "--no-server") {
      o.with_server = false;
    } else if (a == "--tokki-bin") {
      o.tokki_bin = next();
    } else if (a == "--timeout-s") {
      o.timeout_s = num();
    } else if (a == "--flood") {
      o.flood_sends = num();
    } else if (a == "--flood-characters") {
      o.flood_characters = num();
    } else if (a == "--flood-reply") {
      o.flood_reply_tokens = num();
    } else if (a == "--flood-retry-ms") {
      o.flood_retry_ms = num();
    } else if (a == "--repeat") {
      o.repeat = num();
    } else if (a == "--quick") {
      quick = true;
    } else if (a == "--omp-passive") {
      // Both servers' OpenMP workers sleep between decode steps instead of spinning
      // (libgomp reads this when the child loads it).
      ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    } else {
      Usage();
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (quick) {
    if (!users_set) o.cfg.users = 4;
    o.cfg.turns = 2;
    o.cfg.reply_tokens = 16;
    o.best_of = 1;
    o.flood_sends = 16;
    o.flood_reply_tokens = 32;
    o.timeout_s = std::min(o.timeout_s, 120);
  }
  if (o.cfg.users < 1 || o.cfg.turns < 1 || o.cfg.reply_tokens < 1 || o.normal_users < 1 ||
      o.flood_sends < 1 || o.flood_characters < 1 ||
      (o.cfg.mix != "popular" && o.cfg.mix != "distinct")) {
    Usage();
    return 2;
  }
  if (!EnsureModel(o.model)) return 1;
  auto tokenizer = OpenTokenizer(o.model);
  if (!tokenizer) return 1;
  return mode == "fairness" ? RunFairness(o, std::move(tokenizer))
                            : RunHttpMode(o, std::move(tokenizer));
}

}  // namespace
}  // namespace tokki::bench

int main(int argc, char** argv) { return tokki::bench::Main(argc, argv); }
