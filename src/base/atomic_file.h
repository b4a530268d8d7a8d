// AtomicFile: a file that appears under its final name complete (and, by default, durable), or
// not at all. It is the project's one atomic write (ADR 0019): the store's blobs, staged package
// blobs, package archives, key files, GGUF files, eval reports and live-state files all go
// through it.
//
// Bytes go to a temporary file beside the target, by default "<path>.tmp-<16 hex digits>"
// (random, created exclusively, so two writers of one path never share a temporary file).
// Commit() fsyncs it, closes it, renames it onto the target (replacing what was there) and fsyncs
// the directory. A failed Write() or Commit(), or destroying an uncommitted AtomicFile, removes
// the temporary file. So the target holds the old file or the new one, never a part of one:
//   - Commit() returned OK: the new file, durable unless sync_file/sync_dir were turned off;
//   - Commit() failed: the old file, except when only the directory's fsync failed (the rename
//     happened but may not survive power loss; the error says so);
//   - the process died (kill -9) or the machine lost power: the old file or the new one, and
//     possibly a temporary file, which the owner of the directory removes by its name
//     (`tessera doctor --repair` does so in the store).
//
// Every operation goes through the FileEnv given to Create(), so fault-injection tests reach it.
// Errors are base::FileErrno's, all kIoError (a missing folder too: it is the write that
// fails, not a file named by the caller that is missing).
//
// Thread safety: a move-only owner, used from one thread. The free functions are reentrant.
#ifndef TESSERA_BASE_ATOMIC_FILE_H_
#define TESSERA_BASE_ATOMIC_FILE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/file_env.h"
#include "tessera/status.h"

namespace tessera::base {

struct AtomicWriteOptions {
  mode_t mode = kFileMode;  // of the temporary file, hence of the target
  // fsync the file before the rename. Off only for scratch files whose caller makes durable
  // what it keeps (the registry's staging) or that need no durability (live states).
  bool sync_file = true;
  // fsync the directory after the rename. Off when the caller syncs it once after several files.
  bool sync_dir = true;
  // The temporary file's path; empty: "<path>.tmp-<random>". A named one is removed first (it
  // can only be a crashed writer's): only for a target that has one writer at a time.
  std::string temp_path;
};

class AtomicFile {
 public:
  // Creates the temporary file for `path`. `env` must outlive the AtomicFile.
  static Result<AtomicFile> Create(FileEnv& env, std::string path, AtomicWriteOptions options = {});

  AtomicFile() = default;  // holds no file; Write() and Commit() fail
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() { Abandon(); }

  // Appends `bytes`. On failure the temporary file is removed.
  Status Write(std::span<const std::uint8_t> bytes);
  Status Write(std::string_view text);
  // Syncs, renames onto path() and syncs the directory, as the options say (see the top).
  Status Commit();
  // Closes and removes the temporary file (no-op once committed or abandoned).
  void Abandon();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  FileEnv* env_ = nullptr;
  std::string path_;
  std::string temp_path_;
  AtomicWriteOptions options_;
  int fd_ = -1;  // open while the temporary file is ours: neither committed nor abandoned
};

// Create(), one Write() and Commit().
Status WriteFileAtomic(FileEnv& env, const std::string& path, std::span<const std::uint8_t> bytes,
                       AtomicWriteOptions options = {});
Status WriteFileAtomic(FileEnv& env, const std::string& path, std::string_view text,
                       AtomicWriteOptions options = {});

}  // namespace tessera::base

#endif  // TESSERA_BASE_ATOMIC_FILE_H_
