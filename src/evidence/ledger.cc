// The ledger's file, its schema and its plain operations: Open, Append, Get, List, Head, Export.
// Verify is in ledger_verify.cc, retention in ledger_prune.cc.
#include "evidence/ledger.h"

#include <set>
#include <utility>

#include "evidence/record_rules.h"
#include "sqlite/sqlite_db.h"

namespace tessera::evidence {
namespace {

constexpr std::int64_t kSchemaVersion = 1;
constexpr std::string_view kFormatName = "tessera-evidence";

// Schema version 1; the format is described in ledger.h.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE ledger_schema(format TEXT NOT NULL, version INTEGER NOT NULL);
INSERT INTO ledger_schema VALUES('tessera-evidence', 1);
CREATE TABLE records(
  seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,
  body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX records_by_kind ON records(kind, seq);
CREATE INDEX records_by_subject ON records(subject, seq);
CREATE TABLE meta(
  id INTEGER PRIMARY KEY CHECK(id = 1), head_seq INTEGER NOT NULL, head_hash TEXT NOT NULL,
  retention INTEGER NOT NULL);
INSERT INTO meta VALUES(1, 0, hex(zeroblob(32)), 0);  -- 64 '0': no record yet
CREATE TRIGGER records_follow_head BEFORE INSERT ON records
  WHEN NEW.seq IS NOT (SELECT head_seq + 1 FROM meta WHERE id = 1)
    OR NEW.prev_hash IS NOT (SELECT head_hash FROM meta WHERE id = 1)
  BEGIN SELECT RAISE(ABORT, 'evidence: a record must follow the head'); END;
CREATE TRIGGER records_move_head AFTER INSERT ON records
  BEGIN UPDATE meta SET head_seq = NEW.seq, head_hash = NEW.hash WHERE id = 1; END;
CREATE TRIGGER records_no_update BEFORE UPDATE ON records
  BEGIN SELECT RAISE(ABORT, 'evidence: records are append-only'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
  WHEN (SELECT retention FROM meta WHERE id = 1) IS NOT 1
  BEGIN SELECT RAISE(ABORT, 'evidence: records are removed only by retention'); END;
CREATE TRIGGER meta_head_forward BEFORE UPDATE OF head_seq ON meta
  WHEN NEW.head_seq < OLD.head_seq
  BEGIN SELECT RAISE(ABORT, 'evidence: the head never moves back'); END;
CREATE TRIGGER meta_keep BEFORE DELETE ON meta
  BEGIN SELECT RAISE(ABORT, 'evidence: the meta row is permanent'); END;
)sql";

// Resets a cached statement when it goes out of scope, whatever path the caller took.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite::Stmt& stmt) : stmt_(stmt) {}
  ~ResetOnExit() { stmt_.Reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite::Stmt& stmt_;
};

// "a, b, c" for an error message: the first eight names, quoted when they are not plain.
std::string Join(const std::set<std::string>& names) {
  std::string out;
  int shown = 0;
  for (const std::string& n : names) {
    if (shown++ == 8) return out + ", ...";
    const bool plain =
        n.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
    out += (out.empty() ? "" : ", ") + (plain ? n : QuoteForMessage(n));
  }
  return out;
}

// Creates the tables in an empty file, or checks that the file holds a ledger this code reads.
Status PrepareSchema(sqlite::Db& db, const std::string& path, bool read_only) {
  TS_ASSIGN_OR_RETURN(sqlite::Stmt tables,
                      db.Prepare("SELECT name FROM sqlite_master WHERE type='table'"));
  std::set<std::string> names;
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, tables.Step());
    if (!row) break;
    names.insert(tables.Text(0));
  }
  if (names.empty() && read_only) {
    return Status(StatusCode::kNotFound, "evidence: ledger " + path + " holds no records yet");
  }
  if (names.empty()) return db.Exec(kSchemaV1);
  if (names.count("ledger_schema") == 0) {
    return Status(StatusCode::kIntegrity,
                  "evidence: ledger " + path +
                      " is a SQLite database of another kind (tables: " + Join(names) + ")");
  }
  TS_ASSIGN_OR_RETURN(sqlite::Stmt version,
                      db.Prepare("SELECT format, version FROM ledger_schema"));
  TS_ASSIGN_OR_RETURN(bool row, version.Step());
  if (!row || version.Text(0) != kFormatName) {
    return Status(StatusCode::kIntegrity, "evidence: ledger " + path + " has no '" +
                                              std::string(kFormatName) +
                                              "' row in its ledger_schema table");
  }
  const std::int64_t found = version.Int(1);
  if (found > kSchemaVersion) {
    return Status(StatusCode::kUnsupported,
                  "evidence: ledger " + path + " has schema version " + std::to_string(found) +
                      "; this runtime reads version " + std::to_string(kSchemaVersion));
  }
  if (found < 1) {
    return Status(
        StatusCode::kIntegrity,
        "evidence: ledger " + path + " has the invalid schema version " + std::to_string(found));
  }
  // Version 1 is the first: nothing to migrate yet. Its tables must all be there.
  for (const char* table : {"records", "meta"}) {
    if (names.count(table) == 0) {
      return Status(StatusCode::kIntegrity,
                    "evidence: ledger " + path + " has no " + table + " table");
    }
  }
  return Status();
}

}  // namespace

