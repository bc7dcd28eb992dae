#include "chat/character_service.h"

#include "chat/character_rules.h"
#include "core/clock.h"
#include "core/log.h"
#include "persona/image.h"

namespace tokki::chat {

namespace {

int64_t CardBytes(const store::Character& c) {
  int64_t n = 0;
  for (const std::string* f : {&c.name, &c.nickname, &c.description, &c.personality, &c.scenario,
                               &c.first_mes, &c.mes_example, &c.creator_notes, &c.system_prompt,
                               &c.post_history_instructions, &c.tagline, &c.extensions_json,
                               &c.character_book_json, &c.assets_json})
    n += static_cast<int64_t>(f->size());
  for (auto* list : {&c.alternate_greetings, &c.group_only_greetings, &c.tags})
    for (auto& s : *list) n += static_cast<int64_t>(s.size());
  return n;
}

// Everything of a card that a policy reads, with the field each part came from.
std::string PolicyText(const store::Character& c) {
  std::string t;
  for (const std::string* f : {&c.name, &c.nickname, &c.tagline, &c.description, &c.personality,
                               &c.scenario, &c.first_mes, &c.mes_example, &c.system_prompt,
                               &c.post_history_instructions, &c.creator_notes})
    if (!f->empty()) t += *f + "\n";
  for (auto* list : {&c.alternate_greetings, &c.tags})
    for (auto& s : *list) t += s + "\n";
  return t;
}

Result<store::Avatar> SafeAvatar(std::string_view bytes) {
  TOKKI_ASSIGN_OR_RETURN(persona::SafeImage img, persona::SanitizeImage(bytes));
  return store::Avatar{img.mime, std::move(img.bytes)};
}

}  // namespace

CharacterService::CharacterService(store::Store* store, CharacterOptions options,
                                   PolicySource policy, Listener on_change)
    : store_(store), options_(options), policy_(std::move(policy)), on_change_(std::move(on_change)) {}

void CharacterService::Changed(const store::Character& c) {
  version_.fetch_add(1, std::memory_order_acq_rel);
  if (on_change_) on_change_(c);
}

Result<store::Character> CharacterService::Get(Id viewer, store::Role role, Id id) {
  TOKKI_ASSIGN_OR_RETURN(store::Character c, store_->GetCharacter(id));
  if (!CanSeeCharacter(c, viewer, role)) return Status::NotFound("character not found");
  return c;
}

Result<store::Character> CharacterService::GetOwned(Id user, Id id) {
  TOKKI_ASSIGN_OR_RETURN(store::Character c, Get(user, store::Role::kUser, id));
  if (c.owner_id != user) return Status::PermissionDenied("only the creator can change this character");
  return c;
}

Result<store::CharacterPage> CharacterService::List(store::CharacterQuery query) {
  return store_->ListCharacters(query);
}

std::optional<store::CharacterStats> CharacterService::StatsFor(const store::Character& c, Id viewer) {
  if (viewer == kNoId || c.owner_id != viewer) return std::nullopt;
  auto st = store_->GetCharacterStats(c.id);
  if (!st.ok()) return std::nullopt;
  return *st;
}

Status CharacterService::CheckQuota(Id owner, int64_t extra_bytes, bool new_character) {
  TOKKI_ASSIGN_OR_RETURN(store::UserUsage usage, store_->GetUserUsage(owner));
  if (new_character && options_.max_characters_per_user > 0 &&
      usage.n_characters >= options_.max_characters_per_user)
    return Status::ResourceExhausted("you have " + std::to_string(usage.n_characters) +
                                     " characters, the most this server allows per account (" +
                                     std::to_string(options_.max_characters_per_user) +
                                     "); delete one first")
        .WithRetryAfter(3600);
  if (options_.max_storage_bytes_per_user > 0 &&
      usage.storage_bytes + extra_bytes > options_.max_storage_bytes_per_user)
    return Status::ResourceExhausted("your characters would take " +
                                     std::to_string((usage.storage_bytes + extra_bytes) >> 20) +
                                     " MiB, over this server's " +
                                     std::to_string(options_.max_storage_bytes_per_user >> 20) +
                                     " MiB per account")
        .WithRetryAfter(3600);
  return Status::Ok();
}

Result<std::optional<persona::PolicyMatch>> CharacterService::CheckPolicy(const store::Character& c) {
  if (c.visibility == store::Visibility::kPrivate || !policy_) return std::optional<persona::PolicyMatch>();
  auto policy = policy_();
  if (!policy || policy->empty()) return std::optional<persona::PolicyMatch>();
  auto match = policy->Check(PolicyText(c), c.language);
  if (!match) return std::optional<persona::PolicyMatch>();
  if (match->action == persona::PolicyAction::kBlock)
    return Status::InvalidArgument("this character cannot be published: it matches the content policy rule '" +
                                   match->rule_id + "' (\"" + match->excerpt + "\")");
  return match;
}

void CharacterService::FileReview(const store::Character& c, const persona::PolicyMatch& match) {
  auto hidden = store_->SetCharacterHidden(c.id, true);
  if (!hidden.ok()) TOKKI_LOG(warn, "could not hold a character for review", "id", c.id, "error", hidden.ToString());
  store::Report r;
  r.reporter_id = c.owner_id;
  r.target_kind = store::ReportTarget::kCharacter;
  r.target_id = c.id;
  r.reason = "policy_review";
  r.note = "automatic: content policy rule '" + match.rule_id + "' matched \"" + match.excerpt + "\"";
  auto filed = store_->CreateReport(r);
  if (!filed.ok() && filed.status().code() != Status::Code::kAlreadyExists)
    TOKKI_LOG(warn, "could not file a review report", "id", c.id, "error", filed.status().ToString());
}

Result<store::Character> CharacterService::Create(Id owner, store::Character c) {
  c.id = kNoId;
  c.owner_id = owner;
  c.slug.clear();
  c.has_avatar = false;
  c.hidden = false;
  c.removed_at_ms = 0;
  TOKKI_RETURN_IF_ERROR(persona::ValidateCharacter(c));
  TOKKI_RETURN_IF_ERROR(CheckQuota(owner, CardBytes(c), /*new_character=*/true));
  TOKKI_ASSIGN_OR_RETURN(auto review, CheckPolicy(c));
  TOKKI_ASSIGN_OR_RETURN(store::Character made, store_->CreateCharacter(c));
  if (review) {
    FileReview(made, *review);
    made.hidden = true;
  }
  Changed(made);
  return made;
}

Result<store::Character> CharacterService::Update(Id user, Id id,
                                                  const std::function<Status(store::Character*)>& edit) {
  TOKKI_ASSIGN_OR_RETURN(store::Character c, GetOwned(user, id));
  const int64_t before = CardBytes(c);
  TOKKI_RETURN_IF_ERROR(edit(&c));
  TOKKI_RETURN_IF_ERROR(persona::ValidateCharacter(c));
  if (CardBytes(c) > before) TOKKI_RETURN_IF_ERROR(CheckQuota(user, CardBytes(c) - before, false));
  TOKKI_ASSIGN_OR_RETURN(auto review, CheckPolicy(c));
  TOKKI_ASSIGN_OR_RETURN(store::Character updated, store_->UpdateCharacter(c));
  if (review) {
    FileReview(updated, *review);
    updated.hidden = true;
  }
  Changed(updated);
  return updated;
}

Status CharacterService::Delete(Id user, Id id) {
  TOKKI_ASSIGN_OR_RETURN(store::Character c, GetOwned(user, id));
  TOKKI_RETURN_IF_ERROR(store_->RemoveCharacter(id));
  c.removed_at_ms = NowUnixMs();
  Changed(c);
  return Status::Ok();
}

Result<store::Character> CharacterService::SetAvatar(Id user, Id id, std::string_view bytes) {
  TOKKI_ASSIGN_OR_RETURN(store::Character c, GetOwned(user, id));
  TOKKI_ASSIGN_OR_RETURN(store::Avatar avatar, SafeAvatar(bytes));
  int64_t old_bytes = 0;
  if (c.has_avatar) {
    auto old = store_->GetAvatar(id);
    if (old.ok()) old_bytes = static_cast<int64_t>(old->bytes.size());
  }
  const int64_t extra = static_cast<int64_t>(avatar.bytes.size()) - old_bytes;
  if (extra > 0) TOKKI_RETURN_IF_ERROR(CheckQuota(user, extra, false));
  TOKKI_RETURN_IF_ERROR(store_->SetAvatar(id, avatar));
  TOKKI_ASSIGN_OR_RETURN(store::Character updated, store_->GetCharacter(id));
  Changed(updated);
  return updated;
}

Result<store::Avatar> CharacterService::Avatar(Id viewer, store::Role role, Id id) {
  TOKKI_ASSIGN_OR_RETURN(store::Character c, store_->GetCharacter(id));
  // Removed characters keep their face in the conversations that still show them.
  if (!CanSeeCharacter(c, viewer, role) && c.removed_at_ms == 0) return Status::NotFound("character not found");
  return store_->GetAvatar(id);
}

Result<ImportOutcome> CharacterService::Import(Id owner, std::string_view bytes, std::string_view filename) {
  if (bytes.empty()) return Status::InvalidArgument("the card file is empty");
  TOKKI_ASSIGN_OR_RETURN(persona::ImportedCard card, persona::ImportCard(bytes, filename));
  std::optional<store::Avatar> avatar;
  if (card.avatar) {
    auto safe = SafeAvatar(card.avatar->bytes);
    if (safe.ok())
      avatar = std::move(*safe);
    else
      card.warnings.push_back("the card's image was not kept: " + safe.status().message());
  }
  store::Character c = std::move(card.character);
  c.visibility = store::Visibility::kPrivate;  // imports start private; publishing is a choice
  const int64_t avatar_bytes = avatar ? static_cast<int64_t>(avatar->bytes.size()) : 0;
  c.id = kNoId;
  c.owner_id = owner;
  c.slug.clear();
  c.has_avatar = false;
  TOKKI_RETURN_IF_ERROR(persona::ValidateCharacter(c));
  TOKKI_RETURN_IF_ERROR(CheckQuota(owner, CardBytes(c) + avatar_bytes, true));
  TOKKI_ASSIGN_OR_RETURN(store::Character made, store_->CreateCharacter(c));
  if (avatar) {
    Status st = store_->SetAvatar(made.id, *avatar);
    if (st.ok()) {
      auto again = store_->GetCharacter(made.id);
      if (again.ok()) made = *again;
    }
  }
  Changed(made);
  return ImportOutcome{made, card.format, card.warnings};
}

Result<ExportedCard> CharacterService::Export(Id viewer, store::Role role, Id id, std::string_view format) {
  persona::CardFormat fmt;
  ExportedCard out;
  if (format == "png") {
    fmt = persona::CardFormat::kPng;
    out.mime = "image/png";
    out.extension = "png";
  } else if (format == "json") {
    fmt = persona::CardFormat::kJson;
    out.mime = "application/json";
    out.extension = "json";
  } else if (format == "charx") {
    fmt = persona::CardFormat::kCharx;
    out.mime = "application/zip";
    out.extension = "charx";
  } else {
    return Status::InvalidArgument("format must be png, json or charx");
  }
  TOKKI_ASSIGN_OR_RETURN(store::Character c, Get(viewer, role, id));
  const std::string key = std::to_string(c.id) + ":" + std::to_string(c.revision) + ":" +
                          std::to_string(c.updated_at_ms) + ":" + out.extension;
  {
    MutexLock lock(&export_mu_);
    auto it = export_cache_.find(key);
    if (it != export_cache_.end()) {
      export_lru_.splice(export_lru_.begin(), export_lru_, it->second.second);
      return it->second.first;
    }
  }
  std::optional<store::Avatar> avatar;
  if (c.has_avatar) {
    auto a = store_->GetAvatar(c.id);
    if (a.ok()) avatar = std::move(*a);
  }
  TOKKI_ASSIGN_OR_RETURN(out.bytes, persona::ExportCard(c, avatar ? &*avatar : nullptr, fmt));
  MutexLock lock(&export_mu_);
  if (export_cache_.count(key)) return out;
  export_lru_.push_front(key);
  export_cache_.emplace(key, std::make_pair(out, export_lru_.begin()));
  while (export_cache_.size() > options_.export_cache_entries) {
    export_cache_.erase(export_lru_.back());
    export_lru_.pop_back();
  }
  return out;
}

Result<store::Character> CharacterService::SetHidden(Id id, bool hidden) {
  TOKKI_RETURN_IF_ERROR(store_->SetCharacterHidden(id, hidden));
  TOKKI_ASSIGN_OR_RETURN(store::Character c, store_->GetCharacter(id));
  Changed(c);
  return c;
}

}  // namespace tokki::chat
