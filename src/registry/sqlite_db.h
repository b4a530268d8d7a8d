// A thin owner of a SQLite connection and its prepared statements: the only file that includes
// <sqlite3.h>. Errors map to Status: a corrupt or foreign database file is kIntegrity, "database
// is locked" past the busy timeout kUnavailable, anything else kIoError; messages read
// "registry: index <path>: <what> : <sqlite's message>".
//
// Thread safety: one Db per thread (SQLite's serialized mode is not relied on).
#ifndef TESSERA_REGISTRY_SQLITE_DB_H_
#define TESSERA_REGISTRY_SQLITE_DB_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tessera::registry {

class Db;

class Stmt {
 public:
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  // Parameters are 1-based, as in SQLite.
  Stmt& Bind(int index, std::string_view text);
  Stmt& Bind(int index, std::int64_t value);
  Stmt& BindNull(int index);
  // Steps once: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, ignoring rows.
  Status Run();
  std::string Text(int column) const;  // 0-based, as in SQLite
  std::int64_t Int(int column) const;
  bool IsNull(int column) const;

 private:
  friend class Db;
  Stmt(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Db* db_;
  sqlite3_stmt* stmt_;
  Status bind_error_;
};

class Db {
 public:
  // Opens (creating if missing) the database file with foreign keys on, WAL journal,
  // synchronous=FULL and a busy timeout.
  static Result<std::unique_ptr<Db>> Open(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status Exec(std::string_view sql);
  Result<Stmt> Prepare(std::string_view sql);
  const std::string& path() const { return path_; }

  // The Status of the connection's last error, with `what` in the message.
  Status Error(std::string_view what, int code) const;

 private:
  Db() = default;
  sqlite3* db_ = nullptr;
  std::string path_;
};

// BEGIN IMMEDIATE (taking SQLite's write lock at once); rolled back unless Commit() succeeds.
class Transaction {
 public:
  static Result<Transaction> Begin(Db& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
};

}  // namespace tessera::registry

#endif  // TESSERA_REGISTRY_SQLITE_DB_H_
