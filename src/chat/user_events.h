// tokki/chat/user_events.h — each user's own event channel (GET /api/events): a new or
// finished message in any of the user's conversations. Keeps the newest kKeep events per
// user so a reconnecting client resumes with Last-Event-ID. Events carry the message as
// it was when published, so reading the channel never touches the store.
//
// Thread safety: all methods are thread-safe; wake callbacks run on the publishing thread
// without the lock held and must only schedule work.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "core/types.h"
#include "store/records.h"

namespace tokki::chat {

struct UserEvent {
  int64_t seq = 0;
  std::string type;  // "message"
  Id conversation_id = kNoId;
  store::Message message;  // the message as published (id 0 when none)
  int alternatives = 1;    // alternatives of that message (siblings including itself)
};

class UserEvents {
 public:
  static constexpr size_t kKeep = 256;

  // Appends `event` (its seq is assigned) to the user's channel and wakes subscribers.
  void Publish(Id user_id, UserEvent event);
  // Events after `after_seq` still kept (oldest first).
  std::vector<UserEvent> Since(Id user_id, int64_t after_seq) const;
  int Subscribe(Id user_id, std::function<void()> wake);
  void Unsubscribe(Id user_id, int id);
  // Drops a user's channel (the account was deleted).
  void Forget(Id user_id);

 private:
  struct Channel {
    int64_t next_seq = 1;
    std::deque<UserEvent> events;
    std::map<int, std::function<void()>> subscribers;
  };
  mutable Mutex mu_;
  std::unordered_map<Id, Channel> channels_ TOKKI_GUARDED_BY(mu_);
  int next_sub_ TOKKI_GUARDED_BY(mu_) = 1;
};

}  // namespace tokki::chat
