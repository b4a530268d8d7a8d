// The evidence ledger: an append-only, hash-chained log of records (routing decisions,
// calibrations, retention checkpoints, ...) in one SQLite file, <home>/evidence.db. Each record
// carries the hash of the one before it, so that editing, removing, reordering or inserting a
// record is found by Verify(). The ledger does not interpret a record's body: it is an opaque
// JSON object to this layer, stored in its canonical form.
//
// Format (schema version 1)
//   ledger_schema(format TEXT, version INTEGER)  one row: ('tessera-evidence', 1). A file whose
//       tables are not these is refused (kIntegrity); a newer version is refused (kUnsupported)
//       so that an old runtime never appends to a ledger it does not understand. Version 1 is
//       the first; a later version's Open migrates older files in place.
//   records(seq INTEGER PRIMARY KEY, at_ms, kind, subject, body, prev_hash, hash)
//       indexed by (kind, seq) and (subject, seq).
//   meta(id = 1, head_seq, head_hash, retention)  one row: the newest record ever appended
//       (0 and 64 '0' when none) and the retention flag.
//   Triggers: an UPDATE of a record is refused; a DELETE is refused unless meta.retention is 1,
//   which only a prune sets and clears inside its own transaction (so it is never 1 after a
//   commit or a crash); an INSERT is refused unless seq = head_seq + 1 and prev_hash =
//   head_hash, and it moves the head in the same transaction; the head never moves back and the
//   meta row cannot be deleted. These refuse mistakes; they are not a defence (see below).
//
// The hash rule
//   hash = lowercase hex SHA-256 of the UTF-8 bytes
//     "tessera-evidence-v1\n" seq "\n" at_ms "\n" kind "\n" subject "\n" prev_hash "\n" body
//   with seq and at_ms in decimal (at_ms may be negative), body the RFC 8785 canonical JSON
//   text (package/canonical_json.h). No field can contain a newline (kind and subject refuse
//   control characters, canonical JSON escapes them), so the text is unambiguous. prev_hash is
//   the hash of record seq-1, 64 '0' for record 1.
//
// Retention
//   PruneBefore/PruneOlderThan remove the oldest records (always a prefix, never the newest
//   record) and append, in the same transaction, a record of kind "checkpoint" whose body is
//     {"first_removed_seq","last_removed_seq","removed","last_removed_hash","reason"}.
//   Verify accepts a chain whose lowest record L > 1 has prev_hash equal to the
//   last_removed_hash of a checkpoint in the ledger whose last_removed_seq is L-1. A prune first
//   verifies the whole chain and refuses (kIntegrity) to remove records from a broken one, so
//   retention cannot launder an edit. Kind "checkpoint" is reserved: Append refuses it. A prune
//   holds the write lock while it verifies (about 5 us per record), so appenders wait for it.
//
// Durability
//   SQLite in WAL mode; every append is one transaction (BEGIN IMMEDIATE ... COMMIT), so a
//   process killed at any instant (kill -9) leaves the ledger with or without the record, never
//   half of it, and the chain verifies. SyncMode::kNormal (synchronous=NORMAL, the default): no
//   fsync per append; a committed append survives the process's crash but the last appends may
//   be lost (never torn) on power loss or an OS crash; the WAL is fsynced at each checkpoint of
//   the WAL into the database. SyncMode::kFull (synchronous=FULL): the WAL is fsynced at every
//   commit, so an append that returned survives power loss, at the cost of one fsync each.
//
// Threat model
//   Verify detects, and names the first bad seq: an edited record (its hash no longer matches
//   its fields), a record whose hash was recomputed after an edit (the next record's prev_hash
//   no longer matches; reported at that next record), removed records in the middle or at the
//   start without a checkpoint covering them, the newest records removed (meta names a head
//   that is not the last record), records reordered (seq is hashed), a record inserted past the
//   head or with a forged hash. It does NOT detect a writer with write access to the file who
//   rewrites the chain consistently from some record onwards (recomputing every later hash and
//   the head) -- in particular one who removes the newest records and moves the head back to
//   match -- nor the loss of the whole file: the chain proves internal consistency, not
//   authorship. Keeping a copy of the head's hash elsewhere (signed, or on another machine) would
//   close that gap; this layer does not do it.
//
// Ownership, thread and process safety
//   A Ledger owns one SQLite connection, guarded by a mutex: its methods may be called from several
//   threads (they run one at a time). Several Ledger objects, in one process or several, may
//   use the same file at once: appends serialise on SQLite's write lock, taken before the head
//   is read, so the chain never forks or skips a seq; a writer that waits longer than the busy
//   timeout gets kUnavailable. Reads (Get, List, Verify, Export) see one committed snapshot and
//   do not block appenders of other connections. The Export sink runs with the mutex held and
//   must not call the same Ledger.
#ifndef TESSERA_EVIDENCE_LEDGER_H_
#define TESSERA_EVIDENCE_LEDGER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "tessera/status.h"

