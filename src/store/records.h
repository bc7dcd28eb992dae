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

struct User {
  Id id = kNoId;
  std::string username;
  std::string password_hash;  // argon2id encoded string (libsodium crypto_pwhash_str)
  std::string display_name;   // the user's persona name ({{user}}); username when empty
  std::string persona;        // the user's persona description
  int64_t created_at_ms = 0;
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
  Id owner_id = kNoId;  // kNoId = the shipped catalog
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
  bool pinned = false;  // pinned as a long-term memory
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
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

}  // namespace tokki::store
