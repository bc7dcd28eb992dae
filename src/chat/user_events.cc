#include "chat/user_events.h"

namespace tokki::chat {

void UserEvents::Publish(Id user_id, UserEvent event) {
  std::vector<std::function<void()>> wakes;
  {
    MutexLock lock(&mu_);
    Channel& ch = channels_[user_id];
    event.seq = ch.next_seq++;
    ch.events.push_back(std::move(event));
    while (ch.events.size() > kKeep) ch.events.pop_front();
    for (auto& [id, w] : ch.subscribers) wakes.push_back(w);
  }
  for (auto& w : wakes) w();
}

std::vector<UserEvent> UserEvents::Since(Id user_id, int64_t after_seq) const {
  MutexLock lock(&mu_);
  std::vector<UserEvent> out;
  auto it = channels_.find(user_id);
  if (it == channels_.end()) return out;
  for (auto& e : it->second.events)
    if (e.seq > after_seq) out.push_back(e);
  return out;
}

int UserEvents::Subscribe(Id user_id, std::function<void()> wake) {
  MutexLock lock(&mu_);
  int id = next_sub_++;
  channels_[user_id].subscribers.emplace(id, std::move(wake));
  return id;
}

void UserEvents::Forget(Id user_id) {
  MutexLock lock(&mu_);
  auto it = channels_.find(user_id);
  if (it != channels_.end() && it->second.subscribers.empty()) channels_.erase(it);
}

void UserEvents::Unsubscribe(Id user_id, int id) {
  MutexLock lock(&mu_);
  auto it = channels_.find(user_id);
  if (it != channels_.end()) it->second.subscribers.erase(id);
}

}  // namespace tokki::chat
