// base::OpenRegularFile and base::MappedFile refuse what is not a regular file by its type, and
// never wait on a FIFO that has no writer.
#include "base/regular_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "base/mapped_file.h"

namespace tessera::base {
namespace {

TEST(RegularFileTest, OpensARegularFile) {
  const std::string path = ::testing::TempDir() + "regular_file_test.txt";
  std::ofstream(path) << "bytes";
  Result<int> fd = OpenRegularFile(path);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  char buf[8] = {};
  EXPECT_EQ(::read(*fd, buf, sizeof buf), 5);
  ::close(*fd);
  Result<MappedFile> mapped = MappedFile::Open(path);
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  EXPECT_EQ(mapped->size(), 5u);
}

TEST(RegularFileTest, RefusesAFifoWithoutWaitingForAWriter) {
  const std::string path = ::testing::TempDir() + "regular_file_test.fifo";
  ::unlink(path.c_str());
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  // Should the open block (the defect), a writer arriving after 5 s releases it, so the test
  // fails on time instead of hanging.
  std::atomic<bool> done{false};
  std::thread rescuer([&] {
    for (int i = 0; i < 50 && !done; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int w = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
    if (w >= 0) ::close(w);
  });
  const auto start = std::chrono::steady_clock::now();
  Result<int> fd = OpenRegularFile(path);
  Result<MappedFile> mapped = MappedFile::Open(path);
  const auto waited = std::chrono::steady_clock::now() - start;
  done = true;
  rescuer.join();
  EXPECT_LT(waited, std::chrono::seconds(2));
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), StatusCode::kIoError);
  EXPECT_NE(fd.status().message().find("is a FIFO, not a regular file"), std::string::npos)
      << fd.status().ToString();
  ASSERT_FALSE(mapped.ok());
  EXPECT_NE(mapped.status().message().find("a FIFO"), std::string::npos)
      << mapped.status().ToString();
  ::unlink(path.c_str());
}

TEST(RegularFileTest, RefusesDirectoriesAndDevices) {
  Result<int> dir = OpenRegularFile(::testing::TempDir());
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("a directory"), std::string::npos)
      << dir.status().ToString();
  Result<int> dev = OpenRegularFile("/dev/null");
  ASSERT_FALSE(dev.ok());
  EXPECT_NE(dev.status().message().find("a character device"), std::string::npos)
      << dev.status().ToString();
  Result<int> missing = OpenRegularFile("/nonexistent/file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera::base
