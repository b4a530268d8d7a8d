#include "registry/registry.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "base/atomic_file.h"
#include "base/sha256.h"
#include "package/file_io.h"
#include "tessera/version.h"

namespace tessera::registry {

Registry::Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

std::string PackageName(const std::string& id, const std::string& version) {
  return id + "@" + version;
}

Result<std::string> Registry::DefaultHome() {
  if (const char* home = std::getenv("TESSERA_HOME"); home != nullptr && *home != '\0') {
    return std::string(home);
  }
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/tessera";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    return std::string(home) + "/.local/share/tessera";
  }
  return Status(StatusCode::kNotFound,
                "registry: no store: set TESSERA_HOME (or XDG_DATA_HOME or HOME)");
}

Result<std::unique_ptr<Registry>> Registry::Open(const std::string& home, RegistryOptions options) {
  if (home.empty()) return Status(StatusCode::kInvalidArgument, "registry: empty home path");
  if (options.clock == nullptr) options.clock = &base::SystemClock();
  if (options.env == nullptr) options.env = &base::DefaultFileEnv();
  if (options.runtime_version.empty()) options.runtime_version = kRuntimeVersion;
  if (options.read_only) {
    struct stat st {};
    if (::stat(home.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        ::access((home + "/registry.db").c_str(), F_OK) != 0) {
      return Status(StatusCode::kNotFound,
                    "registry: no store at " + home +
                        " (nothing has been installed there; tessera install FILE creates it)");
    }
    std::unique_ptr<Registry> registry(new Registry());
    registry->home_ = home;
    registry->options_ = options;
    TS_ASSIGN_OR_RETURN(registry->index_, Index::Open(home + "/registry.db", /*read_only=*/true));
    return registry;
  }
  if (!Writable(home)) {
    const int err = errno;
    return Status(StatusCode::kFailedPrecondition,
                  "registry: the store at " + home + " is read-only (" + std::strerror(err) +
                      "): commands that change it cannot run; commands that read it (list, "
                      "show, verify, run) still work");
  }
  base::FileEnv& env = *options.env;
  // Parents first: "a/b/c" creates a, a/b, a/b/c.
  for (std::size_t slash = home.find('/', 1); slash != std::string::npos;
       slash = home.find('/', slash + 1)) {
    TS_RETURN_IF_ERROR(env.MakeDir(home.substr(0, slash), base::kDirMode));
  }
  for (const char* dir : {"", "/blobs", "/blobs/sha256", "/staging", "/quarantine"}) {
    TS_RETURN_IF_ERROR(env.MakeDir(home + dir, base::kDirMode));
  }
  std::unique_ptr<Registry> registry(new Registry());
  registry->home_ = home;
  registry->options_ = options;
  TS_ASSIGN_OR_RETURN(registry->index_, Index::Open(home + "/registry.db"));
  registry->EnsureReserve();
  return registry;
}

Status Registry::ReleaseReserve() {
  if (options_.read_only) return Status::Ok();
  return options_.env->Remove(home_ + "/reserve");
}

void Registry::EnsureReserve() {
  if (options_.read_only) return;
  const std::string path = home_ + "/reserve";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && st.st_size >= static_cast<off_t>(kReserveBytes)) return;
  // Written, not just sized, so that the blocks are really allocated (a sparse file frees
  // nothing when removed).
  const std::vector<std::uint8_t> zeros(kReserveBytes, 0);
  if (!base::WriteFileAtomic(*options_.env, path, zeros).ok()) {
    (void)options_.env->Remove(path);  // no room now: the next write that can, makes it
  }
}

bool Registry::Writable(const std::string& home) {
  if (::access(home.c_str(), W_OK) == 0) return true;
  return errno != EROFS && errno != EACCES && errno != EPERM;  // a missing store can be created
}

Registry::~Registry() = default;

std::string Registry::BlobPath(const std::string& sha256) const {
  return home_ + "/blobs/sha256/" + sha256;
}

