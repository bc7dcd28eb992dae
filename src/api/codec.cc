#include "api/codec.h"

#include "chat/moderation_service.h"

namespace tokki::api {

std::string_view VisibilityName(store::Visibility v) {
  switch (v) {
    case store::Visibility::kPrivate: return "private";
    case store::Visibility::kUnlisted: return "unlisted";
    case store::Visibility::kPublic: return "public";
  }
  return "private";
}

Result<store::Visibility> ParseVisibility(std::string_view s) {
  if (s == "private") return store::Visibility::kPrivate;
  if (s == "unlisted") return store::Visibility::kUnlisted;
  if (s == "public") return store::Visibility::kPublic;
  return Status::InvalidArgument("visibility must be private, unlisted or public");
}

std::string_view MessageStatusName(store::MessageStatus s) {
  switch (s) {
    case store::MessageStatus::kStreaming: return "streaming";
    case store::MessageStatus::kComplete: return "complete";
    case store::MessageStatus::kStopped: return "stopped";
    case store::MessageStatus::kFailed: return "failed";
  }
  return "complete";
}

namespace {
Json AvatarUrl(const store::Character& c) {
  if (!c.has_avatar) return nullptr;
  return "/api/characters/" + std::to_string(c.id) + "/avatar?v=" + std::to_string(c.updated_at_ms);
}
}  // namespace

Json CharacterSummaryJson(const store::Character& c) {
  return Json{{"id", c.id},
              {"name", c.name},
              {"tagline", c.tagline},
              {"avatar_url", AvatarUrl(c)},
              {"real_person", c.real_person},
              {"language", c.language},
              {"mature", c.mature},
              {"hidden", c.hidden},
              {"removed", c.removed_at_ms != 0}};
}

Json ConversationJson(const chat::ConversationView& v) {
  const auto& c = v.conversation;
  return Json{{"id", c.id},
              {"character_id", c.character_id},
              {"title", c.title},
              {"created_at", c.created_at_ms},
              {"updated_at", c.updated_at_ms},
              {"character", v.character ? CharacterSummaryJson(*v.character) : Json(nullptr)},
              {"last_message", v.last ? MessageJson(v.last->message, v.last->alternatives) : Json(nullptr)},
              {"read_only", v.read_only.has_value()},
              {"read_only_reason", v.read_only ? Json(*v.read_only) : Json(nullptr)}};
}

Json CharacterJson(const store::Character& c, Id viewer_id,
                   const std::optional<store::CharacterStats>& stats) {
  bool owner = viewer_id != kNoId && c.owner_id == viewer_id;
  Json j{{"id", c.id},
         {"owner_id", c.owner_id == kNoId ? Json(nullptr) : Json(c.owner_id)},
         {"is_owner", owner},
         {"name", c.name},
         {"nickname", c.nickname},
         {"tagline", c.tagline},
         {"description", c.description},
         {"personality", c.personality},
         {"scenario", c.scenario},
         {"first_mes", c.first_mes},
         {"alternate_greetings", c.alternate_greetings},
         {"mes_example", c.mes_example},
         {"system_prompt", c.system_prompt},
         {"post_history_instructions", c.post_history_instructions},
         {"creator_notes", c.creator_notes},
         {"creator", c.creator},
         {"tags", c.tags},
         {"language", c.language},
         {"real_person", c.real_person},
         {"visibility", VisibilityName(c.visibility)},
         {"mature", c.mature},
         {"hidden", c.hidden},
         {"removed", c.removed_at_ms != 0},
         {"avatar_url", AvatarUrl(c)},
         {"revision", c.revision},
         {"created_at", c.created_at_ms},
         {"updated_at", c.updated_at_ms}};
  if (!c.slug.empty()) j["slug"] = c.slug;
  if (c.real_person) j["label"] = "AI portrayal — not the real person";
  if (owner && stats) {
    j["stats"] = Json{{"likes", stats->likes},
                      {"superlikes", stats->superlikes},
                      {"passes", stats->passes},
                      {"conversations", stats->conversations},
                      {"messages", stats->messages}};
  }
  return j;
}

Json MessageJson(const store::Message& m, int alternatives) {
  return Json{{"id", m.id},
              {"conversation_id", m.conversation_id},
              {"role", m.role},
              {"content", m.content},
              {"status", MessageStatusName(m.status)},
              {"parent_id", m.parent_id == kNoId ? Json(nullptr) : Json(m.parent_id)},
              {"alternative_index", m.alternative_index},
              {"alternatives", alternatives},
              {"rating", m.rating},
              {"finish_reason", m.finish_reason},
              {"pinned", m.pinned},
              {"forgotten", m.forgotten},
              {"client_id", m.client_id.empty() ? Json(nullptr) : Json(m.client_id)},
              {"usage", {{"prompt_tokens", m.prompt_tokens},
                         {"cached_tokens", m.cached_tokens},
                         {"completion_tokens", m.completion_tokens}}},
              {"created_at", m.created_at_ms},
              {"updated_at", m.updated_at_ms}};
}

Json UserJson(const store::User& u) {
  return Json{{"id", u.id},
              {"username", u.username},
              {"display_name", u.display_name.empty() ? u.username : u.display_name},
              {"persona", u.persona},
              {"role", chat::RoleName(u.role)},
              {"adult_confirmed", u.adult_confirmed},
              {"created_at", u.created_at_ms}};
}

std::string_view ReplyEventName(const chat::ReplyEvent& e) {
  switch (e.kind) {
    case chat::ReplyEvent::Kind::kToken: return "token";
    case chat::ReplyEvent::Kind::kDone: return "done";
    case chat::ReplyEvent::Kind::kError: return "error";
  }
  return "error";
}

Json DoneFieldsJson(const chat::ReplyEvent& e) {
  return Json{{"finish_reason", e.finish_reason},
              {"usage", {{"prompt_tokens", e.usage.prompt_tokens},
                         {"cached_tokens", e.usage.cached_tokens},
                         {"completion_tokens", e.usage.completion_tokens}}},
              {"timings", {{"ttft_ms", e.ttft_ms}, {"total_ms", e.total_ms}}}};
}

Json ReplyEventJson(Id message_id, const chat::ReplyEvent& e) {
  switch (e.kind) {
    case chat::ReplyEvent::Kind::kToken: return Json{{"text", e.text}};
    case chat::ReplyEvent::Kind::kDone: {
      Json j = DoneFieldsJson(e);
      j["message_id"] = message_id;
      return j;
    }
    case chat::ReplyEvent::Kind::kError: return Json{{"code", e.code}, {"message", e.text}};
  }
  return Json::object();
}

Json DraftJson(const persona::CharacterDraft& d, std::string_view language) {
  return Json{{"name", d.name},
              {"tagline", d.tagline},
              {"description", d.description},
              {"personality", d.personality},
              {"scenario", d.scenario},
              {"first_mes", d.first_mes},
              {"mes_example", d.mes_example},
              {"tags", d.tags},
              {"language", language}};
}

Json DraftDoneJson(const chat::DraftJob& job, const chat::ReplyEvent& done) {
  Json j = DoneFieldsJson(done);
  auto draft = job.draft();
  j["draft"] = draft ? DraftJson(*draft, job.language()) : Json(nullptr);
  return j;
}

Json UserEventJson(const chat::UserEvent& e) {
  Json j{{"conversation_id", e.conversation_id}};
  if (e.message.id != kNoId) j["message"] = MessageJson(e.message, e.alternatives);
  return j;
}

Status ApplyCharacterFields(const Json& j, store::Character* c) {
  struct StringField {
    const char* key;
    std::string store::Character::*member;
  };
  static const StringField kStrings[] = {
      {"name", &store::Character::name},
      {"nickname", &store::Character::nickname},
      {"tagline", &store::Character::tagline},
      {"description", &store::Character::description},
      {"personality", &store::Character::personality},
      {"scenario", &store::Character::scenario},
      {"first_mes", &store::Character::first_mes},
      {"mes_example", &store::Character::mes_example},
      {"system_prompt", &store::Character::system_prompt},
      {"post_history_instructions", &store::Character::post_history_instructions},
      {"creator_notes", &store::Character::creator_notes},
      {"creator", &store::Character::creator},
      {"language", &store::Character::language},
  };
  for (auto& f : kStrings) {
    TOKKI_ASSIGN_OR_RETURN(auto v, GetString(j, f.key));
    if (v) c->*f.member = std::move(*v);
  }
  TOKKI_ASSIGN_OR_RETURN(auto alts, GetStringList(j, "alternate_greetings"));
  if (alts) c->alternate_greetings = std::move(*alts);
  TOKKI_ASSIGN_OR_RETURN(auto tags, GetStringList(j, "tags"));
  if (tags) c->tags = std::move(*tags);
  TOKKI_ASSIGN_OR_RETURN(auto vis, GetString(j, "visibility"));
  if (vis) {
    TOKKI_ASSIGN_OR_RETURN(c->visibility, ParseVisibility(*vis));
  }
  TOKKI_ASSIGN_OR_RETURN(auto mature, GetBool(j, "mature"));
  if (mature) c->mature = *mature;
  TOKKI_ASSIGN_OR_RETURN(auto real, GetBool(j, "real_person"));
  if (real) {
    if (c->real_person && !*real)
      return Status::InvalidArgument("the AI-portrayal label of a real person cannot be removed");
    c->real_person = *real;
  }
  return Status::Ok();
}

}  // namespace tokki::api
