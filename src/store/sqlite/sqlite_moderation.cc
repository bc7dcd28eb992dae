// SqliteStore: reports, the audit log, quotas and operator settings. See sqlite_store.h.
#include <algorithm>

#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store.h"

namespace tokki::store::sqlite {

Result<Report> SqliteStore::CreateReport(Report rep) {
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

Result<Report> SqliteStore::GetReport(Id id) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(std::string("SELECT ") + kReportColumns +
                                                 " FROM reports WHERE id = ?"));
  s.Bind(1, id);
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("report not found");
  return ReadReport(s);
}

Result<std::vector<Report>> SqliteStore::ListReports(std::optional<ReportStatus> status, int limit, Id before_id) {
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

Status SqliteStore::ResolveReport(Id id, ReportStatus status, Id moderator_id) {
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

Result<int64_t> SqliteStore::CountOpenReports() {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare("SELECT count(*) FROM reports WHERE status = 0"));
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : int64_t{0};
}

Result<AuditEntry> SqliteStore::AppendAudit(AuditEntry e) {
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

Result<std::vector<AuditEntry>> SqliteStore::ListAudit(int limit, Id before_id) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
      std::string("SELECT ") + kAuditColumns +
      " FROM audit_log WHERE id < ?1 ORDER BY id DESC LIMIT ?2"));
  s.Bind(1, before_id ? before_id : kMaxId).Bind(2, std::clamp(limit, 1, 200));
  return ReadAll(s, ReadAudit);
}

Result<UserUsage> SqliteStore::GetUserUsage(Id user_id) {
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

Result<int64_t> SqliteStore::CountUserMessagesSince(Id user_id, int64_t since_ms) {
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

Result<std::optional<std::string>> SqliteStore::GetSetting(std::string_view key) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare("SELECT value FROM settings WHERE key = ?"));
  s.Bind(1, key);
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

Status SqliteStore::PutSetting(std::string_view key, std::string_view value) {
  Timer t(this);
  if (key.empty()) return Status::InvalidArgument("empty setting key");
  WriterLease w(this);
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
      "INSERT INTO settings(key, value, updated_at) VALUES(?,?,?) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"));
  s.Bind(1, key).Bind(2, value).Bind(3, NowUnixMs());
  return s.Run();
}

}  // namespace tokki::store::sqlite
