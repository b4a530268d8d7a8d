// Ledger::Verify: one streaming pass over the chain (the checks are listed in ledger.h).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "evidence/ledger.h"
#include "evidence/record_rules.h"
#include "sqlite/sqlite_db.h"

namespace tessera::evidence {
namespace {

// What the checkpoints say about the records removed below the lowest remaining one.
struct PrefixCover {
  std::int64_t checkpoint_seq = 0;  // the checkpoint whose last_removed_seq is lowest-1; 0: none
  std::string last_removed_hash;    // its last_removed_hash
  std::int64_t covered_up_to = 0;   // the highest last_removed_seq below lowest-1 (0: none)
};

// Reads every checkpoint (a handful: one per prune) for the one that covers the records below
// `lowest`. A checkpoint whose body does not parse covers nothing; its own hash is checked by
// the main pass when it reaches it.
Result<PrefixCover> FindPrefixCover(sqlite::Db& db, std::int64_t lowest) {
  TS_ASSIGN_OR_RETURN(sqlite::Stmt checkpoints,
                      db.Prepare("SELECT seq, body FROM records WHERE kind = 'checkpoint' "
                                 "ORDER BY seq"));
  PrefixCover cover;
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, checkpoints.Step());
    if (!row) return cover;
    const nlohmann::json body = nlohmann::json::parse(checkpoints.Text(1), nullptr, false);
    if (!body.is_object()) continue;
    const auto last = body.find("last_removed_seq");
    const auto hash = body.find("last_removed_hash");
    if (last == body.end() || !last->is_number_integer() || hash == body.end() ||
        !hash->is_string()) {
      continue;
    }
    const std::int64_t last_removed = last->get<std::int64_t>();
    if (last_removed == lowest - 1 && cover.checkpoint_seq == 0) {
      cover.checkpoint_seq = checkpoints.Int(0);
      cover.last_removed_hash = hash->get<std::string>();
    } else if (last_removed < lowest - 1 && last_removed > cover.covered_up_to) {
      cover.covered_up_to = last_removed;
    }
  }
}

std::string Seq(std::int64_t seq) { return std::to_string(seq); }

}  // namespace

Result<VerifyReport> Ledger::Verify() {
  std::lock_guard<std::mutex> lock(mu_);
  // One snapshot: the head and the records as one commit left them.
  TS_ASSIGN_OR_RETURN(sqlite::Transaction tx,
                      sqlite::Transaction::Begin(*db_, sqlite::TxMode::kDeferred));
  TS_ASSIGN_OR_RETURN(VerifyReport report, VerifyLocked());
  TS_RETURN_IF_ERROR(tx.Commit());
  return report;
}

Result<VerifyReport> Ledger::VerifyLocked() {
  VerifyReport report;
  auto fail = [&report](std::int64_t bad_seq, std::string problem) {
    report.ok = false;
    report.bad_seq = bad_seq;
    report.problem = std::move(problem);
    return report;
  };

  TS_ASSIGN_OR_RETURN(sqlite::Stmt meta,
                      db_->Prepare("SELECT head_seq, head_hash FROM meta WHERE id = 1"));
  TS_ASSIGN_OR_RETURN(bool has_meta, meta.Step());
  if (!has_meta) return fail(1, "the meta row (the head) is gone: the ledger was edited");
  const std::int64_t head_seq = meta.Int(0);
  const std::string head_hash = meta.Text(1);

  TS_ASSIGN_OR_RETURN(sqlite::Stmt rows, db_->Prepare(std::string("SELECT ") + kRecordColumns +
                                                      " FROM records ORDER BY seq"));
  std::optional<Record> prev;  // the previous record: the only one held in memory
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    Record r = ReadRecordRow(rows);
    const std::string n = Seq(r.seq);
    if (!prev.has_value()) {
      report.first_seq = r.seq;
      if (r.seq < 1) return fail(r.seq, "record " + n + ": seq is not positive (forged?)");
      if (r.seq == 1) {
        if (r.prev_hash != kZeroHash) {
          return fail(1,
                      "record 1: prev_hash is not 64 zeros, as the first record's must be "
                      "(a record inserted before it?)");
        }
      } else {
        TS_ASSIGN_OR_RETURN(PrefixCover cover, FindPrefixCover(*db_, r.seq));
        if (cover.checkpoint_seq == 0) {
          const std::int64_t first_missing = cover.covered_up_to + 1;
          return fail(first_missing,
                      "record " + Seq(first_missing) + ": missing: records " + Seq(first_missing) +
                          ".." + Seq(r.seq - 1) +
                          " are gone and no checkpoint covers them (removed outside retention?)");
        }
        if (cover.last_removed_hash != r.prev_hash) {
          return fail(r.seq, "record " + n +
                                 ": prev_hash does not match the last_removed_hash "
                                 "of checkpoint record " +
                                 Seq(cover.checkpoint_seq) + " (a record removed or replaced?)");
        }
      }
    } else if (r.seq != prev->seq + 1) {
      const std::int64_t missing = prev->seq + 1;
      return fail(missing, "record " + Seq(missing) + ": missing: record " + Seq(prev->seq) +
                               " is followed by record " + n + " (removed?)");
    }
    if (RecordHash(r) != r.hash) {
      return fail(r.seq, "record " + n + ": hash does not match its contents (edited?)");
    }
    if (prev.has_value() && r.prev_hash != prev->hash) {
      return fail(r.seq, "record " + n + ": prev_hash does not match record " + Seq(prev->seq) +
                             "'s hash (a record removed, replaced or reordered?)");
    }
    if (r.seq > head_seq) {
      return fail(r.seq, "record " + n + ": past the head, which names record " + Seq(head_seq) +
                             " (inserted outside the ledger?)");
    }
    report.records += 1;
    report.last_seq = r.seq;
    prev = std::move(r);
  }
  if (!prev.has_value()) {
    if (head_seq != 0) {
      return fail(1, "record 1: missing: the head names record " + Seq(head_seq) +
                         " but the ledger holds no records (removed?)");
    }
    return report;
  }
  if (prev->seq < head_seq) {
    const std::int64_t missing = prev->seq + 1;
    return fail(missing, "record " + Seq(missing) + ": missing: the head names record " +
                             Seq(head_seq) + " but the last record is " + Seq(prev->seq) +
                             " (the newest records removed?)");
  }
  if (prev->hash != head_hash) {
    return fail(prev->seq,
                "record " + Seq(prev->seq) + ": hash does not match the head's hash (replaced?)");
  }
  return report;
}

}  // namespace tessera::evidence
