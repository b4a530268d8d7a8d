// The registry: the store of installed skill packages under one home directory.
//
//   <home>/registry.db        the index (index.h): packages, artifacts, dependencies, state
//                              transitions, quarantine records, trust policy
//   <home>/blobs/sha256/<hex> content-addressed bytes shared by every package (the same base
//                              weights are stored once); read-only files
//   <home>/staging/           one directory per install in progress; left-overs are a crash's
//   <home>/quarantine/<n>-<sha256 prefix>.tpkg   copies of rejected package files, each with an
//                              index record; bounded in bytes and records, oldest pruned first
//                              (QuarantineBounds, docs/formats/quarantine.md)
//   <home>/lock               flock(2): one mutating operation at a time, across processes
//   <home>/live/              what running processes hold in memory now (live_states.h): one
//                              locked file per Runtime, gone with its process
//
// The index keeps each version's lifecycle state (installed, verified, suspended, retired,
// quarantined) and its history; whether a module is resident or active is a fact about a
// running process, published under live/ and never written to the index (ADR 0016).
//
// Installing (Install) admits a package in this order, each step before the heavier next, and
// every error names its step ("registry: install <file>: <step>: ..."):
//   1 artifacts  the package file is copied into staging and unpacked (oci_reader.h checks the
//                archive, every blob's size and SHA-256); the manifest parses (manifest.h) and
//                its artifact list equals the file's layers (name, media type, size, sha256);
//   2 signature  the envelope verifies against the trust policy (trust_policy.h): key, id prefix,
//                every id the package replaces or conflicts with, capabilities, licence, or the
//                unsigned rule;
//   3 graph      runtime version range and package ABI; this id@version not installed with
//                other bytes; every `requires` satisfied by a usable installed version; no
//                conflict in either direction; no dependency cycle; adapters: the base id@version
//                installed, its weights sha256 and tokenizer sha256 equal the manifest's;
//   4 structure  the GGUF facts read again equal the manifest's (gguf_facts.h); the model binds
//                (architecture, tensors, shapes, tokenizer), an adapter binds to its base;
//   5 promote    staged blobs are renamed into blobs/ (fsynced), then one SQLite transaction
//                inserts the package and its transition, and retires what it `replaces` (ids
//                its signer is trusted for, step 2).
// An adapter can be loaded only while its exact base is installed and usable (CheckLoadable):
// retiring, suspending or quarantining a base makes its adapters unloadable until the base is
// usable again, and Doctor() reports usable adapters in that state.
// Any failure before the commit changes nothing in the store except the rejected file moving to
// quarantine/ with a record of the step and reason. A crash (kill -9) at any point leaves the old
// state or the new: blobs written before a commit that never happened are unreferenced, and
// Doctor() removes them; SQLite's journal makes the commit atomic.
//
// Thread safety: one Registry per thread; processes are serialised by the lock file.
#ifndef TESSERA_REGISTRY_REGISTRY_H_
#define TESSERA_REGISTRY_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/file_env.h"
#include "package/manifest.h"
#include "package/oci_reader.h"
#include "package/semver.h"
#include "registry/index.h"
#include "registry/live_states.h"
#include "registry/records.h"
#include "registry/trust_policy.h"
#include "tessera/status.h"

