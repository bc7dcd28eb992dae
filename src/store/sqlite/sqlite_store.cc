// SqliteStore: the default Store. One writer connection behind a mutex, a pool of reader
// connections (WAL lets readers run beside the writer).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <limits>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/text.h"
#include "core/thread_annotations.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/schema.h"
#include "store/store.h"

namespace tokki::store {
namespace {

using sqlite::Connection;
using sqlite::Stmt;
using sqlite::Transaction;

std::string EncodeList(const std::vector<std::string>& v) { return nlohmann::json(v).dump(); }

std::vector<std::string> DecodeList(const std::string& s) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(s, nullptr, false);
  if (!j.is_array()) return out;
  for (auto& e : j)
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

constexpr const char* kCharacterColumns =
    "id, owner_id, slug, visibility, name, nickname, description, personality, scenario, "
    "first_mes, mes_example, creator_notes, system_prompt, post_history_instructions, "
    "alternate_greetings, group_only_greetings, tags, creator, character_version, source, "
    "creator_notes_multilingual, extensions, character_book, assets, creation_date, "
    "modification_date, tagline, language, real_person, has_avatar, revision, created_at, "
    "updated_at, mature, hidden, removed_at";

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

// Binds the editable fields at parameters 1..29 (shared by INSERT and UPDATE).
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

constexpr const char* kUserColumns =
    "id, username, password_hash, display_name, persona, created_at, role, suspended, "
    "adult_confirmed";

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

constexpr const char* kMessageColumns =
    "id, conversation_id, parent_id, role, content, status, selected, alternative_index, "
    "client_id, prompt_tokens, cached_tokens, completion_tokens, rating, finish_reason, pinned, "
    "created_at, updated_at";

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
  return m;
}

constexpr const char* kConversationColumns =
    "id, user_id, character_id, title, created_at, updated_at, last_message_id";

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

constexpr const char* kReportColumns =
    "id, reporter_id, target_kind, target_id, reason, note, status, resolved_by, created_at, "
    "resolved_at";

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

constexpr const char* kAuditColumns =
    "id, actor_id, action, target_kind, target_id, detail, created_at";

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

// Above every row id: a `before_id` of kNoId means "from the newest".
constexpr Id kMaxId = std::numeric_limits<Id>::max();

// Steps `s` to its end, reading every row with `read`.
template <typename T>
Result<std::vector<T>> ReadAll(Stmt& s, T (*read)(const Stmt&)) {
  std::vector<T> out;
  for (;;) {
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(read(s));
  }
  return out;
}

// A LIKE pattern matching strings that start with `prefix`, for ESCAPE '\'.
std::string LikePrefix(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  out += '%';
  return out;
}

// Byte length of every text column of a character row `c` (see UserUsage).
constexpr const char* kCardBytesSql =
    "length(CAST(c.name AS BLOB)) + length(CAST(c.nickname AS BLOB)) + "
    "length(CAST(c.description AS BLOB)) + length(CAST(c.personality AS BLOB)) + "
    "length(CAST(c.scenario AS BLOB)) + length(CAST(c.first_mes AS BLOB)) + "
    "length(CAST(c.mes_example AS BLOB)) + length(CAST(c.creator_notes AS BLOB)) + "
    "length(CAST(c.system_prompt AS BLOB)) + "
    "length(CAST(c.post_history_instructions AS BLOB)) + "
    "length(CAST(c.alternate_greetings AS BLOB)) + "
    "length(CAST(c.group_only_greetings AS BLOB)) + length(CAST(c.tags AS BLOB)) + "
    "length(CAST(c.creator AS BLOB)) + length(CAST(c.character_version AS BLOB)) + "
    "length(CAST(c.source AS BLOB)) + length(CAST(c.creator_notes_multilingual AS BLOB)) + "
    "length(CAST(c.extensions AS BLOB)) + length(CAST(c.character_book AS BLOB)) + "
    "length(CAST(c.assets AS BLOB)) + length(CAST(c.tagline AS BLOB))";

std::string FtsPhrase(std::string_view term) {
  std::string out = "\"";
  for (char c : term) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}
  ~SqliteStore() override { Close(); }

  Status Init() TOKKI_EXCLUDES(write_mu_) {
    auto w = Connection::Open(path_, false);
    if (!w.ok()) return w.status();
    MutexLock lock(&write_mu_);
    writer_ = std::move(w).value();
    TOKKI_RETURN_IF_ERROR(writer_->Exec("PRAGMA journal_mode=WAL;"));
    TOKKI_RETURN_IF_ERROR(Migrate());
    return Status::Ok();
  }

