// Registry state changes after installation: suspend, resume, retire, remove and rollback. Each
// is one SQLite transaction under the store lock. Residency is not among them: it is published
// by each running process (live_states.h) and only consulted here, by Remove.
//
// Adapters and their bases. An adapter binds one exact base version; it can be loaded only while
// that version is usable (CheckLoadable). A base's state is not pushed onto its adapters when it
// changes: retiring or suspending a base leaves the adapters' own states alone, so that resuming
// the base makes them loadable again. Resume refuses an adapter whose base is not usable, and
// Doctor() reports usable adapters of an unusable or removed base (and suspends them on repair).
#include <optional>
#include <set>

#include "registry/registry.h"

namespace tessera::registry {
namespace {

Status Refuse(const PackageRecord& r, std::string_view action, std::string_view why) {
  return Status(StatusCode::kFailedPrecondition, "registry: cannot " + std::string(action) + " " +
                                                     PackageName(r.id, r.version) + ": " +
                                                     std::string(why));
}

bool RangeMatches(const std::string& range_text, const std::string& version_text) {
  Result<package::VersionRange> range = package::VersionRange::Parse(range_text);
  Result<package::Version> version = package::Version::Parse(version_text);
  return range.ok() && version.ok() && range->Matches(*version);
}

}  // namespace

Status Registry::Transit(const PackageRecord& r, State to, State resume,
                         const std::string& reason) {
  TS_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(index_->db()));
  TS_RETURN_IF_ERROR(index_->SetState(r.id, r.version, to, resume));
  TS_RETURN_IF_ERROR(
      index_->AddTransition({0, r.id, r.version, std::string(StateName(r.state)),
                             std::string(StateName(to)), options_.clock->NowUnixMillis(), reason}));
  return tx.Commit();
}

Status Registry::Suspend(const std::string& id, const std::string& version,
                         const std::string& reason) {
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  TS_ASSIGN_OR_RETURN(PackageRecord r, Resolve(id, version));
  if (r.state != State::kInstalled && r.state != State::kVerified) {
    return Refuse(r, "suspend", "it is " + std::string(StateName(r.state)));
  }
  return Transit(r, State::kSuspended, r.state, reason);
}

// A retired version comes back too: retirement (by `retire`, by a package that replaces it, or
// by a rollback) keeps the state it had, and nothing else about it changed.
Status Registry::Resume(const std::string& id, const std::string& version,
                        const std::string& reason) {
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  TS_ASSIGN_OR_RETURN(PackageRecord r, Resolve(id, version));
  if (r.state != State::kSuspended && r.state != State::kRetired) {
    return Refuse(r, "resume",
                  "it is " + std::string(StateName(r.state)) + ", not suspended or retired");
  }
  TS_ASSIGN_OR_RETURN(std::string base_problem, BaseProblem(r));
  if (!base_problem.empty()) return Refuse(r, "resume", base_problem + ": resume the base first");
  // Old stores may hold a resume state that is not usable; such a version returns to installed.
  const State to = IsUsable(r.resume_state) ? r.resume_state : State::kInstalled;
  return Transit(r, to, to, reason);
}

Result<std::string> Registry::BaseProblem(const PackageRecord& r) {
  if (r.base.empty()) return std::string();
  const std::size_t at = r.base.find('@');
  TS_ASSIGN_OR_RETURN(
      std::optional<PackageRecord> base,
      index_->GetPackage(r.base.substr(0, at), at == std::string::npos ? "" : r.base.substr(at + 1)));
  if (!base) return "its base " + r.base + " is not installed";
  if (!IsUsable(base->state)) {
    return "its base " + r.base + " is " + std::string(StateName(base->state));
  }
  return std::string();
}

Status Registry::CheckLoadable(const PackageRecord& r) {
  const std::string name = PackageName(r.id, r.version);
  if (!IsUsable(r.state)) {
    return Status(StatusCode::kFailedPrecondition, "registry: " + name + " cannot be loaded: it is " +
                                                       std::string(StateName(r.state)));
  }
  TS_ASSIGN_OR_RETURN(std::string problem, BaseProblem(r));
  if (!problem.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "registry: adapter " + name + " cannot be loaded: " + problem);
  }
  return Status::Ok();
}

Status Registry::DoctorAdapterBases(bool repair, DoctorReport* report) {
  TS_ASSIGN_OR_RETURN(std::vector<PackageRecord> all, index_->ListPackages());
  for (const PackageRecord& r : all) {
    if (!IsUsable(r.state)) continue;
    TS_ASSIGN_OR_RETURN(std::string problem, BaseProblem(r));
    if (problem.empty()) continue;
    const std::string name = PackageName(r.id, r.version);
    report->findings.push_back(name + ": " + problem + ": the adapter is " +
                               std::string(StateName(r.state)) + " but cannot be loaded");
    if (!repair) continue;
    // Suspension is the safe repair: it is what the adapter's state should say, it is recorded
    // with its reason, and `resume` undoes it once the base is usable again. Removing the
    // adapter or resuming the base would be an operator's decision.
    TS_RETURN_IF_ERROR(Transit(r, State::kSuspended, r.state, "doctor: " + problem));
    report->repairs.push_back("suspended " + name + " (" + problem + ")");
  }
  return Status::Ok();
}

