// SqliteStore: memories, summaries and the full-text index of messages. See store.h
// ("memory") and sqlite_store.h.
#include <algorithm>
#include <cstring>
#include <set>

#include "core/terms.h"
#include "store/sqlite/sqlite_store.h"

namespace tokki::store::sqlite {
namespace {

constexpr const char* kMemoryColumns =
    "id, user_id, character_id, kind, content, message_id, position, created_at, updated_at";

Memory ReadMemory(const Stmt& s) {
  Memory m;
  m.id = s.Int(0);
  m.user_id = s.Int(1);
  m.character_id = s.Int(2);
  m.kind = s.Int(3) == 1 ? MemoryKind::kPin : MemoryKind::kNote;
  m.content = s.Text(4);
  m.message_id = s.IsNull(5) ? kNoId : s.Int(5);
  m.position = static_cast<int>(s.Int(6));
  m.created_at_ms = s.Int(7);
  m.updated_at_ms = s.Int(8);
  return m;
}

MemorySummary ReadSummary(const Stmt& s) {
  MemorySummary m;
  m.user_id = s.Int(0);
  m.character_id = s.Int(1);
  m.version = static_cast<int>(s.Int(2));
  m.content = s.Text(3);
  m.covers_until_message_id = s.Int(4);
  m.edited = s.Int(5) != 0;
  m.created_at_ms = s.Int(6);
  return m;
}

// The index's token naming one relationship (column `rel`).
std::string RelToken(Id user_id, Id character_id) {
  return "u" + std::to_string(user_id) + "c" + std::to_string(character_id);
}

std::string IdsJson(const std::vector<Id>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

}  // namespace

Status SqliteStore::IndexMessage(Connection* conn, const Message& m) {
  TOKKI_RETURN_IF_ERROR(ExecBound(conn, "DELETE FROM messages_fts WHERE rowid = ?", m.id));
  if (m.forgotten || m.status == MessageStatus::kStreaming ||
      (m.role != "user" && m.role != "assistant"))
    return Status::Ok();
  TOKKI_ASSIGN_OR_RETURN(Stmt c, conn->Prepare(
      "SELECT user_id, character_id FROM conversations WHERE id = ?"));
  c.Bind(1, m.conversation_id);
  TOKKI_ASSIGN_OR_RETURN(bool row, c.Step());
  if (!row) return Status::NotFound("conversation not found");
  TOKKI_ASSIGN_OR_RETURN(Stmt s, conn->Prepare(
      "INSERT INTO messages_fts(rowid, rel, terms) VALUES(?,?,?)"));
  s.Bind(1, m.id).Bind(2, RelToken(c.Int(0), c.Int(1))).Bind(3, IndexTerms(m.content));
  return s.Run();
}

Status SqliteStore::BackfillMessageIndex(Connection* conn) {
  TOKKI_ASSIGN_OR_RETURN(Stmt s, conn->Prepare(
      std::string("SELECT ") + kMessageColumns + " FROM messages ORDER BY id"));
  TOKKI_ASSIGN_OR_RETURN(std::vector<Message> all, ReadAll(s, ReadMessage));
  for (const Message& m : all) TOKKI_RETURN_IF_ERROR(IndexMessage(conn, m));
  return Status::Ok();
}

Result<Memory> SqliteStore::AddMemory(Memory m, int max_items) {
  Timer t(this);
  WriterLease w(this);
  Transaction tx(w.conn);
  TOKKI_RETURN_IF_ERROR(tx.status());
  {
    TOKKI_ASSIGN_OR_RETURN(Stmt c, w.conn->Prepare(
        "SELECT count(*), coalesce(max(position), -1) FROM memories "
        "WHERE user_id = ? AND character_id = ?"));
    c.Bind(1, m.user_id).Bind(2, m.character_id);
    TOKKI_ASSIGN_OR_RETURN(bool row, c.Step());
    const int64_t n = row ? c.Int(0) : 0;
    if (n >= max_items)
      return Status::InvalidArgument("this friend already keeps " + std::to_string(n) +
                                     " memories, the most there can be; delete one first");
    m.position = row ? static_cast<int>(c.Int(1)) + 1 : 0;
  }
  m.created_at_ms = m.updated_at_ms = NowUnixMs();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
      "INSERT INTO memories(user_id, character_id, kind, content, message_id, position, "
      "created_at, updated_at) VALUES(?,?,?,?,?,?,?,?)"));
  s.Bind(1, m.user_id).Bind(2, m.character_id).Bind(3, m.kind == MemoryKind::kPin ? 1 : 0)
      .Bind(4, m.content).BindId(5, m.kind == MemoryKind::kPin ? m.message_id : kNoId)
      .Bind(6, m.position).Bind(7, m.created_at_ms).Bind(8, m.updated_at_ms);
  Status st = s.Run();
  if (st.code() == Status::Code::kAlreadyExists)
    return Status::AlreadyExists("this message is pinned already");
  TOKKI_RETURN_IF_ERROR(st);
  m.id = w.conn->LastInsertId();
  if (m.kind == MemoryKind::kPin) {
    TOKKI_RETURN_IF_ERROR(
        ExecBound(w.conn, "UPDATE messages SET pinned = 1 WHERE id = ?", m.message_id));
    if (w.conn->Changes() == 0) return Status::NotFound("message not found");
  }
  TOKKI_RETURN_IF_ERROR(tx.Commit());
  return m;
}

