// bench/charchat/modes.h — charchat's modes (see charchat.cc for the command line):
//   http      (default; what the targets are judged on) a real `tokki serve` driven over
//             its HTTP API against llama-server, alternating, fresh servers for every run;
//   fairness  one user floods `tokki serve` with streamed sends while others chat;
//   inproc    (diagnostic) Tokki's LlamaEngine inside this process against llama-server.
//
// Thread safety: each Run* owns the process while it runs (children, stdout).
#pragma once

#include <memory>
#include <string>

#include "workload.h"

namespace tokki::engine {
class LlamaEngine;
}

namespace tokki::bench {

struct Options {
  std::string model;
  Config cfg;
  int threads = 2;          // engine threads of each system
  int parallel = 16;        // tokki serve --parallel, llama-server --parallel
  int tokki_ctx = 0;        // tokki serve --ctx-size; 0 = its default
  int server_ctx = 32768;   // llama-server -c, split over its slots (2048 each)
  bool server_kvu = false;  // llama-server --kv-unified: one KV cache for all slots
  std::string tokki_kv_type;   // tokki serve --kv-type; "" = its default
  std::string server_kv_type;  // llama-server -ctk/-ctv; "" = its default (f16)
  int best_of = 1;          // rounds; each side keeps its best aggregate tok/s
  bool with_server = true;  // run llama-server too
  std::string tokki_bin;    // tokki binary; "" = beside charchat
  int timeout_s = 1800;     // bound of one measured run (every turn stops by then)
  // fairness
  int normal_users = 3;      // users B, C, D
  int flood_sends = 64;      // user A's concurrent streamed sends, one conversation each
  int flood_characters = 8;  // characters A's conversations are spread over
  int flood_reply_tokens = 128;
  int flood_retry_ms = 1000;  // A's pause after a refused send (serve says Retry-After: 5)
  int repeat = 1;             // B-D sessions per phase (more samples for p99)
};

// build/models/smol-q8_0.gguf; generates the `smol` Q8_0 model at `path` when it is missing.
std::string DefaultModelPath();
bool EnsureModel(const std::string& path);

// Both take the model's tokenizer (a small LlamaEngine) to size the texts; they close it
// before anything is measured. Return the process exit status.
int RunHttpMode(const Options& o, std::unique_ptr<engine::LlamaEngine> tokenizer);
int RunFairness(const Options& o, std::unique_ptr<engine::LlamaEngine> tokenizer);
// The in-process diagnostic with its own flags (argv[0] is the mode name).
int RunInProcess(int argc, char** argv);

}  // namespace tokki::bench
