#include "registry/index.h"

#include <map>
#include <utility>

#include "package/signature.h"

namespace tessera::registry {
namespace {

constexpr int kSchemaVersion = 2;

constexpr const char* kSchema = R"sql(
CREATE TABLE packages(
  id TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
  resume_state TEXT NOT NULL, manifest_sha256 TEXT NOT NULL, signature_sha256 TEXT NOT NULL,
  signer TEXT NOT NULL, key_id TEXT NOT NULL, granted TEXT NOT NULL, license TEXT NOT NULL,
  known_good TEXT NOT NULL, base TEXT NOT NULL, installed_at INTEGER NOT NULL,
  PRIMARY KEY(id, version));
CREATE TABLE artifacts(
  id TEXT NOT NULL, version TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
  media_type TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
  PRIMARY KEY(id, version, name),
  FOREIGN KEY(id, version) REFERENCES packages(id, version) ON DELETE CASCADE);
CREATE INDEX artifacts_by_sha256 ON artifacts(sha256);
CREATE TABLE dependencies(
  id TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL, dep_id TEXT NOT NULL,
  range TEXT NOT NULL,
  FOREIGN KEY(id, version) REFERENCES packages(id, version) ON DELETE CASCADE);
CREATE INDEX dependencies_by_package ON dependencies(id, version);
CREATE TABLE transitions(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, version TEXT NOT NULL,
  from_state TEXT NOT NULL, to_state TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE INDEX transitions_by_package ON transitions(id, version);
CREATE TABLE quarantine(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, source TEXT NOT NULL,
  file_sha256 TEXT NOT NULL, package TEXT NOT NULL, step TEXT NOT NULL, code TEXT NOT NULL,
  reason TEXT NOT NULL, path TEXT NOT NULL);
CREATE TABLE trusted_keys(
  name TEXT PRIMARY KEY, key_id TEXT NOT NULL, public_key TEXT NOT NULL, prefixes TEXT NOT NULL,
  capabilities TEXT NOT NULL, licenses TEXT NOT NULL, added_at INTEGER NOT NULL);
CREATE TABLE settings(name TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

// Version 2 adds the footprints the runtime measured (ADR 0014).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE footprints(
  id TEXT NOT NULL, version TEXT NOT NULL, sha256 TEXT NOT NULL, measured TEXT NOT NULL,
  at INTEGER NOT NULL, PRIMARY KEY(id, version),
  FOREIGN KEY(id, version) REFERENCES packages(id, version) ON DELETE CASCADE);
)sql";

constexpr const char* kPackageColumns =
    "id, version, kind, state, resume_state, manifest_sha256, signature_sha256, signer, key_id, "
    "granted, license, known_good, base, installed_at";

// Before ADR 0016 the runtime stored "resident" and "active" in these columns; such a row
// means the package was installed or verified (its resume state) when the runtime took it.
constexpr const char* kRuntimeStates = "('resident', 'active')";

// A stored lifecycle state; an old runtime state reads as `resumed`, anything else unknown as
// quarantined (refused until verified again).
State StoredState(const std::string& name, State resumed) {
  if (name == "resident" || name == "active") return resumed;
  return ParseState(name).value_or(State::kQuarantined);
}

// Rewrites old runtime states as their resume state, adding no transition: nothing happened to
// the package. Writes only when such rows exist.
Status MigrateRuntimeStates(Db& db) {
  TS_ASSIGN_OR_RETURN(Stmt count,
                      db.Prepare(std::string("SELECT count(*) FROM packages WHERE state IN ") +
                                 kRuntimeStates + " OR resume_state IN " + kRuntimeStates));
  TS_ASSIGN_OR_RETURN(bool row, count.Step());
  if (!row || count.Int(0) == 0) return Status();
  TS_RETURN_IF_ERROR(db.Exec(std::string("UPDATE packages SET resume_state='installed' WHERE "
                                         "resume_state IN ") +
                             kRuntimeStates));
  return db.Exec(std::string("UPDATE packages SET state=CASE WHEN resume_state IN ('installed', "
                             "'verified') THEN resume_state ELSE 'installed' END WHERE state IN ") +
                 kRuntimeStates);
}

}  // namespace

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

std::vector<std::string> SplitWords(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<std::unique_ptr<Index>> Index::Open(const std::string& path, bool read_only) {
  sqlite::DbOptions options;
  options.read_only = read_only;
  TS_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(path, "registry: index " + path, options));
  std::unique_ptr<Index> index(new Index(std::move(db)));
  TS_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(
                                          index->db(), read_only ? sqlite::TxMode::kDeferred
                                                                 : sqlite::TxMode::kImmediate));
  TS_ASSIGN_OR_RETURN(Stmt version, index->db().Prepare("PRAGMA user_version"));
  TS_ASSIGN_OR_RETURN(bool row, version.Step());
  const std::int64_t found = row ? version.Int(0) : 0;
  if (found > kSchemaVersion) {
    return Status(StatusCode::kUnsupported,
                  "registry: index " + path + " has schema version " + std::to_string(found) +
                      "; this runtime reads version " + std::to_string(kSchemaVersion));
  }
  if (read_only) {
    // Nothing is created or migrated: an old schema reads as it is (StoredState maps old
    // runtime states when rows are read), and a file without the tables is not a store.
    if (found == 0) {
      return Status(StatusCode::kNotFound,
                    "registry: index " + path + " holds no store (it was never written)");
    }
    return index;
  }
  if (found == 0) {
    TS_RETURN_IF_ERROR(index->db().Exec(kSchema));
  }
  if (found < 2) {
    TS_RETURN_IF_ERROR(index->db().Exec(kSchemaV2));
  }
  if (found < kSchemaVersion) {
    TS_RETURN_IF_ERROR(index->db().Exec("PRAGMA user_version=" + std::to_string(kSchemaVersion)));
  }
  TS_RETURN_IF_ERROR(MigrateRuntimeStates(index->db()));
  TS_RETURN_IF_ERROR(tx.Commit());
  return index;
}

