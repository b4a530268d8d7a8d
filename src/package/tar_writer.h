// TarWriter: writes a POSIX ustar archive (format and name rules in tar.h) deterministically and
// atomically.
//
// Output: entries in the order added, each with its normalised name (directories with a trailing
// '/'), mtime 0, uid/gid 0, empty uname/gname, mode 0644 for files and 0755 for directories, the
// size, and a correct checksum; then two zero blocks. The same calls always produce the same
// bytes. Regular files and directories only; duplicate names (after normalisation) and a file
// used as a directory are refused, so everything written is readable by TarReader.
//
// Atomicity: bytes go to a base::AtomicFile (a temporary file beside the output path, every
// operation through the given base::FileEnv); Finish() writes the end marker, fsyncs and renames
// it onto the output. An error, or destroying the writer before Finish(),
// removes the temporary file: the output path never holds a partial archive (an existing file
// there is left untouched unless Finish() succeeds).
//
// Memory: file contents are streamed through one 256 KiB buffer, so a model of any size packs
// with bounded memory. Files of 8 GiB or more are refused (ustar's 11-digit size field; the GNU
// base-256 and pax size extensions are not written).
//
// Errors poison the writer: after any error every call returns that error.
// Thread safety: not thread-safe; use from one thread. Move-only.
#ifndef TESSERA_PACKAGE_TAR_WRITER_H_
#define TESSERA_PACKAGE_TAR_WRITER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/atomic_file.h"
#include "base/file_env.h"
#include "base/sha256.h"
#include "package/file_io.h"
#include "package/tar.h"
#include "tessera/status.h"

namespace tessera::package {

// What AddFileFromPath() copied.
struct CopiedFile {
  base::Sha256Digest digest{};
  std::uint64_t size = 0;
};

class TarWriter {
 public:
  // Starts an archive that Finish() will place at `output_path`. kIoError/kNotFound if the
  // temporary file cannot be created in the output's directory. `env` must outlive the writer.
  static Result<TarWriter> Create(const std::string& output_path,
                                  base::FileEnv& env = base::DefaultFileEnv());

  TarWriter(TarWriter&&) noexcept = default;
  TarWriter& operator=(TarWriter&&) noexcept = default;
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;
  ~TarWriter() = default;  // an unfinished archive's temporary file is removed

  // kMalformed (name rules), kDuplicate, kInvalidArgument (name does not fit ustar).
  Status AddDirectory(std::string_view name);
  // A regular file holding `bytes` (borrowed for the duration of the call).
  Status AddFile(std::string_view name, std::span<const std::uint8_t> bytes);
  // A regular file with the contents of `source_path`, streamed. Returns the SHA-256 and size of
  // the bytes written, so a caller that named or described the entry from an earlier hash can
  // check that the file did not change in between. kIoError if the file's size changes while it
  // is copied.
  Result<CopiedFile> AddFileFromPath(std::string_view name, const std::string& source_path);

  // Writes the end marker and commits the archive to the output path.
  Status Finish();

 private:
  TarWriter() = default;
  // Validates `name`, records it and writes its header.
  Status BeginEntry(std::string_view name, TarEntryType type, std::uint64_t size);
  Status WritePadding(std::uint64_t size);
  Status Fail(Status status);

  base::AtomicFile out_;
  TarNameSet names_;
  std::vector<std::uint8_t> buffer_;  // copy buffer for AddFileFromPath
  Status failed_;
  bool finished_ = false;
};

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_TAR_WRITER_H_
