#include "chat/reply_stream.h"

#include <chrono>

#include "core/clock.h"

namespace tokki::chat {

void ReplyStream::PushToken(std::string text) {
  {
    std::lock_guard<std::mutex> lock(mu_);
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
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    done.seq = static_cast<int64_t>(events_.size()) + 1;
    events_.push_back(std::move(done));
    finished_ = true;
    finished_at_ms_ = NowUnixMs();
  }
  cv_.notify_all();
  Notify();
}

std::vector<ReplyEvent> ReplyStream::Since(int64_t after_seq, bool* finished) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ReplyEvent> out;
  if (after_seq < 0) after_seq = 0;
  for (size_t i = static_cast<size_t>(after_seq); i < events_.size(); ++i) out.push_back(events_[i]);
  if (finished) *finished = finished_;
  return out;
}

bool ReplyStream::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_;
}

bool ReplyStream::WaitFinished(int64_t timeout_ms) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return finished_; });
}

int64_t ReplyStream::finished_at_ms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_at_ms_;
}

int ReplyStream::Subscribe(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(mu_);
  int id = next_sub_++;
  subscribers_.emplace(id, std::move(wake));
  return id;
}

void ReplyStream::Unsubscribe(int id) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.erase(id);
}

void ReplyStream::Notify() {
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, w] : subscribers_) wakes.push_back(w);
  }
  for (auto& w : wakes) w();
}

}  // namespace tokki::chat
