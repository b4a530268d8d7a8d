// The POSIX ustar format (IEEE Std 1003.1, "ustar Interchange Format"), in the subset Tessera
// package files use: regular files and directories, nothing else. This file holds the header
// encoding and decoding and the entry-name rules shared by TarWriter (tar_writer.h) and TarReader
// (tar_reader.h).
//
// An archive is a sequence of 512-byte blocks. Each entry is a header block followed by its data,
// zero-padded to a multiple of 512 bytes. Two all-zero blocks end the archive.
//
// Header block (byte offset, field, width). Numeric fields are octal ASCII digits; the writer
// zero-pads them to width - 1 digits followed by NUL; the reader accepts leading spaces, then at
// least one digit, then only NULs and spaces (a field may also be all digits).
//   0    name      100  last part of the path, NUL-padded (no NUL when it fills the field)
//   100  mode        8  permission bits: written 0644 for files, 0755 for directories
//   108  uid         8  written 0; not checked when read
//   116  gid         8  written 0; not checked when read
//   124  size       12  data bytes; 0 for directories. At most 8 GiB - 1 (11 digits) written
//   136  mtime      12  written 0; must be a valid octal number when read
//   148  chksum      8  sum of the 512 header bytes (unsigned) with this field counted as eight
//                       spaces; written as 6 digits, NUL, space; the signed variant is refused
//   156  typeflag    1  '0' regular file ('\0' accepted when read), '5' directory
//   157  linkname  100  must be empty
//   257  magic       6  "ustar\0"          263 version 2 "00"
//   265  uname      32  written empty      297 gname 32 written empty (neither checked when read)
//   329  devmajor    8  written 0          337 devminor 8 written 0 (neither checked when read)
//   345  prefix    155  leading part of the path: path = prefix "/" name when prefix is not empty
//   500  (pad)      12  written zero; not checked when read
//
// Refused when read, each with a Status naming the entry and the header's byte offset:
//   - a bad checksum, a magic/version other than "ustar\0" "00" (GNU "ustar  " and v7 headers),
//     base-256 numbers, non-octal fields (kMalformed; GNU magic and base-256 are kUnsupported);
//   - hard links '1', symbolic links '2', character '3' and block '4' devices, FIFOs '6',
//     contiguous files '7', pax extended headers 'x'/'g', GNU long names 'L'/'K' and every other
//     type (kUnsupported). Pax and GNU extensions are refused on purpose: they can rename the next
//     entry, which would let a name bypass the checks below, and Tessera never needs them;
//   - names breaking the name rules below, linkname set, bytes after a field's NUL terminator,
//     a directory with a non-zero size, non-zero padding after an entry's data (kMalformed).
//
// Name rules (writer and reader): the path is not empty, is valid UTF-8, has no control
// characters (< 0x20, 0x7f) and no backslash, does not start with '/', and has no ".." component.
// Names are normalised by dropping "." and empty components (so "./a//b/" is "a/b"); two entries
// with the same normalised name are duplicates (kDuplicate), and a regular file may not also be a
// parent directory of another entry. A directory whose name normalises to nothing ("./") is the
// archive root: the reader skips it. A regular file's name may not end with '/'.
//
// Thread safety: pure functions; TarNameSet is a value used from one thread.
#ifndef TESSERA_PACKAGE_TAR_H_
#define TESSERA_PACKAGE_TAR_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tessera/status.h"

namespace tessera::package {

inline constexpr std::size_t kTarBlockSize = 512;
// The largest size an 11-digit octal size field holds (8 GiB - 1).
inline constexpr std::uint64_t kTarMaxWrittenFileSize = (1ull << 33) - 1;
// ustar name and prefix field widths.
inline constexpr std::size_t kTarNameField = 100;
inline constexpr std::size_t kTarPrefixField = 155;

enum class TarEntryType : std::uint8_t { kFile, kDirectory };

// One entry as the reader reports it.
struct TarEntry {
  std::string name;  // normalised; no trailing '/' (directories neither)
  TarEntryType type = TarEntryType::kFile;
  std::uint64_t size = 0;           // data bytes (0 for directories)
  std::uint32_t mode = 0;           // permission bits as stored
  std::uint64_t header_offset = 0;  // byte offset of the header block in the archive
};

using TarBlock = std::array<std::uint8_t, kTarBlockSize>;

// Applies the name rules. Returns the normalised name ("" for the archive root, which only a
// directory may be); kMalformed "tar: name \"...\": <problem>" otherwise. `is_directory`
// allows a trailing '/'.
Result<std::string> NormalizeTarName(std::string_view name, bool is_directory);

// `name` printable in a message: quoted, with bytes outside printable ASCII as \xNN, cut after
// 120 bytes.
std::string QuoteTarName(std::string_view name);

// Builds the header of an entry with a normalised, non-empty name (directories are written with
// a trailing '/'). kInvalidArgument if the name does not fit the name/prefix split or the size
// exceeds kTarMaxWrittenFileSize.
Result<TarBlock> EncodeTarHeader(std::string_view normalized_name, TarEntryType type,
                                 std::uint64_t size);

// Decodes and validates a header that is not all zeros, found at byte `offset` (for messages).
// The returned name is normalised; "" is the archive root.
Result<TarEntry> DecodeTarHeader(std::span<const std::uint8_t, kTarBlockSize> block,
                                 std::uint64_t offset);

bool IsZeroBlock(std::span<const std::uint8_t> bytes);

// The names of an archive so far: refuses duplicates and a file that is also a directory.
class TarNameSet {
 public:
  // kDuplicate (same normalised name twice) or kMalformed (a path through a regular file). The
  // message states the problem only; callers prefix the entry they were adding.
  Status Add(const std::string& normalized_name, TarEntryType type);

 private:
  enum class Kind : std::uint8_t { kFile, kDirectory, kImpliedDirectory };
  std::unordered_map<std::string, Kind> kinds_;
};

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_TAR_H_
