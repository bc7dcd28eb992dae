#include "chat/character_rules.h"

#include <string>

namespace tokki::chat {

bool IsModerator(store::Role role) { return role == store::Role::kModerator || role == store::Role::kAdmin; }

bool CanSeeCharacter(const store::Character& c, Id viewer, store::Role role) {
  if (c.removed_at_ms != 0) return false;
  if (viewer != kNoId && c.owner_id == viewer) return true;
  if (IsModerator(role)) return true;
  return c.visibility != store::Visibility::kPrivate && !c.hidden;
}

std::optional<std::string_view> ReadOnlyReason(const store::Character& c, Id user) {
  if (c.removed_at_ms != 0) return "character_removed";
  const bool owner = user != kNoId && c.owner_id == user;
  if (owner) return std::nullopt;
  if (c.hidden) return "character_hidden";
  if (c.visibility == store::Visibility::kPrivate) return "character_private";
  return std::nullopt;
}

std::string ReadOnlyMessage(std::string_view reason, std::string_view name) {
  std::string n(name);
  if (reason == "character_removed")
    return n + " was deleted by their creator; you can still read your conversation";
  if (reason == "character_hidden")
    return n + " was taken down by a moderator; you can still read your conversation";
  return n + " is no longer shared by their creator; you can still read your conversation";
}

}  // namespace tokki::chat