Result<Memory> SqliteStore::GetMemory(Id id) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(std::string("SELECT ") + kMemoryColumns +
                                                 " FROM memories WHERE id = ?"));
  s.Bind(1, id);
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("memory not found");
  return ReadMemory(s);
}

Result<std::vector<Memory>> SqliteStore::ListMemories(Id user_id, Id character_id) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
      std::string("SELECT ") + kMemoryColumns +
      " FROM memories WHERE user_id = ? AND character_id = ? ORDER BY position, id"));
  s.Bind(1, user_id).Bind(2, character_id);
  return ReadAll(s, ReadMemory);
}

Status SqliteStore::UpdateMemory(Id id, std::string_view content) {
  Timer t(this);
  WriterLease w(this);
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
      "UPDATE memories SET content = ?, updated_at = ? WHERE id = ?"));
  s.Bind(1, content).Bind(2, NowUnixMs()).Bind(3, id);
  TOKKI_RETURN_IF_ERROR(s.Run());
  return w.conn->Changes() ? Status::Ok() : Status::NotFound("memory not found");
}

Status SqliteStore::DeleteMemory(Id id) {
  Timer t(this);
  WriterLease w(this);
  Transaction tx(w.conn);
  TOKKI_RETURN_IF_ERROR(tx.status());
  TOKKI_RETURN_IF_ERROR(ExecBound(w.conn,
                                  "UPDATE messages SET pinned = 0 WHERE id = "
                                  "(SELECT message_id FROM memories WHERE id = ?)",
                                  id));
  TOKKI_RETURN_IF_ERROR(ExecBound(w.conn, "DELETE FROM memories WHERE id = ?", id));
  if (w.conn->Changes() == 0) return Status::NotFound("memory not found");
  return tx.Commit();
}

Status SqliteStore::ReorderMemories(Id user_id, Id character_id, const std::vector<Id>& ids) {
  Timer t(this);
  WriterLease w(this);
  Transaction tx(w.conn);
  TOKKI_RETURN_IF_ERROR(tx.status());
  std::set<Id> have;
  {
    TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
        "SELECT id FROM memories WHERE user_id = ? AND character_id = ?"));
    s.Bind(1, user_id).Bind(2, character_id);
    for (;;) {
      TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      have.insert(s.Int(0));
    }
  }
  const std::set<Id> given(ids.begin(), ids.end());
  if (given != have || given.size() != ids.size())
    return Status::InvalidArgument("the new order must list each of this friend's " +
                                   std::to_string(have.size()) + " memories exactly once");
  TOKKI_ASSIGN_OR_RETURN(Stmt u, w.conn->Prepare("UPDATE memories SET position = ? WHERE id = ?"));
  for (size_t i = 0; i < ids.size(); ++i) {
    u.Reset();
    u.Bind(1, static_cast<int64_t>(i)).Bind(2, ids[i]);
    TOKKI_RETURN_IF_ERROR(u.Run());
  }
  return tx.Commit();
}