namespace tessera::sqlite {
class Db;
class Stmt;
}  // namespace tessera::sqlite

namespace tessera::evidence {

// Limits on a record's fields, checked by Append (and ParseRecordJsonLine).
inline constexpr std::size_t kMaxKindBytes = 64;       // [a-z][a-z0-9_.-]{0,63}
inline constexpr std::size_t kMaxSubjectBytes = 512;   // UTF-8 without control characters
inline constexpr std::size_t kMaxBodyBytes = 1 << 20;  // the text given and the canonical text
inline constexpr std::size_t kMaxBodyDepth = 64;       // nesting of the body's arrays and objects
inline constexpr std::size_t kMaxListLimit = 100000;   // ListFilter::limit
inline constexpr std::string_view kCheckpointKind = "checkpoint";
inline constexpr std::string_view kHashDomain = "tessera-evidence-v1\n";

// The ledger of a Tessera home directory: <home>/evidence.db.
std::string LedgerPath(const std::string& home);

enum class SyncMode : std::uint8_t {
  kNormal,  // WAL, synchronous=NORMAL: durable against a process crash, not power loss
  kFull,    // WAL, synchronous=FULL: one fsync per append, durable against power loss
};

struct LedgerOptions {
  const base::Clock* clock = nullptr;  // the time of each record; null: base::SystemClock()
  SyncMode sync = SyncMode::kNormal;
  int busy_timeout_ms = 10000;  // how long an append waits for another writer: then kUnavailable
  // Read-only: an existing ledger is read (list, show, verify, export) without creating or
  // writing anything, on a read-only mount or a full disk; Append and Prune fail.
  bool read_only = false;
};

struct Record {
  std::int64_t seq = 0;    // 1, 2, ... never reused; no gaps except a pruned prefix
  std::int64_t at_ms = 0;  // Unix ms from the ledger's clock when appended
  std::string kind;        // [a-z][a-z0-9_.-]{0,63}: "decision", "calibration", "checkpoint"
  std::string subject;     // 0..512 bytes of UTF-8 without control characters
  std::string body;        // RFC 8785 canonical JSON text of a JSON object
  std::string prev_hash;   // hex SHA-256 of record seq-1; 64 '0' for record 1
  std::string hash;        // RecordHash(*this)
};

// The hash rule above, over the record's fields (its `hash` is ignored).
std::string RecordHash(const Record& r);

struct ListFilter {
  std::string kind;             // empty: any
  std::string subject;          // empty: any
  std::int64_t after_seq = 0;   // only seq > after_seq
  std::int64_t before_seq = 0;  // only seq < before_seq; 0: no bound
  std::size_t limit = 100;      // 1..kMaxListLimit records at most
  bool newest_first = true;
};

// The outcome of Verify. A broken chain is ok=false with the FIRST bad seq: the record whose
// own fields or link fail, or, for missing records, the first missing seq.
struct VerifyReport {
  bool ok = true;
  std::int64_t records = 0;    // records read
  std::int64_t first_seq = 0;  // the lowest and highest seq present (0 when empty)
  std::int64_t last_seq = 0;
  std::int64_t bad_seq = 0;  // 0 when ok
  std::string problem;       // "record 17: hash does not match its contents (edited?)"
};

struct PruneResult {
  std::int64_t removed = 0;  // 0: nothing was old enough, and nothing was appended
  Record checkpoint;         // the checkpoint appended (seq 0 when removed is 0)
};

class Ledger {
 public:
  // Opens the ledger at `path`, creating the file and its tables when missing (the directory
  // must exist). A file that is not SQLite, or SQLite with other tables, is kIntegrity naming
  // the path; a newer schema version is kUnsupported.
  static Result<std::unique_ptr<Ledger>> Open(const std::string& path, LedgerOptions options = {});
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Appends one record and returns it (seq, time and hashes filled). Refuses, naming the field
  // and the limit: a kind outside [a-z][a-z0-9_.-]{0,63} or the reserved "checkpoint"
  // (kInvalidArgument); a subject over 512 bytes or a body over 1 MiB (kOutOfRange); a subject
  // or body that is not UTF-8 (kInvalidUtf8); a subject with a control character
  // (kInvalidArgument); a body that is not JSON (kMalformed), not an object (kInvalidArgument),
  // has a duplicate name (kDuplicate), nests deeper than 64 or holds a number canonical JSON
  // cannot represent (kOutOfRange). Another writer holding the lock past the busy timeout:
  // kUnavailable.
  Result<Record> Append(std::string_view kind, std::string_view subject,
                        std::string_view body_json);