Status Index::InsertPackage(const PackageRecord& r) {
  TS_ASSIGN_OR_RETURN(Stmt p, db_->Prepare(std::string("INSERT INTO packages(") + kPackageColumns +
                                           ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  p.Bind(1, r.id).Bind(2, r.version).Bind(3, r.kind).Bind(4, StateName(r.state));
  p.Bind(5, StateName(r.resume_state)).Bind(6, r.manifest_sha256).Bind(7, r.signature_sha256);
  p.Bind(8, r.signer).Bind(9, r.key_id).Bind(10, JoinWords(r.granted)).Bind(11, r.license);
  p.Bind(12, r.known_good).Bind(13, r.base).Bind(14, r.installed_at);
  TS_RETURN_IF_ERROR(p.Run());
  for (const ArtifactRecord& art : r.artifacts) {
    TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT INTO artifacts VALUES(?,?,?,?,?,?,?)"));
    s.Bind(1, r.id).Bind(2, r.version).Bind(3, art.name).Bind(4, art.role);
    s.Bind(5, art.media_type).Bind(6, static_cast<std::int64_t>(art.size)).Bind(7, art.sha256);
    TS_RETURN_IF_ERROR(s.Run());
  }
  for (const DependencyRecord& d : r.dependencies) {
    TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT INTO dependencies VALUES(?,?,?,?,?)"));
    s.Bind(1, r.id).Bind(2, r.version).Bind(3, d.kind).Bind(4, d.id).Bind(5, d.range);
    TS_RETURN_IF_ERROR(s.Run());
  }
  return Status();
}

Status Index::DeletePackage(const std::string& id, const std::string& version) {
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("DELETE FROM packages WHERE id=? AND version=?"));
  s.Bind(1, id).Bind(2, version);
  return s.Run();
}

Status Index::SetState(const std::string& id, const std::string& version, State state,
                       State resume_state) {
  TS_ASSIGN_OR_RETURN(
      Stmt s, db_->Prepare("UPDATE packages SET state=?, resume_state=? WHERE id=? AND version=?"));
  s.Bind(1, StateName(state)).Bind(2, StateName(resume_state)).Bind(3, id).Bind(4, version);
  return s.Run();
}

Status Index::AddTransition(const Transition& t) {
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT INTO transitions(id, version, from_state, "
                                           "to_state, at, reason) VALUES(?,?,?,?,?,?)"));
  s.Bind(1, t.id).Bind(2, t.version).Bind(3, t.from).Bind(4, t.to).Bind(5, t.at).Bind(6, t.reason);
  return s.Run();
}

