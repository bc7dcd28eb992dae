// tokki/store/sqlite/sqlite_store.h — SqliteStore, the default Store (internal: only the
// files of src/store/sqlite include it; others use OpenSqliteStore in store/store.h).
//
// One writer connection behind a mutex, a pool of reader connections (WAL lets readers
// run beside the writer). Its methods live in one file per kind of record:
//   sqlite_store.cc          opening, migrations, connections, maintenance
//   sqlite_users.cc          users and sessions
//   sqlite_characters.cc     characters, avatars, swipes
//   sqlite_conversations.cc  conversations and messages
//   sqlite_moderation.cc     reports, audit log, quotas, operator settings
//   sqlite_memory.cc         memories, summaries, the full-text index of messages
//   rows.{h,cc}              how records map to rows
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/rows.h"
#include "store/store.h"

namespace tokki::store::sqlite {

class SqliteStore final : public Store {
 public:

  // ---- core
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}
  Status Init() TOKKI_EXCLUDES(write_mu_);

  // ---- users and sessions
  Result<User> CreateUser(User u) override;
  Result<User> GetUser(Id id) override;
  Result<User> GetUserByName(std::string_view name) override;
  Status UpdateUser(const User& u) override;
  Status SetUserRole(Id user_id, Role role) override;
  Status SetUserSuspended(Id user_id, bool suspended) override;
  Result<std::vector<User>> ListUsers(std::string_view username_prefix, int limit, Id after_id) override;
  Result<int64_t> CountUsers() override;
  Status DeleteUser(Id user_id) override;
  Status CreateSession(const Session& se) override;
  Result<Session> GetSession(std::string_view token_hash) override;
  Status DeleteSession(std::string_view token_hash) override;
  Status DeleteUserSessions(Id user_id) override;

  // ---- characters
  Result<Character> CreateCharacter(Character c) override;
  Result<Character> GetCharacter(Id id) override;
  Result<Character> GetCharacterBySlug(std::string_view slug) override;
  Result<Character> UpdateCharacter(const Character& in) override;
  Status DeleteCharacter(Id id) override;
  Status RemoveCharacter(Id id) override;
  Status SetCharacterHidden(Id id, bool hidden) override;
  Result<CharacterPage> ListCharacters(const CharacterQuery& q) override;
  Result<std::vector<Character>> AllCharacters() override;
  Status SetAvatar(Id id, const Avatar& a) override;
  Result<Avatar> GetAvatar(Id id) override;
  Result<CharacterStats> GetCharacterStats(Id id) override;

  // ---- conversations
  Result<Conversation> CreateConversation(Conversation c) override;
  Result<Conversation> GetConversation(Id id) override;
  Result<std::optional<Conversation>> FindConversation(Id user_id, Id character_id) override;
  Result<std::vector<Conversation>> ListConversations(Id user_id) override;
  Status DeleteConversation(Id id) override;

  // ---- messages
  Result<Message> AppendMessage(Message m) override;
  Result<Message> GetMessage(Id id) override;
  Result<std::vector<Message>> ListMessages(Id conversation_id) override;
  Result<std::optional<Message>> FindMessageByClientId(Id conversation_id, std::string_view client_id) override;
  Status UpdateMessage(const Message& m) override;
  Status SelectMessage(Id id) override;
  Status DeleteMessage(Id id) override;
  Result<int> StopInterruptedMessages() override;
  Result<std::vector<Message>> MessagesAround(Id message_id, int n_before, int n_after) override;

  // ---- memory (sqlite_memory.cc)
  Result<Memory> AddMemory(Memory m, int max_items) override;
  Result<Memory> GetMemory(Id id) override;
  Result<std::vector<Memory>> ListMemories(Id user_id, Id character_id) override;
  Status UpdateMemory(Id id, std::string_view content) override;
  Status DeleteMemory(Id id) override;
  Status ReorderMemories(Id user_id, Id character_id, const std::vector<Id>& ids) override;
  Result<MemorySummary> AddSummary(MemorySummary s) override;
  Result<std::optional<MemorySummary>> LatestSummary(Id user_id, Id character_id) override;
  Status ForgetMessage(Id message_id) override;
  Result<std::vector<int>> CountMessagesWithTerms(Id user_id, Id character_id,
                                                  const std::vector<std::string>& terms,
                                                  int cap) override;
  Result<std::vector<RecallHit>> SearchMessages(Id user_id, Id character_id,
                                                const std::vector<std::string>& terms,
                                                const std::vector<Id>& exclude,
                                                int limit) override;
  Status PutMessageVectors(std::string_view model, const std::vector<MessageVector>& vectors) override;
  Result<std::vector<Message>> MessagesWithoutVector(Id user_id, Id character_id,
                                                     std::string_view model, int limit) override;
  Result<std::vector<MessageVector>> RelationshipVectors(Id user_id, Id character_id,
                                                         std::string_view model, Id after_id) override;
  Result<int64_t> CountRelationshipMessages(Id user_id, Id character_id) override;

