// SqliteStore: characters, avatars and swipes. See sqlite_store.h.
#include <algorithm>

#include "core/text.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store.h"

namespace tokki::store::sqlite {

Result<Character> SqliteStore::CreateCharacter(Character c) {
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

Result<Character> SqliteStore::GetCharacter(Id id) {
  return QueryCharacter(std::string("SELECT ") + kCharacterColumns + " FROM characters WHERE id = ?",
                        [&](Stmt& s) { s.Bind(1, id); });
}

Result<Character> SqliteStore::GetCharacterBySlug(std::string_view slug) {
  return QueryCharacter(std::string("SELECT ") + kCharacterColumns + " FROM characters WHERE slug = ?",
                        [&](Stmt& s) { s.Bind(1, slug); });
}

Result<Character> SqliteStore::UpdateCharacter(const Character& in) {
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

Status SqliteStore::DeleteCharacter(Id id) {
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

Status SqliteStore::RemoveCharacter(Id id) {
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

Status SqliteStore::SetCharacterHidden(Id id, bool hidden) {
  Timer t(this);
  WriterLease w(this);
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare("UPDATE characters SET hidden = ? WHERE id = ?"));
  s.Bind(1, hidden).Bind(2, id);
  TOKKI_RETURN_IF_ERROR(s.Run());
  return w.conn->Changes() ? Status::Ok() : Status::NotFound("character not found");
}

Result<CharacterPage> SqliteStore::ListCharacters(const CharacterQuery& q) {
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

Result<std::vector<Character>> SqliteStore::AllCharacters() {
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

Status SqliteStore::SetAvatar(Id id, const Avatar& a) {
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

Result<Avatar> SqliteStore::GetAvatar(Id id) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
      "SELECT mime, bytes FROM avatars WHERE character_id = ?"));
  s.Bind(1, id);
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("no avatar");
  return Avatar{s.Text(0), s.Blob(1)};
}

Result<CharacterStats> SqliteStore::GetCharacterStats(Id id) {
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

Result<Swipe> SqliteStore::RecordSwipe(Swipe sw) {
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

Result<std::optional<Swipe>> SqliteStore::LastSwipe(Id user_id) {
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

Status SqliteStore::UndoSwipe(Id swipe_id) {
  Timer t(this);
  WriterLease w(this);
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare(
      "UPDATE swipes SET undone = 1 WHERE id = ? AND undone = 0"));
  s.Bind(1, swipe_id);
  TOKKI_RETURN_IF_ERROR(s.Run());
  return w.conn->Changes() ? Status::Ok() : Status::NotFound("swipe not found");
}

Result<std::vector<Swipe>> SqliteStore::UserSwipes(Id user_id) {
  return QuerySwipes("undone = 0 AND user_id = ?", user_id);
}

}  // namespace tokki::store::sqlite
