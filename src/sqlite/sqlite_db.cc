#include "sqlite/sqlite_db.h"

#include <sqlite3.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace tessera::sqlite {

Status Db::Error(std::string_view what, int code) const {
  const int primary = code & 0xff;
  StatusCode status_code = StatusCode::kIoError;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) status_code = StatusCode::kIntegrity;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) status_code = StatusCode::kUnavailable;
  // SQLite's message for a failed system call is generic ("disk I/O error"); the errno says what
  // a user can act on ("No space left on device", "Read-only file system").
  const int sys = db_ != nullptr ? sqlite3_system_errno(db_) : 0;
  if (primary == SQLITE_FULL || sys == ENOSPC || sys == EDQUOT) {
    status_code = StatusCode::kResourceExhausted;
  }
  std::string message = prefix_ + ": " + std::string(what) + ": " +
                        (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code));
  if (primary == SQLITE_FULL && sys == 0) {
    message += " (no space left on device)";
  } else if (sys != 0 && (primary == SQLITE_IOERR || primary == SQLITE_FULL ||
                          primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY)) {
    message += std::string(" (") + std::strerror(sys) + ")";
  }
  return Status(status_code, std::move(message));
}

namespace {

bool FileHasBytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

// A URI naming `path` ("file:/a%20b/c?immutable=1"): '%', '?' and '#' are escaped.
std::string ImmutableUri(const std::string& path) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      uri += buf;
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

}  // namespace

Result<std::unique_ptr<Db>> Db::OpenReadOnly(const std::string& path, std::string message_prefix,
                                             const DbOptions& options) {
  std::unique_ptr<Db> db(new Db());
  db->path_ = path;
  db->prefix_ = std::move(message_prefix);
  if (::access(path.c_str(), F_OK) != 0) {
    return Status(StatusCode::kNotFound, db->prefix_ + ": does not exist");
  }
  int rc = sqlite3_open_v2(path.c_str(), &db->db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_extended_result_codes(db->db_, 1);
    // Opening is lazy: the first read is what needs the WAL index.
    rc = sqlite3_exec(db->db_, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  }
  if (rc != SQLITE_OK && !FileHasBytes(path + "-wal")) {
    // No WAL to read: the file alone is the whole database, and immutable needs no -shm.
    sqlite3_close_v2(db->db_);
    db->db_ = nullptr;
    rc = sqlite3_open_v2(ImmutableUri(path).c_str(), &db->db_,
                         SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, nullptr);
  }
  if (rc != SQLITE_OK) return db->Error("open read-only", rc);
  sqlite3_busy_timeout(db->db_, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db->db_, 1);
  TS_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  return db;
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, std::string message_prefix,
                                     const DbOptions& options) {
  if (options.read_only) return OpenReadOnly(path, std::move(message_prefix), options);
  std::unique_ptr<Db> db(new Db());
  db->path_ = path;
  db->prefix_ = std::move(message_prefix);
  int rc =
      sqlite3_open_v2(path.c_str(), &db->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return db->Error("open", rc);
  sqlite3_busy_timeout(db->db_, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db->db_, 1);
  int persist = 1;  // keep -wal and -shm after the last close (see the header)
  sqlite3_file_control(db->db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  TS_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  // Two connections switching the same new file to WAL at once: SQLite answers SQLITE_BUSY at
  // once, without calling the busy handler (waiting could deadlock), and documents retrying as
  // the remedy. Retry for up to the busy timeout, 1 ms apart.
  for (int waited_ms = 0;; ++waited_ms) {
    Status wal = db->Exec("PRAGMA journal_mode=WAL");
    if (wal.ok()) break;
    if (wal.code() != StatusCode::kUnavailable || waited_ms >= options.busy_timeout_ms) return wal;
    sqlite3_sleep(1);
  }
  TS_RETURN_IF_ERROR(db->Exec(options.synchronous == Synchronous::kFull
                                  ? "PRAGMA synchronous=FULL"
                                  : "PRAGMA synchronous=NORMAL"));
  return db;
}

Db::~Db() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Db::Exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(text.substr(0, 60), rc);
  return Status();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return Error("prepare " + std::string(sql.substr(0, 60)), rc);
  return Stmt(this, stmt);
}

std::int64_t Db::Changes() const { return sqlite3_changes64(db_); }

Stmt::Stmt(Stmt&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_error_(std::move(other.bind_error_)) {}

Stmt::~Stmt() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Stmt& Stmt::Bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = db_->Error("bind", rc);
  return *this;
}

Stmt& Stmt::Bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = db_->Error("bind", rc);
  return *this;
}

Stmt& Stmt::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = db_->Error("bind", rc);
  return *this;
}

Result<bool> Stmt::Step() {
  if (!bind_error_.ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(std::string("step ") + sqlite3_sql(stmt_), rc);
}

Status Stmt::Run() {
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status();
  }
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = Status();
}

std::string Stmt::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::int64_t Stmt::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

bool Stmt::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Result<Transaction> Transaction::Begin(Db& db, TxMode mode) {
  TS_RETURN_IF_ERROR(db.Exec(mode == TxMode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Status status = db_->Exec("COMMIT");
  if (status.ok()) db_ = nullptr;
  return status;
}

}  // namespace tessera::sqlite
