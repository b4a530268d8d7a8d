// File-system fault injection for tests: base::FileEnv implementations that perform every
// operation with the real one and record it, and either fail a chosen operation with a fault
// (FaultyFileEnv) or SIGKILL the process at it (KillingFileEnv). The fault-injection and kill -9
// tests of the store, the package reader, key files, the GGUF writer and AtomicFile all use
// them, so they count operations the same way.
//
// Every FileEnv method is overridden by both classes; a new method must be added here, or its
// operations go untested. The faults, per kind of operation:
//
//   create      ENOSPC (no space for a new file)
//   open        EROFS (a read-only file system refuses to create a lock file)
//   write       half of the bytes written, then ENOSPC (a full disk)
//   fsync       EIO (by descriptor, by path, and of directories)
//   close       EIO (the descriptor is released, as on Linux)
//   rename      EXDEV, and EIO
//   remove      EIO
//   mkdir       ENOSPC
//
// Header-only, so that each test target can include it. Not thread-safe: one thread calls it.
#ifndef TESSERA_TESTS_BASE_FAULTY_FILE_ENV_H_
#define TESSERA_TESTS_BASE_FAULTY_FILE_ENV_H_

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_env.h"

namespace tessera::fault {

enum class Op {
  kCreate,
  kOpen,
  kWrite,
  kSync,
  kClose,
  kRename,
  kRemove,
  kMakeDir,
  kSyncDir,
  kSyncFile
};

enum class Fault {
  kCreateNoSpace,
  kOpenReadOnly,
  kShortWriteNoSpace,
  kSyncIo,
  kCloseIo,
  kRenameCrossDevice,
  kRenameIo,
  kRemoveIo,
  kMakeDirNoSpace,
};

inline const char* OpName(Op op) {
  switch (op) {
    case Op::kCreate:
      return "create";
    case Op::kOpen:
      return "open";
    case Op::kWrite:
      return "write";
    case Op::kSync:
      return "fsync";
    case Op::kClose:
      return "close";
    case Op::kRename:
      return "rename";
    case Op::kRemove:
      return "remove";
    case Op::kMakeDir:
      return "mkdir";
    case Op::kSyncDir:
      return "fsync-dir";
    case Op::kSyncFile:
      return "fsync-file";
  }
  return "?";
}

inline const char* FaultName(Fault fault) {
  switch (fault) {
    case Fault::kCreateNoSpace:
      return "create-ENOSPC";
    case Fault::kOpenReadOnly:
      return "open-EROFS";
    case Fault::kShortWriteNoSpace:
      return "short-write-ENOSPC";
    case Fault::kSyncIo:
      return "fsync-EIO";
    case Fault::kCloseIo:
      return "close-EIO";
    case Fault::kRenameCrossDevice:
      return "rename-EXDEV";
    case Fault::kRenameIo:
      return "rename-EIO";
    case Fault::kRemoveIo:
      return "remove-EIO";
    case Fault::kMakeDirNoSpace:
      return "mkdir-ENOSPC";
  }
  return "?";
}

// The faults that can hit an operation of kind `op`.
inline std::vector<Fault> FaultsFor(Op op) {
  switch (op) {
    case Op::kCreate:
      return {Fault::kCreateNoSpace};
    case Op::kOpen:
      return {Fault::kOpenReadOnly};
    case Op::kWrite:
      return {Fault::kShortWriteNoSpace};
    case Op::kSync:
    case Op::kSyncDir:
    case Op::kSyncFile:
      return {Fault::kSyncIo};
    case Op::kClose:
      return {Fault::kCloseIo};
    case Op::kRename:
      return {Fault::kRenameCrossDevice, Fault::kRenameIo};
    case Op::kRemove:
      return {Fault::kRemoveIo};
    case Op::kMakeDir:
      return {Fault::kMakeDirNoSpace};
  }
  return {};
}

// The number of faulted runs that failing every operation of `ops` with every fault takes.
inline int TrialCount(const std::vector<Op>& ops) {
  int n = 0;
  for (Op op : ops) n += static_cast<int>(FaultsFor(op).size());
  return n;
}

inline bool Contains(const std::vector<Op>& ops, Op op) {
  return std::find(ops.begin(), ops.end(), op) != ops.end();
}

// Open descriptors of this process, to find leaks.
inline std::size_t OpenDescriptors() {
  std::size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  while (const dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

// Performs every operation through the real FileEnv and, while armed, records it; operation
// number `fail_at` (1-based, counted from Arm) fails with the armed fault instead. fail_at 0
// only records.
class FaultyFileEnv final : public base::FileEnv {
 public:
  void Arm(int fail_at, Fault fault) {
    armed_ = true;
    fired_ = false;
    fail_at_ = fail_at;
    fault_ = fault;
    ops_.clear();
    paths_.clear();
  }
  void Disarm() { armed_ = false; }
  bool fired() const { return fired_; }
  // The operations seen since Arm, and the path each touched.
  const std::vector<Op>& ops() const { return ops_; }
  const std::vector<std::string>& paths() const { return paths_; }
  // "operation 3 (rename a -> b) fails with rename-EXDEV", for traces.
  std::string Describe(int n) const {
    return "operation " + std::to_string(n) + " (" + OpName(ops_.at(n - 1)) + " " +
           paths_.at(n - 1) + ") fails with " + FaultName(fault_);
  }

  Result<int> CreateExclusive(const std::string& path, mode_t mode) override {
    if (Hit(Op::kCreate, path)) return base::FileErrno("create", path, ENOSPC);
    return FileEnv::CreateExclusive(path, mode);
  }
  Result<int> OpenOrCreate(const std::string& path) override {
    if (Hit(Op::kOpen, path)) return base::FileErrno("open", path, EROFS);
    return FileEnv::OpenOrCreate(path);
  }
  Status Write(int fd, std::span<const std::uint8_t> bytes, std::string_view path) override {
    if (Hit(Op::kWrite, path)) {
      TS_RETURN_IF_ERROR(FileEnv::Write(fd, bytes.first(bytes.size() / 2), path));
      return base::FileErrno("write", path, ENOSPC);
    }
    return FileEnv::Write(fd, bytes, path);
  }
  Status Sync(int fd, std::string_view path) override {
    if (Hit(Op::kSync, path)) return base::FileErrno("fsync", path, EIO);
    return FileEnv::Sync(fd, path);
  }
  Status Close(int fd, std::string_view path) override {
    if (Hit(Op::kClose, path)) {
      FileEnv::Close(fd, path).IgnoreError();  // Linux frees the descriptor even on error
      return base::FileErrno("close", path, EIO);
    }
    return FileEnv::Close(fd, path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (Hit(Op::kRename, from + " -> " + to)) {
      return base::FileErrno("rename", from + " to " + to,
                             fault_ == Fault::kRenameCrossDevice ? EXDEV : EIO);
    }
    return FileEnv::Rename(from, to);
  }
  Status Remove(const std::string& path) override {
    if (Hit(Op::kRemove, path)) return base::FileErrno("remove", path, EIO);
    return FileEnv::Remove(path);
  }
  Status MakeDir(const std::string& path, mode_t mode) override {
    if (Hit(Op::kMakeDir, path)) return base::FileErrno("mkdir", path, ENOSPC);
    return FileEnv::MakeDir(path, mode);
  }
  Status SyncDir(const std::string& path) override {
    if (Hit(Op::kSyncDir, path)) return base::FileErrno("fsync directory", path, EIO);
    return FileEnv::SyncDir(path);
  }
  Status SyncFile(const std::string& path) override {
    if (Hit(Op::kSyncFile, path)) return base::FileErrno("fsync", path, EIO);
    return FileEnv::SyncFile(path);
  }

 private:
  // Records one operation; true when it is the one to fail.
  bool Hit(Op op, std::string_view path) {
    if (!armed_) return false;
    ops_.push_back(op);
    paths_.emplace_back(path);
    if (static_cast<int>(ops_.size()) != fail_at_) return false;
    const std::vector<Fault> applicable = FaultsFor(op);
    if (std::find(applicable.begin(), applicable.end(), fault_) == applicable.end()) {
      ADD_FAILURE() << "fault " << FaultName(fault_) << " armed for operation " << fail_at_
                    << ", a " << OpName(op) << " of " << path;
      return false;
    }
    fired_ = true;
    return true;
  }

  bool armed_ = false;
  bool fired_ = false;
  int fail_at_ = 0;
  Fault fault_ = Fault::kRemoveIo;
  std::vector<Op> ops_;
  std::vector<std::string> paths_;
};

// Performs every operation through the real FileEnv; once armed, operation number `kill_at`
// (1-based) kills the process with SIGKILL: before it runs, or, for a write when `torn`, after
// half of its bytes were written. kill_at 0 only counts. For a child process (fork).
class KillingFileEnv final : public base::FileEnv {
 public:
  KillingFileEnv(int kill_at, bool torn) : kill_at_(kill_at), torn_(torn) {}
  void Arm() { armed_ = true; }
  // For each operation since Arm: whether it was a write.
  const std::vector<bool>& writes() const { return writes_; }

  Result<int> CreateExclusive(const std::string& path, mode_t mode) override {
    Step(false);
    return FileEnv::CreateExclusive(path, mode);
  }
  Result<int> OpenOrCreate(const std::string& path) override {
    Step(false);
    return FileEnv::OpenOrCreate(path);
  }
  Status Write(int fd, std::span<const std::uint8_t> bytes, std::string_view path) override {
    if (Step(true)) {
      FileEnv::Write(fd, bytes.first(bytes.size() / 2), path).IgnoreError();
      Die();
    }
    return FileEnv::Write(fd, bytes, path);
  }
  Status Sync(int fd, std::string_view path) override {
    Step(false);
    return FileEnv::Sync(fd, path);
  }
  Status Close(int fd, std::string_view path) override {
    Step(false);
    return FileEnv::Close(fd, path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    Step(false);
    return FileEnv::Rename(from, to);
  }
  Status Remove(const std::string& path) override {
    Step(false);
    return FileEnv::Remove(path);
  }
  Status MakeDir(const std::string& path, mode_t mode) override {
    Step(false);
    return FileEnv::MakeDir(path, mode);
  }
  Status SyncDir(const std::string& path) override {
    Step(false);
    return FileEnv::SyncDir(path);
  }
  Status SyncFile(const std::string& path) override {
    Step(false);
    return FileEnv::SyncFile(path);
  }

 private:
  [[noreturn]] static void Die() {
    ::kill(::getpid(), SIGKILL);
    for (;;) ::pause();
  }
  // Counts one operation. Dies here unless it is the torn write, which the caller finishes off.
  bool Step(bool is_write) {
    if (!armed_) return false;
    writes_.push_back(is_write);
    if (static_cast<int>(writes_.size()) != kill_at_) return false;
    if (is_write && torn_) return true;
    Die();
  }

  const int kill_at_;
  const bool torn_;
  bool armed_ = false;
  std::vector<bool> writes_;
};

}  // namespace tessera::fault

#endif  // TESSERA_TESTS_BASE_FAULTY_FILE_ENV_H_
