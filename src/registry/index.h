// The registry's index: one SQLite database (sqlite/sqlite_db.h) holding every installed package
// version, its artifacts and dependencies, every state transition with time and reason, the
// quarantine records and the trust policy. Typed reads and writes; callers group writes in a
// Transaction so that each registry operation commits all of its rows or none.
//
// Schema version 1 (PRAGMA user_version); a newer version is refused (kUnsupported), so an old
// runtime never writes to a store it does not understand.
#ifndef TESSERA_REGISTRY_INDEX_H_
#define TESSERA_REGISTRY_INDEX_H_

#include <memory>
#include <optional>
#include <utility>
#include <set>
#include <string>
#include <vector>

#include "registry/records.h"
#include "registry/trust_policy.h"
#include "sqlite/sqlite_db.h"
#include "tessera/status.h"

namespace tessera::registry {

// The registry's code names the SQLite wrapper's types unqualified.
using sqlite::Db;
using sqlite::Stmt;
using sqlite::Transaction;

class Index {
 public:
  // Read-write opens create and migrate the schema; a read-only open (a store mounted
  // read-only, a disk that is full, a command that only reads) changes nothing and refuses a
  // schema newer than this runtime's, or a file that is not a store.
  static Result<std::unique_ptr<Index>> Open(const std::string& path, bool read_only = false);

  Db& db() { return *db_; }

  Status InsertPackage(const PackageRecord& record);
  Status DeletePackage(const std::string& id, const std::string& version);
  Status SetState(const std::string& id, const std::string& version, State state,
                  State resume_state);
  Status AddTransition(const Transition& transition);

  // Every package version, artifacts and dependencies included.
  Result<std::vector<PackageRecord>> ListPackages();
  // SQLite's data_version: it changes when another connection commits a change to the store
  // (this connection's own writes do not change it). One prepared statement, reused.
  Result<std::int64_t> DataVersion();
  Result<std::optional<PackageRecord>> GetPackage(const std::string& id,
                                                  const std::string& version);
  // Every version of one id (any state).
  Result<std::vector<PackageRecord>> Versions(const std::string& id);
  Result<std::vector<Transition>> Transitions(const std::string& id, const std::string& version);
  // Every blob digest a package references (artifacts, manifests, signatures).
  Result<std::set<std::string>> ReferencedBlobs();

  Result<std::int64_t> AddQuarantine(const QuarantineRecord& record);
  Result<std::vector<QuarantineRecord>> ListQuarantine();
  Status DeleteQuarantine(std::int64_t seq);

  // Store settings (the `settings` table): a value by name, nullopt when unset.
  Result<std::optional<std::string>> GetSetting(const std::string& name);
  Status PutSetting(const std::string& name, const std::string& value);

  Result<TrustPolicy> LoadTrustPolicy();
  Status PutTrustedKey(const TrustedKey& key, std::int64_t at);
  // kNotFound if no key has that name.
  Status RemoveTrustedKey(const std::string& name);
  Status SetUnsignedPrefixes(const std::vector<std::string>& prefixes);

  // The runtime's last measured footprint of a package (opaque text) and the sha256 of the
  // primary artifact it was measured on.
  Status PutFootprint(const std::string& id, const std::string& version, const std::string& sha256,
                      const std::string& measured, std::int64_t at);
  Result<std::optional<std::pair<std::string, std::string>>> GetFootprint(
      const std::string& id, const std::string& version);

 private:
  explicit Index(std::unique_ptr<Db> db) : db_(std::move(db)) {}
  Result<std::vector<PackageRecord>> Query(const std::string& where,
                                           const std::vector<std::string>& args);
  std::unique_ptr<Db> db_;
  std::unique_ptr<Stmt> data_version_;  // prepared once; destroyed before db_
};

// Words joined by single spaces, and back (capabilities, prefixes, licences hold no spaces).
std::string JoinWords(const std::vector<std::string>& words);
std::vector<std::string> SplitWords(const std::string& text);

}  // namespace tessera::registry

#endif  // TESSERA_REGISTRY_INDEX_H_