namespace tessera::registry {

struct RegistryOptions {
  const base::Clock* clock = nullptr;  // default: base::SystemClock()
  base::FileEnv* env = nullptr;        // default: base::DefaultFileEnv()
  package::PackageFileLimits limits;
  std::string runtime_version;  // default: this build's version (tessera/version.h)
  // Read-only: opens an existing store without creating, migrating or writing anything, so
  // that commands that only read work on a store mounted read-only or on a full disk. A missing
  // store is kNotFound. Methods that write fail (the index is opened read-only).
  bool read_only = false;
};

struct InstallResult {
  PackageRecord record;
  bool already_installed = false;    // the same bytes were installed before: nothing changed
  std::vector<std::string> retired;  // "id@version" retired because this one replaces them
  // "adapter id@version" of usable adapters whose base was among `retired`: they cannot be
  // loaded until that base is resumed.
  std::vector<std::string> stranded;
  std::uint64_t bytes_hashed = 0;    // package file bytes read and hashed
  std::uint64_t new_blob_bytes = 0;  // bytes added to the store (shared blobs count once)
};

struct VerifyResult {
  std::string package;  // id@version
  bool ok = true;
  std::string problem;  // the first mismatch when !ok
};

struct DoctorReport {
  std::vector<std::string> findings;  // what was wrong, one line each
  std::vector<std::string> repairs;   // what was done about it
  bool consistent = true;             // the store is consistent now
};

// A resolved dependency: who requires what, and the version chosen.
struct GraphEdge {
  std::string from;  // id@version
  std::string kind;  // "requires", "conflicts", "replaces", "base"
  std::string to_id;
  std::string range;
  std::string resolved;  // id@version chosen (requires/base), "" when unresolved or n/a
};

class Registry {
 public:
  // Opens or creates the store at `home` (created with its parents if missing), or, with
  // options.read_only, opens an existing one. A read-write open of a store that cannot be
  // written (a read-only mount, no permission) is kFailedPrecondition saying so.
  static Result<std::unique_ptr<Registry>> Open(const std::string& home,
                                                RegistryOptions options = {});
  // False when `home` exists and this process cannot write to it (a read-only mount, or the
  // directory's permissions): such a store can only be opened read-only.
  static bool Writable(const std::string& home);
  // $TESSERA_HOME, else $XDG_DATA_HOME/tessera, else $HOME/.local/share/tessera.
  static Result<std::string> DefaultHome();
  ~Registry();

  const std::string& home() const { return home_; }
  bool read_only() const { return options_.read_only; }

  // Disk kept in reserve: <home>/reserve, kReserveBytes that the store does not need, so that
  // on a full disk the commands that free space (remove, quarantine purge, doctor --repair) can
  // still commit. They release it and retry once when a write fails for lack of space;
  // EnsureReserve makes it again when there is room (best effort: a store without one works).
  static constexpr std::size_t kReserveBytes = 1 << 20;
  Status ReleaseReserve();
  void EnsureReserve();
  std::string BlobPath(const std::string& sha256) const;

  Result<InstallResult> Install(const std::string& package_file);

  Result<std::vector<PackageRecord>> List();
  // A number that changes whenever another connection (another process, or another Registry
  // object) commits a change to this store: what a reader caches from the index stays valid
  // while it does not change and this Registry object writes nothing itself.
  Result<std::int64_t> DataVersion();
  // `version` empty: the current version (the highest usable, else the highest installed).
  Result<PackageRecord> Show(const std::string& id, const std::string& version = "");
  // The manifest blob, checked against the record's manifest_sha256 (kIntegrity: changed on
  // disk) and parsed.
  Result<package::Manifest> LoadManifest(const PackageRecord& record);
  Result<std::vector<Transition>> History(const std::string& id, const std::string& version);

  // Hashes the stored bytes of one package (id empty: all) again. A mismatch moves the package
  // to quarantined; a match moves installed to verified.
  Result<std::vector<VerifyResult>> Verify(const std::string& id = "",
                                           const std::string& version = "");

  // Lifecycle. `version` empty: the current version. Refusals are kFailedPrecondition naming the
  // state; a version that is not installed kNotFound.
  Status Suspend(const std::string& id, const std::string& version, const std::string& reason);
  // Returns a suspended or retired version to the state it had before (installed or verified).
  // An adapter is refused while its base is not usable (resume the base first).
  Status Resume(const std::string& id, const std::string& version, const std::string& reason);
  Status Retire(const std::string& id, const std::string& version, const std::string& reason);
  // Removes a version (refused while another usable package requires it and no other version
  // satisfies that requirement, or while a live process holds it resident or active: the
  // refusal names the pid); unreferenced blobs go.
  Status Remove(const std::string& id, const std::string& version, const std::string& reason);
  // Retires the current version and makes its rollback.known_good current again. Returns the
  // version now current.
  Result<std::string> Rollback(const std::string& id, const std::string& reason);
  // The dependency graph reachable from id@version.
  Result<std::vector<GraphEdge>> Graph(const std::string& id, const std::string& version = "");