Ledger::Ledger(std::unique_ptr<sqlite::Db> db, std::string path, const base::Clock* clock)
    : db_(std::move(db)), path_(std::move(path)), clock_(clock) {}

Ledger::~Ledger() = default;

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& path, LedgerOptions options) {
  sqlite::DbOptions db_options;
  db_options.synchronous =
      options.sync == SyncMode::kFull ? sqlite::Synchronous::kFull : sqlite::Synchronous::kNormal;
  db_options.busy_timeout_ms = options.busy_timeout_ms;
  db_options.read_only = options.read_only;
  TS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Db> db,
                      sqlite::Db::Open(path, "evidence: ledger " + path, db_options));
  {
    // The write lock, so that two processes creating the same new ledger do not race; a
    // read-only ledger is checked under a read snapshot.
    TS_ASSIGN_OR_RETURN(sqlite::Transaction tx,
                        sqlite::Transaction::Begin(*db, options.read_only
                                                            ? sqlite::TxMode::kDeferred
                                                            : sqlite::TxMode::kImmediate));
    TS_RETURN_IF_ERROR(PrepareSchema(*db, path, options.read_only));
    TS_RETURN_IF_ERROR(tx.Commit());
  }
  const base::Clock* clock = options.clock != nullptr ? options.clock : &base::SystemClock();
  return std::unique_ptr<Ledger>(new Ledger(std::move(db), path, clock));
}

Result<Record> Ledger::Append(std::string_view kind, std::string_view subject,
                              std::string_view body_json) {
  // Validation and canonicalisation happen before the lock: they are the costly part.
  TS_RETURN_IF_ERROR(ValidateKind(kind, /*allow_reserved=*/false));
  TS_RETURN_IF_ERROR(ValidateText("subject", subject));
  TS_ASSIGN_OR_RETURN(std::string body, CanonicalBody(body_json));
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(*db_));
  TS_ASSIGN_OR_RETURN(Record record, AppendLocked(kind, subject, std::move(body)));
  TS_RETURN_IF_ERROR(tx.Commit());
  return record;
}

Result<Record> Ledger::AppendLocked(std::string_view kind, std::string_view subject,
                                    std::string body) {
  if (read_head_ == nullptr) {
    TS_ASSIGN_OR_RETURN(sqlite::Stmt head,
                        db_->Prepare("SELECT head_seq, head_hash FROM meta WHERE id = 1"));
    TS_ASSIGN_OR_RETURN(sqlite::Stmt insert,
                        db_->Prepare("INSERT INTO records VALUES(?, ?, ?, ?, ?, ?, ?)"));
    read_head_ = std::make_unique<sqlite::Stmt>(std::move(head));
    insert_ = std::make_unique<sqlite::Stmt>(std::move(insert));
  }
  Record r;
  {
    ResetOnExit reset(*read_head_);  // a statement left mid-way would hold its read snapshot
    TS_ASSIGN_OR_RETURN(bool row, read_head_->Step());
    if (!row) {
      return Status(StatusCode::kIntegrity,
                    "evidence: ledger " + path_ + " has lost its meta row (the head)");
    }
    r.seq = read_head_->Int(0) + 1;
    r.prev_hash = read_head_->Text(1);
  }
  r.at_ms = clock_->NowUnixMillis();
  r.kind = std::string(kind);
  r.subject = std::string(subject);
  r.body = std::move(body);
  r.hash = RecordHash(r);
  ResetOnExit reset(*insert_);
  insert_->Bind(1, r.seq).Bind(2, r.at_ms).Bind(3, r.kind).Bind(4, r.subject).Bind(5, r.body);
  insert_->Bind(6, r.prev_hash).Bind(7, r.hash);
  TS_RETURN_IF_ERROR(insert_->Run());
  return r;
}

