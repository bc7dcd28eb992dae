// Test helper: the generated tiny model, created once per build dir.
#pragma once

#include <future>
#include <memory>
#include <string>

#include "engine/engine.h"

namespace tokki::engine::testing {

// What one generation produced.
struct Outcome {
  std::string text;
  int n_pieces = 0;
  Result<GenerateResult> result = Status::Internal("not done");
};

// Submits `req` and waits for it to finish.
inline Outcome RunGen(Engine& e, GenerateRequest req) {
  auto state = std::make_shared<Outcome>();
  auto done = std::make_shared<std::promise<void>>();
  GenerateCallbacks cb;
  cb.on_token = [state](std::string_view t) {
    state->text += t;
    state->n_pieces++;
  };
  cb.on_done = [state, done](Result<GenerateResult> r) {
    state->result = std::move(r);
    done->set_value();
  };
  auto h = e.Submit(std::move(req), std::move(cb));
  if (!h.ok()) {
    Outcome o;
    o.result = h.status();
    return o;
  }
  done->get_future().wait();
  return *state;
}

// Path of <build>/models/tiny-f16.gguf, generated on first use (process-safe).
std::string TinyModelPath();
// The same model with Q8_0 weights (<build>/models/tiny-q8_0.gguf).
std::string TinyQ8ModelPath();

}  // namespace tokki::engine::testing
