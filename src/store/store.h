// tokki/store/store.h — the Store interface: everything Tokki keeps.
//
// Implementations: SqliteStore (sqlite_store.h, the default) — a PostgreSQL one can be
// added behind the same interface; tests/store/conformance_test.cc is written against this
// interface only, so any implementation runs the same suite.
//
// Contracts:
// - Every method is thread-safe.
// - Not-found is Status::NotFound; unique violations are Status::AlreadyExists.
// - Ownership is NOT checked here; callers (services) decide who may see what.
//
// Start reading at CreateCharacter / AppendMessage.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "store/records.h"

namespace tokki::store {

struct CharacterQuery {
  Id viewer_id = kNoId;      // sees public ones plus their own (any visibility)
  bool only_owned = false;   // only the viewer's own characters
  std::string text;          // full-text search over name, tagline, description, tags
  std::string tag;           // exact tag
  std::string language;      // exact language
  std::string cursor;        // opaque, from a previous page
  int limit = 20;            // 1..100
};

struct CharacterPage {
  std::vector<Character> items;
  std::string next_cursor;  // "" when this is the last page
};

struct TimingStats {
  int64_t n_queries = 0;
  int64_t total_us = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- users and sessions
  virtual Result<User> CreateUser(User user) = 0;
  virtual Result<User> GetUser(Id id) = 0;
  virtual Result<User> GetUserByName(std::string_view username) = 0;
  virtual Status UpdateUser(const User& user) = 0;  // display_name, persona
  virtual Status CreateSession(const Session& session) = 0;
  virtual Result<Session> GetSession(std::string_view token_hash) = 0;
  virtual Status DeleteSession(std::string_view token_hash) = 0;

  // ---- characters
  // Assigns id, timestamps, revision 1.
  virtual Result<Character> CreateCharacter(Character c) = 0;
  virtual Result<Character> GetCharacter(Id id) = 0;
  virtual Result<Character> GetCharacterBySlug(std::string_view slug) = 0;
  // Replaces every field but id/owner/created_at; bumps revision and updated_at.
  virtual Result<Character> UpdateCharacter(const Character& c) = 0;
  virtual Status DeleteCharacter(Id id) = 0;
  virtual Result<CharacterPage> ListCharacters(const CharacterQuery& query) = 0;
  // All characters (for the deck's index at start-up), without heavy fields removed.
  virtual Result<std::vector<Character>> AllCharacters() = 0;
  virtual Status SetAvatar(Id character_id, const Avatar& avatar) = 0;
  virtual Result<Avatar> GetAvatar(Id character_id) = 0;
  virtual Result<CharacterStats> GetCharacterStats(Id character_id) = 0;

  // ---- conversations
  virtual Result<Conversation> CreateConversation(Conversation c) = 0;
  virtual Result<Conversation> GetConversation(Id id) = 0;
  // The user's newest conversation with that character, if any.
  virtual Result<std::optional<Conversation>> FindConversation(Id user_id, Id character_id) = 0;
  virtual Result<std::vector<Conversation>> ListConversations(Id user_id) = 0;
  virtual Status DeleteConversation(Id id) = 0;

  // ---- messages (a tree: parent_id links; `selected` marks the chosen alternative)
  // Assigns id and timestamps; when m.selected, deselects its siblings in the same
  // transaction; sets alternative_index to the number of earlier siblings.
  virtual Result<Message> AppendMessage(Message m) = 0;
  virtual Result<Message> GetMessage(Id id) = 0;
  // Every message of the conversation, oldest first.
  virtual Result<std::vector<Message>> ListMessages(Id conversation_id) = 0;
  virtual Result<std::optional<Message>> FindMessageByClientId(Id conversation_id,
                                                                std::string_view client_id) = 0;
  // Updates content, status, token counts, rating, finish_reason, pinned.
  virtual Status UpdateMessage(const Message& m) = 0;
  // Makes `message_id` the selected one among its siblings.
  virtual Status SelectMessage(Id message_id) = 0;
  // Deletes the message and everything below it in the tree.
  virtual Status DeleteMessage(Id message_id) = 0;
  // Marks every message still `streaming` as `stopped` (after a crash). Returns how many.
  virtual Result<int> StopInterruptedMessages() = 0;

  // ---- swipes
  virtual Result<Swipe> RecordSwipe(Swipe s) = 0;  // AlreadyExists when already swiped
  virtual Result<std::optional<Swipe>> LastSwipe(Id user_id) = 0;  // newest not undone
  virtual Status UndoSwipe(Id swipe_id) = 0;
  virtual Result<std::vector<Swipe>> AllSwipes() = 0;  // not undone, oldest first
  virtual Result<std::vector<Swipe>> UserSwipes(Id user_id) = 0;

  // ---- maintenance
  virtual Result<std::string> IntegrityCheck() = 0;  // "ok" when healthy
  virtual TimingStats Timings() const = 0;
  virtual void Close() = 0;  // flushes; further calls fail
};

// Opens the SQLite store at `path` (created and migrated when missing).
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace tokki::store
