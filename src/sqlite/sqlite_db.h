// A thin owner of a SQLite connection and its prepared statements, shared by the registry's index
// and the evidence ledger: the only file that includes <sqlite3.h>.
//
// Errors map to Status: a corrupt or foreign database file is kIntegrity, "database is locked"
// past the busy timeout kUnavailable, a full disk kResourceExhausted, anything else kIoError.
// Messages read "<prefix>: <what>: <sqlite's message>", where the owner chooses the prefix when
// it opens the file ("registry: index /home/u/.local/share/tessera/registry.db").
//
// Ownership: a Db owns its connection; a Stmt borrows its Db and must not outlive it; a
// Transaction borrows its Db and rolls back on destruction unless committed.
// Thread safety: one Db per thread, or the owner serialises calls (SQLite's serialized mode is
// not relied on: connections are opened NOMUTEX). Several Db objects, in one process or many, may
// use the same file at the same time: SQLite's locks serialise their writers.
#ifndef TESSERA_SQLITE_SQLITE_DB_H_
#define TESSERA_SQLITE_SQLITE_DB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tessera/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tessera::sqlite {

class Db;

class Stmt {
 public:
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  // Parameters are 1-based, as in SQLite. A failed bind is reported by the next Step().
  Stmt& Bind(int index, std::string_view text);
  Stmt& Bind(int index, std::int64_t value);
  Stmt& BindNull(int index);
  // Steps once: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, ignoring rows.
  Status Run();
  // Makes the statement ready to run again, with every parameter unbound (NULL).
  void Reset();
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

// PRAGMA synchronous in WAL mode. kNormal: a commit survives the process's crash (kill -9) but
// the last commits may be lost, never torn, on power loss or an OS crash; no fsync per commit.
// kFull: the WAL is fsynced at every commit, so a commit also survives power loss.
enum class Synchronous : std::uint8_t { kNormal, kFull };

struct DbOptions {
  Synchronous synchronous = Synchronous::kFull;
  // Read-only: never creates the file, changes its journal or writes to it. Works on a store
  // mounted read-only and on a full disk (see Db::Open).
  bool read_only = false;
  // How long a statement waits for another connection's lock before failing with kUnavailable.
  int busy_timeout_ms = 30000;
};

class Db {
 public:
  // Opens (creating if missing) the database file with foreign keys on, the WAL journal, the
  // options' synchronous mode and busy timeout. `message_prefix` starts every error message
  // ("registry: index <path>"). A file that is not SQLite fails here with kIntegrity.
  //
  // The WAL and its index (-wal, -shm) persist after the last connection closes, so that a
  // read-only connection finds them and needs to create nothing: that is what lets readers work
  // on a read-only mount or a full disk. A read-only open of a file whose WAL is missing (a store
  // written before this rule) and which cannot be created opens the file as immutable: with no
  // WAL there is nothing it could miss. A missing file is kNotFound for a read-only open.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, std::string message_prefix,
                                          const DbOptions& options = {});
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status Exec(std::string_view sql);
  Result<Stmt> Prepare(std::string_view sql);
  // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
  std::int64_t Changes() const;
  const std::string& path() const { return path_; }

  // The Status of the connection's last error, with `what` in the message.
  Status Error(std::string_view what, int code) const;

 private:
  Db() = default;
  static Result<std::unique_ptr<Db>> OpenReadOnly(const std::string& path,
                                                  std::string message_prefix,
                                                  const DbOptions& options);
  sqlite3* db_ = nullptr;
  std::string path_;
  std::string prefix_;
};

// A transaction, rolled back on destruction unless Commit() succeeds. kImmediate (BEGIN
// IMMEDIATE) takes SQLite's write lock at once, waiting up to the busy timeout, so that a
// read-modify-write never fails half-way on a lock; kDeferred (BEGIN) is a read snapshot: every
// statement inside sees the same committed state.
enum class TxMode : std::uint8_t { kImmediate, kDeferred };

class Transaction {
 public:
  static Result<Transaction> Begin(Db& db, TxMode mode = TxMode::kImmediate);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
};

}  // namespace tessera::sqlite

#endif  // TESSERA_SQLITE_SQLITE_DB_H_
