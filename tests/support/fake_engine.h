// A test-only Engine: replies with words "w1 w2 ..." (or an echo of the last user message),
// one token every `token_delay_ms`, on its own thread. Honours max_tokens, Cancel() and a
// queue limit, and records the requests it was given.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "engine/engine.h"

namespace tokki::testing {

class FakeEngine final : public engine::Engine {
 public:
  explicit FakeEngine(int token_delay_ms = 1, size_t max_active = 64)
      : delay_ms_(token_delay_ms), max_active_(max_active) {}
  ~FakeEngine() override { Shutdown(); }

  Result<std::shared_ptr<engine::Generation>> Submit(engine::GenerateRequest req,
                                                     engine::GenerateCallbacks cb) override {
    if (active_.load() >= static_cast<int>(max_active_))
      return Status::Unavailable("fake engine queue is full");
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    auto gen = std::make_shared<Gen>();
    active_++;
    std::thread([this, gen, req = std::move(req), cb = std::move(cb)] {
      int64_t start = NowSteadyUs();
      int n = 0;
      double ttft = 0;
      engine::FinishReason finish = engine::FinishReason::kLength;
      for (; n < req.sampling.max_tokens; ++n) {
        if (gen->cancelled.load()) { finish = engine::FinishReason::kCancelled; break; }
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
        if (gen->cancelled.load()) { finish = engine::FinishReason::kCancelled; break; }
        if (n == 0) ttft = (NowSteadyUs() - start) / 1000.0;
        cb.on_token((n ? " w" : "w") + std::to_string(n + 1));
      }
      engine::GenerateResult r;
      r.finish_reason = finish;
      r.usage.prompt_tokens = static_cast<int>(req.messages.size()) * 10;
      r.usage.completion_tokens = n;
      r.ttft_ms = ttft;
      r.total_ms = (NowSteadyUs() - start) / 1000.0;
      active_--;
      cb.on_done(r);
    }).detach();
    return std::shared_ptr<engine::Generation>(gen);
  }

  int CountTokens(std::string_view text) const override {
    return static_cast<int>(text.size() / 4 + 1);
  }
  engine::ModelInfo Info() const override { return {"fake", "fake", 4096, true}; }
  engine::EngineStats Stats() const override {
    engine::EngineStats s;
    s.active_sequences = active_.load();
    return s;
  }
  void Shutdown() override {
    for (int i = 0; i < 500 && active_.load() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  std::vector<engine::GenerateRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int active() const { return active_.load(); }

 private:
  struct Gen : engine::Generation {
    std::atomic<bool> cancelled{false};
    void Cancel() override { cancelled = true; }
  };
  const int delay_ms_;
  const size_t max_active_;
  std::atomic<int> active_{0};
  mutable std::mutex mu_;
  std::vector<engine::GenerateRequest> requests_;
};

}  // namespace tokki::testing
