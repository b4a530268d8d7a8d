// Helpers shared by the fuzz targets: where they find committed test data, a scratch directory
// for the readers that take a path, and the way a target reports a broken property.
//
// A target reports a broken property (an input the parser accepted but handled inconsistently)
// with FUZZ_EXPECT, which prints the condition and aborts, so libFuzzer saves the input as a
// crash like any other. Thread safety: the fuzz targets run one input at a time.
#ifndef TESSERA_FUZZ_FUZZ_UTIL_H_
#define TESSERA_FUZZ_FUZZ_UTIL_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#define FUZZ_EXPECT(cond)                                                              \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

namespace tessera::fuzz {

// The bytes of a committed file under tests/data (a vocabulary), or aborts: a target that
// cannot load its fixture cannot fuzz anything.
inline std::vector<std::uint8_t> ReadTestData(const std::string& relative) {
  const std::string path = std::string(TESSERA_TEST_DATA_DIR) + "/" + relative;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "fuzz: cannot open %s\n", path.c_str());
    std::abort();
  }
  std::vector<std::uint8_t> bytes;
  std::uint8_t buf[1 << 16];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) {
    bytes.insert(bytes.end(), buf, buf + n);
  }
  std::fclose(f);
  return bytes;
}

// A directory of this process, created on first use under /dev/shm (memory, so the file
// readers cost no disk I/O) or $TMPDIR, and removed at exit (a run that crashes leaves it).
// Its files are rewritten for every input.
inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : std::getenv("TMPDIR");
    std::string templ = std::string(base != nullptr ? base : "/tmp") + "/tessera-fuzz-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
      std::perror("fuzz: mkdtemp");
      std::abort();
    }
    return templ;
  }();
  static const bool cleanup = [] {
    return std::atexit([] {
             std::error_code ignored;
             std::filesystem::remove_all(ScratchDir(), ignored);
           }) == 0;
  }();
  (void)cleanup;
  return dir;
}

// Replaces the file at `path` with `bytes`; aborts on failure (the scratch space is ours).
inline void WriteScratchFile(const std::string& path, std::span<const std::uint8_t> bytes) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror("fuzz: open scratch file");
    std::abort();
  }
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      std::perror("fuzz: write scratch file");
      std::abort();
    }
    done += static_cast<std::size_t>(n);
  }
  close(fd);
}

}  // namespace tessera::fuzz

#endif  // TESSERA_FUZZ_FUZZ_UTIL_H_