  // ---- users and sessions
  Result<User> CreateUser(User u) override {
    Timer t(this);
    WriterLease w(this);
    u.created_at_ms = NowUnixMs();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "INSERT INTO users(username, password_hash, display_name, persona, created_at, role, "
        "suspended, adult_confirmed) VALUES(?,?,?,?,?,?,?,?)"));
    s.Bind(1, u.username).Bind(2, u.password_hash).Bind(3, u.display_name).Bind(4, u.persona)
        .Bind(5, u.created_at_ms).Bind(6, static_cast<int>(u.role)).Bind(7, u.suspended)
        .Bind(8, u.adult_confirmed);
    Status st = s.Run();
    if (st.code() == Status::Code::kAlreadyExists)
      return Status::AlreadyExists("username is taken");
    TOKKI_RETURN_IF_ERROR(st);
    u.id = w.conn->LastInsertId();
    return u;
  }

  Result<User> GetUser(Id id) override {
    return QueryUser(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = ?",
                     [&](Stmt& s) { s.Bind(1, id); });
  }

  Result<User> GetUserByName(std::string_view name) override {
    return QueryUser(std::string("SELECT ") + kUserColumns + " FROM users WHERE username = ?",
                     [&](Stmt& s) { s.Bind(1, name); });
  }

  Status UpdateUser(const User& u) override {
    Timer t(this);
    WriterLease w(this);
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "UPDATE users SET display_name = ?, persona = ?, adult_confirmed = ? WHERE id = ?"));
    s.Bind(1, u.display_name).Bind(2, u.persona).Bind(3, u.adult_confirmed).Bind(4, u.id);
    TOKKI_RETURN_IF_ERROR(s.Run());
    return w.conn->Changes() ? Status::Ok() : Status::NotFound("user not found");
  }

  Status SetUserRole(Id user_id, Role role) override {
    Timer t(this);
    WriterLease w(this);
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare("UPDATE users SET role = ? WHERE id = ?"));
    s.Bind(1, static_cast<int>(role)).Bind(2, user_id);
    TOKKI_RETURN_IF_ERROR(s.Run());
    return w.conn->Changes() ? Status::Ok() : Status::NotFound("user not found");
  }

  Status SetUserSuspended(Id user_id, bool suspended) override {
    Timer t(this);
    WriterLease w(this);
    Transaction tx(w.conn);
    TOKKI_RETURN_IF_ERROR(tx.status());
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "UPDATE users SET suspended = ? WHERE id = ?"));
    s.Bind(1, suspended).Bind(2, user_id);
    TOKKI_RETURN_IF_ERROR(s.Run());
    if (w.conn->Changes() == 0) return Status::NotFound("user not found");
    if (suspended) TOKKI_RETURN_IF_ERROR(DeleteSessionsOf(w.conn, user_id));
    return tx.Commit();
  }

  Result<std::vector<User>> ListUsers(std::string_view username_prefix, int limit,
                                      Id after_id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        std::string("SELECT ") + kUserColumns +
        " FROM users WHERE id > ?1 AND (?2 = '' OR username LIKE ?3 ESCAPE '\\') "
        "ORDER BY id LIMIT ?4"));
    s.Bind(1, after_id).Bind(2, username_prefix).Bind(3, LikePrefix(username_prefix))
        .Bind(4, std::clamp(limit, 1, 200));
    return ReadAll(s, ReadUser);
  }

  Result<int64_t> CountUsers() override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare("SELECT count(*) FROM users"));
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.Int(0) : int64_t{0};
  }

  Status DeleteUser(Id user_id) override {
    Timer t(this);
    WriterLease w(this);
    Transaction tx(w.conn);
    TOKKI_RETURN_IF_ERROR(tx.status());
    {
      TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare("SELECT 1 FROM users WHERE id = ?"));
      s.Bind(1, user_id);
      TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Status::NotFound("user not found");
    }
    // Every character of theirs leaves the search index, tombstoned or deleted.
    TOKKI_RETURN_IF_ERROR(ExecBound(w.conn,
        "DELETE FROM characters_fts WHERE rowid IN (SELECT id FROM characters WHERE owner_id = ?)",
        user_id));
    // Characters others talk to are tombstoned and detached from the user before the user
    // row goes: characters.owner_id cascades on delete.
    {
      TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
          "UPDATE characters SET owner_id = NULL, visibility = 0, hidden = 1, "
          "removed_at = CASE WHEN removed_at = 0 THEN ?2 ELSE removed_at END "
          "WHERE owner_id = ?1 AND EXISTS (SELECT 1 FROM conversations v "
          "WHERE v.character_id = characters.id AND v.user_id != ?1)"));
      s.Bind(1, user_id).Bind(2, NowUnixMs());
      TOKKI_RETURN_IF_ERROR(s.Run());
    }
    // The rest goes explicitly (not only through cascades), so the rule reads here.
    // Conversations take their messages along; characters their avatars, conversations
    // and swipes.
    for (const char* sql : {"DELETE FROM sessions WHERE user_id = ?",
                            "DELETE FROM swipes WHERE user_id = ?",
                            "DELETE FROM reports WHERE reporter_id = ?",
                            "DELETE FROM conversations WHERE user_id = ?",
                            "DELETE FROM characters WHERE owner_id = ?",
                            "DELETE FROM users WHERE id = ?"}) {
      TOKKI_RETURN_IF_ERROR(ExecBound(w.conn, sql, user_id));
    }
    return tx.Commit();
  }

  Status CreateSession(const Session& se) override {
    Timer t(this);
    WriterLease w(this);
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES(?,?,?,?)"));
    s.Bind(1, se.token_hash).Bind(2, se.user_id).Bind(3, se.created_at_ms).Bind(4, se.expires_at_ms);
    return s.Run();
  }

  Result<Session> GetSession(std::string_view token_hash) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        "SELECT token_hash, user_id, created_at, expires_at FROM sessions WHERE token_hash = ?"));
    s.Bind(1, token_hash);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("session not found");
    return Session{s.Text(0), s.Int(1), s.Int(2), s.Int(3)};
  }

  Status DeleteSession(std::string_view token_hash) override {
    Timer t(this);
    WriterLease w(this);
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare("DELETE FROM sessions WHERE token_hash = ?"));
    s.Bind(1, token_hash);
    return s.Run();
  }

  Status DeleteUserSessions(Id user_id) override {
    Timer t(this);
    WriterLease w(this);
    return DeleteSessionsOf(w.conn, user_id);
  }

  // ---- characters
  Result<Character> CreateCharacter(Character c) override {
    Timer t(this);
    WriterLease w(this);
    Transaction tx(w.conn);
    TOKKI_RETURN_IF_ERROR(tx.status());
    c.created_at_ms = c.updated_at_ms = NowUnixMs();
    c.revision = 1;
    c.hidden = false;
    c.removed_at_ms = 0;
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "INSERT INTO characters(visibility, name, nickname, description, personality, scenario, "
        "first_mes, mes_example, creator_notes, system_prompt, post_history_instructions, "
        "alternate_greetings, group_only_greetings, tags, creator, character_version, source, "
        "creator_notes_multilingual, extensions, character_book, assets, creation_date, "
        "modification_date, tagline, language, real_person, updated_at, has_avatar, mature, "
        "owner_id, slug, revision, created_at) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?)"));
    BindCharacterFields(s, c);
    s.BindId(30, c.owner_id);
    if (c.slug.empty()) s.BindNull(31); else s.Bind(31, c.slug);
    s.Bind(32, c.created_at_ms);
    Status st = s.Run();
    if (st.code() == Status::Code::kAlreadyExists)
      return Status::AlreadyExists("a character with slug '" + c.slug + "' exists");
    TOKKI_RETURN_IF_ERROR(st);
    c.id = w.conn->LastInsertId();
    TOKKI_RETURN_IF_ERROR(IndexCharacter(w.conn, c, false));
    TOKKI_RETURN_IF_ERROR(tx.Commit());
    return c;
  }

  Result<Character> GetCharacter(Id id) override {
    return QueryCharacter(std::string("SELECT ") + kCharacterColumns + " FROM characters WHERE id = ?",
                          [&](Stmt& s) { s.Bind(1, id); });
  }

  Result<Character> GetCharacterBySlug(std::string_view slug) override {
    return QueryCharacter(std::string("SELECT ") + kCharacterColumns + " FROM characters WHERE slug = ?",
                          [&](Stmt& s) { s.Bind(1, slug); });
  }

  Result<Character> UpdateCharacter(const Character& in) override {
    Timer t(this);
    WriterLease w(this);
    Transaction tx(w.conn);
    TOKKI_RETURN_IF_ERROR(tx.status());
    Character c = in;
    c.updated_at_ms = NowUnixMs();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "UPDATE characters SET visibility=?, name=?, nickname=?, description=?, personality=?, "
        "scenario=?, first_mes=?, mes_example=?, creator_notes=?, system_prompt=?, "
        "post_history_instructions=?, alternate_greetings=?, group_only_greetings=?, tags=?, "
        "creator=?, character_version=?, source=?, creator_notes_multilingual=?, extensions=?, "
        "character_book=?, assets=?, creation_date=?, modification_date=?, tagline=?, language=?, "
        "real_person=?, updated_at=?, has_avatar=?, mature=?, revision = revision + 1 "
        "WHERE id = ?"));
    BindCharacterFields(s, c);
    s.Bind(30, c.id);
    TOKKI_RETURN_IF_ERROR(s.Run());
    if (w.conn->Changes() == 0) return Status::NotFound("character not found");
    TOKKI_ASSIGN_OR_RETURN(Character updated, GetCharacterOn(w.conn, c.id));
    if (updated.removed_at_ms == 0) TOKKI_RETURN_IF_ERROR(IndexCharacter(w.conn, updated, true));
    TOKKI_RETURN_IF_ERROR(tx.Commit());
    return updated;
  }

  Status DeleteCharacter(Id id) override {
    Timer t(this);
    WriterLease w(this);
    Transaction tx(w.conn);
    TOKKI_RETURN_IF_ERROR(tx.status());
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare("DELETE FROM characters WHERE id = ?"));
    s.Bind(1, id);
    TOKKI_RETURN_IF_ERROR(s.Run());
    if (w.conn->Changes() == 0) return Status::NotFound("character not found");
    TOKKI_ASSIGN_OR_RETURN(Stmt f, w.conn->Prepare("DELETE FROM characters_fts WHERE rowid = ?"));
    f.Bind(1, id);
    TOKKI_RETURN_IF_ERROR(f.Run());
    return tx.Commit();
  }

  Status RemoveCharacter(Id id) override {
    Timer t(this);
    WriterLease w(this);
    Transaction tx(w.conn);
    TOKKI_RETURN_IF_ERROR(tx.status());
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "UPDATE characters SET removed_at = CASE WHEN removed_at = 0 THEN ? ELSE removed_at END "
        "WHERE id = ?"));
    s.Bind(1, NowUnixMs()).Bind(2, id);
    TOKKI_RETURN_IF_ERROR(s.Run());
    if (w.conn->Changes() == 0) return Status::NotFound("character not found");
    TOKKI_RETURN_IF_ERROR(ExecBound(w.conn, "DELETE FROM characters_fts WHERE rowid = ?", id));
    return tx.Commit();
  }

  Status SetCharacterHidden(Id id, bool hidden) override {
    Timer t(this);
    WriterLease w(this);
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare("UPDATE characters SET hidden = ? WHERE id = ?"));
    s.Bind(1, hidden).Bind(2, id);
    TOKKI_RETURN_IF_ERROR(s.Run());
    return w.conn->Changes() ? Status::Ok() : Status::NotFound("character not found");
  }

  Result<CharacterPage> ListCharacters(const CharacterQuery& q) override {
    Timer t(this);
    int limit = std::clamp(q.limit, 1, 100);
    Id cursor = 0;
    if (!q.cursor.empty()) {
      try {
        cursor = std::stoll(q.cursor);
      } catch (...) {
        return Status::InvalidArgument("bad cursor");
      }
    }
    std::string sql = std::string("SELECT ") + kCharacterColumns + " FROM characters c WHERE ";
    sql += q.only_owned ? "c.owner_id = ?1" : "(c.visibility = 2 OR c.owner_id = ?1)";
    // Removed ones never; hidden ones to their owner only; mature ones to their owner or on
    // request.
    sql += " AND c.removed_at = 0 AND (c.hidden = 0 OR c.owner_id = ?1)";
    if (!q.include_mature) sql += " AND (c.mature = 0 OR c.owner_id = ?1)";
    if (!q.language.empty()) sql += " AND c.language = ?2";
    if (!q.tag.empty()) sql += " AND EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value = ?3)";
    if (cursor) sql += " AND c.id < ?4";
    std::vector<std::string> long_terms, short_terms;
    for (auto& term : SplitTrimmed(q.text, ' ')) {
      (Utf8Length(term) >= 3 ? long_terms : short_terms).push_back(term);
    }
    std::string match;
    for (auto& term : long_terms) match += (match.empty() ? "" : " ") + FtsPhrase(term);
    if (!match.empty())
      sql += " AND c.id IN (SELECT rowid FROM characters_fts WHERE characters_fts MATCH ?5)";
    for (size_t i = 0; i < short_terms.size(); ++i) {
      std::string p = "?" + std::to_string(10 + i);
      sql += " AND (c.name LIKE " + p + " OR c.tagline LIKE " + p + " OR c.description LIKE " + p +
             " OR c.tags LIKE " + p + ")";
    }
    sql += " ORDER BY c.id DESC LIMIT ?6";
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(sql));
    s.BindId(1, q.viewer_id);
    if (q.viewer_id == kNoId) s.Bind(1, int64_t{-1});
    if (!q.language.empty()) s.Bind(2, q.language);
    if (!q.tag.empty()) s.Bind(3, q.tag);
    if (cursor) s.Bind(4, cursor);
    if (!match.empty()) s.Bind(5, match);
    s.Bind(6, limit + 1);
    for (size_t i = 0; i < short_terms.size(); ++i)
      s.Bind(static_cast<int>(10 + i), "%" + short_terms[i] + "%");
    CharacterPage page;
    for (;;) {
      TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      page.items.push_back(ReadCharacter(s));
    }
    if (static_cast<int>(page.items.size()) > limit) {
      page.items.pop_back();
      page.next_cursor = std::to_string(page.items.back().id);
    }
    return page;
  }

  Result<std::vector<Character>> AllCharacters() override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(std::string("SELECT ") + kCharacterColumns +
                                                   " FROM characters WHERE removed_at = 0 "
                                                   "ORDER BY id"));
    std::vector<Character> out;
    for (;;) {
      TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadCharacter(s));
    }
    return out;
  }

  Status SetAvatar(Id id, const Avatar& a) override {
    Timer t(this);
    WriterLease w(this);
    Transaction tx(w.conn);
    TOKKI_RETURN_IF_ERROR(tx.status());
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "INSERT INTO avatars(character_id, mime, bytes) VALUES(?,?,?) "
        "ON CONFLICT(character_id) DO UPDATE SET mime = excluded.mime, bytes = excluded.bytes"));
    s.Bind(1, id).Bind(2, a.mime).BindBlob(3, a.bytes);
    TOKKI_RETURN_IF_ERROR(s.Run());
    TOKKI_ASSIGN_OR_RETURN(Stmt u, w.conn->Prepare(
        "UPDATE characters SET has_avatar = 1, updated_at = ? WHERE id = ?"));
    u.Bind(1, NowUnixMs()).Bind(2, id);
    TOKKI_RETURN_IF_ERROR(u.Run());
    return tx.Commit();
  }

  Result<Avatar> GetAvatar(Id id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        "SELECT mime, bytes FROM avatars WHERE character_id = ?"));
    s.Bind(1, id);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("no avatar");
    return Avatar{s.Text(0), s.Blob(1)};
  }

  Result<CharacterStats> GetCharacterStats(Id id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        "SELECT (SELECT count(*) FROM swipes WHERE character_id = ?1 AND undone = 0 AND action = 1),"
        " (SELECT count(*) FROM swipes WHERE character_id = ?1 AND undone = 0 AND action = 2),"
        " (SELECT count(*) FROM swipes WHERE character_id = ?1 AND undone = 0 AND action = 0),"
        " (SELECT count(*) FROM conversations WHERE character_id = ?1),"
        " (SELECT count(*) FROM messages m JOIN conversations c ON m.conversation_id = c.id"
        "   WHERE c.character_id = ?1)"));
    s.Bind(1, id);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    CharacterStats st;
    if (row) {
      st.likes = s.Int(0);
      st.superlikes = s.Int(1);
      st.passes = s.Int(2);
      st.conversations = s.Int(3);
      st.messages = s.Int(4);
    }
    return st;
  }

  // ---- conversations
  Result<Conversation> CreateConversation(Conversation c) override {
    Timer t(this);
    WriterLease w(this);
    c.created_at_ms = c.updated_at_ms = NowUnixMs();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "INSERT INTO conversations(user_id, character_id, title, created_at, updated_at) "
        "VALUES(?,?,?,?,?)"));
    s.Bind(1, c.user_id).Bind(2, c.character_id).Bind(3, c.title).Bind(4, c.created_at_ms)
        .Bind(5, c.updated_at_ms);
    TOKKI_RETURN_IF_ERROR(s.Run());
    c.id = w.conn->LastInsertId();
    return c;
  }

  Result<Conversation> GetConversation(Id id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(std::string("SELECT ") + kConversationColumns +
                                                   " FROM conversations WHERE id = ?"));
    s.Bind(1, id);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("conversation not found");
    return ReadConversation(s);
  }

  Result<std::optional<Conversation>> FindConversation(Id user_id, Id character_id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        std::string("SELECT ") + kConversationColumns +
        " FROM conversations WHERE user_id = ? AND character_id = ? ORDER BY id DESC LIMIT 1"));
    s.Bind(1, user_id).Bind(2, character_id);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<Conversation>();
    return std::optional<Conversation>(ReadConversation(s));
  }

  Result<std::vector<Conversation>> ListConversations(Id user_id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        std::string("SELECT ") + kConversationColumns +
        " FROM conversations WHERE user_id = ? ORDER BY updated_at DESC, id DESC"));
    s.Bind(1, user_id);
    std::vector<Conversation> out;
    for (;;) {
      TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadConversation(s));
    }
    return out;
  }

  Status DeleteConversation(Id id) override {
    Timer t(this);
    WriterLease w(this);
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare("DELETE FROM conversations WHERE id = ?"));
    s.Bind(1, id);
    TOKKI_RETURN_IF_ERROR(s.Run());
    return w.conn->Changes() ? Status::Ok() : Status::NotFound("conversation not found");
  }

  // ---- messages
  Result<Message> AppendMessage(Message m) override {
    Timer t(this);
    WriterLease w(this);
    Transaction tx(w.conn);
    TOKKI_RETURN_IF_ERROR(tx.status());
    m.created_at_ms = m.updated_at_ms = NowUnixMs();
    {
      TOKKI_ASSIGN_OR_RETURN(Stmt c, w.conn->Prepare(
          "SELECT count(*) FROM messages WHERE conversation_id = ? AND parent_id = ?"));
      c.Bind(1, m.conversation_id).Bind(2, m.parent_id);
      TOKKI_ASSIGN_OR_RETURN(bool row, c.Step());
      m.alternative_index = row ? static_cast<int>(c.Int(0)) : 0;
    }
    if (m.selected) {
      TOKKI_ASSIGN_OR_RETURN(Stmt d, w.conn->Prepare(
          "UPDATE messages SET selected = 0 WHERE conversation_id = ? AND parent_id = ?"));
      d.Bind(1, m.conversation_id).Bind(2, m.parent_id);
      TOKKI_RETURN_IF_ERROR(d.Run());
    }
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "INSERT INTO messages(conversation_id, parent_id, role, content, status, selected, "
        "alternative_index, client_id, prompt_tokens, cached_tokens, completion_tokens, rating, "
        "finish_reason, pinned, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    s.Bind(1, m.conversation_id).Bind(2, m.parent_id).Bind(3, m.role).Bind(4, m.content)
        .Bind(5, static_cast<int>(m.status)).Bind(6, m.selected).Bind(7, m.alternative_index)
        .Bind(8, m.client_id).Bind(9, m.prompt_tokens).Bind(10, m.cached_tokens)
        .Bind(11, m.completion_tokens).Bind(12, m.rating).Bind(13, m.finish_reason)
        .Bind(14, m.pinned).Bind(15, m.created_at_ms).Bind(16, m.updated_at_ms);
    Status st = s.Run();
    if (st.code() == Status::Code::kAlreadyExists)
      return Status::AlreadyExists("client_id already used in this conversation");
    TOKKI_RETURN_IF_ERROR(st);
    m.id = w.conn->LastInsertId();
    TOKKI_ASSIGN_OR_RETURN(Stmt u, w.conn->Prepare(
        "UPDATE conversations SET updated_at = ?, last_message_id = ? WHERE id = ?"));
    u.Bind(1, m.created_at_ms).Bind(2, m.id).Bind(3, m.conversation_id);
    TOKKI_RETURN_IF_ERROR(u.Run());
    TOKKI_RETURN_IF_ERROR(tx.Commit());
    return m;
  }

  Result<Message> GetMessage(Id id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(std::string("SELECT ") + kMessageColumns +
                                                   " FROM messages WHERE id = ?"));
    s.Bind(1, id);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("message not found");
    return ReadMessage(s);
  }

  Result<std::vector<Message>> ListMessages(Id conversation_id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        std::string("SELECT ") + kMessageColumns +
        " FROM messages WHERE conversation_id = ? ORDER BY id"));
    s.Bind(1, conversation_id);
    std::vector<Message> out;
    for (;;) {
      TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadMessage(s));
    }
    return out;
  }

  Result<std::optional<Message>> FindMessageByClientId(Id conversation_id,
                                                        std::string_view client_id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        std::string("SELECT ") + kMessageColumns +
        " FROM messages WHERE conversation_id = ? AND client_id = ?"));
    s.Bind(1, conversation_id).Bind(2, client_id);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<Message>();
    return std::optional<Message>(ReadMessage(s));
  }

  Status UpdateMessage(const Message& m) override {
    Timer t(this);
    WriterLease w(this);
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "UPDATE messages SET content = ?, status = ?, prompt_tokens = ?, cached_tokens = ?, "
        "completion_tokens = ?, rating = ?, finish_reason = ?, pinned = ?, updated_at = ? "
        "WHERE id = ?"));
    s.Bind(1, m.content).Bind(2, static_cast<int>(m.status)).Bind(3, m.prompt_tokens)
        .Bind(4, m.cached_tokens).Bind(5, m.completion_tokens).Bind(6, m.rating)
        .Bind(7, m.finish_reason).Bind(8, m.pinned).Bind(9, NowUnixMs()).Bind(10, m.id);
    TOKKI_RETURN_IF_ERROR(s.Run());
    return w.conn->Changes() ? Status::Ok() : Status::NotFound("message not found");
  }

  Status SelectMessage(Id id) override {
    Timer t(this);
    WriterLease w(this);
    Transaction tx(w.conn);
    TOKKI_RETURN_IF_ERROR(tx.status());
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "UPDATE messages SET selected = (id = ?1) WHERE (conversation_id, parent_id) = "
        "(SELECT conversation_id, parent_id FROM messages WHERE id = ?1)"));
    s.Bind(1, id);
    TOKKI_RETURN_IF_ERROR(s.Run());
    if (w.conn->Changes() == 0) return Status::NotFound("message not found");
    return tx.Commit();
  }

  Status DeleteMessage(Id id) override {
    Timer t(this);
    WriterLease w(this);
    Transaction tx(w.conn);
    TOKKI_RETURN_IF_ERROR(tx.status());
    Id conv = 0, parent = 0;
    bool was_selected = false;
    {
      TOKKI_ASSIGN_OR_RETURN(Stmt g, w.conn->Prepare(
          "SELECT conversation_id, parent_id, selected FROM messages WHERE id = ?"));
      g.Bind(1, id);
      TOKKI_ASSIGN_OR_RETURN(bool row, g.Step());
      if (!row) return Status::NotFound("message not found");
      conv = g.Int(0);
      parent = g.Int(1);
      was_selected = g.Int(2) != 0;
    }
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION ALL SELECT m.id FROM messages m JOIN sub "
        "ON m.parent_id = sub.id WHERE m.conversation_id = ?2) "
        "DELETE FROM messages WHERE id IN (SELECT id FROM sub)"));
    s.Bind(1, id).Bind(2, conv);
    TOKKI_RETURN_IF_ERROR(s.Run());
    // Renumber the remaining siblings and keep one selected.
    TOKKI_ASSIGN_OR_RETURN(Stmt r, w.conn->Prepare(
        "UPDATE messages SET alternative_index = (SELECT count(*) FROM messages o WHERE "
        "o.conversation_id = messages.conversation_id AND o.parent_id = messages.parent_id AND "
        "o.id < messages.id) WHERE conversation_id = ? AND parent_id = ?"));
    r.Bind(1, conv).Bind(2, parent);
    TOKKI_RETURN_IF_ERROR(r.Run());
    if (was_selected) {
      TOKKI_ASSIGN_OR_RETURN(Stmt sel, w.conn->Prepare(
          "UPDATE messages SET selected = 1 WHERE id = (SELECT max(id) FROM messages WHERE "
          "conversation_id = ? AND parent_id = ?)"));
      sel.Bind(1, conv).Bind(2, parent);
      TOKKI_RETURN_IF_ERROR(sel.Run());
    }
    return tx.Commit();
  }

  Result<int> StopInterruptedMessages() override {
    Timer t(this);
    WriterLease w(this);
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "UPDATE messages SET status = 2, finish_reason = 'interrupted' WHERE status = 0"));
    TOKKI_RETURN_IF_ERROR(s.Run());
    return w.conn->Changes();
  }

  Result<std::vector<Message>> MessagesAround(Id message_id, int n_before,
                                              int n_after) override {
    Timer t(this);
    auto r = Reader();
    // One statement, so the three parts read the same snapshot.
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        std::string("SELECT ") + kMessageColumns + " FROM messages WHERE id IN ("
        "SELECT id FROM (SELECT id FROM messages WHERE conversation_id = "
        "(SELECT conversation_id FROM messages WHERE id = ?1) AND id < ?1 "
        "ORDER BY id DESC LIMIT ?2) "
        "UNION ALL SELECT ?1 "
        "UNION ALL SELECT id FROM (SELECT id FROM messages WHERE conversation_id = "
        "(SELECT conversation_id FROM messages WHERE id = ?1) AND id > ?1 "
        "ORDER BY id LIMIT ?3)) ORDER BY id"));
    s.Bind(1, message_id).Bind(2, std::clamp(n_before, 0, 100))
        .Bind(3, std::clamp(n_after, 0, 100));
    TOKKI_ASSIGN_OR_RETURN(std::vector<Message> out, ReadAll(s, ReadMessage));
    if (out.empty()) return Status::NotFound("message not found");
    return out;
  }

  // ---- swipes
  Result<Swipe> RecordSwipe(Swipe sw) override {
    Timer t(this);
    WriterLease w(this);
    sw.created_at_ms = NowUnixMs();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "INSERT INTO swipes(user_id, character_id, action, created_at) VALUES(?,?,?,?)"));
    s.Bind(1, sw.user_id).Bind(2, sw.character_id).Bind(3, static_cast<int>(sw.action))
        .Bind(4, sw.created_at_ms);
    Status st = s.Run();
    if (st.code() == Status::Code::kAlreadyExists)
      return Status::AlreadyExists("this character was already swiped");
    TOKKI_RETURN_IF_ERROR(st);
    sw.id = w.conn->LastInsertId();
    return sw;
  }

  Result<std::optional<Swipe>> LastSwipe(Id user_id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        "SELECT id, user_id, character_id, action, undone, created_at FROM swipes "
        "WHERE user_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1"));
    s.Bind(1, user_id);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<Swipe>();
    return std::optional<Swipe>(ReadSwipe(s));
  }

  Status UndoSwipe(Id swipe_id) override {
    Timer t(this);
    WriterLease w(this);
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "UPDATE swipes SET undone = 1 WHERE id = ? AND undone = 0"));
    s.Bind(1, swipe_id);
    TOKKI_RETURN_IF_ERROR(s.Run());
    return w.conn->Changes() ? Status::Ok() : Status::NotFound("swipe not found");
  }

  Result<std::vector<Swipe>> AllSwipes() override { return QuerySwipes("undone = 0", kNoId); }
  Result<std::vector<Swipe>> UserSwipes(Id user_id) override {
    return QuerySwipes("undone = 0 AND user_id = ?", user_id);
  }

  // ---- reports
  Result<Report> CreateReport(Report rep) override {
    Timer t(this);
    WriterLease w(this);
    rep.status = ReportStatus::kOpen;
    rep.resolved_by = kNoId;
    rep.resolved_at_ms = 0;
    rep.created_at_ms = NowUnixMs();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "INSERT INTO reports(reporter_id, target_kind, target_id, reason, note, status, "
        "created_at) VALUES(?,?,?,?,?,0,?)"));
    s.Bind(1, rep.reporter_id).Bind(2, static_cast<int>(rep.target_kind)).Bind(3, rep.target_id)
        .Bind(4, rep.reason).Bind(5, rep.note).Bind(6, rep.created_at_ms);
    Status st = s.Run();
    if (st.code() == Status::Code::kAlreadyExists)
      return Status::AlreadyExists("you already reported this; the report is still open");
    if (st.IsNotFound()) return Status::NotFound("reporter not found");
    TOKKI_RETURN_IF_ERROR(st);
    rep.id = w.conn->LastInsertId();
    return rep;
  }

  Result<Report> GetReport(Id id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(std::string("SELECT ") + kReportColumns +
                                                   " FROM reports WHERE id = ?"));
    s.Bind(1, id);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("report not found");
    return ReadReport(s);
  }

  Result<std::vector<Report>> ListReports(std::optional<ReportStatus> status, int limit,
                                          Id before_id) override {
    Timer t(this);
    auto r = Reader();
    // Two statement shapes, so that a status filter walks reports_status(status, id).
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        std::string("SELECT ") + kReportColumns + " FROM reports WHERE " +
        (status ? "status = ?1 AND " : "") + "id < ?2 ORDER BY id DESC LIMIT ?3"));
    if (status) s.Bind(1, static_cast<int>(*status));
    s.Bind(2, before_id ? before_id : kMaxId).Bind(3, std::clamp(limit, 1, 200));
    return ReadAll(s, ReadReport);
  }

  Status ResolveReport(Id id, ReportStatus status, Id moderator_id) override {
    Timer t(this);
    if (status == ReportStatus::kOpen)
      return Status::InvalidArgument("a report is resolved as dismissed or actioned");
    WriterLease w(this);
    Transaction tx(w.conn);
    TOKKI_RETURN_IF_ERROR(tx.status());
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "UPDATE reports SET status = ?, resolved_by = ?, resolved_at = ? "
        "WHERE id = ? AND status = 0"));
    s.Bind(1, static_cast<int>(status)).BindId(2, moderator_id).Bind(3, NowUnixMs()).Bind(4, id);
    Status st = s.Run();
    if (st.IsNotFound()) return Status::NotFound("moderator not found");
    TOKKI_RETURN_IF_ERROR(st);
    if (w.conn->Changes() == 0) {
      TOKKI_ASSIGN_OR_RETURN(Stmt e, w.conn->Prepare("SELECT 1 FROM reports WHERE id = ?"));
      e.Bind(1, id);
      TOKKI_ASSIGN_OR_RETURN(bool row, e.Step());
      return row ? Status::Conflict("the report is already resolved")
                 : Status::NotFound("report not found");
    }
    return tx.Commit();
  }

  Result<int64_t> CountOpenReports() override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare("SELECT count(*) FROM reports WHERE status = 0"));
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.Int(0) : int64_t{0};
  }

  // ---- audit log
  Result<AuditEntry> AppendAudit(AuditEntry e) override {
    Timer t(this);
    WriterLease w(this);
    e.created_at_ms = NowUnixMs();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "INSERT INTO audit_log(actor_id, action, target_kind, target_id, detail, created_at) "
        "VALUES(?,?,?,?,?,?)"));
    s.Bind(1, e.actor_id).Bind(2, e.action).Bind(3, e.target_kind).Bind(4, e.target_id)
        .Bind(5, e.detail).Bind(6, e.created_at_ms);
    TOKKI_RETURN_IF_ERROR(s.Run());
    e.id = w.conn->LastInsertId();
    return e;
  }

  Result<std::vector<AuditEntry>> ListAudit(int limit, Id before_id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        std::string("SELECT ") + kAuditColumns +
        " FROM audit_log WHERE id < ?1 ORDER BY id DESC LIMIT ?2"));
    s.Bind(1, before_id ? before_id : kMaxId).Bind(2, std::clamp(limit, 1, 200));
    return ReadAll(s, ReadAudit);
  }

  // ---- quotas
  Result<UserUsage> GetUserUsage(Id user_id) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        std::string("SELECT "
                    "(SELECT count(*) FROM characters c WHERE c.owner_id = u.id AND c.removed_at = 0), "
                    "(SELECT coalesce(sum(") + kCardBytesSql +
        " + coalesce((SELECT length(a.bytes) FROM avatars a WHERE a.character_id = c.id), 0)), 0) "
        "FROM characters c WHERE c.owner_id = u.id AND c.removed_at = 0) "
        "FROM users u WHERE u.id = ?"));
    s.Bind(1, user_id);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("user not found");
    return UserUsage{s.Int(0), s.Int(1)};
  }

  Result<int64_t> CountUserMessagesSince(Id user_id, int64_t since_ms) override {
    Timer t(this);
    auto r = Reader();
    // Served by conversations_user and the partial index messages_user_turns.
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        "SELECT count(*) FROM conversations v JOIN messages m ON m.conversation_id = v.id "
        "WHERE v.user_id = ? AND m.role = 'user' AND m.created_at >= ?"));
    s.Bind(1, user_id).Bind(2, since_ms);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.Int(0) : int64_t{0};
  }

  // ---- operator settings
  Result<std::optional<std::string>> GetSetting(std::string_view key) override {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare("SELECT value FROM settings WHERE key = ?"));
    s.Bind(1, key);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(s.Text(0));
  }

  Status PutSetting(std::string_view key, std::string_view value) override {
    Timer t(this);
    if (key.empty()) return Status::InvalidArgument("empty setting key");
    WriterLease w(this);
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "INSERT INTO settings(key, value, updated_at) VALUES(?,?,?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"));
    s.Bind(1, key).Bind(2, value).Bind(3, NowUnixMs());
    return s.Run();
  }

  // ---- maintenance
  Result<std::string> IntegrityCheck() override {
    WriterLease w(this);
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare("PRAGMA integrity_check"));
    std::string out;
    for (;;) {
      TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      if (!out.empty()) out += "\n";
      out += s.Text(0);
    }
    return out;
  }

  TimingStats Timings() const override {
    return TimingStats{n_queries_.load(), total_us_.load()};
  }

  void Close() override TOKKI_EXCLUDES(write_mu_, pool_mu_) {
    MutexLock lock(&write_mu_);
    MutexLock lock2(&pool_mu_);
    if (writer_) {
      static_cast<void>(writer_->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));  // best effort at close
      writer_.reset();
    }
    readers_.clear();
    closed_ = true;
  }

 private:
  struct Timer {
    explicit Timer(SqliteStore* s) : store(s), start_us(NowSteadyUs()) {}
    ~Timer() {
      store->n_queries_.fetch_add(1, std::memory_order_relaxed);
      store->total_us_.fetch_add(NowSteadyUs() - start_us, std::memory_order_relaxed);
    }
    SqliteStore* store;
    int64_t start_us;
  };

  // The writer connection, held for the lease's scope: `WriterLease w(this);`.
  class TOKKI_SCOPED_CAPABILITY WriterLease {
   public:
    explicit WriterLease(SqliteStore* store) TOKKI_ACQUIRE(store->write_mu_)
        : mu_(&store->write_mu_) {
      mu_->Lock();
      conn = store->writer_.get();
    }
    ~WriterLease() TOKKI_RELEASE() { mu_->Unlock(); }
    WriterLease(const WriterLease&) = delete;
    WriterLease& operator=(const WriterLease&) = delete;

    Connection* conn = nullptr;

   private:
    Mutex* const mu_;
  };

  // A reader connection on loan; returned to the pool on destruction.
  struct ReaderLease {
    SqliteStore* store;
    std::unique_ptr<Connection> owned;
    Connection* conn;
    std::unique_lock<Mutex> writer_lock;  // held only when borrowing the writer
    ~ReaderLease() {
      if (owned) {
        MutexLock lock(&store->pool_mu_);
        if (!store->closed_) store->readers_.push_back(std::move(owned));
      }
    }
  };
  ReaderLease Reader() TOKKI_EXCLUDES(pool_mu_, write_mu_) {
    {
      MutexLock lock(&pool_mu_);
      if (!readers_.empty()) {
        auto c = std::move(readers_.back());
        readers_.pop_back();
        Connection* raw = c.get();
        return ReaderLease{this, std::move(c), raw, {}};
      }
    }
    auto c = Connection::Open(path_, false);
    if (!c.ok()) {
      // Fall back to the writer connection (serialised) rather than failing the read.
      return BorrowWriter();
    }
    Connection* raw = c->get();
    return ReaderLease{this, std::move(c).value(), raw, {}};
  }
  // The lock moves into the lease and is released when the lease ends: the analysis
  // cannot follow a lock that leaves the function that took it.
  ReaderLease BorrowWriter() TOKKI_EXCLUDES(write_mu_) TOKKI_NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<Mutex> lock(write_mu_);
    return ReaderLease{this, nullptr, writer_.get(), std::move(lock)};
  }

  Status Migrate() TOKKI_REQUIRES(write_mu_) {
    TOKKI_ASSIGN_OR_RETURN(Stmt v, writer_->Prepare("PRAGMA user_version"));
    TOKKI_ASSIGN_OR_RETURN(bool row, v.Step());
    int64_t version = row ? v.Int(0) : 0;
    constexpr int64_t kLatest = std::size(sqlite::kMigrations);
    if (version > kLatest)
      return Status::Corruption("database schema version " + std::to_string(version) +
                                " is newer than this build supports (" +
                                std::to_string(kLatest) + ")");
    for (int64_t n = version; n < kLatest; ++n) {
      Transaction tx(writer_.get());
      TOKKI_RETURN_IF_ERROR(tx.status());
      TOKKI_RETURN_IF_ERROR(writer_->Exec(sqlite::kMigrations[n]).WithContext(
          "migration " + std::to_string(n + 1)));
      TOKKI_RETURN_IF_ERROR(writer_->Exec("PRAGMA user_version = " + std::to_string(n + 1)));
      TOKKI_RETURN_IF_ERROR(tx.Commit());
    }
    return Status::Ok();
  }

  Status IndexCharacter(Connection* conn, const Character& c, bool replace) {
    if (replace) {
      TOKKI_ASSIGN_OR_RETURN(Stmt d, conn->Prepare("DELETE FROM characters_fts WHERE rowid = ?"));
      d.Bind(1, c.id);
      TOKKI_RETURN_IF_ERROR(d.Run());
    }
    TOKKI_ASSIGN_OR_RETURN(Stmt s, conn->Prepare(
        "INSERT INTO characters_fts(rowid, name, tagline, description, tags) VALUES(?,?,?,?,?)"));
    std::string tags;
    for (auto& t : c.tags) tags += t + " ";
    s.Bind(1, c.id).Bind(2, c.name).Bind(3, c.tagline).Bind(4, c.description).Bind(5, tags);
    return s.Run();
  }

  Result<Character> GetCharacterOn(Connection* conn, Id id) {
    TOKKI_ASSIGN_OR_RETURN(Stmt s, conn->Prepare(std::string("SELECT ") + kCharacterColumns +
                                                 " FROM characters WHERE id = ?"));
    s.Bind(1, id);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("character not found");
    return ReadCharacter(s);
  }

  template <typename BindFn>
  Result<Character> QueryCharacter(const std::string& sql, BindFn bind) {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(sql));
    bind(s);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("character not found");
    return ReadCharacter(s);
  }

  template <typename BindFn>
  Result<User> QueryUser(const std::string& sql, BindFn bind) {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(sql));
    bind(s);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("user not found");
    return ReadUser(s);
  }

  // Runs a write statement with one id parameter.
  static Status ExecBound(Connection* conn, const std::string& sql, Id id) {
    TOKKI_ASSIGN_OR_RETURN(Stmt s, conn->Prepare(sql));
    s.Bind(1, id);
    return s.Run();
  }

  static Status DeleteSessionsOf(Connection* conn, Id user_id) {
    return ExecBound(conn, "DELETE FROM sessions WHERE user_id = ?", user_id);
  }

  Result<std::vector<Swipe>> QuerySwipes(const char* where, Id user_id) {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
        std::string("SELECT id, user_id, character_id, action, undone, created_at FROM swipes "
                    "WHERE ") + where + " ORDER BY id"));
    if (user_id) s.Bind(1, user_id);
    std::vector<Swipe> out;
    for (;;) {
      TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadSwipe(s));
    }
    return out;
  }

  const std::string path_;
  Mutex write_mu_;  // before pool_mu_ when both are taken (Close)
  std::unique_ptr<Connection> writer_ TOKKI_GUARDED_BY(write_mu_);
  Mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> readers_ TOKKI_GUARDED_BY(pool_mu_);
  bool closed_ TOKKI_GUARDED_BY(pool_mu_) = false;
  std::atomic<int64_t> n_queries_{0};
  std::atomic<int64_t> total_us_{0};
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  auto store = std::make_unique<SqliteStore>(path);
  TOKKI_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tokki::store
