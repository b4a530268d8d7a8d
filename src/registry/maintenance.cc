// Checking the store: verify (re-hash what packages reference), doctor (leftovers of crashes,
// missing or damaged blobs, unreferenced blobs, adapters of unusable bases, the quarantine's
// bounds, live files of ended processes) and garbage collection.
#include <dirent.h>
#include <sys/stat.h>

#include <map>
#include <set>

#include "package/oci_writer.h"
#include "registry/registry.h"

namespace tessera::registry {
namespace {

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(d);
  return names;
}

// The blobs a package references, with the size each must have (-1: unknown, the manifest and
// signature blobs whose size the index does not keep).
std::map<std::string, std::int64_t> BlobsOf(const PackageRecord& r) {
  std::map<std::string, std::int64_t> out;
  for (const ArtifactRecord& a : r.artifacts) out[a.sha256] = static_cast<std::int64_t>(a.size);
  out.emplace(r.manifest_sha256, -1);
  if (!r.signature_sha256.empty()) out.emplace(r.signature_sha256, -1);
  return out;
}

}  // namespace

Status Registry::CollectGarbage(std::vector<std::string>* removed) {
  TS_ASSIGN_OR_RETURN(std::set<std::string> referenced, index_->ReferencedBlobs());
  const std::string dir = home_ + "/blobs/sha256";
  for (const std::string& name : ListDir(dir)) {
    if (referenced.count(name)) continue;
    TS_RETURN_IF_ERROR(options_.env->Remove(dir + "/" + name));
    if (removed != nullptr) removed->push_back("blobs/sha256/" + name);
  }
  return options_.env->SyncDir(dir);
}

Result<std::vector<VerifyResult>> Registry::Verify(const std::string& id,
                                                   const std::string& version) {
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  std::vector<PackageRecord> targets;
  if (id.empty()) {
    TS_ASSIGN_OR_RETURN(targets, index_->ListPackages());
  } else {
    TS_ASSIGN_OR_RETURN(PackageRecord r, Resolve(id, version));
    targets.push_back(std::move(r));
  }
  std::map<std::string, std::string> checked;  // sha256 -> problem ("" when fine)
  std::vector<VerifyResult> results;
  for (const PackageRecord& r : targets) {
    VerifyResult v{PackageName(r.id, r.version), true, ""};
    for (const auto& [sha, size] : BlobsOf(r)) {
      auto it = checked.find(sha);
      if (it == checked.end()) {
        std::string problem;
        Result<package::BlobRef> ref = package::HashFile(BlobPath(sha));
        if (!ref.ok()) {
          problem = ref.status().message();
        } else if (base::ToHex(ref->digest) != sha) {
          problem = "blob " + sha + " now hashes to " + base::ToHex(ref->digest);
        } else if (size >= 0 && ref->size != static_cast<std::uint64_t>(size)) {
          problem = "blob " + sha + " has " + std::to_string(ref->size) + " bytes, not " +
                    std::to_string(size);
        }
        it = checked.emplace(sha, problem).first;
      }
      if (!it->second.empty() && v.ok) {
        v.ok = false;
        v.problem = it->second;
      }
    }
    if (options_.read_only) {
      // A read-only store is checked and reported, not changed.
    } else if (!v.ok && r.state != State::kQuarantined) {
      TS_RETURN_IF_ERROR(Transit(r, State::kQuarantined, r.state, "verify: " + v.problem));
    } else if (v.ok && r.state == State::kInstalled) {
      TS_RETURN_IF_ERROR(
          Transit(r, State::kVerified, State::kVerified, "verify: every blob matches"));
    }
    results.push_back(std::move(v));
  }
  return results;
}

