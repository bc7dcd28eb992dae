// bench/charchat/report.h — how charchat prints a run and the same-run ratios against
// the targets of ../shared/docs/bench.md. Turns are printed numbered from 1.
//
// Thread safety: writes to stdout; call from one thread.
#pragma once

#include <string>

#include "workload.h"

namespace tokki::bench {

// Two lines: the figures of one run, then TTFT p50/p99 by turn.
void PrintRun(const RunResult& r, const Summary& s);

// One line of the targets table: PASS/MISS and the figures.
void PrintTarget(const std::string& what, const std::string& figures, const std::string& target,
                 bool pass);

// The targets block for Tokki against the baseline (`server` may be null: no ratios).
void PrintTargets(const Config& cfg, const Summary& tokki, const Summary* server);

// "12.345": seconds from milliseconds.
std::string Seconds(double ms);
// "turns 2-6" (or "turn 2"): the turns a hit rate is taken over.
std::string LaterTurns(int turns);

}  // namespace tokki::bench
