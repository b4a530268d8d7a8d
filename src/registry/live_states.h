// Live residency: which modules each running process holds in memory now, published under
// <home>/live/ so that other processes (tessera list, show, remove, doctor) can see it, and gone
// the moment the process is, SIGKILL included (ADR 0016). It is not lifecycle: nothing here is
// stored in the index or its history.
//
// Files, for each publisher (one Runtime) a stem "<pid>-<16 hex digits>":
//   live/<stem>.lock      empty; its creator holds flock(LOCK_EX) on it from creation to exit
//   live/<stem>.json      {"pid": 1234, "modules": [{"key": "id@version", "state": "active"}]}
//                         ("resident" or "active"), at most kMaxLiveFileBytes
//   live/<stem>.json.tmp  the next .json while it is written
//
// Why the lock is a file of its own: a flock(2) lock belongs to an inode, so the usual atomic
// replacement (write a temporary file, rename it over the old one) would swap in an unlocked
// inode and the process would look dead; rewriting the locked file in place instead lets a
// reader, who cannot take the lock to wait for the writer, see a half-written file. Keeping the
// lock on <stem>.lock, which never changes, and replacing <stem>.json by rename gives both: the
// lock says whether the process lives, and the .json is always the old set or the new one.
//
// Liveness: the kernel drops a flock lock when the last descriptor of its open file goes, which
// happens at any process exit, SIGKILL included. A reader takes flock(LOCK_SH | LOCK_NB) on
// <stem>.lock: refused means the publisher lives and its .json is read; granted means it has
// ended, so its files are ignored and removed when the reader can take the lock exclusively
// (on a read-only store they stay, ignored). A .json whose .lock is gone is a dead process's too.
// The pid is informational (ids are reused; liveness never depends on it).
//
// Creation order, so that no reader ever sees a .json without a held lock: create <stem>.lock
// (O_EXCL), lock it, check the path still names the locked inode (a cleaner may have removed an
// unlocked orphan in between; then try a new stem), then write the first .json. Ending removes
// the .json, then the .lock, then drops the lock.
//
// Live states need no durability (after a crash or power loss nothing is live), so nothing here
// is fsynced. A process that fork()s without exec() shares the lock with its child (descriptors
// are O_CLOEXEC, not close-on-fork): the set then stays live until both have ended.
//
// Thread safety: LiveStateFile is used by one thread at a time; the free functions are safe
// from any thread and any process.
#ifndef TESSERA_REGISTRY_LIVE_STATES_H_
#define TESSERA_REGISTRY_LIVE_STATES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/file_env.h"
#include "tessera/status.h"

namespace tessera::registry {

enum class LiveState : std::uint8_t {
  kResident,  // in memory, no lease
  kActive,    // in memory and leased by at least one request
};
std::string_view LiveStateName(LiveState state);
std::optional<LiveState> ParseLiveState(std::string_view name);

// One module held by one live process.
struct LiveModule {
  std::string key;  // "id@version"
  LiveState state = LiveState::kResident;
  std::int64_t pid = 0;
};

// A live file larger than this is refused as malformed (a module's entry takes ~100 bytes).
inline constexpr std::uint64_t kMaxLiveFileBytes = 1u << 20;

// The publisher's side: one per Runtime, for its whole life. Move-only owner of the lock.
class LiveStateFile {
 public:
  // Creates <home>/live/ if needed and this process's stem, locked, publishing no module.
  static Result<std::unique_ptr<LiveStateFile>> Create(const std::string& home,
                                                       base::FileEnv& env = base::DefaultFileEnv());
  ~LiveStateFile();  // removes the files, then drops the lock
  LiveStateFile(const LiveStateFile&) = delete;
  LiveStateFile& operator=(const LiveStateFile&) = delete;

  // Replaces the published set with `modules` ("id@version", state), atomically for readers.
  Status Publish(const std::vector<std::pair<std::string, LiveState>>& modules);

  const std::string& stem() const { return stem_; }
  std::int64_t pid() const { return pid_; }

 private:
  LiveStateFile(base::FileEnv& env, std::string dir, std::string stem, int lock_fd,
                std::int64_t pid);

  base::FileEnv& env_;
  std::string dir_;   // <home>/live
  std::string stem_;  // "<pid>-<hex>"
  int lock_fd_;
  std::int64_t pid_;
};

// Every module published by a live process on the store at `home`, ordered by key, pid, active
// before resident (one process may run several runtimes); a
// missing live/ directory is no module. Files of ended processes are skipped and removed when
// possible (removal errors are ignored). A live process's file that is not valid is kMalformed
// naming it.
Result<std::vector<LiveModule>> ReadLiveStates(const std::string& home,
                                               base::FileEnv& env = base::DefaultFileEnv());

// The live/ files left by ended processes, relative to `home` ("live/<name>"); with `remove`,
// removes each while holding its lock, so that no live process's file is touched.
Result<std::vector<std::string>> StaleLiveFiles(const std::string& home, bool remove,
                                                base::FileEnv& env = base::DefaultFileEnv());

// "active in pid 12, resident in pid 34" for the entries of `key`; "" when it has none.
std::string DescribeLive(const std::vector<LiveModule>& live, const std::string& key);

}  // namespace tessera::registry

#endif  // TESSERA_REGISTRY_LIVE_STATES_H_
