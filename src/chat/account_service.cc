#include "chat/account_service.h"

#include "core/clock.h"

namespace tokki::chat {

Status AccountService::DeleteAccount(Id user_id) {
  TOKKI_RETURN_IF_ERROR(store_->GetUser(user_id).status());
  chat_->StopUser(user_id);
  TOKKI_ASSIGN_OR_RETURN(auto conversations, store_->ListConversations(user_id));
  store::CharacterQuery mine;
  mine.viewer_id = user_id;
  mine.only_owned = true;
  mine.include_mature = true;
  mine.limit = 100;
  std::vector<store::Character> owned;
  for (;;) {
    TOKKI_ASSIGN_OR_RETURN(auto page, store_->ListCharacters(mine));
    owned.insert(owned.end(), page.items.begin(), page.items.end());
    if (page.next_cursor.empty()) break;
    mine.cursor = page.next_cursor;
  }
  TOKKI_RETURN_IF_ERROR(store_->DeleteUser(user_id));
  if (engine_)
    for (auto& c : conversations) engine_->Forget("conv:" + std::to_string(c.id));
  for (auto& c : owned) {
    c.removed_at_ms = NowUnixMs();
    characters_->Forgotten(c);
  }
  if (events_) events_->Forget(user_id);
  return Status::Ok();
}

}  // namespace tokki::chat
