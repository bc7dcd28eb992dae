// Memory benchmark (prints figures; not a test): does a friend remember, what does it cost?
//  1. recall: for Korean, English and Chinese, one relationship of --messages stored
//     messages of small talk with 20 facts planted over the first 10 %; at the end, two
//     probes per fact (one sharing a content word with it, one paraphrase sharing none) go
//     through the prompt inspector's code path (ChatService::InspectPrompt, an 8k window)
//     with BM25 recall, then again with an embedding model on the engine ("hybrid": dense
//     retrieval fused with BM25 where this build has it). A probe is recalled when its
//     fact's text is in the prompt. Also: tokens of the `recalled` section and the time
//     InspectPrompt takes.
//  2. serve: `tokki serve` over HTTP with --memory true and false, an 8k window, each
//     conversation holding --history exchanges before the run (so history already leaves
//     the window): prompt-cache hit rate and TTFT.
//
//   memory_bench --model CHAT.gguf [--embed-model EMBED.gguf] [--messages 10000]
//                [--users 3] [--turns 40] [--reply-tokens 24] [--ctx-size 8192] [--history 400]
//                [--threads 2] [--rounds 1] [--timeout-s 600] [--quick] [--no-serve]
//                [--no-recall]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "corpus.h"
#include "engine/llama_embedder.h"
#include "engine/llama_engine.h"
#include "recall.h"
#include "report.h"
#include "serve_cache.h"
#include "tokki_serve.h"

