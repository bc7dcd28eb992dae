// SqliteStore: conversations and messages. See sqlite_store.h.
#include <algorithm>

#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store.h"

namespace tokki::store::sqlite {

Result<Conversation> SqliteStore::CreateConversation(Conversation c) {
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

Result<Conversation> SqliteStore::GetConversation(Id id) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(std::string("SELECT ") + kConversationColumns +
                                                 " FROM conversations WHERE id = ?"));
  s.Bind(1, id);
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("conversation not found");
  return ReadConversation(s);
}

Result<std::optional<Conversation>> SqliteStore::FindConversation(Id user_id, Id character_id) {
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

Result<std::vector<Conversation>> SqliteStore::ListConversations(Id user_id) {
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

Status SqliteStore::DeleteConversation(Id id) {
  Timer t(this);
  WriterLease w(this);
  Transaction tx(w.conn);
  TOKKI_RETURN_IF_ERROR(tx.status());
  Id user_id = kNoId, character_id = kNoId;
  {
    TOKKI_ASSIGN_OR_RETURN(Stmt g, w.conn->Prepare(
        "SELECT user_id, character_id FROM conversations WHERE id = ?"));
    g.Bind(1, id);
    TOKKI_ASSIGN_OR_RETURN(bool row, g.Step());
    if (!row) return Status::NotFound("conversation not found");
    user_id = g.Int(0);
    character_id = g.Int(1);
  }
  TOKKI_RETURN_IF_ERROR(ExecBound(w.conn, "DELETE FROM conversations WHERE id = ?", id));
  // The relationship's memory goes with its last conversation.
  for (const char* sql :
       {"DELETE FROM memories WHERE user_id = ?1 AND character_id = ?2 AND NOT EXISTS "
        "(SELECT 1 FROM conversations WHERE user_id = ?1 AND character_id = ?2)",
        "DELETE FROM memory_summaries WHERE user_id = ?1 AND character_id = ?2 AND NOT EXISTS "
        "(SELECT 1 FROM conversations WHERE user_id = ?1 AND character_id = ?2)"}) {
    TOKKI_ASSIGN_OR_RETURN(Stmt d, w.conn->Prepare(sql));
    d.Bind(1, user_id).Bind(2, character_id);
    TOKKI_RETURN_IF_ERROR(d.Run());
  }
  return tx.Commit();
}

Result<Message> SqliteStore::AppendMessage(Message m) {
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
      "finish_reason, pinned, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,0,?,?)"));
  s.Bind(1, m.conversation_id).Bind(2, m.parent_id).Bind(3, m.role).Bind(4, m.content)
      .Bind(5, static_cast<int>(m.status)).Bind(6, m.selected).Bind(7, m.alternative_index)
      .Bind(8, m.client_id).Bind(9, m.prompt_tokens).Bind(10, m.cached_tokens)
      .Bind(11, m.completion_tokens).Bind(12, m.rating).Bind(13, m.finish_reason)
      .Bind(14, m.created_at_ms).Bind(15, m.updated_at_ms);
  m.pinned = false;  // only AddMemory pins
  Status st = s.Run();
  if (st.code() == Status::Code::kAlreadyExists)
    return Status::AlreadyExists("client_id already used in this conversation");
  TOKKI_RETURN_IF_ERROR(st);
  m.id = w.conn->LastInsertId();
  m.forgotten = false;
  TOKKI_RETURN_IF_ERROR(IndexMessage(w.conn, m));
  TOKKI_ASSIGN_OR_RETURN(Stmt u, w.conn->Prepare(
      "UPDATE conversations SET updated_at = ?, last_message_id = ? WHERE id = ?"));
  u.Bind(1, m.created_at_ms).Bind(2, m.id).Bind(3, m.conversation_id);
  TOKKI_RETURN_IF_ERROR(u.Run());
  TOKKI_RETURN_IF_ERROR(tx.Commit());
  return m;
}

Result<Message> SqliteStore::GetMessage(Id id) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(std::string("SELECT ") + kMessageColumns +
                                                 " FROM messages WHERE id = ?"));
  s.Bind(1, id);
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("message not found");
  return ReadMessage(s);
}

Result<std::vector<Message>> SqliteStore::ListMessages(Id conversation_id) {
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

Result<std::optional<Message>> SqliteStore::FindMessageByClientId(Id conversation_id, std::string_view client_id) {
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

Status SqliteStore::UpdateMessage(const Message& m) {
  Timer t(this);
  WriterLease w(this);
  Transaction tx(w.conn);
  TOKKI_RETURN_IF_ERROR(tx.status());
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
      "UPDATE messages SET content = ?, status = ?, prompt_tokens = ?, cached_tokens = ?, "
      "completion_tokens = ?, rating = ?, finish_reason = ?, updated_at = ? "
      "WHERE id = ?"));
  s.Bind(1, m.content).Bind(2, static_cast<int>(m.status)).Bind(3, m.prompt_tokens)
      .Bind(4, m.cached_tokens).Bind(5, m.completion_tokens).Bind(6, m.rating)
      .Bind(7, m.finish_reason).Bind(8, NowUnixMs()).Bind(9, m.id);
  TOKKI_RETURN_IF_ERROR(s.Run());
  if (w.conn->Changes() == 0) return Status::NotFound("message not found");
  if (m.status != MessageStatus::kStreaming) {
    // Re-read what the index needs (role, forgotten) from the row, not the caller's copy.
    TOKKI_ASSIGN_OR_RETURN(Stmt g, w.conn->Prepare(std::string("SELECT ") + kMessageColumns +
                                                   " FROM messages WHERE id = ?"));
    g.Bind(1, m.id);
    TOKKI_ASSIGN_OR_RETURN(bool row, g.Step());
    if (row) TOKKI_RETURN_IF_ERROR(IndexMessage(w.conn, ReadMessage(g)));
  }
  return tx.Commit();
}

Status SqliteStore::SelectMessage(Id id) {
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

Status SqliteStore::DeleteMessage(Id id) {
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

Result<int> SqliteStore::StopInterruptedMessages() {
  Timer t(this);
  WriterLease w(this);
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
      "UPDATE messages SET status = 2, finish_reason = 'interrupted' WHERE status = 0"));
  TOKKI_RETURN_IF_ERROR(s.Run());
  return w.conn->Changes();
}

Result<std::vector<Message>> SqliteStore::MessagesAround(Id message_id, int n_before, int n_after) {
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

}  // namespace tokki::store::sqlite