Result<MemorySummary> SqliteStore::AddSummary(MemorySummary m) {
  Timer t(this);
  WriterLease w(this);
  Transaction tx(w.conn);
  TOKKI_RETURN_IF_ERROR(tx.status());
  {
    TOKKI_ASSIGN_OR_RETURN(Stmt c, w.conn->Prepare(
        "SELECT coalesce(max(version), 0) FROM memory_summaries "
        "WHERE user_id = ? AND character_id = ?"));
    c.Bind(1, m.user_id).Bind(2, m.character_id);
    TOKKI_ASSIGN_OR_RETURN(bool row, c.Step());
    m.version = (row ? static_cast<int>(c.Int(0)) : 0) + 1;
  }
  m.created_at_ms = NowUnixMs();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
      "INSERT INTO memory_summaries(user_id, character_id, version, content, "
      "covers_until_message_id, edited, created_at) VALUES(?,?,?,?,?,?,?)"));
  s.Bind(1, m.user_id).Bind(2, m.character_id).Bind(3, m.version).Bind(4, m.content)
      .Bind(5, m.covers_until_message_id).Bind(6, m.edited).Bind(7, m.created_at_ms);
  TOKKI_RETURN_IF_ERROR(s.Run());
  TOKKI_RETURN_IF_ERROR(tx.Commit());
  return m;
}

Result<std::optional<MemorySummary>> SqliteStore::LatestSummary(Id user_id, Id character_id) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
      "SELECT user_id, character_id, version, content, covers_until_message_id, edited, "
      "created_at FROM memory_summaries WHERE user_id = ? AND character_id = ? "
      "ORDER BY version DESC LIMIT 1"));
  s.Bind(1, user_id).Bind(2, character_id);
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<MemorySummary>();
  return std::optional<MemorySummary>(ReadSummary(s));
}

Status SqliteStore::ForgetMessage(Id message_id) {
  Timer t(this);
  WriterLease w(this);
  Transaction tx(w.conn);
  TOKKI_RETURN_IF_ERROR(tx.status());
  TOKKI_RETURN_IF_ERROR(
      ExecBound(w.conn, "UPDATE messages SET forgotten = 1 WHERE id = ?", message_id));
  if (w.conn->Changes() == 0) return Status::NotFound("message not found");
  TOKKI_RETURN_IF_ERROR(
      ExecBound(w.conn, "DELETE FROM messages_fts WHERE rowid = ?", message_id));
  TOKKI_RETURN_IF_ERROR(
      ExecBound(w.conn, "DELETE FROM message_vectors WHERE message_id = ?", message_id));
  return tx.Commit();
}

Result<std::vector<RecallHit>> SqliteStore::SearchMessages(Id user_id, Id character_id,
                                                           const std::vector<std::string>& terms,
                                                           const std::vector<Id>& exclude,
                                                           int limit) {
  if (terms.empty()) return std::vector<RecallHit>();
  Timer t(this);
  auto r = Reader();
  std::string match = "rel : " + FtsPhrase(RelToken(user_id, character_id)) + " AND terms : (";
  for (size_t i = 0; i < terms.size(); ++i) {
    if (i) match += " OR ";
    match += FtsPhrase(terms[i]);
  }
  match += ")";
  // bm25 weights: rel 0 (every hit has it), terms 1. SQLite's bm25 is lower-is-better.
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
      std::string("SELECT ") + kMessageColumns + ", f.score FROM messages JOIN ("
      "SELECT rowid AS rid, -bm25(messages_fts, 0.0, 1.0) AS score FROM messages_fts "
      "WHERE messages_fts MATCH ?1 AND rowid NOT IN (SELECT value FROM json_each(?2)) "
      "ORDER BY bm25(messages_fts, 0.0, 1.0) LIMIT ?3) f ON messages.id = f.rid "
      "ORDER BY f.score DESC, messages.id DESC"));
  s.Bind(1, match).Bind(2, IdsJson(exclude)).Bind(3, std::clamp(limit, 1, 200));
  std::vector<RecallHit> out;
  for (;;) {
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    RecallHit h;
    h.message = ReadMessage(s);
    h.score = s.Real(18);
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::vector<int>> SqliteStore::CountMessagesWithTerms(Id user_id, Id character_id,
                                                             const std::vector<std::string>& terms,
                                                             int cap) {
  std::vector<int> out;
  if (terms.empty()) return out;
  Timer t(this);
  auto r = Reader();
  // LIMIT: a common term costs no more than a rare one.
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
      "SELECT count(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 "
      "LIMIT ?2)"));
  const std::string rel = "rel : " + FtsPhrase(RelToken(user_id, character_id)) + " AND terms : ";
  for (const std::string& term : terms) {
    s.Reset();
    s.Bind(1, rel + FtsPhrase(term)).Bind(2, std::clamp(cap, 1, 1000));
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    out.push_back(row ? static_cast<int>(s.Int(0)) : 0);
  }
  return out;
}

