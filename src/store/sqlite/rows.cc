// See rows.h.
#include "store/sqlite/rows.h"

#include <nlohmann/json.hpp>

namespace tokki::store::sqlite {

std::string EncodeList(const std::vector<std::string>& v) { return nlohmann::json(v).dump(); }

std::vector<std::string> DecodeList(const std::string& s) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(s, nullptr, false);
  if (!j.is_array()) return out;
  for (auto& e : j)
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

Character ReadCharacter(const Stmt& s) {
  Character c;
  int i = 0;
  c.id = s.Int(i++);
  c.owner_id = s.Int(i++);
  c.slug = s.Text(i++);
  c.visibility = static_cast<Visibility>(s.Int(i++));
  c.name = s.Text(i++);
  c.nickname = s.Text(i++);
  c.description = s.Text(i++);
  c.personality = s.Text(i++);
  c.scenario = s.Text(i++);
  c.first_mes = s.Text(i++);
  c.mes_example = s.Text(i++);
  c.creator_notes = s.Text(i++);
  c.system_prompt = s.Text(i++);
  c.post_history_instructions = s.Text(i++);
  c.alternate_greetings = DecodeList(s.Text(i++));
  c.group_only_greetings = DecodeList(s.Text(i++));
  c.tags = DecodeList(s.Text(i++));
  c.creator = s.Text(i++);
  c.character_version = s.Text(i++);
  c.source = DecodeList(s.Text(i++));
  c.creator_notes_multilingual_json = s.Text(i++);
  c.extensions_json = s.Text(i++);
  c.character_book_json = s.Text(i++);
  c.assets_json = s.Text(i++);
  c.creation_date = s.Int(i++);
  c.modification_date = s.Int(i++);
  c.tagline = s.Text(i++);
  c.language = s.Text(i++);
  c.real_person = s.Int(i++) != 0;
  c.has_avatar = s.Int(i++) != 0;
  c.revision = s.Int(i++);
  c.created_at_ms = s.Int(i++);
  c.updated_at_ms = s.Int(i++);
  c.mature = s.Int(i++) != 0;
  c.hidden = s.Int(i++) != 0;
  c.removed_at_ms = s.Int(i++);
  return c;
}

void BindCharacterFields(Stmt& s, const Character& c) {
  int i = 1;
  s.Bind(i++, static_cast<int>(c.visibility));
  s.Bind(i++, c.name);
  s.Bind(i++, c.nickname);
  s.Bind(i++, c.description);
  s.Bind(i++, c.personality);
  s.Bind(i++, c.scenario);
  s.Bind(i++, c.first_mes);
  s.Bind(i++, c.mes_example);
  s.Bind(i++, c.creator_notes);
  s.Bind(i++, c.system_prompt);
  s.Bind(i++, c.post_history_instructions);
  s.Bind(i++, EncodeList(c.alternate_greetings));
  s.Bind(i++, EncodeList(c.group_only_greetings));
  s.Bind(i++, EncodeList(c.tags));
  s.Bind(i++, c.creator);
  s.Bind(i++, c.character_version);
  s.Bind(i++, EncodeList(c.source));
  s.Bind(i++, c.creator_notes_multilingual_json);
  s.Bind(i++, c.extensions_json.empty() ? std::string("{}") : c.extensions_json);
  s.Bind(i++, c.character_book_json);
  s.Bind(i++, c.assets_json);
  s.Bind(i++, c.creation_date);
  s.Bind(i++, c.modification_date);
  s.Bind(i++, c.tagline);
  s.Bind(i++, c.language);
  s.Bind(i++, c.real_person);
  s.Bind(i++, c.updated_at_ms);
  s.Bind(i++, c.has_avatar);
  s.Bind(i++, c.mature);
}

User ReadUser(const Stmt& s) {
  User u;
  int i = 0;
  u.id = s.Int(i++);
  u.username = s.Text(i++);
  u.password_hash = s.Text(i++);
  u.display_name = s.Text(i++);
  u.persona = s.Text(i++);
  u.created_at_ms = s.Int(i++);
  u.role = static_cast<Role>(s.Int(i++));
  u.suspended = s.Int(i++) != 0;
  u.adult_confirmed = s.Int(i++) != 0;
  return u;
}

Message ReadMessage(const Stmt& s) {
  Message m;
  int i = 0;
  m.id = s.Int(i++);
  m.conversation_id = s.Int(i++);
  m.parent_id = s.Int(i++);
  m.role = s.Text(i++);
  m.content = s.Text(i++);
  m.status = static_cast<MessageStatus>(s.Int(i++));
  m.selected = s.Int(i++) != 0;
  m.alternative_index = static_cast<int>(s.Int(i++));
  m.client_id = s.Text(i++);
  m.prompt_tokens = static_cast<int>(s.Int(i++));
  m.cached_tokens = static_cast<int>(s.Int(i++));
  m.completion_tokens = static_cast<int>(s.Int(i++));
  m.rating = static_cast<int>(s.Int(i++));
  m.finish_reason = s.Text(i++);
  m.pinned = s.Int(i++) != 0;
  m.created_at_ms = s.Int(i++);
  m.updated_at_ms = s.Int(i++);
  m.forgotten = s.Int(i++) != 0;
  return m;
}

Conversation ReadConversation(const Stmt& s) {
  Conversation c;
  c.id = s.Int(0);
  c.user_id = s.Int(1);
  c.character_id = s.Int(2);
  c.title = s.Text(3);
  c.created_at_ms = s.Int(4);
  c.updated_at_ms = s.Int(5);
  c.last_message_id = s.Int(6);
  return c;
}

Swipe ReadSwipe(const Stmt& s) {
  Swipe w;
  w.id = s.Int(0);
  w.user_id = s.Int(1);
  w.character_id = s.Int(2);
  w.action = static_cast<SwipeAction>(s.Int(3));
  w.undone = s.Int(4) != 0;
  w.created_at_ms = s.Int(5);
  return w;
}

Report ReadReport(const Stmt& s) {
  Report r;
  int i = 0;
  r.id = s.Int(i++);
  r.reporter_id = s.Int(i++);
  r.target_kind = static_cast<ReportTarget>(s.Int(i++));
  r.target_id = s.Int(i++);
  r.reason = s.Text(i++);
  r.note = s.Text(i++);
  r.status = static_cast<ReportStatus>(s.Int(i++));
  r.resolved_by = s.Int(i++);  // NULL reads as 0 = kNoId
  r.created_at_ms = s.Int(i++);
  r.resolved_at_ms = s.Int(i++);
  return r;
}

AuditEntry ReadAudit(const Stmt& s) {
  AuditEntry e;
  int i = 0;
  e.id = s.Int(i++);
  e.actor_id = s.Int(i++);
  e.action = s.Text(i++);
  e.target_kind = s.Text(i++);
  e.target_id = s.Int(i++);
  e.detail = s.Text(i++);
  e.created_at_ms = s.Int(i++);
  return e;
}

std::string LikePrefix(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  out += '%';
  return out;
}

std::string FtsPhrase(std::string_view term) {
  std::string out = "\"";
  for (char c : term) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace tokki::store::sqlite
