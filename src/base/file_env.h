// File-system mutations as an interface, so that tests can inject faults (short writes, a full
// disk, failed renames, a crash at a chosen operation) into code that must stay consistent when
// the disk misbehaves. It is the only way the project changes a file: every create, write,
// fsync, rename, removal and mkdir of src/ and tools/ goes through a FileEnv (ADR 0019). Reads
// are not routed through it: a failed read changes nothing. Files written whole go through
// base::AtomicFile (atomic_file.h), which is built on these primitives.
//
// Every method is one primitive operation; the base class performs it with POSIX calls,
// retrying EINTR and short writes. Errors come from FileErrno below. The project needs no link,
// truncate or chmod today: add them here (and to the tests' overriding envs) when it does.
//
// Thread safety: the base class is stateless; DefaultFileEnv() is shareable by every thread.
#ifndef TESSERA_BASE_FILE_ENV_H_
#define TESSERA_BASE_FILE_ENV_H_

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tessera/status.h"

namespace tessera::base {

// Modes of created files and directories (less the process's umask, as open(2) and mkdir(2)).
inline constexpr mode_t kFileMode = 0644;
inline constexpr mode_t kPrivateFileMode = 0600;  // secrets: private keys
inline constexpr mode_t kDirMode = 0755;
inline constexpr mode_t kPrivateDirMode = 0700;

class FileEnv {
 public:
  virtual ~FileEnv() = default;
  // Creates `path` for writing with `mode`; it must not exist (kDuplicate if it does). Returns
  // the descriptor, which the caller releases with Close().
  virtual Result<int> CreateExclusive(const std::string& path, mode_t mode);
  // Opens `path` for reading and writing, creating it empty (kFileMode) if missing: lock files.
  virtual Result<int> OpenOrCreate(const std::string& path);
  // Writes all of `bytes` at the descriptor's position.
  virtual Status Write(int fd, std::span<const std::uint8_t> bytes, std::string_view path);
  virtual Status Sync(int fd, std::string_view path);
  virtual Status Close(int fd, std::string_view path);
  // rename(2): atomic replacement of `to`.
  virtual Status Rename(const std::string& from, const std::string& to);
  // Removes a file or an empty directory; a missing path is not an error.
  virtual Status Remove(const std::string& path);
  // Creates a directory with `mode`; an existing directory is not an error.
  virtual Status MakeDir(const std::string& path, mode_t mode);
  // fsync of a directory, so that renames and creations in it are durable.
  virtual Status SyncDir(const std::string& path);
  // fsync of an existing file's data, by path.
  virtual Status SyncFile(const std::string& path);
};

FileEnv& DefaultFileEnv();

// The project's one translation of an errno into a Status: kNotFound for ENOENT, kDuplicate for
// EEXIST, kIoError otherwise, with the message "file: <op> <path>: <strerror(err)>" (so a full
// disk reads "No space left on device").
Status FileErrno(std::string_view op, std::string_view path, int err);

// Removes a directory and everything in it (files and subdirectories, not following symbolic
// links); a missing path is not an error.
Status RemoveTree(FileEnv& env, const std::string& path);

// The directory part of a path ("." when there is none).
std::string DirName(const std::string& path);

}  // namespace tessera::base

#endif  // TESSERA_BASE_FILE_ENV_H_
