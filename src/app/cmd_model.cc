// `tokki model gen --preset tiny|smol [--type f16|q8_0] [--pooling mean|cls|last] -o FILE.gguf`:
// writes a GGUF with random weights, a real tokenizer and a ChatML template
// (engine/model_gen.h).
#include <cstdio>
#include <memory>
#include <string>

#include "app/commands.h"
#include "engine/model_gen.h"

namespace tokki::app {

void AddModelCommand(CLI::App& app) {
  CLI::App* model = app.add_subcommand("model", "Model files");
  model->require_subcommand(1);
  CLI::App* gen = model->add_subcommand(
      "gen", "Generate a random-weight GGUF chat model for tests and benchmarks");
  auto opts = std::make_shared<engine::ModelGenOptions>();
  gen->add_option("--preset", opts->preset,
                  "tiny (2 layers, n_embd 64) or smol (the shape of SmolLM2-135M)")
      ->check(CLI::IsMember({"tiny", "smol"}))
      ->capture_default_str();
  gen->add_option("--type", opts->type, "weight type")
      ->check(CLI::IsMember({"f16", "q8_0"}))
      ->capture_default_str();
  gen->add_option("-o,--output", opts->output_path, "output file (.gguf)")->required();
  gen->add_option("--seed", opts->seed, "weights seed")->capture_default_str();
  gen->add_option("--pooling", opts->pooling,
                  "declare a pooling type for use as an embedding model (default: none "
                  "declared; the embedder then uses mean)")
      ->check(CLI::IsMember({"mean", "cls", "last"}));
  gen->add_option("--vocab", opts->vocab_path,
                  "tokenizer GGUF (default: $TOKKI_LLAMA_VOCAB or llama.cpp's "
                  "models/ggml-vocab-starcoder.gguf)");
  gen->callback([opts] {
    const Status st = engine::GenerateModel(*opts);
    if (!st.ok()) {
      std::fprintf(stderr, "tokki model gen: %s\n", st.ToString().c_str());
      throw CLI::RuntimeError(1);
    }
    std::printf("%s\n", opts->output_path.c_str());
  });
}

}  // namespace tokki::app
