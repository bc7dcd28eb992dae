// SqliteStore: users and sessions. See sqlite_store.h.
#include <algorithm>

#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store.h"

namespace tokki::store::sqlite {

Result<User> SqliteStore::CreateUser(User u) {
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

Result<User> SqliteStore::GetUser(Id id) {
  return QueryUser(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = ?",
                   [&](Stmt& s) { s.Bind(1, id); });
}

Result<User> SqliteStore::GetUserByName(std::string_view name) {
  return QueryUser(std::string("SELECT ") + kUserColumns + " FROM users WHERE username = ?",
                   [&](Stmt& s) { s.Bind(1, name); });
}

Status SqliteStore::UpdateUser(const User& u) {
  Timer t(this);
  WriterLease w(this);
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
      "UPDATE users SET display_name = ?, persona = ?, adult_confirmed = ? WHERE id = ?"));
  s.Bind(1, u.display_name).Bind(2, u.persona).Bind(3, u.adult_confirmed).Bind(4, u.id);
  TOKKI_RETURN_IF_ERROR(s.Run());
  return w.conn->Changes() ? Status::Ok() : Status::NotFound("user not found");
}

Status SqliteStore::SetUserRole(Id user_id, Role role) {
  Timer t(this);
  WriterLease w(this);
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare("UPDATE users SET role = ? WHERE id = ?"));
  s.Bind(1, static_cast<int>(role)).Bind(2, user_id);
  TOKKI_RETURN_IF_ERROR(s.Run());
  return w.conn->Changes() ? Status::Ok() : Status::NotFound("user not found");
}

Status SqliteStore::SetUserSuspended(Id user_id, bool suspended) {
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

Result<std::vector<User>> SqliteStore::ListUsers(std::string_view username_prefix, int limit, Id after_id) {
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

Result<int64_t> SqliteStore::CountUsers() {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare("SELECT count(*) FROM users"));
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : int64_t{0};
}

Status SqliteStore::DeleteUser(Id user_id) {
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

Status SqliteStore::CreateSession(const Session& se) {
  Timer t(this);
  WriterLease w(this);
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
      "INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES(?,?,?,?)"));
  s.Bind(1, se.token_hash).Bind(2, se.user_id).Bind(3, se.created_at_ms).Bind(4, se.expires_at_ms);
  return s.Run();
}

Result<Session> SqliteStore::GetSession(std::string_view token_hash) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
      "SELECT token_hash, user_id, created_at, expires_at FROM sessions WHERE token_hash = ?"));
  s.Bind(1, token_hash);
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("session not found");
  return Session{s.Text(0), s.Int(1), s.Int(2), s.Int(3)};
}

Status SqliteStore::DeleteSession(std::string_view token_hash) {
  Timer t(this);
  WriterLease w(this);
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare("DELETE FROM sessions WHERE token_hash = ?"));
  s.Bind(1, token_hash);
  return s.Run();
}

Status SqliteStore::DeleteUserSessions(Id user_id) {
  Timer t(this);
  WriterLease w(this);
  return DeleteSessionsOf(w.conn, user_id);
}

}  // namespace tokki::store::sqlite
