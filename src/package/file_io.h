// POSIX file access of the package layer: an owned descriptor, whole reads and writes that retry
// on EINTR and short transfers, and AtomicFile, an output file that appears under its final name
// complete and durable, or not at all.
//
// Errors: kNotFound when a path does not exist, kIoError for every other refusal of the operating
// system, kTruncated when a file ends before the bytes a caller asked for. Messages read
// "package: <operation> <path>: <reason>".
//
// Thread safety: UniqueFd and AtomicFile are move-only owners used from one thread; the free
// functions are reentrant.
#ifndef TESSERA_PACKAGE_FILE_IO_H_
#define TESSERA_PACKAGE_FILE_IO_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera/status.h"

namespace tessera::package {

// kNotFound for ENOENT, kIoError otherwise: "package: <op> <path>: <strerror(err)>".
Status ErrnoStatus(std::string_view op, std::string_view path, int err);

// Owns a file descriptor; closes it on destruction (errors ignored: use Close() to see them).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset();
  // Closes and reports the error of close(2) (kIoError naming `path`).
  Status Close(std::string_view path);

 private:
  int fd_ = -1;
};

// An open regular file and its size at the time it was opened.
struct OpenedFile {
  UniqueFd fd;
  std::uint64_t size = 0;
};

// Opens an existing regular file read-only. kNotFound, kIoError (not a regular file, permission).
Result<OpenedFile> OpenRegularFile(const std::string& path);

// Writes all of `bytes` to `fd`.
Status WriteAll(int fd, std::span<const std::uint8_t> bytes, std::string_view path);

// Reads bytes.size() bytes at `offset` (pread); kTruncated if the file ends first.
Status ReadExactAt(int fd, std::span<std::uint8_t> bytes, std::uint64_t offset,
                   std::string_view path);

// Reads from the current position until `bytes` is full or the file ends; returns the count.
Result<std::size_t> ReadFull(int fd, std::span<std::uint8_t> bytes, std::string_view path);

// Reads a whole regular file that must hold at most `limit` bytes (kResourceExhausted otherwise,
// checked before allocating).
Result<std::vector<std::uint8_t>> ReadSmallFile(const std::string& path, std::uint64_t limit);

// Removes `path`; a path that does not exist is not an error.
Status RemoveFile(const std::string& path);

// An output file written under "<path>.tmp-XXXXXX" in the same directory (mode `mode`, 0644 by
// default; the file is never readable by others before its mode is set). Commit()
// fsyncs it, renames it onto `path` (replacing what was there) and fsyncs the directory.
// Destroying an uncommitted AtomicFile, or any failure of Write()/Commit(), removes the temporary
// file, so `path` never holds a partial file.
class AtomicFile {
 public:
  static Result<AtomicFile> Create(const std::string& path, mode_t mode = 0644);

  AtomicFile() = default;  // holds no file; Write() and Commit() fail
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() { Abandon(); }

  Status Write(std::span<const std::uint8_t> bytes);
  // With `durable` false the file is renamed into place without fsync of the file or the
  // directory: for scratch files whose caller makes them durable later (registry staging).
  Status Commit(bool durable = true);
  // Closes and removes the temporary file (no-op after Commit()).
  void Abandon();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string path_;
  std::string temp_path_;
  UniqueFd fd_;
  bool open_ = false;  // the temporary file exists and is ours to remove
};

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_FILE_IO_H_
