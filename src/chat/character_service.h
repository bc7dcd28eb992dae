// tokki/chat/character_service.h — characters as their users and creators see them: who
// may see one (character_rules.h), who may change it, what a creator may store (quotas,
// avatar checks, the content policy on anything public), and telling the deck about every
// change. Routes call this; they never decide visibility or ownership themselves.
//
// - Reading a character someone may not see is NotFound (a private character does not
//   exist for others); changing one they may see but do not own is PermissionDenied.
// - Delete is a tombstone: the character disappears from lists, the deck and its page,
//   but every user's conversation with it stays readable (read-only).
// - Avatars (uploaded or from a card file) are decoded, size-checked and re-encoded
//   (persona/image.h) before they are stored.
// - Public text goes through the operator's content policy: a "block" rule refuses it
//   with the rule's name; a "review" rule stores it hidden and files a report.
//
// Thread safety: all methods are thread-safe. Start reading at Create().
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/mutex.h"
#include "core/result.h"
#include "core/thread_annotations.h"
#include "persona/card.h"
#include "persona/content_policy.h"
#include "store/store.h"

namespace tokki::chat {

struct CharacterOptions {
  int max_characters_per_user = 200;                      // 0 = unlimited
  int64_t max_storage_bytes_per_user = 256LL << 20;       // cards + avatars; 0 = unlimited
  size_t export_cache_entries = 256;                      // exported card files kept
};

struct ImportOutcome {
  store::Character character;
  std::string format;
  std::vector<std::string> warnings;
};

struct ExportedCard {
  std::string bytes;
  std::string mime;
  std::string extension;
};

class CharacterService {
 public:
  // Told about every change: the character as it is now (removed ones have removed_at_ms).
  using Listener = std::function<void(const store::Character&)>;
  using PolicySource = std::function<std::shared_ptr<const persona::ContentPolicy>()>;

  CharacterService(store::Store* store, CharacterOptions options, PolicySource policy,
                   Listener on_change);

  // A character `viewer` may see (NotFound otherwise).
  Result<store::Character> Get(Id viewer, store::Role role, Id id);
  // A character `user` may change (NotFound when they may not see it, PermissionDenied
  // when it is not theirs).
  Result<store::Character> GetOwned(Id user, Id id);
  Result<store::CharacterPage> List(store::CharacterQuery query);
  // Creator statistics (owner only; nullopt for others).
  std::optional<store::CharacterStats> StatsFor(const store::Character& c, Id viewer);

  // `fields` is a character built by the caller (owner and id are set here).
  Result<store::Character> Create(Id owner, store::Character fields);
  // Applies `edit` to the stored character and saves it.
  Result<store::Character> Update(Id user, Id id, const std::function<Status(store::Character*)>& edit);
  Status Delete(Id user, Id id);
  Result<store::Character> SetAvatar(Id user, Id id, std::string_view bytes);
  Result<store::Avatar> Avatar(Id viewer, store::Role role, Id id);

  // A card file (PNG, JSON, CHARX) becomes a private character of `owner`.
  Result<ImportOutcome> Import(Id owner, std::string_view bytes, std::string_view filename);
  // The character as a card file ("png", "json", "charx"); cached per revision.
  Result<ExportedCard> Export(Id viewer, store::Role role, Id id, std::string_view format);

  // Tells listeners that a character is gone (its owner's account was deleted).
  void Forgotten(const store::Character& c) { Changed(c); }

  // Moderation: unpublish (or republish) a character.
  Result<store::Character> SetHidden(Id id, bool hidden);

  // Bumps on every change; list caches key on it.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  Status CheckQuota(Id owner, int64_t extra_bytes, bool new_character);
  // The content policy on a character that is (or is becoming) public. Returns the
  // review match when the character must wait for review; a block is an error.
  Result<std::optional<persona::PolicyMatch>> CheckPolicy(const store::Character& c);
  void FileReview(const store::Character& c, const persona::PolicyMatch& match);
  void Changed(const store::Character& c);

  store::Store* const store_;
  const CharacterOptions options_;
  const PolicySource policy_;
  const Listener on_change_;
  std::atomic<uint64_t> version_{1};

  Mutex export_mu_;
  std::list<std::string> export_lru_ TOKKI_GUARDED_BY(export_mu_);
  std::unordered_map<std::string, std::pair<ExportedCard, std::list<std::string>::iterator>>
      export_cache_ TOKKI_GUARDED_BY(export_mu_);
};

}  // namespace tokki::chat
