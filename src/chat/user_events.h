// tokki/chat/user_events.h — each user's own event channel (GET /api/events): a new
// message in any of the user's conversations. Keeps the newest kKeep events per user so a
// reconnecting client resumes with Last-Event-ID.
//
// Thread safety: all methods are thread-safe; wake callbacks run on the publishing thread
// without the lock held and must only schedule work.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/types.h"

namespace tokki::chat {

struct UserEvent {
  int64_t seq = 0;
  std::string type;  // "message"
  Id conversation_id = kNoId;
  Id message_id = kNoId;
};

class UserEvents {
 public:
  static constexpr size_t kKeep = 256;

  void Publish(Id user_id, std::string type, Id conversation_id, Id message_id);
  // Events after `after_seq` still kept (oldest first).
  std::vector<UserEvent> Since(Id user_id, int64_t after_seq) const;
  int Subscribe(Id user_id, std::function<void()> wake);
  void Unsubscribe(Id user_id, int id);

 private:
  struct Channel {
    int64_t next_seq = 1;
    std::deque<UserEvent> events;
    std::map<int, std::function<void()>> subscribers;
  };
  mutable std::mutex mu_;
  std::unordered_map<Id, Channel> channels_;  // GUARDED_BY(mu_)
  int next_sub_ = 1;                          // GUARDED_BY(mu_)
};

}  // namespace tokki::chat