Result<Registry::Lock> Registry::LockStore() {
  const std::string path = home_ + "/lock";
  // A read-only store is read under a shared lock (when its lock file exists: nothing is
  // created), so that a writer on a read-write view of the same store is not seen half-done.
  const bool shared = options_.read_only;
  int fd = -1;
  if (shared) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return Lock(-1);
    if (fd < 0) return base::FileErrno("open", path, errno);
  } else {
    TS_ASSIGN_OR_RETURN(fd, options_.env->OpenOrCreate(path));
  }
  int rc;
  do {
    rc = ::flock(fd, shared ? LOCK_SH : LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    ::close(fd);
    return base::FileErrno("lock", path, err);
  }
  return Lock(fd);
}

Result<std::vector<PackageRecord>> Registry::List() { return index_->ListPackages(); }

Result<PackageRecord> Registry::Resolve(const std::string& id, const std::string& version) {
  if (!version.empty()) {
    TS_ASSIGN_OR_RETURN(std::optional<PackageRecord> found, index_->GetPackage(id, version));
    if (!found) {
      return Status(StatusCode::kNotFound,
                    "registry: " + PackageName(id, version) + " is not installed");
    }
    return std::move(*found);
  }
  TS_ASSIGN_OR_RETURN(std::vector<PackageRecord> versions, index_->Versions(id));
  if (versions.empty()) {
    return Status(StatusCode::kNotFound, "registry: " + id + " is not installed");
  }
  // The current version: the highest usable one, else the highest of any state.
  const PackageRecord* best = nullptr;
  bool best_usable = false;
  std::optional<package::Version> best_version;
  for (const PackageRecord& r : versions) {
    Result<package::Version> v = package::Version::Parse(r.version);
    if (!v.ok()) continue;
    const bool usable = IsUsable(r.state);
    if (best == nullptr || (usable && !best_usable) ||
        (usable == best_usable && *v > *best_version)) {
      best = &r;
      best_usable = usable;
      best_version = *v;
    }
  }
  if (best == nullptr) return Status(StatusCode::kInternal, "registry: no parsable version");
  return *best;
}

Result<std::int64_t> Registry::DataVersion() { return index_->DataVersion(); }

Result<PackageRecord> Registry::Show(const std::string& id, const std::string& version) {
  return Resolve(id, version);
}

Result<package::Manifest> Registry::LoadManifest(const PackageRecord& record) {
  TS_ASSIGN_OR_RETURN(
      std::vector<std::uint8_t> bytes,
      package::ReadSmallFile(BlobPath(record.manifest_sha256), package::kMaxManifestBytes));
  if (base::Sha256Hex(bytes) != record.manifest_sha256) {
    return Status(StatusCode::kIntegrity, "registry: the stored manifest of " +
                                              PackageName(record.id, record.version) +
                                              " does not match its sha256 (run tessera verify)");
  }
  return package::ParseManifest(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Result<std::vector<Transition>> Registry::History(const std::string& id,
                                                  const std::string& version) {
  return index_->Transitions(id, version);
}

Result<std::vector<QuarantineRecord>> Registry::QuarantineList() {
  return index_->ListQuarantine();
}

Result<TrustPolicy> Registry::Trust() { return index_->LoadTrustPolicy(); }

Status Registry::RecordFootprint(const std::string& id, const std::string& version,
                                 const std::string& sha256, const std::string& measured) {
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  return index_->PutFootprint(id, version, sha256, measured, options_.clock->NowUnixMillis());
}

Result<std::optional<std::string>> Registry::LoadFootprint(const std::string& id,
                                                           const std::string& version,
                                                           const std::string& sha256) {
  TS_ASSIGN_OR_RETURN(auto stored, index_->GetFootprint(id, version));
  if (!stored.has_value() || stored->first != sha256) return std::optional<std::string>();
  return std::optional<std::string>(stored->second);
}

Status Registry::TrustAdd(const TrustedKey& key) {
  TS_RETURN_IF_ERROR(ValidateTrustedKey(key));
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  return index_->PutTrustedKey(key, options_.clock->NowUnixMillis());
}

Status Registry::TrustRemove(const std::string& name) {
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  return index_->RemoveTrustedKey(name);
}

Status Registry::TrustUnsigned(const std::vector<std::string>& prefixes) {
  for (const std::string& p : prefixes) TS_RETURN_IF_ERROR(ValidateIdPattern(p));
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  return index_->SetUnsignedPrefixes(prefixes);
}

}  // namespace tessera::registry
