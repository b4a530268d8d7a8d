// base::MappedFile::ReleasePages: released pages leave the resident set and read back with the
// same bytes; partial pages, ranges outside the mapping and empty ranges release nothing.
#include "base/mapped_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace tessera::base {
namespace {

// Resident pages of the mapping that starts at p: its "Rss:" in /proc/self/smaps (mincore
// would report the page cache, which keeps the pages a process releases).
std::size_t ResidentPages(const std::uint8_t* p) {
  std::ifstream smaps("/proc/self/smaps");
  char start[32];
  std::snprintf(start, sizeof(start), "%lx-", static_cast<unsigned long>(
                                                  reinterpret_cast<std::uintptr_t>(p)));
  std::string line;
  bool in_mapping = false;
  while (std::getline(smaps, line)) {
    if (line.rfind(start, 0) == 0) in_mapping = true;
    if (in_mapping && line.rfind("Rss:", 0) == 0) {
      const auto kib = std::stoul(line.substr(4));
      return kib * 1024 / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    }
  }
  ADD_FAILURE() << "no mapping at " << start << " in /proc/self/smaps";
  return 0;
}

TEST(MappedFileTest, ReleasedPagesReadBackTheSameBytes) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::string path = ::testing::TempDir() + "mapped_file_test_" +
                           std::to_string(::getpid()) + ".bin";
  std::vector<std::uint8_t> want(page * 8 + 100);
  for (std::size_t i = 0; i < want.size(); ++i) want[i] = static_cast<std::uint8_t>(i * 31 + 7);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(want.data()), static_cast<std::streamsize>(want.size()));
  Result<MappedFile> m = MappedFile::Open(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::span<const std::uint8_t> bytes = m->bytes();
  std::uint64_t sum = 0;
  for (std::uint8_t b : bytes) sum += b;  // touch every page
  ASSERT_GT(sum, 0u);
  ASSERT_EQ(ResidentPages(bytes.data()), 9u);

  // From the middle of page 1 to the middle of page 6: pages 2..5 are wholly inside.
  const std::span<const std::uint8_t> released = m->ReleasePages(bytes.subspan(page + 10, page * 5));
  EXPECT_EQ(released.size(), page * 4);
  EXPECT_EQ(released.data(), bytes.data() + 2 * page);
  EXPECT_EQ(ResidentPages(bytes.data()), 5u);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), want.begin(), want.end()));
  EXPECT_EQ(ResidentPages(bytes.data()), 9u);  // read back in

  EXPECT_EQ(m->ReleasePages(bytes.subspan(10, page - 20)).size(), 0u);  // inside one page
  EXPECT_EQ(m->ReleasePages(bytes.first(0)).size(), 0u);
  const std::vector<std::uint8_t> elsewhere(page * 4);
  EXPECT_EQ(m->ReleasePages(elsewhere).size(), 0u);
  EXPECT_EQ(ResidentPages(bytes.data()), 9u);
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace tessera::base
