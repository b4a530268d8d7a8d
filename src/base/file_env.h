// File-system mutations as an interface, so that tests can inject faults (short writes, a full
// disk, failed renames, a crash at a chosen operation) into code that must stay consistent when
// the disk misbehaves. Reads are not routed through it: a failed read changes nothing.
//
// Every method is one primitive operation; DefaultFileEnv() performs it with POSIX calls,
// retrying EINTR and short writes. Errors are kIoError (kNotFound for a missing path) with the
// message "file: <operation> <path>: <strerror>".
//
// Thread safety: DefaultFileEnv() is stateless and shareable.
#ifndef TESSERA_BASE_FILE_ENV_H_
#define TESSERA_BASE_FILE_ENV_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tessera/status.h"

namespace tessera::base {

class FileEnv {
 public:
  virtual ~FileEnv() = default;
  // Creates `path` for writing (mode 0644), which must not exist; returns the descriptor.
  virtual Result<int> CreateExclusive(const std::string& path);
  // Writes all of `bytes` at the descriptor's position.
  virtual Status Write(int fd, std::span<const std::uint8_t> bytes, std::string_view path);
  virtual Status Sync(int fd, std::string_view path);
  virtual Status Close(int fd, std::string_view path);
  // rename(2): atomic replacement of `to`.
  virtual Status Rename(const std::string& from, const std::string& to);
  // Removes a file or an empty directory; a missing path is not an error.
  virtual Status Remove(const std::string& path);
  // Creates a directory (mode 0755); an existing directory is not an error.
  virtual Status MakeDir(const std::string& path);
  // fsync of a directory, so that renames and creations in it are durable.
  virtual Status SyncDir(const std::string& path);
  // fsync of an existing file's data, by path.
  virtual Status SyncFile(const std::string& path);
};

FileEnv& DefaultFileEnv();

// kNotFound for ENOENT, kIoError otherwise: "file: <op> <path>: <strerror(err)>".
Status FileErrno(std::string_view op, std::string_view path, int err);

// Writes `bytes` to "<path>.tmp", syncs it, renames it onto `path` and syncs the directory
// (unless `sync_dir` is false: the caller syncs it once after several files): a crash leaves the
// old file or the new one. The temporary file is removed on failure.
Status WriteFileAtomic(FileEnv& env, const std::string& path, std::span<const std::uint8_t> bytes,
                       bool sync_dir = true);

// Removes a directory and everything in it (files and subdirectories, not following symbolic
// links); a missing path is not an error.
Status RemoveTree(FileEnv& env, const std::string& path);

// The directory part of a path ("." when there is none).
std::string DirName(const std::string& path);

}  // namespace tessera::base

#endif  // TESSERA_BASE_FILE_ENV_H_
