#include "report.h"

#include <cstdio>

namespace tokki::bench {
namespace {

std::string Fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

}  // namespace

std::string Seconds(double ms) { return Fmt("%.3f", ms / 1000); }

std::string LaterTurns(int turns) {
  return turns == 2 ? "turn 2" : "turns 2-" + std::to_string(turns);
}

void PrintRun(const RunResult& r, const Summary& s) {
  std::printf("  %-13s %6.1f tok/s  TTFT p50 %s s  p99 %s s   ITL p50 %s s  p99 %s s  max %s s\n",
              r.system.c_str(), s.tok_s, Seconds(s.ttft_p50).c_str(), Seconds(s.ttft_p99).c_str(),
              Seconds(s.itl_p50).c_str(), Seconds(s.itl_p99).c_str(), Seconds(s.itl_max).c_str());
  std::printf(
      "  %-13s hit (%s) %5.1f %%   prompt tokens: turn 1 %.0f, turn %d %.0f   peak RSS %lld "
      "MiB   wall %.1f s   failed %d of %d%s%s\n",
      "", LaterTurns(r.cfg.turns).c_str(), s.hit_later * 100, s.prompt_first, r.cfg.turns,
      s.prompt_last, static_cast<long long>(r.peak_rss_kb / 1024), r.wall_s, s.n_failed,
      s.n_ok + s.n_failed, r.first_error.empty() ? "" : "; first error: ", r.first_error.c_str());
  std::printf("  %-13s TTFT p50 by turn (s):", "");
  for (double v : s.p50_by_turn) std::printf(" %s", Seconds(v).c_str());
  std::printf("   p99 by turn:");
  for (double v : s.p99_by_turn) std::printf(" %s", Seconds(v).c_str());
  std::printf("\n  %-13s ITL p50 by turn (s): ", "");
  for (double v : s.itl_p50_by_turn) std::printf(" %s", Seconds(v).c_str());
  std::printf("\n");
}

void PrintTarget(const std::string& what, const std::string& figures, const std::string& target,
                 bool pass) {
  std::printf("  %-4s  %-30s %-60s %s\n", pass ? "PASS" : "MISS", what.c_str(), figures.c_str(),
              target.c_str());
}

void PrintTargets(const Config& cfg, const Summary& t, const Summary* l) {
  std::printf("Tokki against the targets (users=%d mix=%s, same run):\n", cfg.users,
              cfg.mix.c_str());
  if (l) {
    const double p99 = l->ttft_p99 > 0 ? t.ttft_p99 / l->ttft_p99 : 0;
    PrintTarget("TTFT p99 tokki/llama",
                Seconds(t.ttft_p99) + " s / " + Seconds(l->ttft_p99) + " s = " + Fmt("%.2fx", p99),
                "target <= 0.20x", p99 > 0 && p99 <= 0.20);
    const double tok = l->tok_s > 0 ? t.tok_s / l->tok_s : 0;
    PrintTarget("aggregate tok/s tokki/llama",
                Fmt("%.1f", t.tok_s) + " / " + Fmt("%.1f", l->tok_s) + " = " + Fmt("%.2fx", tok),
                "target >= 2.0x", tok >= 2.0);
    std::printf("  %-4s  %-30s %s\n", "", "TTFT p50 tokki/llama",
                (Seconds(t.ttft_p50) + " s / " + Seconds(l->ttft_p50) +
                 " s = " + Fmt("%.2fx", l->ttft_p50 > 0 ? t.ttft_p50 / l->ttft_p50 : 0))
                    .c_str());
  }
  PrintTarget("hit rate, " + LaterTurns(cfg.turns),
              "tokki " + Fmt("%.1f %%", t.hit_later * 100) +
                  (l ? " (llama-server " + Fmt("%.1f %%", l->hit_later * 100) + ")" : ""),
              "target >= 95 %", t.hit_later >= 0.95);
  if (cfg.turns >= 3) {
    const std::string name = "TTFT p50 turn " + std::to_string(cfg.turns) + " / turn 2";
    PrintTarget(name,
                "tokki " + Seconds(t.p50_by_turn.back()) + " / " + Seconds(t.p50_by_turn[1]) +
                    " s = " + Fmt("%.2f", t.LastOverSecond()) +
                    (l ? " (llama-server " + Fmt("%.2f", l->LastOverSecond()) + ")" : ""),
                "target <= 1.2", t.LastOverSecond() > 0 && t.LastOverSecond() <= 1.2);
  }
  if (cfg.users == 16 || cfg.users == 8) {
    // bench.md's quiet-machine llama-batched-bench figure (S: prompt and generated tokens
    // over wall time); `charchat inproc --batched N` measures both in the same run.
    const double ref = cfg.users == 16 ? 254 : 197;
    PrintTarget("tok/s vs batched-bench B=" + std::to_string(cfg.users),
                Fmt("%.1f", t.tok_s) + " / " + Fmt("%.0f", ref) +
                    " (bench.md's figure, not this run) = " + Fmt("%.0f %%", t.tok_s / ref * 100),
                "target >= 80 %", t.tok_s / ref >= 0.8);
  }
}

}  // namespace tokki::bench
