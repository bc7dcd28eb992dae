// Prefix copy — what sharing a persona prefix costs against prefilling it again.
//
// With per-sequence KV streams, a conversation that starts from a shared persona prefix
// gets a copy of the prefix's stream (llama.cpp copies the stream's buffers at the next
// llama_decode); with the unified cache the cells are shared and nothing is copied. For
// each layout this prints the time to first token of a new conversation
//   - that starts from the shared prefix (copy or share, then prefill the user message),
//   - that prefills the whole prompt itself (no prefix key),
// the difference (what sharing saves) and the copy's own time (first token with the
// prefix minus a run that only prefills the user message on a resident conversation).
// Persona ~400 tokens, user message ~30 tokens, 1 generated token, median of N runs.
#include <algorithm>
#include <future>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/clock.h"
#include "engine/llama_engine.h"
#include "engine/model_gen.h"

namespace tokki::bench {
namespace {

using engine::GenerateRequest;

std::string Persona() {
  std::string s = "You are Mara, a lighthouse keeper on a windy northern island. ";
  while (s.size() < 2000) {
    s += "You love old maps, rainy days, strong tea and the sound of the sea at night. ";
  }
  return s;
}

double TtftMs(engine::Engine& e, GenerateRequest r) {
  auto st = std::make_shared<std::promise<double>>();
  const int64_t t0 = NowSteadyUs();
  engine::GenerateCallbacks cb;
  auto first = std::make_shared<int64_t>(0);
  cb.on_token = [first](std::string_view) {
    if (*first == 0) *first = NowSteadyUs();
  };
  cb.on_done = [st, first, t0](Result<engine::GenerateResult> res) {
    st->set_value(res.ok() && *first ? (*first - t0) / 1000.0 : -1);
  };
  auto h = e.Submit(std::move(r), cb);
  if (!h.ok()) return -1;
  return st->get_future().get();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Main(int argc, char** argv) {
  std::string model = "build/models/smol-q8_0.gguf";
  int runs = 7, threads = 2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) model = argv[++i];
    else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else {
      std::printf("usage: prefix_copy [--model smol.gguf] [--runs 7] [--threads 2]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  const std::string persona = Persona();
  std::printf("prefix copy vs re-prefill, %s, %d threads, median of %d\n", model.c_str(), threads,
              runs);
  for (bool unified : {false, true}) {
    engine::LlamaEngineOptions o;
    o.model_path = model;
    o.kv_unified = unified;
    o.n_threads = threads;
    o.n_parallel = 4;
    auto opened = engine::LlamaEngine::OpenLlama(o);
    if (!opened.ok()) {
      std::fprintf(stderr, "cannot open %s: %s\n", model.c_str(), opened.status().ToString().c_str());
      return 1;
    }
    auto& e = **opened;
    auto req = [&](std::string key, bool shared, std::string user) {
      GenerateRequest r;
      r.conversation_key = std::move(key);
      r.messages = {{"system", persona}, {"user", std::move(user)}};
      if (shared) {
        r.prefix_key = "persona:bench";
        r.n_static_messages = 1;
      }
      r.sampling.max_tokens = 1;
      r.sampling.temperature = 0;
      r.sampling.ignore_eos = true;
      return r;
    };
    const std::string msg = "Good evening! What did you see from the lamp room tonight, Mara?";
    TtftMs(e, req("warm", true, msg));  // builds the shared prefix
    std::vector<double> with_prefix, without, resident;
    for (int i = 0; i < runs; ++i) {
      const std::string n = std::to_string(i);
      with_prefix.push_back(TtftMs(e, req("p" + n, true, msg + " " + n)));
      without.push_back(TtftMs(e, req("f" + n, false, msg + " " + n)));
      // The same conversation again with a new user message: only that is prefilled.
      GenerateRequest again = req("p" + n, true, msg + " " + n + " And the ships?");
      resident.push_back(TtftMs(e, again));
    }
    const double p = Median(with_prefix), f = Median(without), r = Median(resident);
    std::printf(
        "  %-8s TTFT from the shared prefix %7.1f ms | prefilling it again %7.1f ms | saved %6.1f ms"
        " | copy %6.1f ms (vs %5.1f ms for the user message on a resident conversation)\n",
        unified ? "unified" : "streams", p, f, f - p, p - r, r);
    e.Shutdown();
  }
  return 0;
}

}  // namespace
}  // namespace tokki::bench

int main(int argc, char** argv) { return tokki::bench::Main(argc, argv); }
