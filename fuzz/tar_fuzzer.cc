// Fuzz target: the ustar archive reader (package::TarReader) on an archive of arbitrary bytes.
// TarReader reads a regular file, so each input is written to a file in a scratch directory in
// memory (/dev/shm) first.
//
// The reader is driven as the package reader drives it: every entry's data is read, in chunks
// of odd sizes for some entries and with ReadAll for others, and some entries are skipped
// unread. Properties (tar_reader.h): an entry never yields more bytes than its declared size,
// nor fewer once read to the end; the entry count stays within max_entries; the first error is
// sticky. Seeds: fuzz/corpus/tar (small archives and package files); dictionary fuzz/tar.dict.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "fuzz/fuzz_util.h"
#include "package/tar_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera;
  static const std::string kPath = fuzz::ScratchDir() + "/archive.tar";
  fuzz::WriteScratchFile(kPath, std::span<const std::uint8_t>(data, size));

  package::TarLimits limits;
  limits.max_entries = 64;
  limits.max_entry_bytes = 1 << 20;
  limits.max_total_bytes = 4 << 20;
  Result<package::TarReader> reader = package::TarReader::Open(kPath, limits);
  FUZZ_EXPECT(reader.ok());
  std::uint64_t entries = 0;
  while (true) {
    Result<std::optional<package::TarEntry>> entry = reader->Next();
    if (!entry.ok()) {
      // Sticky: the same error again.
      Result<std::optional<package::TarEntry>> again = reader->Next();
      FUZZ_EXPECT(!again.ok() && again.status().code() == entry.status().code());
      break;
    }
    if (!entry->has_value()) break;
    ++entries;
    FUZZ_EXPECT(entries <= limits.max_entries);
    const package::TarEntry& e = **entry;
    FUZZ_EXPECT(e.size <= limits.max_entry_bytes);
    std::uint64_t got = 0;
    switch (e.header_offset / 512 % 3) {
      case 0: {  // odd-sized reads
        std::uint8_t buf[777];
        while (true) {
          Result<std::size_t> n = reader->Read(std::span<std::uint8_t>(buf, 1 + got % 777));
          if (!n.ok()) break;
          if (*n == 0) {
            FUZZ_EXPECT(got == e.size);
            break;
          }
          got += *n;
          FUZZ_EXPECT(got <= e.size);
        }
        break;
      }
      case 1: {  // ReadAll
        const Status s = reader->ReadAll([&](std::span<const std::uint8_t> chunk) {
          got += chunk.size();
          return Status::Ok();
        });
        FUZZ_EXPECT(!s.ok() || got == e.size);
        break;
      }
      default:  // left unread: Next() skips it
        break;
    }
  }
  return 0;
}
