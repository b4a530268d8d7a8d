// POSIX file reading of the package layer: an owned descriptor and whole reads that retry on
// EINTR and short transfers. Writing is not here: every file the project changes goes through
// base::FileEnv, and whole files through base::AtomicFile (ADR 0019).
//
// Errors: base::FileErrno's (kNotFound when a path does not exist, kIoError for every other
// refusal of the operating system), kTruncated when a file ends before the bytes a caller asked
// for.
//
// Thread safety: UniqueFd is a move-only owner used from one thread; the free functions are
// reentrant.
#ifndef TESSERA_PACKAGE_FILE_IO_H_
#define TESSERA_PACKAGE_FILE_IO_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera/status.h"

namespace tessera::package {

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

// Reads bytes.size() bytes at `offset` (pread); kTruncated if the file ends first.
Status ReadExactAt(int fd, std::span<std::uint8_t> bytes, std::uint64_t offset,
                   std::string_view path);

// Reads from the current position until `bytes` is full or the file ends; returns the count.
Result<std::size_t> ReadFull(int fd, std::span<std::uint8_t> bytes, std::string_view path);

// Reads a whole regular file that must hold at most `limit` bytes (kResourceExhausted otherwise,
// checked before allocating).
Result<std::vector<std::uint8_t>> ReadSmallFile(const std::string& path, std::uint64_t limit);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_FILE_IO_H_