  // ---- swipes
  Result<Swipe> RecordSwipe(Swipe sw) override;
  Result<std::optional<Swipe>> LastSwipe(Id user_id) override;
  Status UndoSwipe(Id swipe_id) override;
  Result<std::vector<Swipe>> UserSwipes(Id user_id) override;

  // ---- reports
  Result<Report> CreateReport(Report rep) override;
  Result<Report> GetReport(Id id) override;
  Result<std::vector<Report>> ListReports(std::optional<ReportStatus> status, int limit, Id before_id) override;
  Status ResolveReport(Id id, ReportStatus status, Id moderator_id) override;
  Result<int64_t> CountOpenReports() override;

  // ---- audit log
  Result<AuditEntry> AppendAudit(AuditEntry e) override;
  Result<std::vector<AuditEntry>> ListAudit(int limit, Id before_id) override;

  // ---- quotas
  Result<UserUsage> GetUserUsage(Id user_id) override;
  Result<int64_t> CountUserMessagesSince(Id user_id, int64_t since_ms) override;

  // ---- operator settings
  Result<std::optional<std::string>> GetSetting(std::string_view key) override;
  Status PutSetting(std::string_view key, std::string_view value) override;

  // ---- maintenance
  Result<std::string> IntegrityCheck() override;
  TimingStats Timings() const override;
  void Close() override TOKKI_EXCLUDES(write_mu_, pool_mu_);
  ~SqliteStore() override { Close(); }

  Result<std::vector<Swipe>> AllSwipes() override { return QuerySwipes("undone = 0", kNoId); }

 private:
  struct Timer {
    explicit Timer(SqliteStore* s) : store(s), start_us(NowSteadyUs()) {}
    ~Timer() {
      store->n_queries_.fetch_add(1, std::memory_order_relaxed);
      store->total_us_.fetch_add(NowSteadyUs() - start_us, std::memory_order_relaxed);
    }
    SqliteStore* store;
    int64_t start_us;
  };

  // The writer connection, held for the lease's scope: `WriterLease w(this);`.
  class TOKKI_SCOPED_CAPABILITY WriterLease {
   public:
    explicit WriterLease(SqliteStore* store) TOKKI_ACQUIRE(store->write_mu_)
        : mu_(&store->write_mu_) {
      mu_->Lock();
      conn = store->writer_.get();
    }
    ~WriterLease() TOKKI_RELEASE() { mu_->Unlock(); }
    WriterLease(const WriterLease&) = delete;
    WriterLease& operator=(const WriterLease&) = delete;

    Connection* conn = nullptr;

   private:
    Mutex* const mu_;
  };

  // A reader connection on loan; returned to the pool on destruction.
  struct ReaderLease {
    SqliteStore* store;
    std::unique_ptr<Connection> owned;
    Connection* conn;
    std::unique_lock<Mutex> writer_lock;  // held only when borrowing the writer
    ~ReaderLease() {
      if (owned) {
        MutexLock lock(&store->pool_mu_);
        if (!store->closed_) store->readers_.push_back(std::move(owned));
      }
    }
  };

  ReaderLease Reader() TOKKI_EXCLUDES(pool_mu_, write_mu_);
  // The lock moves into the lease and is released when the lease ends: the analysis
  // cannot follow a lock that leaves the function that took it.
  ReaderLease BorrowWriter() TOKKI_EXCLUDES(write_mu_) TOKKI_NO_THREAD_SAFETY_ANALYSIS;
  Status Migrate() TOKKI_REQUIRES(write_mu_);
  Status IndexCharacter(Connection* conn, const Character& c, bool replace);
  Result<Character> GetCharacterOn(Connection* conn, Id id);
  // Runs a write statement with one id parameter.
  static Status ExecBound(Connection* conn, const std::string& sql, Id id);
  // (Re)indexes one message for SearchMessages, or takes it out when it is not to be
  // recalled (streaming, forgotten, not user/assistant). BackfillMessageIndex indexes
  // every message (after migration 3).
  static Status IndexMessage(Connection* conn, const Message& m);
  static Status BackfillMessageIndex(Connection* conn);
  static Status DeleteSessionsOf(Connection* conn, Id user_id);
  Result<std::vector<Swipe>> QuerySwipes(const char* where, Id user_id);

  template <typename BindFn>
  Result<Character> QueryCharacter(const std::string& sql, BindFn bind) {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(sql));
    bind(s);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("character not found");
    return ReadCharacter(s);
  }
  template <typename BindFn>
  Result<User> QueryUser(const std::string& sql, BindFn bind) {
    Timer t(this);
    auto r = Reader();
    TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(sql));
    bind(s);
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("user not found");
    return ReadUser(s);
  }

  const std::string path_;
  Mutex write_mu_;  // before pool_mu_ when both are taken (Close)
  std::unique_ptr<Connection> writer_ TOKKI_GUARDED_BY(write_mu_);
  Mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> readers_ TOKKI_GUARDED_BY(pool_mu_);
  bool closed_ TOKKI_GUARDED_BY(pool_mu_) = false;
  std::atomic<int64_t> n_queries_{0};
  std::atomic<int64_t> total_us_{0};
};

}  // namespace tokki::store::sqlite