namespace tokki::bench::memory {
namespace {

struct Options {
  std::string model, embed_model;
  RecallOptions recall;
  ServeOptions serve;
  int threads = 2;
  int rounds = 3;  // InspectPrompt rounds per probe (the first is a warm-up)
  bool run_recall = true, run_serve = true, quick = false;
};

double Mean(const std::vector<double>& v) {
  return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double Max(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}
double Ratio(int hits, int n) { return n ? static_cast<double>(hits) / n : 0; }

std::unique_ptr<engine::Engine> OpenEngine(const Options& o, bool with_embedder) {
  engine::LlamaEngineOptions eo;
  eo.model_path = o.model;
  eo.n_threads = o.threads;
  eo.n_parallel = 1;
  eo.n_ctx_seq = 1024;  // nothing is generated: the engine counts tokens
  if (with_embedder) {
    engine::LlamaEmbedderOptions emo;
    emo.model_path = o.embed_model;
    emo.n_threads = o.threads;
    auto e = engine::LlamaEmbedder::Open(emo);
    if (!e.ok()) {
      std::fprintf(stderr, "memory_bench: %s\n", e.status().ToString().c_str());
      return nullptr;
    }
    eo.embedder = std::shared_ptr<engine::Embedder>(std::move(e).value());
  }
  auto e = engine::LlamaEngine::Open(eo);
  if (!e.ok()) {
    std::fprintf(stderr, "memory_bench: %s\n", e.status().ToString().c_str());
    return nullptr;
  }
  return std::move(e).value();
}

// All languages of one mode together.
RecallFigures Pool(const std::vector<RecallFigures>& v, const std::string& mode) {
  RecallFigures all;
  all.mode = mode;
  all.lang = "all";
  for (const auto& f : v) {
    if (f.mode != mode) continue;
    all.dense = f.dense;
    all.shared_hits += f.shared_hits;
    all.shared_n += f.shared_n;
    all.paraphrase_hits += f.paraphrase_hits;
    all.paraphrase_n += f.paraphrase_n;
    all.errors += f.errors;
    auto append = [](std::vector<double>& to, const std::vector<double>& from) {
      to.insert(to.end(), from.begin(), from.end());
    };
    append(all.recalled_tokens, f.recalled_tokens);
    append(all.build_ms, f.build_ms);
    append(all.prompt_tokens, f.prompt_tokens);
  }
  return all;
}

void PrintRecallRow(const RecallFigures& f) {
  std::printf(
      "  %-7s %-4s %5d/%-3d %4.2f   %5d/%-3d %4.2f   %6.0f %5.0f %5.0f   %7.0f   %7.2f %7.2f\n",
      f.mode.c_str(), f.lang.c_str(), f.shared_hits, f.shared_n, Ratio(f.shared_hits, f.shared_n),
      f.paraphrase_hits, f.paraphrase_n, Ratio(f.paraphrase_hits, f.paraphrase_n),
      Mean(f.recalled_tokens), Percentile(f.recalled_tokens, 0.5), Max(f.recalled_tokens),
      Mean(f.prompt_tokens), Percentile(f.build_ms, 0.5), Percentile(f.build_ms, 0.99));
}

// Part 1; the figures of every (mode, language), BM25 first.
std::vector<RecallFigures> RunRecall(const Options& o) {
  std::vector<RecallFigures> out;
  std::printf(
      "recall: per language one user x one character, %d stored messages (small talk from "
      "templates, seed %llu), 20 facts over the first 10 %%, 2 probes per fact asked at the end\n"
      "  prompt: ChatService::InspectPrompt with PersonaPromptBuilder(n_ctx %d, reply %d) and a "
      "MemoryService (summaries off); tokens counted by %s\n"
      "  recalled: the probe's fact text is somewhere in the prompt; build: InspectPrompt wall "
      "time (%d timed rounds per probe after a warm-up)\n",
      o.recall.n_messages, static_cast<unsigned long long>(o.recall.seed), o.recall.n_ctx,
      o.recall.n_reply_tokens, o.model.c_str(), o.rounds - 1);
  auto bm25 = OpenEngine(o, false);
  if (!bm25) return out;
  std::vector<std::unique_ptr<Relationship>> rels;
  for (const Language& l : Languages()) {
    auto r = Relationship::Write(l, o.recall, bm25.get());
    if (!r) return out;
    std::printf("  %s: %lld messages written in %.1f s\n", l.code.c_str(),
                static_cast<long long>(r->n_messages()), r->write_s());
    std::fflush(stdout);
    rels.push_back(std::move(r));
  }
  for (const auto& r : rels)
    out.push_back(ProbeRelationship(*r, bm25.get(), "bm25", o.recall, o.rounds));
  bm25->Shutdown();
  bm25.reset();
  if (o.embed_model.empty()) {
    std::printf("  hybrid: no --embed-model; skipped\n");
  } else if (auto hybrid = OpenEngine(o, true)) {
    const bool dense = hybrid->Info().embedding.available;
    std::printf("  hybrid: engine with embedding model %s (%s)%s\n", o.embed_model.c_str(),
                dense ? "embeddings available" : "embeddings NOT available",
                "; MemoryService fuses dense retrieval with BM25 when it has it, otherwise "
                "hybrid = BM25");
    for (const auto& r : rels)
      out.push_back(ProbeRelationship(*r, hybrid.get(), "hybrid", o.recall, o.rounds));
    hybrid->Shutdown();
  }
  std::printf("\n  %-7s %-4s %-14s %-14s %-19s %-9s %-15s\n", "mode", "lang", "shared-word",
              "paraphrase", "recalled tok/turn", "prompt", "build ms");
  std::printf("  %-7s %-4s %-14s %-14s %6s %5s %5s   %7s   %7s %7s\n", "", "", "recall@prompt",
              "recall@prompt", "mean", "p50", "max", "tokens", "p50", "p99");
  for (const std::string mode : {"bm25", "hybrid"}) {
    bool any = false;
    for (const auto& f : out)
      if (f.mode == mode) {
        PrintRecallRow(f);
        any = true;
      }
    if (any) PrintRecallRow(Pool(out, mode));
  }
  for (const auto& f : out)
    if (f.n_embedded > 0)
      std::printf("  %s %s: %lld messages embedded before the probes in %.1f s\n", f.mode.c_str(),
                  f.lang.c_str(), static_cast<long long>(f.n_embedded), f.embed_s);
  for (const auto& f : out) {
    if (f.errors)
      std::printf("  %s %s: %d errors, first: %s\n", f.mode.c_str(), f.lang.c_str(), f.errors,
                  f.first_error.c_str());
    if (!f.missed.empty())
      std::printf(
          "  %s %s: %zu shared-word probes missed (MEMORY_BENCH_SHOW_MISSES=1 shows them)\n",
          f.mode.c_str(), f.lang.c_str(), f.missed.size());
  }
  std::printf("\n");
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& a : v) s += (s.empty() ? "" : " ") + a;
  return s;
}

void PrintServeRow(const ServeFigures& f) {
  int64_t prompt = 0, cached = 0;
  int n = 0;
  for (const auto& t : f.result.samples)
    if (t.ok && t.turn >= 1) {
      prompt += t.prompt_tokens;
      cached += t.cached_tokens;
      ++n;
    }
  std::printf("  %-10s %5d/%-3d %8.0f %8.0f   %5.3f    %7.1f %7.1f   %6.1f\n",
              f.result.system.c_str(), f.summary.n_ok, f.summary.n_failed,
              n ? static_cast<double>(prompt) / n : 0, n ? static_cast<double>(cached) / n : 0,
              f.summary.hit_later, f.summary.ttft_p50, f.summary.ttft_p99, f.result.wall_s);
  std::vector<double> before_engine;  // send -> the engine has the request
  for (const auto& t : f.result.samples)
    if (t.ok && t.turn >= 1 && t.engine_ttft_ms > 0) before_engine.push_back(t.ttft_ms - t.engine_ttft_ms);
  std::sort(before_engine.begin(), before_engine.end());
  auto pct = [&](double q) {
    return before_engine.empty() ? 0.0
                                 : before_engine[static_cast<size_t>(q * (before_engine.size() - 1))];
  };
  std::printf("  %-10s TTFT before the engine (HTTP, prompt building): p50 %.1f ms, p99 %.1f ms\n",
              "", pct(0.5), pct(0.99));
  int64_t user_prefill = 0, user_decode = 0;
  for (const auto& t : f.result.samples)
    if (t.ok) {
      user_prefill += t.prompt_tokens - t.cached_tokens;
      user_decode += t.completion_tokens;
    }
  std::printf("  %-10s engine: prefilled %.0f tokens (replies %lld, other %.0f), decoded %.0f "
              "(replies %lld, other %.0f)\n",
              "", f.engine_prefill_tokens, static_cast<long long>(user_prefill),
              f.engine_prefill_tokens - static_cast<double>(user_prefill), f.engine_decode_tokens,
              static_cast<long long>(user_decode),
              f.engine_decode_tokens - static_cast<double>(user_decode));
  if (f.cut_short) std::printf("  %-10s stopped at --timeout-s before every turn was sent\n", "");
  if (!f.result.first_error.empty())
    std::printf("  %-10s first error: %s\n", "", f.result.first_error.c_str());
}

std::vector<ServeFigures> RunServePart(const Options& o) {
  const ServeOptions& s = o.serve;
  std::printf(
      "serve: tokki serve %s, then --memory false (alternating, a fresh server each run, "
      "%d round%s)\n"
      "  %d users (user u speaks %s to that language's character), %d exchanges stored in each "
      "conversation before the run, then %d turns each, replies of %d tokens (ignore_eos), facts "
      "over the first third, shared-word probes in the last quarter; zero think time\n"
      "  hit rate: sum usage.cached_tokens / sum usage.prompt_tokens of the `done` events on "
      "turns >= 2; TTFT: send -> first token event\n",
      Join(ServeArgs(s, true)).c_str(), s.rounds, s.rounds == 1 ? "" : "s", s.users,
      "ko/en/zh by u % 3", s.history, s.turns, s.reply_tokens);
  auto out = RunServe(s);
  std::printf("\n  %-10s %-9s %-17s %-8s %-15s %-6s\n", "setting", "turns", "per turn (>= 2)",
              "hit rate", "TTFT ms", "wall");
  std::printf("  %-10s %9s %8s %8s   %-8s %7s %7s   %6s\n", "", "ok/failed", "prompt", "cached",
              "turns>=2", "p50", "p99", "s");
  for (const auto& f : out)
    if (f.ok) PrintServeRow(f);
  std::printf("\n");
  return out;
}

int Main(const Options& o) {
  std::printf(
      "Memory: recall@prompt, recalled tokens, prompt-build time and what memory costs "
      "the prompt cache%s\n\n",
      o.quick ? " (BENCH_QUICK: a short pass)" : "");
  std::vector<RecallFigures> recall;
  if (o.run_recall) recall = RunRecall(o);
  std::fflush(stdout);
  std::vector<ServeFigures> serve;
  if (o.run_serve) serve = RunServePart(o);

  std::printf("targets (same run):\n");
  char buf[160];
  if (o.run_recall) {
    for (const std::string mode : {"bm25", "hybrid"}) {
      double worst = 2;
      std::string figures;
      for (const auto& f : recall)
        if (f.mode == mode) {
          const double r = Ratio(f.shared_hits, f.shared_n);
          worst = std::min(worst, r);
          std::snprintf(buf, sizeof buf, "%s%s %.2f", figures.empty() ? "" : ", ", f.lang.c_str(),
                        r);
          figures += buf;
        }
      if (worst > 1) continue;
      PrintTarget("recall@prompt shared, " + mode,
                  figures + " (" + std::to_string(o.recall.n_messages) + " msgs)",
                  ">= 0.9 in every language", worst >= 0.9);
    }
    // Each mode on its own: BM25 is the embedded default; hybrid also embeds the message.
    for (const std::string mode : {"bm25", "hybrid"}) {
      const RecallFigures pooled = Pool(recall, mode);
      if (pooled.build_ms.empty()) continue;
      const double p99 = Percentile(pooled.build_ms, 0.99);
      std::snprintf(buf, sizeof buf, "p99 %.2f ms", p99);
      PrintTarget("prompt build, " + mode, buf, "p99 <= 20 ms", p99 <= 20);
    }
  }
  if (o.run_serve && serve.size() == 2 && serve[0].ok && serve[1].ok) {
    const Summary& on = serve[0].summary;
    const Summary& off = serve[1].summary;
    const double hit_ratio = off.hit_later > 0 ? on.hit_later / off.hit_later : 0;
    std::snprintf(buf, sizeof buf, "on %.3f / off %.3f = %.2f", on.hit_later, off.hit_later,
                  hit_ratio);
    PrintTarget("prompt-cache hit rate", buf, "on >= 0.9 x off", hit_ratio >= 0.9);
    const double ttft_ratio = off.ttft_p50 > 0 ? on.ttft_p50 / off.ttft_p50 : 0;
    std::snprintf(buf, sizeof buf, "on %.1f / off %.1f ms = %.2f (p99 %.2f)", on.ttft_p50,
                  off.ttft_p50, ttft_ratio, off.ttft_p99 > 0 ? on.ttft_p99 / off.ttft_p99 : 0);
    PrintTarget("TTFT p50", buf, "on <= 1.10 x off", ttft_ratio > 0 && ttft_ratio <= 1.10);
  }
  std::printf(
      "(figures from a shared 2-core machine are noisy; only same-run ratios mean something)\n");
  bool failed = false;
  for (const auto& f : recall) failed |= f.errors > 0;
  for (const auto& f : serve) failed |= !f.ok || f.summary.n_failed > 0;
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace tokki::bench::memory

int main(int argc, char** argv) {
  using namespace tokki::bench::memory;
  Options o;
  auto next_int = [&](int& i) { return std::atoi(argv[++i]); };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has = i + 1 < argc;
    if (a == "--model" && has)
      o.model = argv[++i];
    else if (a == "--embed-model" && has)
      o.embed_model = argv[++i];
    else if (a == "--messages" && has)
      o.recall.n_messages = next_int(i);
    else if (a == "--users" && has)
      o.serve.users = next_int(i);
    else if (a == "--turns" && has)
      o.serve.turns = next_int(i);
    else if (a == "--reply-tokens" && has)
      o.serve.reply_tokens = next_int(i);
    else if (a == "--ctx-size" && has)
      o.serve.ctx_size = next_int(i);
    else if (a == "--history" && has)
      o.serve.history = std::max(0, next_int(i));
    else if (a == "--threads" && has)
      o.threads = next_int(i);
    else if (a == "--rounds" && has)
      o.serve.rounds = std::max(1, next_int(i));
    else if (a == "--timeout-s" && has)
      o.serve.timeout_s = next_int(i);
    else if (a == "--quick")
      o.quick = true;
    else if (a == "--no-serve")
      o.run_serve = false;
    else if (a == "--no-recall")
      o.run_recall = false;
    else {
      std::fprintf(stderr,
                   "usage: memory_bench --model CHAT.gguf [--embed-model EMBED.gguf] "
                   "[--messages N] [--users N] [--turns N] [--reply-tokens N] [--ctx-size N] "
                   "[--history N] [--threads N] [--rounds N] [--timeout-s S] [--quick] [--no-serve] "
                   "[--no-recall]\n");
      return 2;
    }
  }
  if (o.model.empty()) {
    std::fprintf(stderr, "memory_bench: --model is required\n");
    return 2;
  }
  if (o.quick) {
    o.recall.n_messages = std::min(o.recall.n_messages, 2000);
    o.rounds = 2;
    o.serve.users = std::min(o.serve.users, 3);
    o.serve.turns = std::min(o.serve.turns, 12);
    o.serve.history = std::min(o.serve.history, 200);
    o.serve.timeout_s = std::min(o.serve.timeout_s, 150);
  }
  o.serve.model = o.model;
  o.serve.threads = o.threads;
  tokki::bench::InstallChildCleanup();
  return Main(o);
}