  Result<std::vector<QuarantineRecord>> QuarantineList();
  // The quarantine's bounds (the defaults when never set), and setting them (kInvalidArgument for
  // max_records 0 or above kMaxQuarantineRecords). Setting prunes at once to the new bounds.
  Result<QuarantineBounds> QuarantineLimits();
  Status SetQuarantineLimits(const QuarantineBounds& bounds);
  // Removes quarantine records and their copies; returns the records removed.
  Result<std::vector<QuarantineRecord>> PurgeQuarantine(const QuarantinePurge& which);

  // OK when `record` may be loaded now: it is usable and, for an adapter, its exact base is
  // installed and usable. Else kFailedPrecondition naming the package (and the base and its
  // state): "registry: adapter A@1 cannot be loaded: its base B@1 is retired".
  Status CheckLoadable(const PackageRecord& record);

  // The runtime's measured footprint of id@version (opaque text, ADR 0014), kept for the next
  // runtime's first plan; it goes with the package. Load returns nothing when none was recorded
  // or it was measured on other bytes than `sha256`.
  Status RecordFootprint(const std::string& id, const std::string& version,
                         const std::string& sha256, const std::string& measured);
  Result<std::optional<std::string>> LoadFootprint(const std::string& id,
                                                   const std::string& version,
                                                   const std::string& sha256);

  // Checks the index, the blobs and leftovers of interrupted operations and ended processes
  // (live/ files), usable adapters whose base is not usable (retired, suspended, quarantined or
  // removed), and the quarantine's bounds; with `repair`, removes leftovers, stale live files
  // and unreferenced blobs, quarantines packages whose blobs are missing or damaged, suspends
  // such adapters (resume brings them back once their base is usable), and prunes the oldest
  // quarantine records until the bounds hold.
  Result<DoctorReport> Doctor(bool repair, bool rehash);

  Result<TrustPolicy> Trust();
  Status TrustAdd(const TrustedKey& key);
  Status TrustRemove(const std::string& name);
  Status TrustUnsigned(const std::vector<std::string>& prefixes);

 private:
  // Holds the store's flock until destroyed.
  class Lock {
   public:
    explicit Lock(int fd) : fd_(fd) {}
    Lock(Lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    Lock& operator=(Lock&&) = delete;
    ~Lock();

   private:
    int fd_;
  };
  Registry() = default;
  Result<Lock> LockStore();
  Result<PackageRecord> Resolve(const std::string& id, const std::string& version);
  Status Transit(const PackageRecord& record, State to, State resume, const std::string& reason);
  Status CollectGarbage(std::vector<std::string>* removed);
  // Adds the refusal of `file` to the quarantine (quarantine.cc): prunes the oldest records to
  // make room, keeps a copy of at most the bound, and writes the record.
  Status AddToQuarantine(const std::string& file, QuarantineRecord record);
  // Removes the oldest records until at most `max_records` remain and their copies hold at most
  // `max_bytes`; names what it removed in `pruned` when not null. Call under the lock.
  Status PruneQuarantine(std::uint64_t max_bytes, std::uint64_t max_records,
                         std::vector<std::string>* pruned);
  Status RemoveQuarantineRecord(const QuarantineRecord& record);
  // Why the adapter `record` cannot be loaded because of its base ("its base B@1 is retired",
  // "... is not installed"); "" when it is no adapter or its base is usable.
  Result<std::string> BaseProblem(const PackageRecord& record);
  // Doctor()'s checks of usable adapters' bases (lifecycle.cc) and of the quarantine's bounds
  // (quarantine.cc): findings and, with `repair`, what they did, added to `report`.
  Status DoctorAdapterBases(bool repair, DoctorReport* report);
  Status DoctorQuarantine(bool repair, DoctorReport* report);

  friend class Installer;
  std::string home_;
  RegistryOptions options_;
  std::unique_ptr<Index> index_;
};

// "id@version".
std::string PackageName(const std::string& id, const std::string& version);

}  // namespace tessera::registry

#endif  // TESSERA_REGISTRY_REGISTRY_H_
