// tokki/store/sqlite/connection.h — a thin RAII layer over one sqlite3 connection:
// prepared-statement cache, typed binds and column reads, transactions.
//
// Thread safety: a Connection is used by one thread at a time (the store hands them out).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"
#include "core/status.h"

namespace tokki::store::sqlite {

class Stmt;

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool read_only);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without results.
  Status Exec(std::string_view sql);
  // A cached prepared statement, reset and with bindings cleared.
  // REQUIRES: the returned Stmt is done with before the next Prepare of the same SQL.
  Result<Stmt> Prepare(const std::string& sql);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  Status Error(std::string_view what) const;
  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// A borrowed cached statement; resets itself on destruction.
class Stmt {
 public:
  Stmt(Connection* conn, sqlite3_stmt* s) : conn_(conn), s_(s) {}
  Stmt(Stmt&& o) noexcept : conn_(o.conn_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (s_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }

  Stmt& Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& Bind(int i, int v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& Bind(int i, bool v) { sqlite3_bind_int64(s_, i, v ? 1 : 0); return *this; }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindNull(int i) { sqlite3_bind_null(s_, i); return *this; }
  // Ready to run again with new bindings.
  Stmt& Reset() { sqlite3_reset(s_); sqlite3_clear_bindings(s_); return *this; }
  // Binds NULL for kNoId (0), the id otherwise.
  Stmt& BindId(int i, int64_t id) { return id ? Bind(i, id) : BindNull(i); }

  // Returns true while a row is available; errors become a Status through `status`.
  Result<bool> Step();
  // Steps to completion (for writes).
  Status Run();

  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Real(int col) const { return sqlite3_column_double(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, sqlite3_column_bytes(s_, col)) : std::string();
  }
  std::string Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
    return p ? std::string(p, sqlite3_column_bytes(s_, col)) : std::string();
  }

 private:
  Connection* conn_;
  sqlite3_stmt* s_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Connection* conn);
  ~Transaction();
  Status status() const { return begin_; }
  Status Commit();

 private:
  Connection* conn_;
  Status begin_;
  bool done_ = false;
};

}  // namespace tokki::store::sqlite
