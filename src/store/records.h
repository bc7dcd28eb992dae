// tokki/store/records.h — the plain structs the Store reads and writes.
//
// These are Tokki's nouns. Other modules take and return them; none of them knows SQL.
// JSON-valued card fields (extensions, character_book, assets) are kept as JSON text so
// that every field of an imported card survives to export byte-for-byte in meaning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"

namespace tokki::store {

// What a user may do beyond chatting. Stored as its integer value: never reorder.
enum class Role { kUser, kModerator, kAdmin };

struct User {
  Id id = kNoId;
  std::string username;
  std::string password_hash;  // argon2id encoded string (libsodium crypto_pwhash_str)
  std::string display_name;   // the user's persona name ({{user}}); username when empty
  std::string persona;        // the user's persona description
  int64_t created_at_ms = 0;
  Role role = Role::kUser;       // changed only by Store::SetUserRole after creation
  bool suspended = false;        // changed only by Store::SetUserSuspended after creation
  bool adult_confirmed = false;  // the user confirmed they are an adult (mature content)
};

struct Session {
  std::string token_hash;  // hex SHA-256 of the bearer token; the token itself is never stored
  Id user_id = kNoId;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;
};

enum class Visibility { kPrivate, kUnlisted, kPublic };

struct Character {
  Id id = kNoId;
  // kNoId = the shipped catalog, or (with removed_at_ms != 0) a character whose creator
  // deleted their account while other users still had conversations with it.
  Id owner_id = kNoId;
  std::string slug;     // stable id of a catalog character ("" for user-made ones)
  Visibility visibility = Visibility::kPrivate;

  // Card fields (V1/V2/V3).
  std::string name;
  std::string nickname;  // V3
  std::string description;
  std::string personality;
  std::string scenario;
  std::string first_mes;
  std::string mes_example;
  std::string creator_notes;
  std::string system_prompt;
  std::string post_history_instructions;
  std::vector<std::string> alternate_greetings;
  std::vector<std::string> group_only_greetings;  // V3
  std::vector<std::string> tags;
  std::string creator;
  std::string character_version;
  std::vector<std::string> source;             // V3
  std::string creator_notes_multilingual_json;  // V3 object, "" when absent
  std::string extensions_json = "{}";          // unknown keys preserved
  std::string character_book_json;             // "" when none; V2/V3 character_book object
  std::string assets_json;                     // V3 assets array, "" when none
  int64_t creation_date = 0;                   // V3, seconds
  int64_t modification_date = 0;               // V3, seconds

  // Tokki's own fields.
  std::string tagline;
  std::string language = "en";  // BCP-47 primary tag: en, ko, zh, ...
  bool real_person = false;     // an AI portrayal of a real person: label cannot be removed
  bool has_avatar = false;
  int64_t revision = 1;  // bumps on every edit; part of the prompt prefix cache key
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;