Status SqliteStore::PutMessageVectors(std::string_view model,
                                      const std::vector<MessageVector>& vectors) {
  Timer t(this);
  WriterLease w(this);
  Transaction tx(w.conn);
  TOKKI_RETURN_IF_ERROR(tx.status());
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
      "INSERT OR REPLACE INTO message_vectors(message_id, model, vector) "
      "SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND forgotten = 0)"));
  for (const MessageVector& v : vectors) {
    s.Reset();
    s.Bind(1, v.message_id).Bind(2, model).BindBlob(3, std::string_view(
        reinterpret_cast<const char*>(v.vector.data()), v.vector.size() * sizeof(float)));
    TOKKI_RETURN_IF_ERROR(s.Run());
  }
  return tx.Commit();
}

Result<std::vector<Message>> SqliteStore::MessagesWithoutVector(Id user_id, Id character_id,
                                                               std::string_view model, int limit) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
      std::string("SELECT ") + kMessageColumns + " FROM messages WHERE conversation_id IN "
      "(SELECT id FROM conversations WHERE user_id = ?1 AND character_id = ?2) "
      "AND role IN ('user', 'assistant') AND status != 0 AND forgotten = 0 "
      "AND NOT EXISTS (SELECT 1 FROM message_vectors v WHERE v.message_id = messages.id "
      "AND v.model = ?3) ORDER BY id LIMIT ?4"));
  s.Bind(1, user_id).Bind(2, character_id).Bind(3, model).Bind(4, std::clamp(limit, 1, 500));
  return ReadAll(s, ReadMessage);
}

Result<std::vector<MessageVector>> SqliteStore::RelationshipVectors(Id user_id, Id character_id,
                                                                   std::string_view model,
                                                                   Id after_id) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
      "SELECT v.message_id, v.vector FROM message_vectors v JOIN messages m ON m.id = v.message_id "
      "WHERE m.conversation_id IN (SELECT id FROM conversations WHERE user_id = ?1 AND "
      "character_id = ?2) AND m.forgotten = 0 AND v.model = ?3 AND v.message_id > ?4 "
      "ORDER BY v.message_id"));
  s.Bind(1, user_id).Bind(2, character_id).Bind(3, model).Bind(4, after_id);
  std::vector<MessageVector> out;
  for (;;) {
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    MessageVector v;
    v.message_id = s.Int(0);
    const std::string blob = s.Blob(1);
    v.vector.resize(blob.size() / sizeof(float));
    std::memcpy(v.vector.data(), blob.data(), v.vector.size() * sizeof(float));
    out.push_back(std::move(v));
  }
  return out;
}

Result<int64_t> SqliteStore::CountRelationshipMessages(Id user_id, Id character_id) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
      "SELECT count(*) FROM messages WHERE conversation_id IN "
      "(SELECT id FROM conversations WHERE user_id = ? AND character_id = ?)"));
  s.Bind(1, user_id).Bind(2, character_id);
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : int64_t{0};
}

}  // namespace tokki::store::sqlite