Result<DoctorReport> Registry::Doctor(bool repair, bool rehash) {
  if (repair && options_.read_only) {
    return Status(StatusCode::kFailedPrecondition,
                  "registry: doctor --repair needs a store opened for writing (" + home_ +
                      " was opened read-only)");
  }
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  DoctorReport report;
  {
    TS_ASSIGN_OR_RETURN(Stmt check, index_->db().Prepare("PRAGMA integrity_check"));
    TS_ASSIGN_OR_RETURN(bool row, check.Step());
    if (!row || check.Text(0) != "ok") {
      report.findings.push_back("index: integrity_check: " + (row ? check.Text(0) : "no answer"));
      report.consistent = false;
      return report;  // nothing else can be trusted
    }
  }
  for (const std::string& name : ListDir(home_ + "/staging")) {
    report.findings.push_back("staging/" + name + ": left by an interrupted install");
    if (repair) {
      TS_RETURN_IF_ERROR(base::RemoveTree(*options_.env, home_ + "/staging/" + name));
      report.repairs.push_back("removed staging/" + name);
    }
  }
  TS_ASSIGN_OR_RETURN(std::set<std::string> referenced, index_->ReferencedBlobs());
  for (const std::string& name : ListDir(home_ + "/blobs/sha256")) {
    if (referenced.count(name)) continue;
    report.findings.push_back("blobs/sha256/" + name + ": referenced by no package");
  }
  if (repair) TS_RETURN_IF_ERROR(CollectGarbage(&report.repairs));
  TS_ASSIGN_OR_RETURN(std::vector<PackageRecord> all, index_->ListPackages());
  for (const PackageRecord& r : all) {
    for (const auto& [sha, size] : BlobsOf(r)) {
      std::string problem;
      struct stat st;
      if (::stat(BlobPath(sha).c_str(), &st) != 0) {
        problem = "blob " + sha + " is missing";
      } else if (size >= 0 && st.st_size != size) {
        problem = "blob " + sha + " has " + std::to_string(st.st_size) + " bytes, not " +
                  std::to_string(size);
      } else if (rehash) {
        Result<package::BlobRef> ref = package::HashFile(BlobPath(sha));
        if (!ref.ok() || base::ToHex(ref->digest) != sha) problem = "blob " + sha + " is damaged";
      }
      if (problem.empty()) continue;
      const std::string name = PackageName(r.id, r.version);
      report.findings.push_back(name + ": " + problem);
      if (r.state == State::kQuarantined) break;
      if (repair) {
        TS_RETURN_IF_ERROR(Transit(r, State::kQuarantined, r.state, "doctor: " + problem));
        report.repairs.push_back("quarantined " + name);
      } else {
        report.consistent = false;
      }
      break;
    }
  }
  TS_ASSIGN_OR_RETURN(std::vector<QuarantineRecord> quarantine, index_->ListQuarantine());
  std::set<std::string> recorded;
  for (const QuarantineRecord& q : quarantine) recorded.insert(q.path);
  for (const std::string& name : ListDir(home_ + "/quarantine")) {
    if (recorded.count("quarantine/" + name)) continue;
    report.findings.push_back("quarantine/" + name + ": no quarantine record");
    if (repair) {
      TS_RETURN_IF_ERROR(options_.env->Remove(home_ + "/quarantine/" + name));
      report.repairs.push_back("removed quarantine/" + name);
    }
  }
  // Usable adapters of a base that is not (retired, suspended, removed), and the quarantine's
  // bounds (lifecycle.cc, quarantine.cc).
  TS_RETURN_IF_ERROR(DoctorAdapterBases(repair, &report));
  TS_RETURN_IF_ERROR(DoctorQuarantine(repair, &report));
  // Live files of processes that have ended (ReadLiveStates already ignores them).
  TS_ASSIGN_OR_RETURN(std::vector<std::string> stale, StaleLiveFiles(home_, repair, *options_.env));
  for (const std::string& name : stale) {
    const std::string pid = name.substr(5, name.find('-') - 5);  // "live/<pid>-..."
    report.findings.push_back(name + ": left by process " + pid + ", which has ended");
    if (repair) report.repairs.push_back("removed " + name);
  }
  if (!repair && !report.findings.empty()) report.consistent = false;
  return report;
}

}  // namespace tessera::registry