Result<std::vector<PackageRecord>> Index::Query(const std::string& where,
                                                const std::vector<std::string>& args) {
  std::vector<PackageRecord> out;
  std::map<std::pair<std::string, std::string>, std::size_t> at;
  {
    TS_ASSIGN_OR_RETURN(
        Stmt s, db_->Prepare(std::string("SELECT ") + kPackageColumns + " FROM packages " + where));
    for (std::size_t i = 0; i < args.size(); ++i) s.Bind(static_cast<int>(i + 1), args[i]);
    while (true) {
      TS_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      PackageRecord r;
      r.id = s.Text(0);
      r.version = s.Text(1);
      r.kind = s.Text(2);
      r.resume_state = StoredState(s.Text(4), State::kInstalled);
      r.state =
          StoredState(s.Text(3), IsUsable(r.resume_state) ? r.resume_state : State::kInstalled);
      r.manifest_sha256 = s.Text(5);
      r.signature_sha256 = s.Text(6);
      r.signer = s.Text(7);
      r.key_id = s.Text(8);
      r.granted = SplitWords(s.Text(9));
      r.license = s.Text(10);
      r.known_good = s.Text(11);
      r.base = s.Text(12);
      r.installed_at = s.Int(13);
      at[{r.id, r.version}] = out.size();
      out.push_back(std::move(r));
    }
  }
  if (out.empty()) return out;
  // Artifacts and dependencies in one query each, not one per package, and only of the
  // packages found (a lookup of one version reads its own rows, not every package's).
  const std::string of_found = " WHERE (id, version) IN (SELECT id, version FROM packages " +
                               where + ") ORDER BY rowid";
  TS_ASSIGN_OR_RETURN(Stmt a, db_->Prepare("SELECT id, version, name, role, media_type, size, "
                                           "sha256 FROM artifacts" + of_found));
  for (std::size_t i = 0; i < args.size(); ++i) a.Bind(static_cast<int>(i + 1), args[i]);
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, a.Step());
    if (!row) break;
    auto it = at.find({a.Text(0), a.Text(1)});
    if (it == at.end()) continue;
    out[it->second].artifacts.push_back(
        {a.Text(2), a.Text(3), a.Text(4), static_cast<std::uint64_t>(a.Int(5)), a.Text(6)});
  }
  TS_ASSIGN_OR_RETURN(Stmt d, db_->Prepare("SELECT id, version, kind, dep_id, range FROM "
                                           "dependencies" + of_found));
  for (std::size_t i = 0; i < args.size(); ++i) d.Bind(static_cast<int>(i + 1), args[i]);
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, d.Step());
    if (!row) break;
    auto it = at.find({d.Text(0), d.Text(1)});
    if (it == at.end()) continue;
    out[it->second].dependencies.push_back({d.Text(2), d.Text(3), d.Text(4)});
  }
  return out;
}

Result<std::vector<PackageRecord>> Index::ListPackages() { return Query("ORDER BY id", {}); }

Result<std::int64_t> Index::DataVersion() {
  if (data_version_ == nullptr) {
    TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("PRAGMA data_version"));
    data_version_ = std::make_unique<Stmt>(std::move(s));
  }
  data_version_->Reset();
  TS_ASSIGN_OR_RETURN(bool row, data_version_->Step());
  if (!row) return Internal("registry: PRAGMA data_version returned no row");
  const std::int64_t v = data_version_->Int(0);
  data_version_->Reset();
  return v;
}

Result<std::optional<PackageRecord>> Index::GetPackage(const std::string& id,
                                                       const std::string& version) {
  TS_ASSIGN_OR_RETURN(std::vector<PackageRecord> found,
                      Query("WHERE id=? AND version=?", {id, version}));
  if (found.empty()) return std::optional<PackageRecord>();
  return std::optional<PackageRecord>(std::move(found.front()));
}

Result<std::vector<PackageRecord>> Index::Versions(const std::string& id) {
  return Query("WHERE id=?", {id});
}

Result<std::vector<Transition>> Index::Transitions(const std::string& id,
                                                   const std::string& version) {
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("SELECT seq, id, version, from_state, to_state, at, "
                                           "reason FROM transitions WHERE id=? AND version=? "
                                           "ORDER BY seq"));
  s.Bind(1, id).Bind(2, version);
  std::vector<Transition> out;
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back({s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Int(5), s.Text(6)});
  }
}

Result<std::set<std::string>> Index::ReferencedBlobs() {
  std::set<std::string> out;
  TS_ASSIGN_OR_RETURN(Stmt s,
                      db_->Prepare("SELECT sha256 FROM artifacts UNION SELECT manifest_sha256 FROM "
                                   "packages UNION SELECT signature_sha256 FROM packages"));
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    if (!s.Text(0).empty()) out.insert(s.Text(0));
  }
  return out;
}

Result<std::int64_t> Index::AddQuarantine(const QuarantineRecord& q) {
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT INTO quarantine(at, source, file_sha256, "
                                           "package, step, code, reason, path) "
                                           "VALUES(?,?,?,?,?,?,?,?)"));
  s.Bind(1, q.at).Bind(2, q.source).Bind(3, q.file_sha256).Bind(4, q.package).Bind(5, q.step);
  s.Bind(6, q.code).Bind(7, q.reason).Bind(8, q.path);
  TS_RETURN_IF_ERROR(s.Run());
  TS_ASSIGN_OR_RETURN(Stmt last, db_->Prepare("SELECT last_insert_rowid()"));
  TS_ASSIGN_OR_RETURN(bool row, last.Step());
  return row ? last.Int(0) : 0;
}