Result<Record> Ledger::Get(std::int64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  // One snapshot for the record and, when it is absent, for saying why.
  TS_ASSIGN_OR_RETURN(sqlite::Transaction tx,
                      sqlite::Transaction::Begin(*db_, sqlite::TxMode::kDeferred));
  TS_ASSIGN_OR_RETURN(sqlite::Stmt get, db_->Prepare(std::string("SELECT ") + kRecordColumns +
                                                     " FROM records WHERE seq = ?"));
  get.Bind(1, seq);
  TS_ASSIGN_OR_RETURN(bool row, get.Step());
  if (row) return ReadRecordRow(get);
  TS_ASSIGN_OR_RETURN(sqlite::Stmt range, db_->Prepare("SELECT min(seq), max(seq) FROM records"));
  TS_ASSIGN_OR_RETURN(bool any, range.Step());
  std::string why = "the ledger is empty";
  if (any && !range.IsNull(0)) {
    const std::int64_t lowest = range.Int(0);
    const std::int64_t newest = range.Int(1);
    if (seq >= 1 && seq < lowest) {
      why = "it was removed by retention; the oldest record is " + std::to_string(lowest);
    } else {
      why = "the ledger holds records " + std::to_string(lowest) + ".." + std::to_string(newest);
    }
  }
  return NotFound("evidence: no record " + std::to_string(seq) + " in ledger " + path_ + " (" +
                  why + ")");
}

Result<std::vector<Record>> Ledger::List(const ListFilter& filter) {
  if (filter.limit == 0 || filter.limit > kMaxListLimit) {
    return OutOfRange("evidence: list limit " + std::to_string(filter.limit) + " is outside 1.." +
                      std::to_string(kMaxListLimit));
  }
  std::string sql = std::string("SELECT ") + kRecordColumns + " FROM records WHERE seq > ?";
  if (filter.before_seq != 0) sql += " AND seq < ?";
  if (!filter.kind.empty()) sql += " AND kind = ?";
  if (!filter.subject.empty()) sql += " AND subject = ?";
  sql += filter.newest_first ? " ORDER BY seq DESC LIMIT ?" : " ORDER BY seq ASC LIMIT ?";
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(sqlite::Stmt list, db_->Prepare(sql));
  int index = 1;
  list.Bind(index++, filter.after_seq);
  if (filter.before_seq != 0) list.Bind(index++, filter.before_seq);
  if (!filter.kind.empty()) list.Bind(index++, filter.kind);
  if (!filter.subject.empty()) list.Bind(index++, filter.subject);
  list.Bind(index++, static_cast<std::int64_t>(filter.limit));
  std::vector<Record> out;
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, list.Step());
    if (!row) break;
    out.push_back(ReadRecordRow(list));
  }
  return out;
}

Result<Record> Ledger::Head() {
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(sqlite::Stmt head, db_->Prepare(std::string("SELECT ") + kRecordColumns +
                                                      " FROM records ORDER BY seq DESC LIMIT 1"));
  TS_ASSIGN_OR_RETURN(bool row, head.Step());
  if (!row) return NotFound("evidence: ledger " + path_ + " has no records");
  return ReadRecordRow(head);
}

Status Ledger::Export(std::int64_t after_seq, const std::function<Status(const Record&)>& sink) {
  std::lock_guard<std::mutex> lock(mu_);
  // One statement reads one snapshot, a row at a time.
  TS_ASSIGN_OR_RETURN(sqlite::Stmt rows, db_->Prepare(std::string("SELECT ") + kRecordColumns +
                                                      " FROM records WHERE seq > ? ORDER BY seq"));
  rows.Bind(1, after_seq);
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) return Status();
    TS_RETURN_IF_ERROR(sink(ReadRecordRow(rows)));
  }
}

}  // namespace tessera::evidence
