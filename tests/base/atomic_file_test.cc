// base::AtomicFile and base::FileErrno: the one atomic write and the one errno translation of
// the project. Besides the plain behaviour, every operation of a write is failed with every
// fault that applies, and the writing process is killed at every operation
// (atomic_write_checks.h): the target is always the old file or the new one.
#include "base/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "atomic_write_checks.h"
#include "base/file_env.h"

namespace tessera::base {
namespace {

using fault::ReadIfExists;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("tessera-atomic-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::set<std::string> Names() const { return fault::OtherNames(dir_, ""); }

  std::string dir_;
};

TEST(FileErrnoTest, NamesTheOperationThePathAndTheSystemsReason) {
  const Status full = FileErrno("write", "/store/blobs/x", ENOSPC);
  EXPECT_EQ(full.code(), StatusCode::kIoError);
  EXPECT_EQ(full.message(), "file: write /store/blobs/x: No space left on device");
  EXPECT_EQ(FileErrno("open", "/a", ENOENT).code(), StatusCode::kNotFound);
  EXPECT_EQ(FileErrno("create", "/a", EEXIST).code(), StatusCode::kDuplicate);
  const Status read_only = FileErrno("open", "/a", EROFS);
  EXPECT_EQ(read_only.code(), StatusCode::kIoError);
  EXPECT_NE(read_only.message().find("Read-only file system"), std::string::npos);
}

TEST_F(AtomicFileTest, WritesReplacesAndLeavesNoTemporaryFile) {
  const std::string path = dir_ + "/a.txt";
  ASSERT_TRUE(WriteFileAtomic(DefaultFileEnv(), path, std::string_view("first")).ok());
  EXPECT_EQ(ReadIfExists(path), "first");
  const std::vector<std::uint8_t> bytes = {'s', 'e', 'c', 'o', 'n', 'd'};
  ASSERT_TRUE(WriteFileAtomic(DefaultFileEnv(), path, bytes).ok());
  EXPECT_EQ(ReadIfExists(path), "second");
  EXPECT_EQ(Names(), std::set<std::string>{"a.txt"});
}

TEST_F(AtomicFileTest, StreamsSeveralWritesAndAppearsOnlyAtCommit) {
  const std::string path = dir_ + "/s.bin";
  Result<AtomicFile> file = AtomicFile::Create(DefaultFileEnv(), path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE(file->Write(std::string_view("ab")).ok());
  ASSERT_TRUE(file->Write(std::string_view("cd")).ok());
  EXPECT_FALSE(ReadIfExists(path).has_value());
  EXPECT_EQ(file->temp_path().rfind(path + ".tmp-", 0), 0u) << file->temp_path();
  EXPECT_EQ(file->temp_path().size(), path.size() + 5 + 16);
  ASSERT_TRUE(file->Commit().ok());
  EXPECT_EQ(ReadIfExists(path), "abcd");
  EXPECT_EQ(file->Commit().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Names(), std::set<std::string>{"s.bin"});
}

TEST_F(AtomicFileTest, AnAbandonedFileLeavesTheOldOneAndNoTemporaryFile) {
  const std::string path = dir_ + "/keep.txt";
  ASSERT_TRUE(WriteFileAtomic(DefaultFileEnv(), path, std::string_view("old")).ok());
  {
    Result<AtomicFile> file = AtomicFile::Create(DefaultFileEnv(), path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file->Write(std::string_view("new, never committed")).ok());
    AtomicFile moved = std::move(*file);  // the moved-from object owns nothing
  }
  EXPECT_EQ(ReadIfExists(path), "old");
  EXPECT_EQ(Names(), std::set<std::string>{"keep.txt"});
}

TEST_F(AtomicFileTest, GivesTheModeAndHonoursANamedTemporaryFile) {
  const std::string path = dir_ + "/secret";
  AtomicWriteOptions options;
  options.mode = kPrivateFileMode;
  ASSERT_TRUE(WriteFileAtomic(DefaultFileEnv(), path, std::string_view("s"), options).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A named temporary file left by a crashed writer is replaced, not refused.
  const std::string temp = dir_ + "/live.json.tmp";
  std::ofstream(temp) << "torn";
  AtomicWriteOptions named;
  named.temp_path = temp;
  named.sync_file = false;
  named.sync_dir = false;
  ASSERT_TRUE(
      WriteFileAtomic(DefaultFileEnv(), dir_ + "/live.json", std::string_view("{}"), named).ok());
  EXPECT_EQ(ReadIfExists(dir_ + "/live.json"), "{}");
  EXPECT_FALSE(ReadIfExists(temp).has_value());
}

TEST_F(AtomicFileTest, AMissingFolderIsAnIoErrorAndCreatesNothing) {
  const Status s = WriteFileAtomic(DefaultFileEnv(), dir_ + "/no/such/f", std::string_view("x"));
  EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  EXPECT_NE(s.message().find("No such file or directory"), std::string::npos) << s.ToString();
  EXPECT_TRUE(Names().empty());
}

// The write of a whole file (key files, eval reports) and a streamed one (GGUF files, archives):
// every operation failed with every fault, on a new file and over an old one.
TEST_F(AtomicFileTest, IsOldOrNewWhateverOperationFails) {
  const std::string path = dir_ + "/report.json";
  const std::string text = "{\"passed\": 3}\n";
  auto whole = [&](FileEnv& env) { return WriteFileAtomic(env, path, text); };
  auto streamed = [&](FileEnv& env) -> Status {
    TS_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(env, path));
    TS_RETURN_IF_ERROR(file.Write(std::string_view(text).substr(0, 5)));
    TS_RETURN_IF_ERROR(file.Write(std::string_view(text).substr(5)));
    return file.Commit();
  };
  auto named = [&](FileEnv& env) {
    AtomicWriteOptions options;
    options.temp_path = path + ".tmp";
    return WriteFileAtomic(env, path, text, options);
  };
  int runs = 0;
  runs += fault::FailEveryOperation("new file", path, std::nullopt, text, whole);
  runs += fault::FailEveryOperation("replaced file", path, std::string("old"), text, whole);
  runs += fault::FailEveryOperation("streamed file", path, std::string("old"), text, streamed);
  runs += fault::FailEveryOperation("named temporary", path, std::string("old"), text, named);
  EXPECT_GE(runs, 4 * 6);
}

TEST_F(AtomicFileTest, IsOldOrNewWhereverTheWriterIsKilled) {
  const std::string path = dir_ + "/model.gguf";
  const std::string bytes(100000, 'g');
  auto streamed = [&](FileEnv& env) -> Status {
    TS_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(env, path));
    for (std::size_t at = 0; at < bytes.size(); at += 25000) {
      TS_RETURN_IF_ERROR(file.Write(std::string_view(bytes).substr(at, 25000)));
    }
    return file.Commit();
  };
  int runs = 0;
  runs += fault::KillAtEveryOperation("new file", path, std::nullopt, bytes, streamed);
  runs += fault::KillAtEveryOperation("replaced file", path, std::string("old"), bytes, streamed);
  EXPECT_GE(runs, 2 * 9);
}

}  // namespace
}  // namespace tessera::base
