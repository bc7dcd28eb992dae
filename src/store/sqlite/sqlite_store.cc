// SqliteStore: opening, migrations, the connection pool and maintenance. See
// sqlite_store.h.
#include "store/sqlite/sqlite_store.h"

#include <algorithm>

#include "store/sqlite/schema.h"

namespace tokki::store::sqlite {

Status SqliteStore::Init() {
  auto w = Connection::Open(path_, false);
  if (!w.ok()) return w.status();
  MutexLock lock(&write_mu_);
  writer_ = std::move(w).value();
  TOKKI_RETURN_IF_ERROR(writer_->Exec("PRAGMA journal_mode=WAL;"));
  TOKKI_RETURN_IF_ERROR(Migrate());
  return Status::Ok();
}

Result<std::string> SqliteStore::IntegrityCheck() {
  WriterLease w(this);
  TOKKI_ASSIGN_OR_RETURN(Stmt s, w.conn->Prepare("PRAGMA integrity_check"));
  std::string out;
  for (;;) {
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    if (!out.empty()) out += "\n";
    out += s.Text(0);
  }
  return out;
}

TimingStats SqliteStore::Timings() const {
  return TimingStats{n_queries_.load(), total_us_.load()};
}

void SqliteStore::Close() {
  MutexLock lock(&write_mu_);
  MutexLock lock2(&pool_mu_);
  if (writer_) {
    static_cast<void>(writer_->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));  // best effort at close
    writer_.reset();
  }
  readers_.clear();
  closed_ = true;
}

SqliteStore::ReaderLease SqliteStore::Reader() {
  {
    MutexLock lock(&pool_mu_);
    if (!readers_.empty()) {
      auto c = std::move(readers_.back());
      readers_.pop_back();
      Connection* raw = c.get();
      return ReaderLease{this, std::move(c), raw, {}};
    }
  }
  auto c = Connection::Open(path_, false);
  if (!c.ok()) {
    // Fall back to the writer connection (serialised) rather than failing the read.
    return BorrowWriter();
  }
  Connection* raw = c->get();
  return ReaderLease{this, std::move(c).value(), raw, {}};
}

// The lock moves into the lease and is released when the lease ends: the analysis
// cannot follow a lock that leaves the function that took it.
SqliteStore::ReaderLease SqliteStore::BorrowWriter() TOKKI_EXCLUDES(write_mu_) TOKKI_NO_THREAD_SAFETY_ANALYSIS {
  std::unique_lock<Mutex> lock(write_mu_);
  return ReaderLease{this, nullptr, writer_.get(), std::move(lock)};
}

Status SqliteStore::Migrate() {
  TOKKI_ASSIGN_OR_RETURN(Stmt v, writer_->Prepare("PRAGMA user_version"));
  TOKKI_ASSIGN_OR_RETURN(bool row, v.Step());
  int64_t version = row ? v.Int(0) : 0;
  constexpr int64_t kLatest = std::size(sqlite::kMigrations);
  if (version > kLatest)
    return Status::Corruption("database schema version " + std::to_string(version) +
                              " is newer than this build supports (" +
                              std::to_string(kLatest) + ")");
  for (int64_t n = version; n < kLatest; ++n) {
    Transaction tx(writer_.get());
    TOKKI_RETURN_IF_ERROR(tx.status());
    TOKKI_RETURN_IF_ERROR(writer_->Exec(sqlite::kMigrations[n]).WithContext(
        "migration " + std::to_string(n + 1)));
    if (n + 1 == 3) TOKKI_RETURN_IF_ERROR(BackfillMessageIndex(writer_.get()));
    TOKKI_RETURN_IF_ERROR(writer_->Exec("PRAGMA user_version = " + std::to_string(n + 1)));
    TOKKI_RETURN_IF_ERROR(tx.Commit());
  }
  return Status::Ok();
}

Status SqliteStore::IndexCharacter(Connection* conn, const Character& c, bool replace) {
  if (replace) {
    TOKKI_ASSIGN_OR_RETURN(Stmt d, conn->Prepare("DELETE FROM characters_fts WHERE rowid = ?"));
    d.Bind(1, c.id);
    TOKKI_RETURN_IF_ERROR(d.Run());
  }
  TOKKI_ASSIGN_OR_RETURN(Stmt s, conn->Prepare(
      "INSERT INTO characters_fts(rowid, name, tagline, description, tags) VALUES(?,?,?,?,?)"));
  std::string tags;
  for (auto& t : c.tags) tags += t + " ";
  s.Bind(1, c.id).Bind(2, c.name).Bind(3, c.tagline).Bind(4, c.description).Bind(5, tags);
  return s.Run();
}

Result<Character> SqliteStore::GetCharacterOn(Connection* conn, Id id) {
  TOKKI_ASSIGN_OR_RETURN(Stmt s, conn->Prepare(std::string("SELECT ") + kCharacterColumns +
                                               " FROM characters WHERE id = ?"));
  s.Bind(1, id);
  TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("character not found");
  return ReadCharacter(s);
}

// Runs a write statement with one id parameter.
Status SqliteStore::ExecBound(Connection* conn, const std::string& sql, Id id) {
  TOKKI_ASSIGN_OR_RETURN(Stmt s, conn->Prepare(sql));
  s.Bind(1, id);
  return s.Run();
}

Status SqliteStore::DeleteSessionsOf(Connection* conn, Id user_id) {
  return ExecBound(conn, "DELETE FROM sessions WHERE user_id = ?", user_id);
}

Result<std::vector<Swipe>> SqliteStore::QuerySwipes(const char* where, Id user_id) {
  Timer t(this);
  auto r = Reader();
  TOKKI_ASSIGN_OR_RETURN(Stmt s, r.conn->Prepare(
      std::string("SELECT id, user_id, character_id, action, undone, created_at FROM swipes "
                  "WHERE ") + where + " ORDER BY id"));
  if (user_id) s.Bind(1, user_id);
  std::vector<Swipe> out;
  for (;;) {
    TOKKI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadSwipe(s));
  }
  return out;
}

}  // namespace tokki::store::sqlite

namespace tokki::store {

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  auto store = std::make_unique<sqlite::SqliteStore>(path);
  TOKKI_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tokki::store
