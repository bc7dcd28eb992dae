// Test helper: the generated tiny model, created once per build dir.
#pragma once

#include <string>

namespace tokki::engine::testing {

// Path of <build>/models/tiny-f16.gguf, generated on first use (process-safe).
std::string TinyModelPath();

}  // namespace tokki::engine::testing
