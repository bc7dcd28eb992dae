// tokki/engine/model_file.h — checks on a GGUF model file before llama.cpp loads it, and
// its identity. llama.cpp reports most of these problems only in its log (or not at all).
//
// Thread safety: pure functions (they read the file).
#pragma once

#include <llama.h>

#include <cstdint>
#include <string>

#include "core/status.h"

namespace tokki::engine {

// NotFound for a missing file, InvalidArgument for a file that is not a GGUF model with
// weights and an architecture, Corruption for a truncated one, TooLarge when it exceeds
// `max_bytes` (0 = 80 % of physical RAM). Sets *size_out to the file size.
Status CheckModelFile(const std::string& path, int64_t max_bytes, uint64_t* size_out);

// A fingerprint of the file (size, first and last MiB): snapshots made with another
// model are refused.
uint64_t HashModelFile(const std::string& path, uint64_t size);

// A string from the model's GGUF metadata ("" when absent).
std::string MetaString(const llama_model* model, const char* key);

}  // namespace tokki::engine
