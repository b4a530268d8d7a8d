// Retention: Ledger::PruneBefore and PruneOlderThan remove the oldest records and append a
// checkpoint that keeps the chain verifiable (ledger.h).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "evidence/ledger.h"
#include "evidence/record_rules.h"
#include "package/canonical_json.h"
#include "sqlite/sqlite_db.h"

namespace tessera::evidence {

Result<PruneResult> Ledger::PruneBefore(std::int64_t seq, std::string_view reason) {
  if (seq < 1) {
    return InvalidArgument("evidence: prune before seq " + std::to_string(seq) +
                           ": seq must be at least 1");
  }
  TS_RETURN_IF_ERROR(ValidateText("reason", reason));
  std::string why =
      reason.empty() ? "retention: records before seq " + std::to_string(seq) : std::string(reason);
  std::lock_guard<std::mutex> lock(mu_);
  return PruneLocked(/*by_time=*/false, seq, std::move(why));
}

Result<PruneResult> Ledger::PruneOlderThan(std::int64_t at_ms, std::string_view reason) {
  TS_RETURN_IF_ERROR(ValidateText("reason", reason));
  std::string why = reason.empty() ? "retention: records older than at_ms " + std::to_string(at_ms)
                                   : std::string(reason);
  std::lock_guard<std::mutex> lock(mu_);
  return PruneLocked(/*by_time=*/true, at_ms, std::move(why));
}

Result<PruneResult> Ledger::PruneLocked(bool by_time, std::int64_t bound, std::string reason) {
  TS_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(*db_));
  // Never remove records from a broken chain: the checkpoint would vouch for what it removed.
  TS_ASSIGN_OR_RETURN(VerifyReport chain, VerifyLocked());
  if (!chain.ok) {
    return Status(
        StatusCode::kIntegrity,
        "evidence: ledger " + path_ + " does not verify, so nothing was pruned: " + chain.problem);
  }
  PruneResult result;
  if (chain.records == 0) return result;
  // The chain verified: the records are exactly first_seq..last_seq.
  std::int64_t cutoff = bound;  // remove seq < cutoff
  if (by_time) {
    TS_ASSIGN_OR_RETURN(sqlite::Stmt young,
                        db_->Prepare("SELECT min(seq) FROM records WHERE at_ms >= ?"));
    young.Bind(1, bound);
    TS_ASSIGN_OR_RETURN(bool row, young.Step());
    cutoff = row && !young.IsNull(0) ? young.Int(0) : chain.last_seq;
  }
  cutoff = std::min(cutoff, chain.last_seq);  // the newest record stays
  if (cutoff <= chain.first_seq) return result;

  const std::int64_t first_removed = chain.first_seq;
  const std::int64_t last_removed = cutoff - 1;
  std::string last_removed_hash;
  {
    TS_ASSIGN_OR_RETURN(sqlite::Stmt last, db_->Prepare("SELECT hash FROM records WHERE seq = ?"));
    last.Bind(1, last_removed);
    TS_ASSIGN_OR_RETURN(bool found, last.Step());
    if (!found) return Internal("evidence: record " + std::to_string(last_removed) + " vanished");
    last_removed_hash = last.Text(0);
  }

  TS_RETURN_IF_ERROR(db_->Exec("UPDATE meta SET retention = 1 WHERE id = 1"));
  TS_ASSIGN_OR_RETURN(sqlite::Stmt remove, db_->Prepare("DELETE FROM records WHERE seq < ?"));
  remove.Bind(1, cutoff);
  TS_RETURN_IF_ERROR(remove.Run());
  result.removed = db_->Changes();
  TS_RETURN_IF_ERROR(db_->Exec("UPDATE meta SET retention = 0 WHERE id = 1"));
  if (result.removed != last_removed - first_removed + 1) {
    return Internal("evidence: pruning records " + std::to_string(first_removed) + ".." +
                    std::to_string(last_removed) + " removed " + std::to_string(result.removed));
  }

  nlohmann::json body = {{"first_removed_seq", first_removed},
                         {"last_removed_seq", last_removed},
                         {"removed", result.removed},
                         {"last_removed_hash", last_removed_hash},
                         {"reason", reason}};
  TS_ASSIGN_OR_RETURN(std::string canonical, package::CanonicalJson(body));
  TS_ASSIGN_OR_RETURN(result.checkpoint, AppendLocked(kCheckpointKind, "", std::move(canonical)));
  TS_RETURN_IF_ERROR(tx.Commit());
  return result;
}

}  // namespace tessera::evidence