Status Registry::Retire(const std::string& id, const std::string& version,
                        const std::string& reason) {
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  TS_ASSIGN_OR_RETURN(PackageRecord r, Resolve(id, version));
  if (r.state != State::kInstalled && r.state != State::kVerified && r.state != State::kSuspended) {
    return Refuse(r, "retire", "it is " + std::string(StateName(r.state)));
  }
  const State resume = r.state == State::kSuspended ? r.resume_state : r.state;
  return Transit(r, State::kRetired, resume, reason);
}

Status Registry::Remove(const std::string& id, const std::string& version,
                        const std::string& reason) {
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  TS_ASSIGN_OR_RETURN(std::vector<PackageRecord> all, index_->ListPackages());
  std::vector<const PackageRecord*> going;
  for (const PackageRecord& r : all) {
    if (r.id == id && (version.empty() || r.version == version)) going.push_back(&r);
  }
  if (going.empty()) {
    return Status(
        StatusCode::kNotFound,
        "registry: " + (version.empty() ? id : PackageName(id, version)) + " is not installed");
  }
  TS_ASSIGN_OR_RETURN(std::vector<LiveModule> live, ReadLiveStates(home_, *options_.env));
  std::set<std::string> gone;
  for (const PackageRecord* r : going) {
    const std::string held = DescribeLive(live, PackageName(r->id, r->version));
    if (!held.empty()) return Refuse(*r, "remove", "it is " + held);
    gone.insert(PackageName(r->id, r->version));
  }
  for (const PackageRecord& user : all) {
    if (gone.count(PackageName(user.id, user.version)) || !IsUsable(user.state)) continue;
    if (!user.base.empty() && gone.count(user.base)) {
      return Refuse(*going.front(), "remove",
                    "adapter " + PackageName(user.id, user.version) + " is bound to " + user.base);
    }
    for (const DependencyRecord& d : user.dependencies) {
      if (d.kind != "requires" || d.id != id) continue;
      bool still = false;
      for (const PackageRecord& other : all) {
        still = still || (other.id == id && !gone.count(PackageName(other.id, other.version)) &&
                          IsUsable(other.state) && RangeMatches(d.range, other.version));
      }
      if (!still) {
        return Refuse(*going.front(), "remove",
                      PackageName(user.id, user.version) + " requires " + id + " " + d.range);
      }
    }
  }
  {
    TS_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(index_->db()));
    for (const PackageRecord* r : going) {
      TS_RETURN_IF_ERROR(index_->DeletePackage(r->id, r->version));
      TS_RETURN_IF_ERROR(
          index_->AddTransition({0, r->id, r->version, std::string(StateName(r->state)), "removed",
                                 options_.clock->NowUnixMillis(), reason}));
    }
    TS_RETURN_IF_ERROR(tx.Commit());
  }
  // The package is gone once committed. Collecting its blobs is best effort: a crash or an I/O
  // error here leaves unreferenced blobs, which the next removal or Doctor() removes, and must
  // not turn a completed removal into an error.
  (void)CollectGarbage(nullptr);
  return Status();
}

Result<std::string> Registry::Rollback(const std::string& id, const std::string& reason) {
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  TS_ASSIGN_OR_RETURN(PackageRecord current, Resolve(id, ""));
  if (current.state != State::kInstalled && current.state != State::kVerified) {
    return Refuse(current, "roll back", "it is " + std::string(StateName(current.state)));
  }
  if (current.known_good.empty()) {
    return Refuse(current, "roll back", "its manifest names no rollback.known_good version");
  }
  TS_ASSIGN_OR_RETURN(std::optional<PackageRecord> good,
                      index_->GetPackage(id, current.known_good));
  if (!good) {
    return Refuse(current, "roll back",
                  "its known-good version " + current.known_good + " is not installed");
  }
  if (good->state == State::kQuarantined) {
    return Refuse(current, "roll back",
                  "its known-good version " + current.known_good + " is quarantined");
  }
  const std::int64_t now = options_.clock->NowUnixMillis();
  TS_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(index_->db()));
  TS_RETURN_IF_ERROR(index_->SetState(id, current.version, State::kRetired, current.state));
  TS_RETURN_IF_ERROR(
      index_->AddTransition({0, id, current.version, std::string(StateName(current.state)),
                             "retired", now, "rolled back to " + good->version + ": " + reason}));
  if (!IsUsable(good->state)) {
    TS_RETURN_IF_ERROR(index_->SetState(id, good->version, good->resume_state, good->resume_state));
    TS_RETURN_IF_ERROR(
        index_->AddTransition({0, id, good->version, std::string(StateName(good->state)),
                               std::string(StateName(good->resume_state)), now,
                               "restored by rollback from " + current.version + ": " + reason}));
  }
  TS_RETURN_IF_ERROR(tx.Commit());
  return good->version;
}

}  // namespace tessera::registry
