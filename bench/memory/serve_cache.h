// bench/memory/serve_cache.h — memory_bench's HTTP part: what users get. A real
// `tokki serve` (child on 127.0.0.1, bench/charchat's launcher and client) with the
// embedded engine; a few users each hold one long conversation (the corpus of their
// language, facts early, probes late): `history` exchanges written into the store while
// the server is paused, so that history already overflows the window, then `turns` live
// turns with streamed sends of a fixed reply length. Run with --memory true and
// --memory false, alternately, each on a fresh server.
//
// Thread safety: one owner.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workload.h"

namespace tokki::bench::memory {

struct ServeOptions {
  std::string model;
  std::string tokki_bin;  // "" = next to this binary
  int users = 3;          // user u speaks language u % 3 to that language's character
  int turns = 40;
  int reply_tokens = 24;  // ignore_eos
  int ctx_size = 8192;    // --ctx-size: one conversation's window (512 of it for the reply)
  int history = 400;      // exchanges written into each conversation before the run
                          // (store, server paused), so history leaves the window at once
  int threads = 2;        // --engine-threads
  int rounds = 1;         // each round runs both settings, alternating which goes first
  int timeout_s = 600;    // per run: no turn starts after it
  uint64_t seed = 20240303;
};

struct ServeFigures {
  bool memory = false;
  bool ok = false;         // at least one run of this setting came up
  bool cut_short = false;  // a run stopped at timeout_s before every turn was sent
  RunResult result;        // every run's samples of this setting, pooled
  // The engine's own counters (/metrics), summed over the runs: everything it prefilled
  // and decoded, the users' replies and the memory's background work together.
  double engine_prefill_tokens = 0;
  double engine_decode_tokens = 0;
  Summary summary;
};

// [0]: --memory true, [1]: --memory false.
std::vector<ServeFigures> RunServe(const ServeOptions& o);

// The `tokki serve` flags of one run (printed in the header).
std::vector<std::string> ServeArgs(const ServeOptions& o, bool memory);

}  // namespace tokki::bench::memory
