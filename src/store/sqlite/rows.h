// tokki/store/sqlite/rows.h — how SqliteStore's records map to SQLite rows: column lists,
// row readers and binders, and small SQL helpers shared by its files.
//
// Thread safety: pure functions over one statement.
#pragma once

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/records.h"
#include "store/sqlite/connection.h"

namespace tokki::store::sqlite {

std::string EncodeList(const std::vector<std::string>& v);

std::vector<std::string> DecodeList(const std::string& s);

inline constexpr const char* kCharacterColumns =
    "id, owner_id, slug, visibility, name, nickname, description, personality, scenario, "
    "first_mes, mes_example, creator_notes, system_prompt, post_history_instructions, "
    "alternate_greetings, group_only_greetings, tags, creator, character_version, source, "
    "creator_notes_multilingual, extensions, character_book, assets, creation_date, "
    "modification_date, tagline, language, real_person, has_avatar, revision, created_at, "
    "updated_at, mature, hidden, removed_at";

Character ReadCharacter(const Stmt& s);

// Binds the editable fields at parameters 1..29 (shared by INSERT and UPDATE).
void BindCharacterFields(Stmt& s, const Character& c);

inline constexpr const char* kUserColumns =
    "id, username, password_hash, display_name, persona, created_at, role, suspended, "
    "adult_confirmed";

User ReadUser(const Stmt& s);

inline constexpr const char* kMessageColumns =
    "id, conversation_id, parent_id, role, content, status, selected, alternative_index, "
    "client_id, prompt_tokens, cached_tokens, completion_tokens, rating, finish_reason, pinned, "
    "created_at, updated_at, forgotten";

Message ReadMessage(const Stmt& s);

inline constexpr const char* kConversationColumns =
    "id, user_id, character_id, title, created_at, updated_at, last_message_id";

Conversation ReadConversation(const Stmt& s);

Swipe ReadSwipe(const Stmt& s);

inline constexpr const char* kReportColumns =
    "id, reporter_id, target_kind, target_id, reason, note, status, resolved_by, created_at, "
    "resolved_at";

Report ReadReport(const Stmt& s);

inline constexpr const char* kAuditColumns =
    "id, actor_id, action, target_kind, target_id, detail, created_at";

AuditEntry ReadAudit(const Stmt& s);

// Above every row id: a `before_id` of kNoId means "from the newest".
inline constexpr Id kMaxId = std::numeric_limits<Id>::max();

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
std::string LikePrefix(std::string_view prefix);

// Byte length of every text column of a character row `c` (see UserUsage).
inline constexpr const char* kCardBytesSql =
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

// An FTS5 phrase query matching `term` literally.
std::string FtsPhrase(std::string_view term);

}  // namespace tokki::store::sqlite