Result<std::vector<QuarantineRecord>> Index::ListQuarantine() {
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("SELECT seq, at, source, file_sha256, package, step, "
                                           "code, reason, path FROM quarantine ORDER BY seq"));
  std::vector<QuarantineRecord> out;
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back({s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6),
                   s.Text(7), s.Text(8)});
  }
}

Status Index::DeleteQuarantine(std::int64_t seq) {
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("DELETE FROM quarantine WHERE seq=?"));
  s.Bind(1, seq);
  return s.Run();
}

Result<std::optional<std::string>> Index::GetSetting(const std::string& name) {
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("SELECT value FROM settings WHERE name=?"));
  s.Bind(1, name);
  TS_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

Status Index::PutSetting(const std::string& name, const std::string& value) {
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT OR REPLACE INTO settings VALUES(?, ?)"));
  s.Bind(1, name).Bind(2, value);
  return s.Run();
}

Result<TrustPolicy> Index::LoadTrustPolicy() {
  TrustPolicy policy;
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("SELECT name, public_key, prefixes, capabilities, "
                                           "licenses FROM trusted_keys ORDER BY name"));
  while (true) {
    TS_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, package::HexToBytes(s.Text(1)));
    TS_ASSIGN_OR_RETURN(package::PublicKey key, package::PublicKey::FromBytes(bytes));
    policy.keys.push_back(TrustedKey{s.Text(0), key, SplitWords(s.Text(2)), SplitWords(s.Text(3)),
                                     SplitWords(s.Text(4))});
  }
  TS_ASSIGN_OR_RETURN(Stmt u, db_->Prepare("SELECT value FROM settings WHERE name='unsigned'"));
  TS_ASSIGN_OR_RETURN(bool row, u.Step());
  if (row) policy.unsigned_prefixes = SplitWords(u.Text(0));
  return policy;
}

Status Index::PutTrustedKey(const TrustedKey& key, std::int64_t at) {
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT OR REPLACE INTO trusted_keys VALUES(?,?,?,?,?,"
                                           "?,?)"));
  s.Bind(1, key.name).Bind(2, key.key.KeyId()).Bind(3, package::BytesToHex(key.key.bytes()));
  s.Bind(4, JoinWords(key.id_prefixes)).Bind(5, JoinWords(key.capabilities));
  s.Bind(6, JoinWords(key.licenses)).Bind(7, at);
  return s.Run();
}

Status Index::RemoveTrustedKey(const std::string& name) {
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("DELETE FROM trusted_keys WHERE name=?"));
  s.Bind(1, name);
  TS_RETURN_IF_ERROR(s.Run());
  TS_ASSIGN_OR_RETURN(Stmt c, db_->Prepare("SELECT changes()"));
  TS_ASSIGN_OR_RETURN(bool row, c.Step());
  if (!row || c.Int(0) == 0) {
    return Status(StatusCode::kNotFound, "registry: trust: no trusted key named '" + name + "'");
  }
  return Status();
}

Status Index::PutFootprint(const std::string& id, const std::string& version,
                           const std::string& sha256, const std::string& measured,
                           std::int64_t at) {
  TS_ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT OR REPLACE INTO footprints VALUES(?,?,?,?,?)"));
  s.Bind(1, id).Bind(2, version).Bind(3, sha256).Bind(4, measured).Bind(5, at);
  return s.Run();
}

Result<std::optional<std::pair<std::string, std::string>>> Index::GetFootprint(
    const std::string& id, const std::string& version) {
  TS_ASSIGN_OR_RETURN(
      Stmt s, db_->Prepare("SELECT sha256, measured FROM footprints WHERE id=? AND version=?"));
  s.Bind(1, id).Bind(2, version);
  TS_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::pair<std::string, std::string>>();
  return std::optional<std::pair<std::string, std::string>>({s.Text(0), s.Text(1)});
}

Status Index::SetUnsignedPrefixes(const std::vector<std::string>& prefixes) {
  TS_ASSIGN_OR_RETURN(Stmt s,
                      db_->Prepare("INSERT OR REPLACE INTO settings VALUES('unsigned', ?)"));
  s.Bind(1, JoinWords(prefixes));
  return s.Run();
}

}  // namespace tessera::registry
