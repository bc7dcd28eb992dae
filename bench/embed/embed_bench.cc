// Embedding throughput: texts/s and tokens/s of LlamaEmbedder in this process, with one
// text per call and with batched calls, and of llama-server --embeddings (same model,
// mean pooling) through RemoteEmbedder. Texts are chat-message-like: 8-40 words.
//
//   embed_bench --model FILE.gguf [--texts 32] [--threads 2] [--rounds 3] [--no-server]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/hash.h"
#include "engine/llama_embedder.h"
#include "engine/remote_embedder.h"
#include "llama_server.h"

namespace tokki::bench {
namespace {

const char* kWords[] = {"the",   "cat",    "my",     "sister",  "likes",   "rain",      "on",
                        "old",   "maps",   "jazz",   "bakery",  "morning", "Busan",     "harbour",
                        "we",    "talked", "about",  "cello",   "Sunday",  "autumn",    "festival",
                        "river", "food",   "stalls", "until",   "late",    "and",       "remember",
                        "her",   "name",   "is",     "Soon-ja", "grows",   "persimmons"};

std::vector<std::string> Texts(int n) {
  SplitMix64 rng(7);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    const int n_words = 8 + static_cast<int>(rng.Next() % 33);
    std::string t;
    for (int w = 0; w < n_words; ++w) {
      if (w) t += ' ';
      t += kWords[rng.Next() % (sizeof(kWords) / sizeof(kWords[0]))];
    }
    out.push_back(t + ".");
  }
  return out;
}

// Wall seconds to embed `texts` in calls of `per_call` texts; < 0 on an error.
double Run(engine::Embedder& e, const std::vector<std::string>& texts, size_t per_call) {
  const int64_t t0 = NowSteadyUs();
  for (size_t i = 0; i < texts.size(); i += per_call) {
    std::vector<std::string> call(
        texts.begin() + static_cast<long>(i),
        texts.begin() + static_cast<long>(std::min(texts.size(), i + per_call)));
    auto r = e.Embed(call);
    if (!r.ok()) {
      std::fprintf(stderr, "embed_bench: %s\n", r.status().ToString().c_str());
      return -1;
    }
  }
  return (NowSteadyUs() - t0) / 1e6;
}

}  // namespace
}  // namespace tokki::bench

int main(int argc, char** argv) {
  using namespace tokki;
  std::string model;
  int n_texts = 32, n_threads = 2, n_rounds = 3;
  bool server = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc)
      model = argv[++i];
    else if (a == "--texts" && i + 1 < argc)
      n_texts = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc)
      n_threads = std::atoi(argv[++i]);
    else if (a == "--rounds" && i + 1 < argc)
      n_rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--no-server")
      server = false;
    else {
      std::fprintf(stderr,
                   "usage: embed_bench --model FILE.gguf [--texts N] [--threads N] [--rounds N] "
                   "[--no-server]\n");
      return 2;
    }
  }
  if (model.empty()) {
    std::fprintf(stderr, "embed_bench: --model is required\n");
    return 2;
  }
  const std::vector<std::string> texts = bench::Texts(n_texts);

  engine::LlamaEmbedderOptions o;
  o.model_path = model;
  o.n_threads = n_threads;
  auto e = engine::LlamaEmbedder::Open(o);
  if (!e.ok()) {
    std::fprintf(stderr, "embed_bench: %s\n", e.status().ToString().c_str());
    return 1;
  }
  long n_tokens = 0;
  for (const auto& t : texts) n_tokens += static_cast<long>((*e)->Tokens(t).size());
  const auto info = (*e)->Info();
  std::printf("model %s, n_dim %d, pooling %s, %d texts, %ld tokens (%.1f per text), %d threads\n",
              info.model.c_str(), info.n_dim, info.pooling.c_str(), n_texts, n_tokens,
              static_cast<double>(n_tokens) / n_texts, n_threads);
  // Rounds alternate the configurations; the best round of each is printed, so a busy
  // machine (other processes on the cores) disturbs the figures less.
  std::unique_ptr<engine::testing::LlamaServer> srv;
  std::unique_ptr<engine::RemoteEmbedder> remote;
  if (server) {
    srv = std::make_unique<engine::testing::LlamaServer>();
    if (srv->Start(model, {"--embeddings", "--pooling", "mean", "-np", "16", "-kvu", "-c", "8192",
                           "-b", "512", "-ub", "512", "-t", std::to_string(n_threads)})) {
      engine::RemoteEmbedderOptions ro;
      ro.base_urls = {srv->url()};
      auto r = engine::RemoteEmbedder::Open(ro);
      if (r.ok()) remote = std::move(r).value();
    } else {
      std::printf("llama-server not available (tools/deps/llama.sh --tools); skipped\n");
    }
  }
  struct Config {
    const char* label;
    engine::Embedder* embedder;
    size_t per_call;
    double best_s = 1e30;
  };
  std::vector<Config> configs;
  for (size_t per_call : {size_t{1}, size_t{16}, size_t{64}}) {
    configs.push_back({"LlamaEmbedder", e->get(), per_call});
    if (remote) configs.push_back({"llama-server (RemoteEmbedder)", remote.get(), per_call});
  }
  for (int round = 0; round < n_rounds; ++round) {
    for (Config& c : configs) {
      const double s = bench::Run(*c.embedder, texts, c.per_call);
      if (s < 0) return 1;
      c.best_s = std::min(c.best_s, s);
    }
  }
  std::printf("best of %d rounds:\n", n_rounds);
  for (const Config& c : configs) {
    std::printf("%-30s %3zu per call  %7.1f texts/s  %7.0f tokens/s\n", c.label, c.per_call,
                texts.size() / c.best_s, n_tokens / c.best_s);
  }
  return 0;
}
