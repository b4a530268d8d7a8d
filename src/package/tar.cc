#include "package/tar.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/utf8.h"

namespace tessera::package {
namespace {

// Field offsets and widths of the ustar header (see tar.h).
struct Field {
  std::size_t offset;
  std::size_t width;
  const char* label;
};
constexpr Field kName{0, 100, "name"};
constexpr Field kMode{100, 8, "mode"};
constexpr Field kUid{108, 8, "uid"};
constexpr Field kGid{116, 8, "gid"};
constexpr Field kSize{124, 12, "size"};
constexpr Field kMtime{136, 12, "mtime"};
constexpr Field kChksum{148, 8, "chksum"};
constexpr std::size_t kTypeflag = 156;
constexpr Field kLinkname{157, 100, "linkname"};
constexpr Field kMagic{257, 6, "magic"};
constexpr Field kVersion{263, 2, "version"};
constexpr Field kDevmajor{329, 8, "devmajor"};
constexpr Field kDevminor{337, 8, "devminor"};
constexpr Field kPrefix{345, 155, "prefix"};

using Block = std::span<const std::uint8_t, kTarBlockSize>;

// The field's text up to its first NUL.
std::string_view FieldText(Block block, Field f) {
  const char* p = reinterpret_cast<const char*>(block.data() + f.offset);
  std::size_t n = 0;
  while (n < f.width && p[n] != '\0') ++n;
  return std::string_view(p, n);
}

// The bare problem with a name, without the "tar: ..." prefix; the code says what kind.
Result<std::string> Normalize(std::string_view name, bool is_directory) {
  if (name.empty()) return Malformed("empty name");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", c);
      return Malformed(std::string("control character ") + hex + " in name");
    }
    if (c == '\\') return Malformed("backslash in name");
  }
  if (!base::ValidateUtf8(name).ok()) return Malformed("name is not valid UTF-8");
  if (name.front() == '/') return Malformed("absolute path");
  if (!is_directory && name.back() == '/') return Malformed("regular file name ends with '/'");
  std::string out;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = std::min(name.find('/', start), name.size());
    std::string_view part = name.substr(start, end - start);
    if (part == "..") return Malformed("path component \"..\"");
    if (!part.empty() && part != ".") {
      if (!out.empty()) out.push_back('/');
      out.append(part);
    }
    start = end + 1;
  }
  if (out.empty() && !is_directory) return Malformed("regular file name names the archive root");
  return out;
}

void PutOctal(TarBlock& block, Field f, std::uint64_t value) {
  // width - 1 zero-padded digits, then NUL (already zero).
  for (std::size_t i = f.width - 1; i-- > 0;) {
    block[f.offset + i] = static_cast<std::uint8_t>('0' + (value & 7));
    value >>= 3;
  }
}

void PutText(TarBlock& block, std::size_t offset, std::string_view text) {
  if (!text.empty()) std::memcpy(block.data() + offset, text.data(), text.size());
}

// Octal number of a numeric field: leading spaces, one or more digits, then NULs/spaces only.
Result<std::uint64_t> ParseOctal(Block block, Field f) {
  const std::uint8_t* p = block.data() + f.offset;
  if (p[0] & 0x80) {
    return Unsupported(std::string("base-256 number in ") + f.label + " (GNU extension)");
  }
  std::size_t i = 0;
  while (i < f.width && p[i] == ' ') ++i;
  std::uint64_t value = 0;
  std::size_t digits = 0;
  for (; i < f.width && p[i] >= '0' && p[i] <= '7'; ++i, ++digits) value = value * 8 + (p[i] - '0');
  for (; i < f.width; ++i) {
    if (p[i] != '\0' && p[i] != ' ') digits = 0;  // a stray character: not a number
  }
  if (digits == 0) return Malformed(std::string(f.label) + " field is not an octal number");
  return value;
}

std::uint64_t HeaderChecksum(Block block) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kTarBlockSize; ++i) {
    bool in_chksum = i >= kChksum.offset && i < kChksum.offset + kChksum.width;
    sum += in_chksum ? static_cast<std::uint64_t>(' ') : block[i];
  }
  return sum;
}

