// Test helpers for the package-file tests: temporary directories, whole-file I/O, and RawTar, an
// independent byte-by-byte ustar builder whose every field can be set to something hostile (it
// shares no code with src/package, so a bug in the library's header encoding cannot hide itself).
#ifndef TESSERA_TESTS_PACKAGE_TAR_FIXTURE_H_
#define TESSERA_TESTS_PACKAGE_TAR_FIXTURE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tessera::package::fixture {

using Bytes = std::vector<std::uint8_t>;

// A fresh directory under ::testing::TempDir(); removed (with its contents) by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

Bytes ToBytes(const std::string& text);
Bytes RandomBytes(std::size_t n, std::uint32_t seed);
void WriteFile(const std::string& path, const Bytes& bytes);
Bytes ReadFile(const std::string& path);
bool Exists(const std::string& path);
// Names in a directory, sorted ("." and ".." excluded).
std::vector<std::string> ListDir(const std::string& dir);
std::string Sha256Hex(const Bytes& bytes);
// Runs a shell command; returns its exit status and appends stdout+stderr to *output.
int RunCommand(const std::string& command, std::string* output);
bool HaveGnuTar();

// One raw ustar entry. Fields are written verbatim (truncated to their width); the checksum is
// computed over the result unless `checksum` is set.
struct RawEntry {
  std::string name;
  std::string prefix;
  char type = '0';
  std::string data;
  std::string linkname;
  std::string magic = std::string("ustar\0", 6);
  std::string version = "00";
  std::string mode = "0000644";
  std::optional<std::string> size;      // default: data.size() as 11 octal digits
  std::optional<std::string> checksum;  // default: correct, "%06o\0 "
  std::string padding_fill;             // bytes written into the data padding (default zeros)
};

// The 512-byte header of `e`.
Bytes RawHeader(const RawEntry& e);
// Headers, data and zero padding of every entry, then two zero blocks when `end_marker`.
Bytes RawTar(const std::vector<RawEntry>& entries, bool end_marker = true);
// A regular file / directory entry with defaults.
RawEntry File(const std::string& name, const std::string& data);
RawEntry Dir(const std::string& name);

}  // namespace tessera::package::fixture

#endif  // TESSERA_TESTS_PACKAGE_TAR_FIXTURE_H_
