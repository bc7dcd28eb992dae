// tokki/chat/character_rules.h — who may see a character and who may still talk with it.
// The one place these rules live; CharacterService, ChatService and the deck ask here.
//
// - A character is visible to its owner always (unless removed), to moderators always,
//   and to everyone else when it is not private, not hidden by a moderator and not removed.
// - A conversation stays readable by its user whatever happens to the character; new
//   replies need the character to be live and visible to that user (ReadOnlyReason).
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "core/types.h"
#include "store/records.h"

namespace tokki::chat {

bool IsModerator(store::Role role);

// May `viewer` (kNoId = anonymous) see the character's page, card and avatar?
bool CanSeeCharacter(const store::Character& c, Id viewer, store::Role role = store::Role::kUser);

// Why `user` can no longer get replies from the character, or nullopt when they can:
// "character_removed", "character_hidden", "character_private".
std::optional<std::string_view> ReadOnlyReason(const store::Character& c, Id user);

// The user-facing sentence for a ReadOnlyReason.
std::string ReadOnlyMessage(std::string_view reason, std::string_view character_name);

}  // namespace tokki::chat