  // Moderation state.
  bool mature = false;  // set by the creator: mature content, shown only to those who opt in
  // Unpublished by a moderator. Changed only by Store::SetCharacterHidden.
  bool hidden = false;
  // 0 = live. Set when the creator deleted the character (Store::RemoveCharacter) or their
  // account (Store::DeleteUser): the row, its avatar and every conversation stay readable,
  // but it is no longer listed or searchable.
  int64_t removed_at_ms = 0;
};

struct Avatar {
  std::string mime;  // "image/png"
  std::string bytes;
};

struct CharacterStats {
  int64_t likes = 0;
  int64_t superlikes = 0;
  int64_t passes = 0;
  int64_t conversations = 0;
  int64_t messages = 0;
};

struct Conversation {
  Id id = kNoId;
  Id user_id = kNoId;
  Id character_id = kNoId;
  std::string title;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t last_message_id = 0;
};

enum class MessageStatus { kStreaming, kComplete, kStopped, kFailed };

struct Message {
  Id id = kNoId;
  Id conversation_id = kNoId;
  std::string role;  // "user" | "assistant" | "system"
  std::string content;
  MessageStatus status = MessageStatus::kComplete;
  // Alternatives: alternative replies to the same turn share `parent_id` (the message
  // they answer; kNoId for greetings). The chosen one is `selected`.
  Id parent_id = kNoId;
  bool selected = true;
  int alternative_index = 0;
  std::string client_id;  // idempotency key from the client, "" when none
  int prompt_tokens = 0;
  int cached_tokens = 0;
  int completion_tokens = 0;
  int rating = 0;  // 0 = none, 1..5 stars
  std::string finish_reason;
  bool pinned = false;     // a memory pins it (set by AddMemory / DeleteMemory)
  bool forgotten = false;  // never recalled again (ForgetMessage); it stays in the chat
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// ---- memory: what a friend remembers of one user (a relationship = user x character).

enum class MemoryKind { kNote, kPin };

struct Memory {
  Id id = kNoId;
  Id user_id = kNoId;
  Id character_id = kNoId;
  MemoryKind kind = MemoryKind::kNote;
  std::string content;     // a note's text, or the pinned message's text when pinned
  Id message_id = kNoId;   // the pinned message (kPin only)
  int position = 0;        // order in the prompt and the Memories panel
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// One version of a relationship's "story so far".
struct MemorySummary {
  Id user_id = kNoId;
  Id character_id = kNoId;
  int version = 0;
  std::string content;
  Id covers_until_message_id = kNoId;  // the newest message it summarises
  bool edited = false;                 // written by the user, not the summary job
  int64_t created_at_ms = 0;
};

// A message's embedding (dense recall), unit length.
struct MessageVector {
  Id message_id = kNoId;
  std::vector<float> vector;
};

// A message found by SearchMessages, with its full-text score (higher is better).
struct RecallHit {
  Message message;
  double score = 0;
};

enum class SwipeAction { kPass, kLike, kSuperlike };

struct Swipe {
  Id id = kNoId;
  Id user_id = kNoId;
  Id character_id = kNoId;
  SwipeAction action = SwipeAction::kPass;
  bool undone = false;
  int64_t created_at_ms = 0;
};

// ---- operator side: reports, audit log, quotas.
// Enums are stored as their integer values: never reorder.

enum class ReportTarget { kCharacter, kMessage };
enum class ReportStatus { kOpen, kDismissed, kActioned };

// A user's report of a character or a message, for the moderation queue.
struct Report {
  Id id = kNoId;
  Id reporter_id = kNoId;
  ReportTarget target_kind = ReportTarget::kCharacter;
  Id target_id = kNoId;  // a character id or a message id; not checked to exist
  std::string reason;    // short machine-readable reason, e.g. "minor", "spam"
  std::string note;      // the reporter's free text
  ReportStatus status = ReportStatus::kOpen;
  Id resolved_by = kNoId;  // the moderator; kNoId while open (or once they are deleted)
  int64_t created_at_ms = 0;
  int64_t resolved_at_ms = 0;  // 0 while open
};

// One operator action, kept for accountability. Entries are never changed or deleted,
// and outlive the users they name.
struct AuditEntry {
  Id id = kNoId;
  Id actor_id = kNoId;      // who did it (kNoId = the system)
  std::string action;       // e.g. "user.suspend", "character.hide", "report.resolve"
  std::string target_kind;  // e.g. "user", "character", "message", "report", "setting"
  Id target_id = kNoId;
  std::string detail;  // free text or JSON, as the caller chooses
  int64_t created_at_ms = 0;
};

// What a user currently holds, for quotas.
struct UserUsage {
  int64_t n_characters = 0;  // characters they own that are not removed
  // An approximation of the storage those characters take: avatar bytes plus the UTF-8
  // byte length of every text column of the card as stored (string lists and JSON fields
  // counted as their JSON encoding). Row, index and full-text overhead are not counted.
  int64_t storage_bytes = 0;
};

}  // namespace tokki::store
