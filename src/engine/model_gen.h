// tokki/engine/model_gen.h — writes a GGUF chat model with random weights (llama
// architecture, a real 49152-token BPE tokenizer, a ChatML chat template) for tests and
// benchmarks. `tokki model gen` is a thin wrapper around GenerateModel().
//
// Presets:
//   tiny — 2 layers, n_embd 64, 4 heads / 2 KV heads, n_ff 128 (a few MB; unit tests)
//   smol — the exact shape of SmolLM2-135M: 30 layers, n_embd 576, 9 heads / 3 KV heads,
//          n_ff 1536, vocab 49152, tied embeddings, rope theta 1e5, ctx 8192.
//
// The tokenizer comes from llama.cpp's models/ggml-vocab-starcoder.gguf (found through
// the env TOKKI_LLAMA_VOCAB, else the llama.cpp source tree Tokki was built against);
// tokens 1 and 2 become <|im_start|> / <|im_end|> as in SmolLM2. The file is marked as
// generated: general.name = "tokki-generated-<preset>".
//
// Any generated model also serves as an embedding model (llama_embedder.h: mean pooling
// over the final hidden states); `pooling` declares a pooling type in the file, as
// dedicated embedding models do, which the embedder then uses instead.
//
// Thread safety: GenerateModel() may run concurrently for different output files.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace tokki::engine {

// Prefix of general.name in every generated model (ModelInfo::is_generated).
inline constexpr char kGeneratedModelNamePrefix[] = "tokki-generated-";

struct ModelGenOptions {
  std::string preset = "tiny";  // "tiny" | "smol"
  std::string type = "f16";     // "f16" | "q8_0"
  std::string output_path;
  uint64_t seed = 42;      // weights are a pure function of (preset, seed)
  std::string vocab_path;  // "" = TOKKI_LLAMA_VOCAB or the built-in default
  int n_threads = 0;       // quantization threads, 0 = all cores
  std::string pooling;     // "" (none declared) | "mean" | "cls" | "last": llama.pooling_type
};

// Writes the model to options.output_path (atomically: a temp file is renamed).
Status GenerateModel(const ModelGenOptions& options);

// The vocab file GenerateModel() uses when options.vocab_path is empty.
std::string DefaultVocabPath();

}  // namespace tokki::engine