bool NulPadded(Block block, Field f) {
  std::size_t n = FieldText(block, f).size();
  for (std::size_t i = n; i < f.width; ++i) {
    if (block[f.offset + i] != 0) return false;
  }
  return true;
}

// The type of a refused typeflag, for messages.
const char* RefusedType(std::uint8_t flag) {
  switch (flag) {
    case '1':
      return "hard link";
    case '2':
      return "symbolic link";
    case '3':
      return "character device";
    case '4':
      return "block device";
    case '6':
      return "FIFO";
    case '7':
      return "contiguous file";
    case 'x':
      return "pax extended header";
    case 'g':
      return "pax global header";
    case 'L':
      return "GNU long name";
    case 'K':
      return "GNU long link name";
    default:
      return "unknown entry type";
  }
}

}  // namespace

Result<std::string> NormalizeTarName(std::string_view name, bool is_directory) {
  Result<std::string> r = Normalize(name, is_directory);
  if (!r.ok()) return r.status().WithContext("tar: name " + QuoteTarName(name));
  return r;
}

std::string QuoteTarName(std::string_view name) {
  constexpr std::size_t kMax = 120;
  std::string out = "\"";
  for (std::size_t i = 0; i < name.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  out += name.size() > kMax ? "\"..." : "\"";
  return out;
}

Result<TarBlock> EncodeTarHeader(std::string_view normalized_name, TarEntryType type,
                                 std::uint64_t size) {
  const bool dir = type == TarEntryType::kDirectory;
  std::string path(normalized_name);
  if (dir) path.push_back('/');
  if (normalized_name.empty() || path.size() > kTarPrefixField + 1 + kTarNameField) {
    return InvalidArgument("tar: name " + QuoteTarName(path) + " (" + std::to_string(path.size()) +
                           " bytes) is empty or longer than ustar's 256 bytes");
  }
  if (dir && size != 0)
    return InvalidArgument("tar: directory " + QuoteTarName(path) + " has data");
  if (size > kTarMaxWrittenFileSize) {
    return InvalidArgument("tar: entry " + QuoteTarName(path) + " is " + std::to_string(size) +
                           " bytes, above ustar's " + std::to_string(kTarMaxWrittenFileSize));
  }
  std::string_view prefix;
  std::string_view last = path;
  if (path.size() > kTarNameField) {
    // The first '/' whose tail fits the name field; the head must fit the prefix field.
    std::size_t slash = path.find('/', path.size() - kTarNameField - 1);
    if (slash == std::string::npos || slash > kTarPrefixField || slash + 1 == path.size()) {
      return InvalidArgument("tar: name " + QuoteTarName(path) +
                             " cannot be split into ustar's 155-byte prefix and 100-byte name");
    }
    prefix = std::string_view(path).substr(0, slash);
    last = std::string_view(path).substr(slash + 1);
  }
  TarBlock block{};
  PutText(block, kName.offset, last);
  PutOctal(block, kMode, dir ? 0755 : 0644);
  PutOctal(block, kUid, 0);
  PutOctal(block, kGid, 0);
  PutOctal(block, kSize, size);
  PutOctal(block, kMtime, 0);
  block[kTypeflag] = dir ? '5' : '0';
  PutText(block, kMagic.offset, std::string_view("ustar\0", 6));
  PutText(block, kVersion.offset, "00");
  PutOctal(block, kDevmajor, 0);
  PutOctal(block, kDevminor, 0);
  PutText(block, kPrefix.offset, prefix);
  std::uint64_t sum = HeaderChecksum(block);
  for (std::size_t i = 6; i-- > 0;) {
    block[kChksum.offset + i] = static_cast<std::uint8_t>('0' + (sum & 7));
    sum >>= 3;
  }
  block[kChksum.offset + 6] = '\0';
  block[kChksum.offset + 7] = ' ';
  return block;
}

Result<TarEntry> DecodeTarHeader(std::span<const std::uint8_t, kTarBlockSize> block,
                                 std::uint64_t offset) {
  std::string raw_name(FieldText(block, kPrefix));
  if (!raw_name.empty()) raw_name.push_back('/');
  raw_name.append(FieldText(block, kName));
  auto fail = [&](const Status& problem) {
    return Status(problem.code(), "tar: entry " + QuoteTarName(raw_name) + " (header at byte " +
                                      std::to_string(offset) + "): " + problem.message());
  };

  // The magic first: bytes that are not a ustar header at all (random data, another format)
  // are named as such, not by whichever field they happen to break, and their "name" is noise.
  std::string_view magic(reinterpret_cast<const char*>(block.data() + kMagic.offset), 8);
  if (magic == std::string_view("ustar  \0", 8)) {
    return fail(Unsupported("GNU tar header (magic \"ustar  \"); only POSIX ustar is read"));
  }
  if (magic != std::string_view("ustar\0"
                                "00",
                                8)) {
    return Malformed("tar: the header at byte " + std::to_string(offset) +
                     " is not a POSIX ustar header (magic " + QuoteTarName(magic) + ")" +
                     (offset == 0 ? ": not a package file" : ""));
  }
  Result<std::uint64_t> stored_sum = ParseOctal(block, kChksum);
  if (!stored_sum.ok()) return fail(stored_sum.status());
  const std::uint64_t sum = HeaderChecksum(block);
  if (*stored_sum != sum) {
    return fail(Malformed("header checksum is " + std::to_string(*stored_sum) + ", computed " +
                          std::to_string(sum)));
  }
  const std::uint8_t flag = block[kTypeflag];
  if (flag != '0' && flag != '\0' && flag != '5') {
    char shown[24];
    std::snprintf(shown, sizeof(shown), flag >= 0x20 && flag < 0x7f ? "'%c'" : "0x%02x", flag);
    return fail(Unsupported(std::string(RefusedType(flag)) + " (type " + shown + ") refused"));
  }
  for (Field f : {kName, kLinkname, kPrefix}) {
    if (!NulPadded(block, f)) {
      return fail(Malformed(std::string(f.label) + " field has bytes after its NUL terminator"));
    }
  }
  if (!FieldText(block, kLinkname).empty()) return fail(Malformed("link name is set"));

  TarEntry entry;
  entry.type = flag == '5' ? TarEntryType::kDirectory : TarEntryType::kFile;
  entry.header_offset = offset;
  Result<std::string> name = Normalize(raw_name, entry.type == TarEntryType::kDirectory);
  if (!name.ok()) return fail(name.status());
  entry.name = std::move(name).value();
  for (Field f : {kMode, kSize, kMtime}) {
    Result<std::uint64_t> v = ParseOctal(block, f);
    if (!v.ok()) return fail(v.status());
    if (f.offset == kMode.offset) entry.mode = static_cast<std::uint32_t>(*v & 07777);
    if (f.offset == kSize.offset) entry.size = *v;
  }
  if (entry.type == TarEntryType::kDirectory && entry.size != 0) {
    return fail(Malformed("directory declares " + std::to_string(entry.size) + " data bytes"));
  }
  return entry;
}

bool IsZeroBlock(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

Status TarNameSet::Add(const std::string& normalized_name, TarEntryType type) {
  const Kind kind = type == TarEntryType::kDirectory ? Kind::kDirectory : Kind::kFile;
  auto it = kinds_.find(normalized_name);
  if (it != kinds_.end()) {
    if (it->second == Kind::kImpliedDirectory && kind == Kind::kDirectory) {
      it->second = Kind::kDirectory;
      return Status::Ok();
    }
    if (it->second == Kind::kImpliedDirectory) {
      return Malformed("regular file " + QuoteTarName(normalized_name) +
                       " is a directory of an earlier entry");
    }
    return Status(StatusCode::kDuplicate,
                  "duplicate name " + QuoteTarName(normalized_name) + " (after normalisation)");
  }
  for (std::size_t slash = normalized_name.find('/'); slash != std::string::npos;
       slash = normalized_name.find('/', slash + 1)) {
    std::string parent = normalized_name.substr(0, slash);
    auto [pos, inserted] = kinds_.emplace(parent, Kind::kImpliedDirectory);
    if (!inserted && pos->second == Kind::kFile) {
      return Malformed("path goes through regular file " + QuoteTarName(parent));
    }
  }
  kinds_.emplace(normalized_name, kind);
  return Status::Ok();
}

}  // namespace tessera::package
