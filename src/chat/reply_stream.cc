#include "chat/reply_stream.h"

#include <chrono>

#include "core/clock.h"

namespace tokki::chat {

void ReplyStream::PushToken(std::string text) {
  {
    MutexLock lock(&mu_);
    if (finished_) return;
    ReplyEvent e;
    e.seq = static_cast<int64_t>(events_.size()) + 1;
    e.kind = ReplyEvent::Kind::kToken;
    e.text = std::move(text);
    events_.push_back(std::move(e));
  }
  Notify();
}

void ReplyStream::Finish(ReplyEvent done) {
  {
    MutexLock lock(&mu_);
    if (finished_) return;
    done.seq = static_cast<int64_t>(events_.size()) + 1;
    events_.push_back(std::move(done));
    finished_ = true;
    finished_at_ms_ = NowUnixMs();
  }
  cv_.SignalAll();
  Notify();
}

std::vector<ReplyEvent> ReplyStream::Since(int64_t after_seq, bool* finished) const {
  MutexLock lock(&mu_);
  std::vector<ReplyEvent> out;
  if (after_seq < 0) after_seq = 0;
  for (size_t i = static_cast<size_t>(after_seq); i < events_.size(); ++i) out.push_back(events_[i]);
  if (finished) *finished = finished_;
  return out;
}

bool ReplyStream::finished() const {
  MutexLock lock(&mu_);
  return finished_;
}

bool ReplyStream::WaitFinished(int64_t timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  MutexLock lock(&mu_);
  while (!finished_) {
    if (!cv_.WaitUntil(&mu_, deadline)) return finished_;
  }
  return true;
}

int64_t ReplyStream::finished_at_ms() const {
  MutexLock lock(&mu_);
  return finished_at_ms_;
}

int ReplyStream::Subscribe(std::function<void()> wake) {
  MutexLock lock(&mu_);
  int id = next_sub_++;
  subscribers_.emplace(id, std::move(wake));
  return id;
}

void ReplyStream::Unsubscribe(int id) {
  MutexLock lock(&mu_);
  subscribers_.erase(id);
}

void ReplyStream::Notify() {
  std::vector<std::function<void()>> wakes;
  {
    MutexLock lock(&mu_);
    for (auto& [id, w] : subscribers_) wakes.push_back(w);
  }
  for (auto& w : wakes) w();
}

ReplyEvent FinalEvent(const Result<engine::GenerateResult>& result) {
  ReplyEvent ev;
  if (result.ok()) {
    ev.kind = ReplyEvent::Kind::kDone;
    ev.finish_reason = engine::FinishReasonName(result->finish_reason);
    ev.usage = {result->usage.prompt_tokens, result->usage.cached_tokens,
                result->usage.completion_tokens};
    ev.ttft_ms = result->ttft_ms;
    ev.total_ms = result->total_ms;
  } else {
    ev.kind = ReplyEvent::Kind::kError;
    ev.code = std::string(CodeName(result.status().code()));
    ev.text = result.status().message();
  }
  return ev;
}

}  // namespace tokki::chat
