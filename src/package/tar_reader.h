// TarReader: streams the entries of a POSIX ustar archive from a file with bounded memory and
// strict validation (format, refusals and name rules in tar.h).
//
// Usage:
//   TS_ASSIGN_OR_RETURN(TarReader reader, TarReader::Open(path, limits));
//   while (true) {
//     TS_ASSIGN_OR_RETURN(std::optional<TarEntry> entry, reader.Next());
//     if (!entry) break;                       // a complete, valid archive
//     TS_RETURN_IF_ERROR(reader.ReadAll([&](std::span<const std::uint8_t> chunk) { ... }));
//   }
//
// Next() skips whatever the caller left unread of the previous entry and checks its zero
// padding. Every header is checked before its entry is returned: checksum, magic, type, name
// rules, duplicates (after normalisation) and files used as directories, and the declared size
// against the bytes left in the file (kTruncated) and against the limits (kResourceExhausted).
// Root directory entries ("./") are skipped (they still count against max_entries). The end is
// two zero blocks; everything after them must be zero bytes (kMalformed otherwise); a file that
// ends anywhere before that is kTruncated. Errors name the entry and the byte offset of its
// header.
//
// An archive is only known to be valid once Next() has returned nullopt: callers that act on
// entries while reading (staging blobs) must undo that work on any later error. The first error
// is sticky: every later call returns it.
//
// Memory: one 64 KiB buffer plus the names seen so far (bounded by max_entries x 256 bytes).
// Thread safety: not thread-safe; use from one thread. Move-only.
#ifndef TESSERA_PACKAGE_TAR_READER_H_
#define TESSERA_PACKAGE_TAR_READER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "package/file_io.h"
#include "package/tar.h"
#include "tessera/status.h"

namespace tessera::package {

struct TarLimits {
  std::uint64_t max_entry_bytes = 1ull << 30;  // data bytes of any one entry
  std::uint64_t max_total_bytes = 4ull << 30;  // data bytes of all entries together
  std::uint64_t max_entries = 4096;            // headers, directories and skipped roots included
};

class TarReader {
 public:
  // Opens `path` (a regular file). kNotFound, kIoError.
  static Result<TarReader> Open(const std::string& path, const TarLimits& limits);

  TarReader(TarReader&&) noexcept = default;
  TarReader& operator=(TarReader&&) noexcept = default;
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;
  ~TarReader() = default;

  // The next entry, or nullopt after a valid end of archive.
  Result<std::optional<TarEntry>> Next();

  // Reads up to out.size() bytes of the current entry's data; 0 once all of it has been read.
  Result<std::size_t> Read(std::span<std::uint8_t> out);

  // Passes the rest of the current entry's data to `sink` in chunks of at most 64 KiB; stops at
  // the first error `sink` returns (and that error becomes the reader's).
  Status ReadAll(const std::function<Status(std::span<const std::uint8_t>)>& sink);

  const std::string& path() const { return path_; }
  std::uint64_t file_size() const { return file_size_; }

 private:
  TarReader() = default;
  Status Fail(Status status);
  Status SkipRestOfEntry();
  Status CheckEndMarker(std::uint64_t first_zero_block);
  Result<std::optional<TarEntry>> NextImpl();

  std::string path_;
  UniqueFd fd_;
  TarLimits limits_;
  std::uint64_t file_size_ = 0;
  std::uint64_t offset_ = 0;     // next byte to read
  std::uint64_t remaining_ = 0;  // unread data bytes of the current entry
  std::uint64_t padding_ = 0;    // zero bytes after the current entry's data
  std::uint64_t entries_ = 0;
  std::uint64_t total_bytes_ = 0;
  std::string current_;  // name of the current entry, for messages
  TarNameSet names_;
  std::vector<std::uint8_t> buffer_;
  Status failed_;
  bool done_ = false;
};

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_TAR_READER_H_
