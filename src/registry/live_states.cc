#include "registry/live_states.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"

namespace tessera::registry {
namespace {

using LiveJson = nlohmann::json;

constexpr std::string_view kLockSuffix = ".lock";
constexpr std::string_view kJsonSuffix = ".json";
constexpr std::string_view kTempSuffix = ".json.tmp";
constexpr int kCreateAttempts = 8;

// Names in `dir`; none when it is missing.
std::vector<std::string> ListLiveDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// "<decimal pid>-<16 lowercase hex>".
bool IsLiveStem(std::string_view s) {
  const std::size_t dash = s.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash > 10 || s.size() != dash + 17) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = i < dash ? (c >= '0' && c <= '9')
                             : i == dash || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!ok) return false;
  }
  return true;
}

// The stem and suffix of a live file's name; nullopt for other names.
std::optional<std::pair<std::string, std::string_view>> SplitLiveName(const std::string& name) {
  for (std::string_view suffix : {kTempSuffix, kJsonSuffix, kLockSuffix}) {
    if (name.size() > suffix.size() &&
        std::string_view(name).substr(name.size() - suffix.size()) == suffix) {
      std::string stem = name.substr(0, name.size() - suffix.size());
      if (IsLiveStem(stem)) return std::make_pair(std::move(stem), suffix);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string RandomStemSuffix() {
  std::array<std::uint8_t, 8> bytes{};
  if (::getrandom(bytes.data(), bytes.size(), GRND_NONBLOCK) !=
      static_cast<ssize_t>(bytes.size())) {
    // No entropy yet: the clock still differs between attempts, and O_EXCL refuses a clash.
    std::uint64_t t =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (std::uint8_t& b : bytes) {
      b = static_cast<std::uint8_t>(t);
      t >>= 8;
    }
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

int FlockRetrying(int fd, int op) {
  int rc;
  do {
    rc = ::flock(fd, op);
  } while (rc != 0 && errno == EINTR);
  return rc;
}

// A held lock file's liveness, by a shared non-blocking flock: the publisher holds it exclusive.
enum class LockOwner { kLive, kEnded, kNoLockFile };

// Opens `lock_path` and probes it; on kEnded the descriptor (holding a shared lock) is in *fd.
Result<LockOwner> ProbeLock(const std::string& lock_path, int* fd) {
  *fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) {
    if (errno == ENOENT) return LockOwner::kNoLockFile;
    return base::FileErrno("open", lock_path, errno);
  }
  if (FlockRetrying(*fd, LOCK_SH | LOCK_NB) == 0) return LockOwner::kEnded;
  const int err = errno;
  ::close(*fd);
  *fd = -1;
  if (err == EWOULDBLOCK) return LockOwner::kLive;
  return base::FileErrno("lock", lock_path, err);
}

// Removes an ended publisher's files (lock last) if `fd` (>= 0: its open .lock) can be locked
// exclusively; another cleaner holding it shared leaves them to that cleaner. Returns the names
// removed.
Result<std::vector<std::string>> RemoveEnded(base::FileEnv& env, const std::string& dir,
                                             const std::string& stem, int fd) {
  std::vector<std::string> removed;
  if (fd >= 0 && FlockRetrying(fd, LOCK_EX | LOCK_NB) != 0) return removed;
  for (std::string_view suffix : {kJsonSuffix, kTempSuffix, kLockSuffix}) {
    const std::string name = stem + std::string(suffix);
    struct stat st;
    if (::lstat((dir + "/" + name).c_str(), &st) != 0) continue;
    TS_RETURN_IF_ERROR(env.Remove(dir + "/" + name));
    removed.push_back(name);
  }
  return removed;
}

Status LiveFileMalformed(const std::string& path, const std::string& why) {
  return Status(StatusCode::kMalformed, "registry: live state " + path + ": " + why);
}

// Reads a live publisher's .json; nullopt when it is gone (the publisher ended meanwhile).
Result<std::optional<std::vector<LiveModule>>> ReadLiveFile(const std::string& path) {
  using Out = std::optional<std::vector<LiveModule>>;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Out();
    return base::FileErrno("open", path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return LiveFileMalformed(path, "not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxLiveFileBytes) {
    ::close(fd);
    return LiveFileMalformed(path, std::to_string(st.st_size) + " bytes, over the limit of " +
                                       std::to_string(kMaxLiveFileBytes));
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  const LiveJson j = LiveJson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return LiveFileMalformed(path, "not a JSON object");
  const auto pid = j.find("pid");
  if (pid == j.end() || !pid->is_number_integer() || pid->get<std::int64_t>() <= 0) {
    return LiveFileMalformed(path, "\"pid\" is not a positive integer");
  }
  const auto modules = j.find("modules");
  if (modules == j.end() || !modules->is_array()) {
    return LiveFileMalformed(path, "\"modules\" is not an array");
  }
  std::vector<LiveModule> out;
  for (const LiveJson& m : *modules) {
    const auto key = m.is_object() ? m.find("key") : m.end();
    const auto state = m.is_object() ? m.find("state") : m.end();
    if (!m.is_object() || key == m.end() || !key->is_string() || key->get<std::string>().empty() ||
        state == m.end() || !state->is_string()) {
      return LiveFileMalformed(path, "a module is not {\"key\": \"id@version\", \"state\": ...}");
    }
    const std::optional<LiveState> s = ParseLiveState(state->get<std::string>());
    if (!s)
      return LiveFileMalformed(path, "a module's state is neither \"resident\" nor \"active\"");
    out.push_back({key->get<std::string>(), *s, pid->get<std::int64_t>()});
  }
  return Out(std::move(out));
}

}  // namespace

std::string_view LiveStateName(LiveState state) {
  return state == LiveState::kActive ? "active" : "resident";
}

std::optional<LiveState> ParseLiveState(std::string_view name) {
  if (name == "resident") return LiveState::kResident;
  if (name == "active") return LiveState::kActive;
  return std::nullopt;
}

LiveStateFile::LiveStateFile(base::FileEnv& env, std::string dir, std::string stem, int lock_fd,
                             std::int64_t pid)
    : env_(env), dir_(std::move(dir)), stem_(std::move(stem)), lock_fd_(lock_fd), pid_(pid) {}

Result<std::unique_ptr<LiveStateFile>> LiveStateFile::Create(const std::string& home,
                                                             base::FileEnv& env) {
  const std::string dir = home + "/live";
  TS_RETURN_IF_ERROR(env.MakeDir(dir, base::kDirMode));
  const std::int64_t pid = ::getpid();
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    const std::string stem = std::to_string(pid) + "-" + RandomStemSuffix();
    const std::string lock_path = dir + "/" + stem + std::string(kLockSuffix);
    TS_ASSIGN_OR_RETURN(int fd, env.CreateExclusive(lock_path, base::kFileMode));
    if (FlockRetrying(fd, LOCK_EX) != 0) {
      const int err = errno;
      (void)env.Close(fd, lock_path);
      (void)env.Remove(lock_path);
      return base::FileErrno("lock", lock_path, err);
    }
    // A cleaner may have removed the file as an orphan between its creation and the lock: then
    // the lock is on an inode no reader can find, and a new stem is tried.
    struct stat held, named;
    if (::fstat(fd, &held) != 0 || ::stat(lock_path.c_str(), &named) != 0 ||
        held.st_dev != named.st_dev || held.st_ino != named.st_ino) {
      (void)env.Close(fd, lock_path);
      continue;
    }
    std::unique_ptr<LiveStateFile> file(new LiveStateFile(env, dir, stem, fd, pid));
    TS_RETURN_IF_ERROR(file->Publish({}));
    return file;
  }
  return Status(StatusCode::kIoError, "registry: cannot create a live state file in " + dir +
                                          ": its lock file was removed " +
                                          std::to_string(kCreateAttempts) + " times");
}

LiveStateFile::~LiveStateFile() {
  const std::string base = dir_ + "/" + stem_;
  (void)env_.Remove(base + std::string(kJsonSuffix));
  (void)env_.Remove(base + std::string(kTempSuffix));
  (void)env_.Remove(base + std::string(kLockSuffix));
  (void)env_.Close(lock_fd_, base + std::string(kLockSuffix));  // drops the lock
}

Status LiveStateFile::Publish(const std::vector<std::pair<std::string, LiveState>>& modules) {
  LiveJson list = LiveJson::array();
  for (const auto& [key, state] : modules) {
    list.push_back({{"key", key}, {"state", std::string(LiveStateName(state))}});
  }
  const LiveJson j = {{"pid", pid_}, {"modules", std::move(list)}};
  const std::string text =
      j.dump(-1, ' ', /*ensure_ascii=*/false, LiveJson::error_handler_t::replace) + "\n";
  const std::string path = dir_ + "/" + stem_ + std::string(kJsonSuffix);
  if (text.size() > kMaxLiveFileBytes) {
    return Status(StatusCode::kResourceExhausted,
                  "registry: live state " + path + ": " + std::to_string(modules.size()) +
                      " modules take " + std::to_string(text.size()) +
                      " bytes, over the limit of " + std::to_string(kMaxLiveFileBytes));
  }
  base::AtomicWriteOptions options;
  options.sync_file = false;  // nothing is live after a crash: no durability needed
  options.sync_dir = false;
  options.temp_path = dir_ + "/" + stem_ + std::string(kTempSuffix);  // known to the cleaners
  return base::WriteFileAtomic(env_, path, text, std::move(options));
}

Result<std::vector<LiveModule>> ReadLiveStates(const std::string& home, base::FileEnv& env) {
  const std::string dir = home + "/live";
  std::vector<LiveModule> out;
  for (const std::string& name : ListLiveDir(dir)) {
    const auto split = SplitLiveName(name);
    if (!split || split->second != kJsonSuffix) continue;
    const std::string& stem = split->first;
    int fd = -1;
    TS_ASSIGN_OR_RETURN(LockOwner owner,
                        ProbeLock(dir + "/" + stem + std::string(kLockSuffix), &fd));
    if (owner != LockOwner::kLive) {
      (void)RemoveEnded(env, dir, stem, fd);  // best effort: a read-only store keeps them
      if (fd >= 0) ::close(fd);
      continue;
    }
    TS_ASSIGN_OR_RETURN(std::optional<std::vector<LiveModule>> modules,
                        ReadLiveFile(dir + "/" + name));
    if (!modules) continue;
    for (LiveModule& m : *modules) out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const LiveModule& a, const LiveModule& b) {
    if (a.key != b.key) return a.key < b.key;
    if (a.pid != b.pid) return a.pid < b.pid;
    return a.state == LiveState::kActive && b.state != LiveState::kActive;
  });
  return out;
}

Result<std::vector<std::string>> StaleLiveFiles(const std::string& home, bool remove,
                                                base::FileEnv& env) {
  const std::string dir = home + "/live";
  std::map<std::string, std::vector<std::string>> by_stem;  // stem -> its file names
  for (const std::string& name : ListLiveDir(dir)) {
    if (const auto split = SplitLiveName(name)) by_stem[split->first].push_back(name);
  }
  std::vector<std::string> out;
  for (const auto& [stem, names] : by_stem) {
    int fd = -1;
    TS_ASSIGN_OR_RETURN(LockOwner owner,
                        ProbeLock(dir + "/" + stem + std::string(kLockSuffix), &fd));
    if (owner == LockOwner::kLive) continue;
    Result<std::vector<std::string>> removed = std::vector<std::string>();
    if (remove) removed = RemoveEnded(env, dir, stem, fd);
    if (fd >= 0) ::close(fd);
    TS_RETURN_IF_ERROR(removed.status());
    if (remove && removed->empty()) continue;  // another cleaner holds it: leave it to them
    for (const std::string& name : remove ? *removed : names) out.push_back("live/" + name);
  }
  return out;
}

std::string DescribeLive(const std::vector<LiveModule>& live, const std::string& key) {
  std::string out;
  for (const LiveModule& m : live) {
    if (m.key != key) continue;
    if (!out.empty()) out += ", ";
    out += std::string(LiveStateName(m.state)) + " in pid " + std::to_string(m.pid);
  }
  return out;
}

}  // namespace tessera::registry
