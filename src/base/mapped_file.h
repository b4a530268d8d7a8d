// MappedFile: a read-only memory mapping of a whole file.
//
// Ownership: move-only; the mapping lives until the object is destroyed. Spans returned by bytes()
// borrow from it. Thread safety: immutable after Open(); concurrent reads are safe.
// An empty file maps to an empty span (no mmap call is made).
#ifndef TESSERA_BASE_MAPPED_FILE_H_
#define TESSERA_BASE_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "tessera/status.h"

namespace tessera::base {

class MappedFile {
 public:
  // Maps `path` read-only. Errors: kNotFound (no such file), kIoError (not a regular file: a
  // FIFO is refused without waiting for a writer; permission; mmap failure).
  static Result<MappedFile> Open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  // Drops this process's copies of the whole pages inside `range` (a part of bytes()): they
  // leave the resident set now and are read again from the file (the page cache) only if
  // touched, with the same contents. Pages the range only partly covers are kept. Returns the
  // part released (whole pages); empty when the range lies outside the mapping, covers no
  // whole page, or madvise fails (nothing lost).
  std::span<const std::uint8_t> ReleasePages(std::span<const std::uint8_t> range) const;
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void Reset();
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::string path_;
};

}  // namespace tessera::base

#endif  // TESSERA_BASE_MAPPED_FILE_H_
