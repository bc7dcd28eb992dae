// tokki/store/store.h — the Store interface: everything Tokki keeps.
//
// Implementations: SqliteStore (sqlite/sqlite_store.cc, opened by OpenSqliteStore; the
// default) — a PostgreSQL one can be added behind the same interface;
// tests/store/conformance_test.cc is written against this interface only, so any
// implementation runs the same suite.
//
// Contracts:
// - Every method is thread-safe.
// - Not-found is Status::NotFound; unique violations are Status::AlreadyExists; a state
//   that does not allow the change (resolving a resolved report) is Status::Conflict.
// - A method that writes more than one row does so in one transaction: all or nothing.
// - Ownership and roles are NOT checked here; callers (services) decide who may see or do
//   what. The store only applies the listing rules written on ListCharacters.
// - `limit` arguments are clamped into their stated range; a `before_id` / `after_id` of
//   kNoId means "from the first row in that order".
//
// Start reading at CreateCharacter / AppendMessage; the operator side (roles, reports,
// audit, quotas, settings) follows the same rules.
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
  Id viewer_id = kNoId;         // sees public ones plus their own (any visibility)
  bool only_owned = false;      // only the viewer's own characters
  bool include_mature = false;  // mature characters of others too (the viewer opted in)
  std::string text;             // full-text search over name, tagline, description, tags
  std::string tag;              // exact tag
  std::string language;         // exact language
  std::string cursor;           // opaque, from a previous page
  int limit = 20;               // 1..100
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
  // Assigns id and created_at; writes every field, role/suspended/adult_confirmed too.
  // AlreadyExists when the username is taken (case-insensitively).
  virtual Result<User> CreateUser(User user) = 0;
  virtual Result<User> GetUser(Id id) = 0;
  virtual Result<User> GetUserByName(std::string_view username) = 0;
  // Writes display_name, persona and adult_confirmed only (never role or suspended).
  virtual Status UpdateUser(const User& user) = 0;
  virtual Status SetUserRole(Id user_id, Role role) = 0;  // NotFound when unknown
  // Suspending also deletes every session of the user, in the same transaction.
  // Lifting a suspension touches nothing else. NotFound when unknown.
  virtual Status SetUserSuspended(Id user_id, bool suspended) = 0;
  // Users ordered by id ascending, with id > after_id, whose username starts with
  // `username_prefix` (case-insensitively, ASCII; "" = every user). limit: 1..200.
  virtual Result<std::vector<User>> ListUsers(std::string_view username_prefix, int limit,
                                              Id after_id) = 0;
  virtual Result<int64_t> CountUsers() = 0;
  // Deletes the user and everything they own, in one transaction: sessions, swipes,
  // reports they filed, conversations (with their messages). Their characters that OTHER
  // users have conversations with are tombstoned instead, so those users keep their
  // history: removed_at set, owner_id cleared (kNoId), visibility private, hidden, avatar
  // kept, out of the search index. Their other characters are deleted. The audit log and
  // reports about the user's characters or messages are kept. NotFound when unknown.
  virtual Status DeleteUser(Id user_id) = 0;
  virtual Status CreateSession(const Session& session) = 0;
  virtual Result<Session> GetSession(std::string_view token_hash) = 0;
  virtual Status DeleteSession(std::string_view token_hash) = 0;
  // Signs the user out everywhere. OK when they had none (or are unknown).
  virtual Status DeleteUserSessions(Id user_id) = 0;

  // ---- characters
  // Assigns id, timestamps, revision 1. Writes `mature`; ignores `hidden` and
  // `removed_at_ms` (a new character is visible and live).
  virtual Result<Character> CreateCharacter(Character c) = 0;
  // Both return removed, hidden and mature characters too: callers decide what to show.
  virtual Result<Character> GetCharacter(Id id) = 0;
  virtual Result<Character> GetCharacterBySlug(std::string_view slug) = 0;
  // Replaces every field but id/owner/created_at/hidden/removed_at; bumps revision and
  // updated_at. A removed character stays out of the search index.
  virtual Result<Character> UpdateCharacter(const Character& c) = 0;
  // Deletes the row and, through it, its avatar, conversations and swipes.
  virtual Status DeleteCharacter(Id id) = 0;
  // The creator deletes a character: sets removed_at and takes it out of the search
  // index; the row, its avatar and every conversation with it stay. Removing a removed
  // character is OK (the first removed_at stays). NotFound when unknown.
  virtual Status RemoveCharacter(Id id) = 0;
  // A moderator unpublishes (or republishes) a character. NotFound when unknown.
  virtual Status SetCharacterHidden(Id id, bool hidden) = 0;
  // Newest first. Never lists removed characters. Lists hidden ones and mature ones only
  // to their owner (the viewer), mature ones also when query.include_mature.
  virtual Result<CharacterPage> ListCharacters(const CharacterQuery& query) = 0;
  // Every character that is not removed (hidden and mature ones included: callers
  // filter), for the deck's index at start-up, without heavy fields removed.
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
  // Deleting the user's last conversation with the character also deletes that
  // relationship's memories and summaries, in the same transaction.
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
  // Updates content, status, token counts, rating, finish_reason (never `pinned` or
  // `forgotten`: the memory methods own them); re-indexes a message that is not streaming.
  virtual Status UpdateMessage(const Message& m) = 0;
  // Makes `message_id` the selected one among its siblings.
  virtual Status SelectMessage(Id message_id) = 0;
  // Deletes the message and everything below it in the tree.
  virtual Status DeleteMessage(Id message_id) = 0;
  // Marks every message still `streaming` as `stopped` (after a crash). Returns how many.
  virtual Result<int> StopInterruptedMessages() = 0;
  // The message and up to n_before / n_after of its neighbours in the same conversation,
  // ordered by id (every branch of the tree, not just the selected path). n: 0..100.
  // NotFound when the message is unknown.
  virtual Result<std::vector<Message>> MessagesAround(Id message_id, int n_before, int n_after) = 0;

  // ---- memory (a relationship: user_id x character_id; see records.h)
  // Every message with role user/assistant whose status is not streaming is indexed for
  // full-text search as it is stored (terms from core/terms.h), unless forgotten; deleting
  // a message takes it out of the index.
  //
  // Assigns id, timestamps and position (after the last). A pin (kPin) sets the message's
  // `pinned` in the same transaction. AlreadyExists when that message is pinned already;
  // InvalidArgument when the relationship already has `max_items` memories.
  virtual Result<Memory> AddMemory(Memory m, int max_items) = 0;
  virtual Result<Memory> GetMemory(Id id) = 0;
  // In position order.
  virtual Result<std::vector<Memory>> ListMemories(Id user_id, Id character_id) = 0;
  // Writes content and updated_at. NotFound when unknown.
  virtual Status UpdateMemory(Id id, std::string_view content) = 0;
  // A pin's message is no longer `pinned`. NotFound when unknown.
  virtual Status DeleteMemory(Id id) = 0;
  // Positions follow `ids`, which must hold exactly the relationship's memory ids
  // (InvalidArgument otherwise).
  virtual Status ReorderMemories(Id user_id, Id character_id, const std::vector<Id>& ids) = 0;
  // Assigns version (after the newest) and created_at.
  virtual Result<MemorySummary> AddSummary(MemorySummary s) = 0;
  virtual Result<std::optional<MemorySummary>> LatestSummary(Id user_id, Id character_id) = 0;
  // Marks the message forgotten and takes it out of the index and its vectors. NotFound
  // when unknown.
  virtual Status ForgetMessage(Id message_id) = 0;
  // The relationship's indexed messages matching any of `terms` (QueryTerms), best
  // first, at most `limit` (1..200), skipping ids in `exclude`. Empty terms: no hits.
  virtual Result<std::vector<RecallHit>> SearchMessages(Id user_id, Id character_id,
                                                        const std::vector<std::string>& terms,
                                                        const std::vector<Id>& exclude,
                                                        int limit) = 0;
  // For each of `terms`, how many of the relationship's indexed messages contain it,
  // counted up to `cap` (1..1000): min(count, cap), in the order of `terms`.
  virtual Result<std::vector<int>> CountMessagesWithTerms(Id user_id, Id character_id,
                                                          const std::vector<std::string>& terms,
                                                          int cap) = 0;
  // Embeddings for dense recall, per embedding model name. Put replaces a message's vector.
  virtual Status PutMessageVectors(std::string_view model, const std::vector<MessageVector>& vectors) = 0;
  // The relationship's indexed messages (user/assistant, finished, not forgotten) with no
  // vector for `model` yet, oldest first, at most `limit` (1..500).
  virtual Result<std::vector<Message>> MessagesWithoutVector(Id user_id, Id character_id,
                                                             std::string_view model, int limit) = 0;
  // Vectors for `model` of the relationship's messages that are not forgotten, with
  // message_id > after_id, in id order.
  virtual Result<std::vector<MessageVector>> RelationshipVectors(Id user_id, Id character_id,
                                                                 std::string_view model,
                                                                 Id after_id) = 0;
  // Number of the relationship's messages (every conversation, every branch).
  virtual Result<int64_t> CountRelationshipMessages(Id user_id, Id character_id) = 0;

  // ---- swipes
  virtual Result<Swipe> RecordSwipe(Swipe s) = 0;  // AlreadyExists when already swiped
  virtual Result<std::optional<Swipe>> LastSwipe(Id user_id) = 0;  // newest not undone
  virtual Status UndoSwipe(Id swipe_id) = 0;
  virtual Result<std::vector<Swipe>> AllSwipes() = 0;  // not undone, oldest first
  virtual Result<std::vector<Swipe>> UserSwipes(Id user_id) = 0;

  // ---- reports (the moderation queue)
  // Assigns id and created_at; the report starts open (status, resolved_by and
  // resolved_at are ignored). The target is not checked to exist. AlreadyExists when the
  // reporter already has an OPEN report on the same target; NotFound for an unknown
  // reporter.
  virtual Result<Report> CreateReport(Report report) = 0;
  virtual Result<Report> GetReport(Id id) = 0;
  // Newest first, with id < before_id (kNoId = from the newest); only those with
  // `status` when given. limit: 1..200.
  virtual Result<std::vector<Report>> ListReports(std::optional<ReportStatus> status, int limit,
                                                  Id before_id) = 0;
  // Closes an open report as kDismissed or kActioned, recording who and when.
  // InvalidArgument for kOpen; NotFound when unknown; Conflict when it is not open.
  virtual Status ResolveReport(Id id, ReportStatus status, Id moderator_id) = 0;
  virtual Result<int64_t> CountOpenReports() = 0;

  // ---- audit log (append-only)
  // Assigns id and created_at.
  virtual Result<AuditEntry> AppendAudit(AuditEntry entry) = 0;
  // Newest first, with id < before_id (kNoId = from the newest). limit: 1..200.
  virtual Result<std::vector<AuditEntry>> ListAudit(int limit, Id before_id) = 0;

  // ---- quotas
  // See UserUsage. NotFound when the user is unknown.
  virtual Result<UserUsage> GetUserUsage(Id user_id) = 0;
  // Messages with role "user" in the user's conversations created at or after since_ms
  // (for rate limits; an index keeps it cheap).
  virtual Result<int64_t> CountUserMessagesSince(Id user_id, int64_t since_ms) = 0;

  // ---- operator settings (a small key/value table, e.g. the content policy JSON)
  // nullopt when the key was never put.
  virtual Result<std::optional<std::string>> GetSetting(std::string_view key) = 0;
  // Inserts or replaces. InvalidArgument for an empty key.
  virtual Status PutSetting(std::string_view key, std::string_view value) = 0;

  // ---- maintenance
  virtual Result<std::string> IntegrityCheck() = 0;  // "ok" when healthy
  virtual TimingStats Timings() const = 0;
  virtual void Close() = 0;  // flushes; further calls fail
};

// Opens the SQLite store at `path` (created and migrated when missing).
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace tokki::store
