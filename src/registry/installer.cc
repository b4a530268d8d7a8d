#include "registry/installer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <set>

#include "base/atomic_file.h"
#include "base/sha256.h"
#include "package/file_io.h"
#include "registry/gguf_facts.h"
#include "registry/policy_check.h"
#include "tessera/version.h"

namespace tessera::registry {
namespace {

const PackageRecord* Find(const std::vector<PackageRecord>& installed, const std::string& id,
                          const std::string& version) {
  for (const PackageRecord& r : installed) {
    if (r.id == id && r.version == version) return &r;
  }
  return nullptr;
}

bool RangeMatches(const std::string& range_text, const std::string& version_text) {
  Result<package::VersionRange> range = package::VersionRange::Parse(range_text);
  Result<package::Version> version = package::Version::Parse(version_text);
  return range.ok() && version.ok() && range->Matches(*version);
}

std::string Sha(const base::Sha256Digest& d) { return base::ToHex(d); }

}  // namespace

Result<InstallResult> Installer::Run() {
  if (Status s = Stage(); !s.ok()) return Fail("artifacts", s, false);
  if (Status s = CheckArtifacts(); !s.ok()) return Fail("artifacts", s, true);
  if (Status s = CheckSignature(); !s.ok()) return Fail("signature", s, true);
  Result<std::vector<PackageRecord>> installed = r_.index_->ListPackages();
  if (!installed.ok()) return Fail("graph", installed.status(), false);
  if (const PackageRecord* same = Find(*installed, manifest_->id, manifest_->version.ToString())) {
    if (same->manifest_sha256 == manifest_sha256_) {
      Cleanup();
      result_.record = *same;
      result_.already_installed = true;
      return result_;
    }
  }
  if (Status s = CheckGraph(*installed); !s.ok()) return Fail("graph", s, true);
  if (Status s = CheckStructure(*installed); !s.ok()) return Fail("structure", s, true);
  Result<InstallResult> promoted = Promote(*installed);
  if (!promoted.ok()) return Fail("promote", promoted.status(), false);
  Cleanup();
  return promoted;
}

// Makes a fresh staging directory. The package file is read once, by ReadPackageFile, which
// hashes every blob while writing it into staging: the bytes checked are the bytes kept.
Status Installer::Stage() {
  static std::atomic<int> counter{0};
  base::FileEnv& env = *r_.options_.env;
  staging_ = r_.home_ + "/staging/" + std::to_string(::getpid()) + "-" +
             std::to_string(r_.options_.clock->NowUnixMillis()) + "-" + std::to_string(counter++);
  TS_RETURN_IF_ERROR(env.MakeDir(staging_, base::kDirMode));
  TS_RETURN_IF_ERROR(env.MakeDir(staging_ + "/blobs", base::kDirMode));
  TS_ASSIGN_OR_RETURN(package::OpenedFile in, package::OpenRegularFile(file_));
  file_size_ = in.size;
  return Status();
}

Status Installer::CheckArtifacts() {
  package::PackageFileLimits limits = r_.options_.limits;
  limits.sync_staged = false;  // Promote() syncs what it keeps
  TS_ASSIGN_OR_RETURN(package::UnpackedPackage unpacked,
                      package::ReadPackageFile(file_, staging_ + "/blobs", limits,
                                               *r_.options_.env));
  unpacked_ = std::move(unpacked);
  const std::vector<std::uint8_t>& config = unpacked_->config;
  TS_ASSIGN_OR_RETURN(package::Manifest manifest,
                      package::ParseManifest(std::string_view(
                          reinterpret_cast<const char*>(config.data()), config.size())));
  manifest_ = std::move(manifest);
  manifest_sha256_ = base::Sha256Hex(config);
  result_.bytes_hashed = config.size();
  for (const package::StagedArtifact& a : unpacked_->artifacts) result_.bytes_hashed += a.size;
  const auto& declared = manifest_->artifacts;
  const auto& held = unpacked_->artifacts;
  if (declared.size() != held.size()) {
    return Status(StatusCode::kIntegrity,
                  "the manifest declares " + std::to_string(declared.size()) +
                      " artifacts but the package holds " + std::to_string(held.size()));
  }
  for (std::size_t i = 0; i < declared.size(); ++i) {
    const package::Artifact& a = declared[i];
    const package::StagedArtifact& b = held[i];
    std::string problem;
    if (a.name != b.name) {
      problem = "is named '" + b.name + "' in the package";
    } else if (a.size != b.size) {
      problem = "declares " + std::to_string(a.size) + " bytes but the package holds " +
                std::to_string(b.size);
    } else if (a.sha256 != Sha(b.digest)) {
      problem = "declares sha256 " + a.sha256 + " but the package holds " + Sha(b.digest);
    } else if (a.media_type != b.media_type) {
      problem = "declares media type " + a.media_type + " but the package says " + b.media_type;
    }
    if (!problem.empty()) {
      return Status(StatusCode::kIntegrity,
                    "artifact " + std::to_string(i) + " '" + a.name + "' " + problem);
    }
  }
  return Status();
}

Status Installer::CheckSignature() {
  TS_ASSIGN_OR_RETURN(TrustPolicy policy, r_.index_->LoadTrustPolicy());
  std::optional<std::string_view> envelope;
  if (unpacked_->signature) {
    envelope = std::string_view(reinterpret_cast<const char*>(unpacked_->signature->data()),
                                unpacked_->signature->size());
  }
  TS_ASSIGN_OR_RETURN(trust_, Evaluate(policy, *manifest_, envelope));
  return Status();
}

Status Installer::CheckGraph(const std::vector<PackageRecord>& installed) {
  const package::Manifest& m = *manifest_;
  const std::string self = PackageName(m.id, m.version.ToString());
  if (m.runtime.package_abi != static_cast<std::uint64_t>(kPackageAbi)) {
    return Status(StatusCode::kIncompatible,
                  self + " needs package ABI " + std::to_string(m.runtime.package_abi) +
                      "; this runtime reads ABI " + std::to_string(kPackageAbi));
  }
  if (!RangeMatches(m.runtime.versions.range.text(), r_.options_.runtime_version)) {
    return Status(StatusCode::kIncompatible,
                  self + " needs runtime " + m.runtime.versions.range.text() +
                      "; this runtime is " + r_.options_.runtime_version);
  }
  if (const PackageRecord* same = Find(installed, m.id, m.version.ToString())) {
    return Status(StatusCode::kDuplicate,
                  self + " is already installed with other bytes (manifest sha256 " +
                      same->manifest_sha256 + ", this one " + manifest_sha256_ +
                      "): a changed package needs a new version");
  }
  for (const package::DependencyRef& req : m.dependencies.requirements) {
    bool found = false;
    for (const PackageRecord& r : installed) {
      found = found || (r.id == req.id && IsUsable(r.state) &&
                        RangeMatches(req.version.range.text(), r.version));
    }
    if (!found) {
      return Status(StatusCode::kIncompatible, self + " requires " + req.id + " " +
                                                   req.version.range.text() +
                                                   ", which no usable installed version satisfies");
    }
  }
  for (const PackageRecord& r : installed) {
    if (!IsUsable(r.state)) continue;
    for (const package::DependencyRef& c : m.dependencies.conflicts) {
      if (r.id == c.id && RangeMatches(c.version.range.text(), r.version)) {
        return Status(StatusCode::kIncompatible,
                      self + " conflicts with installed " + PackageName(r.id, r.version));
      }
    }
    for (const DependencyRecord& d : r.dependencies) {
      if (d.kind == "conflicts" && d.id == m.id && RangeMatches(d.range, m.version.ToString())) {
        return Status(StatusCode::kIncompatible,
                      "installed " + PackageName(r.id, r.version) + " conflicts with " + self);
      }
    }
  }
  // Cycles, at the level of ids: the new package's requirements plus every usable package's.
  std::map<std::string, std::set<std::string>> edges;
  for (const PackageRecord& r : installed) {
    if (!IsUsable(r.state)) continue;
    for (const DependencyRecord& d : r.dependencies) {
      if (d.kind == "requires") edges[r.id].insert(d.id);
    }
  }
  for (const package::DependencyRef& req : m.dependencies.requirements) edges[m.id].insert(req.id);
  if (m.base) edges[m.id].insert(m.base->id);
  std::vector<std::string> path = {m.id};
  std::set<std::string> done;
  std::function<bool(const std::string&)> reaches_self = [&](const std::string& id) -> bool {
    for (const std::string& next : edges[id]) {
      path.push_back(next);
      if (next == m.id) return true;
      if (done.insert(next).second && reaches_self(next)) return true;
      path.pop_back();
    }
    return false;
  };
  if (reaches_self(m.id)) {
    std::string cycle;
    for (const std::string& id : path) cycle += (cycle.empty() ? "" : " -> ") + id;
    return Status(StatusCode::kIncompatible, "dependency cycle: " + cycle);
  }
  if (m.base) {
    const std::string base_name = PackageName(m.base->id, m.base->version.ToString());
    const PackageRecord* base = Find(installed, m.base->id, m.base->version.ToString());
    if (base == nullptr || !IsUsable(base->state)) {
      return Status(StatusCode::kIncompatible,
                    self + " is an adapter for " + base_name +
                        (base == nullptr ? ", which is not installed"
                                         : ", which is " + std::string(StateName(base->state))));
    }
    std::string weights;
    for (const ArtifactRecord& a : base->artifacts) {
      if (a.role == "weights") weights = a.sha256;
    }
    if (weights != m.base->weights_sha256) {
      return Status(StatusCode::kIncompatible, self + " was made for base weights sha256 " +
                                                   m.base->weights_sha256 + " but installed " +
                                                   base_name + " has " + weights);
    }
    TS_ASSIGN_OR_RETURN(package::Manifest base_manifest, r_.LoadManifest(*base));
    const std::string tokenizer =
        base_manifest.gguf.tokenizer ? base_manifest.gguf.tokenizer->sha256 : "";
    if (tokenizer != m.base->tokenizer_sha256) {
      return Status(StatusCode::kIncompatible, self + " needs tokenizer sha256 " +
                                                   m.base->tokenizer_sha256 + " but installed " +
                                                   base_name + " has " + tokenizer);
    }
  }
  return Status();
}

Status Installer::CheckStructure(const std::vector<PackageRecord>& installed) {
  const package::Manifest& m = *manifest_;
  auto staged_path = [this](const std::string& name) {
    for (const package::StagedArtifact& a : unpacked_->artifacts) {
      if (a.name == name) return a.staged_path;
    }
    return std::string();
  };
  if (m.kind == package::PackageKind::kPolicy) {
    TS_ASSIGN_OR_RETURN(package::Policy policy, CheckPolicyDocuments(m, staged_path));
    return CheckPolicyReferences(policy, installed);
  }
  const package::Artifact& primary = m.primary_artifact();
  const std::string path = staged_path(primary.name);
  const bool adapter = m.kind == package::PackageKind::kAdapter;
  TS_ASSIGN_OR_RETURN(package::GgufFacts facts,
                      adapter ? ReadAdapterFacts(path) : ReadModelFacts(path));
  const package::GgufFacts& want = m.gguf;
  auto differ = [&](std::string_view what, const std::string& declared, const std::string& read) {
    return Status(StatusCode::kIntegrity, "gguf." + std::string(what) + " is '" + declared +
                                              "' in the manifest but '" + read + "' in " +
                                              primary.name);
  };
  if (facts.architecture != want.architecture) {
    return differ("architecture", want.architecture, facts.architecture);
  }
  if (facts.version != want.version) {
    return differ("version", std::to_string(want.version), std::to_string(facts.version));
  }
  if (facts.file_type != want.file_type)
    return differ("file_type", want.file_type, facts.file_type);
  if (facts.parameters != want.parameters) {
    return differ("parameters", std::to_string(want.parameters), std::to_string(facts.parameters));
  }
  if (facts.context_length != want.context_length) {
    return differ("context_length", std::to_string(want.context_length),
                  std::to_string(facts.context_length));
  }
  if (facts.tokenizer.has_value() != want.tokenizer.has_value()) {
    return differ("tokenizer", want.tokenizer ? "present" : "absent",
                  facts.tokenizer ? "present" : "absent");
  }
  if (facts.tokenizer) {
    const package::TokenizerFacts& a = *want.tokenizer;
    const package::TokenizerFacts& b = *facts.tokenizer;
    if (a.model != b.model) return differ("tokenizer.model", a.model, b.model);
    if (a.pre != b.pre) return differ("tokenizer.pre", a.pre, b.pre);
    if (a.vocab_size != b.vocab_size) {
      return differ("tokenizer.vocab_size", std::to_string(a.vocab_size),
                    std::to_string(b.vocab_size));
    }
    if (a.sha256 != b.sha256) return differ("tokenizer.sha256", a.sha256, b.sha256);
  }
  if (!adapter) return CheckModelStructure(path);
  TS_ASSIGN_OR_RETURN(AdapterBinding binding, ReadAdapterBinding(path));
  const package::AdapterBase& base = *m.base;
  if (!binding.base_sha256.empty() && binding.base_sha256 != base.weights_sha256) {
    return Status(StatusCode::kIncompatible, primary.name + " says it was trained on base sha256 " +
                                                 binding.base_sha256 + ", the manifest says " +
                                                 base.weights_sha256);
  }
  std::vector<std::string> targets = base.targets;
  std::sort(targets.begin(), targets.end());
  if (targets != binding.targets || binding.rank != base.rank || binding.alpha != base.alpha) {
    return Status(StatusCode::kIntegrity,
                  "base.targets, rank or alpha in the manifest differ "
                  "from the tensors and metadata of " +
                      primary.name);
  }
  return CheckAdapterStructure(path, r_.BlobPath(base.weights_sha256), base.weights_sha256);
}

Result<InstallResult> Installer::Promote(const std::vector<PackageRecord>& installed) {
  base::FileEnv& env = *r_.options_.env;
  const std::string blobs = r_.home_ + "/blobs/sha256";
  std::set<std::string> moved;
  for (const package::StagedArtifact& a : unpacked_->artifacts) {
    const std::string hex = Sha(a.digest);
    if (!moved.insert(hex).second) continue;
    if (::access(r_.BlobPath(hex).c_str(), F_OK) == 0) continue;  // stored once, shared
    TS_RETURN_IF_ERROR(env.SyncFile(a.staged_path));
    TS_RETURN_IF_ERROR(env.Rename(a.staged_path, r_.BlobPath(hex)));
    result_.new_blob_bytes += a.size;
  }
  auto put = [&](const std::vector<std::uint8_t>& bytes) -> Result<std::string> {
    const std::string hex = base::Sha256Hex(bytes);
    if (::access(r_.BlobPath(hex).c_str(), F_OK) != 0) {
      base::AtomicWriteOptions once;
      once.sync_dir = false;  // synced once below
      TS_RETURN_IF_ERROR(base::WriteFileAtomic(env, r_.BlobPath(hex), bytes, std::move(once)));
      result_.new_blob_bytes += bytes.size();
    }
    return hex;
  };
  TS_ASSIGN_OR_RETURN(std::string manifest_hex, put(unpacked_->config));
  std::string signature_hex;
  if (unpacked_->signature) {
    TS_ASSIGN_OR_RETURN(signature_hex, put(*unpacked_->signature));
  }
  TS_RETURN_IF_ERROR(env.SyncDir(blobs));  // every rename above, before the commit

  const package::Manifest& m = *manifest_;
  PackageRecord r;
  r.id = m.id;
  r.version = m.version.ToString();
  r.kind = std::string(package::PackageKindName(m.kind));
  r.state = State::kInstalled;
  r.resume_state = State::kInstalled;
  r.manifest_sha256 = manifest_hex;
  r.signature_sha256 = signature_hex;
  r.signer = trust_.signer;
  r.key_id = trust_.key_id;
  r.granted = trust_.granted;
  r.license = m.license;
  r.known_good = m.rollback_known_good ? m.rollback_known_good->ToString() : "";
  r.base = m.base ? PackageName(m.base->id, m.base->version.ToString()) : "";
  r.installed_at = r_.options_.clock->NowUnixMillis();
  for (const package::Artifact& a : m.artifacts) {
    r.artifacts.push_back(
        {a.name, std::string(package::ArtifactRoleName(a.role)), a.media_type, a.size, a.sha256});
  }
  for (const auto& [kind, list] :
       {std::pair<const char*, const std::vector<package::DependencyRef>*>{
            "requires", &m.dependencies.requirements},
        {"conflicts", &m.dependencies.conflicts},
        {"replaces", &m.dependencies.replaces}}) {
    for (const package::DependencyRef& d : *list) {
      r.dependencies.push_back({kind, d.id, d.version.range.text()});
    }
  }
  TS_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(r_.index_->db()));
  TS_RETURN_IF_ERROR(r_.index_->InsertPackage(r));
  const std::string self = PackageName(r.id, r.version);
  TS_RETURN_IF_ERROR(r_.index_->AddTransition(
      {0, r.id, r.version, "", "installed", r.installed_at,
       "installed from " + file_ + (r.signer.empty() ? " (unsigned)" : " signed by " + r.signer)}));
  for (const PackageRecord& old : installed) {
    if (!IsUsable(old.state) && old.state != State::kSuspended) continue;
    for (const package::DependencyRef& d : m.dependencies.replaces) {
      if (old.id == d.id && RangeMatches(d.version.range.text(), old.version)) {
        TS_RETURN_IF_ERROR(
            r_.index_->SetState(old.id, old.version, State::kRetired, old.resume_state));
        TS_RETURN_IF_ERROR(
            r_.index_->AddTransition({0, old.id, old.version, std::string(StateName(old.state)),
                                      "retired", r.installed_at, "replaced by " + self}));
        result_.retired.push_back(PackageName(old.id, old.version));
      }
    }
  }
  TS_RETURN_IF_ERROR(tx.Commit());
  // Adapters bound to a base retired above cannot be loaded until it is resumed: say so.
  for (const PackageRecord& a : installed) {
    if (IsUsable(a.state) && std::find(result_.retired.begin(), result_.retired.end(), a.base) !=
                                 result_.retired.end()) {
      result_.stranded.push_back(PackageName(a.id, a.version));
    }
  }
  result_.record = std::move(r);
  return result_;
}

Status Installer::Fail(std::string_view step, const Status& status, bool quarantine) {
  const std::string message =
      "registry: install " + file_ + ": " + std::string(step) + ": " + status.message();
  if (quarantine && status.code() != StatusCode::kIoError) {
    QuarantineRecord q;
    q.at = r_.options_.clock->NowUnixMillis();
    q.source = file_;
    if (manifest_) q.package = PackageName(manifest_->id, manifest_->version.ToString());
    q.step = std::string(step);
    q.code = std::string(CodeName(status.code()));
    q.reason = message;
    // Best effort: the refusal is the answer, whether or not its record could be written.
    (void)r_.AddToQuarantine(file_, std::move(q));
  }
  Cleanup();
  return Status(status.code(), message);
}

void Installer::Cleanup() {
  if (!staging_.empty()) (void)base::RemoveTree(*r_.options_.env, staging_);
}

Result<InstallResult> Registry::Install(const std::string& package_file) {
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  Installer installer(*this, package_file);
  return installer.Run();
}

}  // namespace tessera::registry
