// tokki/chat/account_service.h — the end of an account: everything the user owns goes
// (conversations and their memories, swipes, reports they filed, sessions); characters
// that other users talk with stay readable for them as "removed" (store::DeleteUser).
// Running replies are cancelled first and cached engine state is forgotten.
//
// Checking that the user really asked (their password) is the caller's job.
// Thread safety: thread-safe.
#pragma once

#include "chat/character_service.h"
#include "chat/chat_service.h"
#include "chat/user_events.h"
#include "engine/engine.h"
#include "store/store.h"

namespace tokki::chat {

class AccountService {
 public:
  AccountService(store::Store* store, ChatService* chat, CharacterService* characters, UserEvents* events,
                 engine::Engine* engine)
      : store_(store), chat_(chat), characters_(characters), events_(events), engine_(engine) {}

  Status DeleteAccount(Id user_id);

 private:
  store::Store* const store_;
  ChatService* const chat_;
  CharacterService* const characters_;
  UserEvents* const events_;
  engine::Engine* const engine_;  // may be null
};

}  // namespace tokki::chat