  // The record `seq`; kNotFound naming the seq (and saying so when retention removed it).
  Result<Record> Get(std::int64_t seq);
  // Records matching every set field of `filter`, at most filter.limit of them.
  Result<std::vector<Record>> List(const ListFilter& filter);
  // The newest record; kNotFound when the ledger is empty.
  Result<Record> Head();
  // Reads the whole chain once, streaming (memory does not grow with the ledger), and checks
  // every hash, every prev link, seq continuity (a gap only for a checkpoint-covered prefix)
  // and the head. A broken chain is an ok=false report, not an error; I/O problems are errors.
  Result<VerifyReport> Verify();
  // Retention: removes the records with seq < `seq` (never the newest record), then appends a
  // checkpoint naming them, in one transaction. `reason` (subject rules; empty: a default) goes
  // into the checkpoint's body. Refuses (kIntegrity) when the chain does not verify; seq < 1
  // is kInvalidArgument.
  Result<PruneResult> PruneBefore(std::int64_t seq, std::string_view reason = {});
  // Removes the oldest records whose at_ms < `at_ms`: the longest prefix of records all older
  // than that (a clock that went backwards cannot make a hole), never the newest record.
  Result<PruneResult> PruneOlderThan(std::int64_t at_ms, std::string_view reason = {});
  // Calls `sink` with each record of seq > after_seq, oldest first, from one snapshot, one row
  // in memory at a time. Stops at the first error of `sink` and returns it.
  Status Export(std::int64_t after_seq, const std::function<Status(const Record&)>& sink);

  const std::string& path() const { return path_; }

 private:
  Ledger(std::unique_ptr<sqlite::Db> db, std::string path, const base::Clock* clock);
  // The bodies of the public methods, run with mu_ held (and, for the writers, inside a write
  // transaction the caller opened).
  Result<Record> AppendLocked(std::string_view kind, std::string_view subject, std::string body);
  Result<VerifyReport> VerifyLocked();
  // Removes the prefix below `bound` (a seq, or with `by_time` an at_ms) and appends the
  // checkpoint, in one write transaction.
  Result<PruneResult> PruneLocked(bool by_time, std::int64_t bound, std::string reason);

  std::mutex mu_;  // guards db_ and the statements (one connection, one thread at a time)
  std::unique_ptr<sqlite::Db> db_;
  // The append's statements, prepared once (an INSERT compiles the triggers too). Declared
  // after db_, so destroyed before it.
  std::unique_ptr<sqlite::Stmt> read_head_;
  std::unique_ptr<sqlite::Stmt> insert_;
  const std::string path_;
  const base::Clock* const clock_;
};

// One record as one line of JSON (no newline at the end), members in this order:
//   {"seq":N,"at_ms":N,"kind":"...","subject":"...","body":{...},"prev_hash":"...","hash":"..."}
// The body is embedded as JSON (its canonical text), not as a string.
std::string RecordJsonLine(const Record& r);
// The inverse: exactly those seven members, each field under Append's rules, hashes as 64
// lowercase hex, seq >= 1. The body is stored canonical. The hash is NOT checked against the
// fields: compare it with RecordHash() to authenticate a line.
Result<Record> ParseRecordJsonLine(std::string_view line);

}  // namespace tessera::evidence

#endif  // TESSERA_EVIDENCE_LEDGER_H_
