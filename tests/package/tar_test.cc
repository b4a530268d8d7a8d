// TarWriter and TarReader through their public headers: round trips (memory and file sources,
// long names split into prefix/name, empty and multi-chunk files, chunked reads, skipped data),
// deterministic bytes and header fields, the writer's refusals and atomicity, and both directions
// of interoperability with GNU tar.
#include "package/tar.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "package/tar_reader.h"
#include "package/tar_writer.h"
#include "tar_fixture.h"

namespace tessera::package {
namespace {

using fixture::Bytes;

struct ReadEntry {
  TarEntry entry;
  Bytes data;
};

// Every entry of `path`, each entry's data read through Read() in `chunk`-byte pieces.
Result<std::vector<ReadEntry>> ReadArchive(const std::string& path, std::size_t chunk = 1000,
                                           const TarLimits& limits = {}) {
  TS_ASSIGN_OR_RETURN(TarReader reader, TarReader::Open(path, limits));
  std::vector<ReadEntry> out;
  while (true) {
    TS_ASSIGN_OR_RETURN(std::optional<TarEntry> entry, reader.Next());
    if (!entry) break;
    ReadEntry e{*entry, {}};
    std::vector<std::uint8_t> buf(chunk);
    while (true) {
      TS_ASSIGN_OR_RETURN(std::size_t n, reader.Read(buf));
      if (n == 0) break;
      e.data.insert(e.data.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
    out.push_back(std::move(e));
  }
  return out;
}

const std::string kLongDir = std::string(120, 'd') + "/" + std::string(30, 'e');
const std::string kLongName = kLongDir + "/" + std::string(90, 'f');  // 242 bytes

// A small archive with every kind of entry the writer makes.
void WriteSample(const std::string& out, const std::string& big_file) {
  auto writer = TarWriter::Create(out);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE(writer->AddDirectory("blobs").ok());
  ASSERT_TRUE(writer->AddFile("blobs/hello.txt", fixture::ToBytes("hello, tar\n")).ok());
  ASSERT_TRUE(writer->AddFile("empty", {}).ok());
  ASSERT_TRUE(writer->AddFile("exact512", Bytes(512, 'x')).ok());
  auto copied = writer->AddFileFromPath("blobs/big.bin", big_file);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  ASSERT_TRUE(writer->AddDirectory(kLongDir).ok());
  ASSERT_TRUE(writer->AddFile(kLongName, fixture::ToBytes("deep")).ok());
  Status finished = writer->Finish();
  ASSERT_TRUE(finished.ok()) << finished.ToString();
}

TEST(TarWriter, RoundTripsEveryEntryKind) {
  fixture::TempDir dir("roundtrip");
  const Bytes big = fixture::RandomBytes(600 * 1024 + 7, 1);  // > the 256 KiB copy buffer
  fixture::WriteFile(dir.File("big.bin"), big);
  WriteSample(dir.File("out.tar"), dir.File("big.bin"));

  auto entries = ReadArchive(dir.File("out.tar"), 777);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 7u);
  const std::vector<std::string> names = {"blobs",         "blobs/hello.txt", "empty",  "exact512",
                                          "blobs/big.bin", kLongDir,          kLongName};
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ((*entries)[i].entry.name, names[i]);
  EXPECT_EQ((*entries)[0].entry.type, TarEntryType::kDirectory);
  EXPECT_EQ((*entries)[0].entry.mode, 0755u);
  EXPECT_EQ((*entries)[1].entry.type, TarEntryType::kFile);
  EXPECT_EQ((*entries)[1].entry.mode, 0644u);
  EXPECT_EQ((*entries)[1].data, fixture::ToBytes("hello, tar\n"));
  EXPECT_TRUE((*entries)[2].data.empty());
  EXPECT_EQ((*entries)[3].data, Bytes(512, 'x'));
  EXPECT_EQ((*entries)[4].entry.size, big.size());
  EXPECT_EQ((*entries)[4].data, big);
  EXPECT_EQ((*entries)[6].data, fixture::ToBytes("deep"));
  EXPECT_EQ((*entries)[0].entry.header_offset, 0u);
  EXPECT_EQ((*entries)[1].entry.header_offset, 512u);
}

TEST(TarWriter, OutputIsDeterministicWithFixedHeaderFields) {
  fixture::TempDir dir("determinism");
  fixture::WriteFile(dir.File("big.bin"), fixture::RandomBytes(70000, 2));
  WriteSample(dir.File("a.tar"), dir.File("big.bin"));
  WriteSample(dir.File("b.tar"), dir.File("big.bin"));
  const Bytes a = fixture::ReadFile(dir.File("a.tar"));
  EXPECT_EQ(fixture::Sha256Hex(a), fixture::Sha256Hex(fixture::ReadFile(dir.File("b.tar"))));

  ASSERT_EQ(a.size() % 512, 0u);
  EXPECT_TRUE(std::all_of(a.end() - 1024, a.end(), [](std::uint8_t b) { return b == 0; }));
  auto field = [&](std::size_t header, std::size_t offset, std::size_t width) {
    return std::string(a.begin() + static_cast<std::ptrdiff_t>(header + offset),
                       a.begin() + static_cast<std::ptrdiff_t>(header + offset + width));
  };
  const std::size_t file_header = 512;  // blobs/hello.txt
  EXPECT_EQ(field(0, 0, 7), std::string("blobs/\0", 7));
  EXPECT_EQ(field(0, 100, 8), std::string("0000755\0", 8));
  EXPECT_EQ(field(file_header, 100, 8), std::string("0000644\0", 8));
  EXPECT_EQ(field(file_header, 108, 16), std::string("0000000\0"
                                                     "0000000\0",
                                                     16));
  EXPECT_EQ(field(file_header, 124, 12), std::string("00000000013\0", 12));
  EXPECT_EQ(field(file_header, 136, 12), std::string("00000000000\0", 12));
  EXPECT_EQ(field(file_header, 156, 1), "0");
  EXPECT_EQ(field(file_header, 257, 8), std::string("ustar\0"
                                                    "00",
                                                    8));
  EXPECT_EQ(field(file_header, 265, 64), std::string(64, '\0'));  // uname, gname
  EXPECT_EQ(field(file_header, 154, 2), std::string("\0 ", 2));   // chksum terminator
}

TEST(TarWriter, LongNamesUsePrefixField) {
  fixture::TempDir dir("prefix");
  auto writer = TarWriter::Create(dir.File("out.tar"));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->AddFile(kLongName, fixture::ToBytes("x")).ok());
  ASSERT_TRUE(writer->Finish().ok());
  const Bytes a = fixture::ReadFile(dir.File("out.tar"));
  EXPECT_EQ(std::string(a.begin(), a.begin() + 90), std::string(90, 'f'));
  EXPECT_EQ(std::string(a.begin() + 345, a.begin() + 345 + 151), kLongDir);
}

TEST(TarWriter, NormalisesNames) {
  fixture::TempDir dir("normalise");
  auto writer = TarWriter::Create(dir.File("out.tar"));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->AddDirectory("./d//").ok());
  ASSERT_TRUE(writer->AddFile("./d/./x", fixture::ToBytes("1")).ok());
  ASSERT_TRUE(writer->Finish().ok());
  auto entries = ReadArchive(dir.File("out.tar"));
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].entry.name, "d");
  EXPECT_EQ((*entries)[1].entry.name, "d/x");
  const Bytes a = fixture::ReadFile(dir.File("out.tar"));
  EXPECT_EQ(std::string(a.begin(), a.begin() + 3), std::string("d/\0", 3));
}

struct WriterRefusal {
  const char* label;
  std::vector<std::string> files;  // added in order; the last one is refused
  StatusCode code;
};

void PrintTo(const WriterRefusal& c, std::ostream* os) { *os << c.label; }

class TarWriterRefuses : public ::testing::TestWithParam<WriterRefusal> {};

TEST_P(TarWriterRefuses, BadNamesAndLeavesNoOutput) {
  const WriterRefusal& c = GetParam();
  fixture::TempDir dir("refuse");
  const std::string out = dir.File("out.tar");
  fixture::WriteFile(out, fixture::ToBytes("previous contents"));
  {
    auto writer = TarWriter::Create(out);
    ASSERT_TRUE(writer.ok());
    Status status;
    for (const std::string& name : c.files) {
      status = writer->AddFile(name, fixture::ToBytes("data"));
      if (!status.ok()) break;
    }
    EXPECT_EQ(status.code(), c.code) << status.ToString();
    EXPECT_EQ(status.message().rfind("tar: ", 0), 0u) << status.message();
    // The writer is poisoned: Finish() fails too.
    EXPECT_EQ(writer->Finish().code(), c.code);
  }
  EXPECT_EQ(fixture::ReadFile(out), fixture::ToBytes("previous contents"));
  EXPECT_EQ(fixture::ListDir(dir.path()), std::vector<std::string>{"out.tar"});
}

INSTANTIATE_TEST_SUITE_P(
    TarNames, TarWriterRefuses,
    ::testing::Values(WriterRefusal{"dotdot", {"../evil"}, StatusCode::kMalformed},
                      WriterRefusal{"inner_dotdot", {"a/../../evil"}, StatusCode::kMalformed},
                      WriterRefusal{"absolute", {"/etc/passwd"}, StatusCode::kMalformed},
                      WriterRefusal{"empty", {""}, StatusCode::kMalformed},
                      WriterRefusal{"root", {"./"}, StatusCode::kMalformed},
                      WriterRefusal{"backslash", {"a\\b"}, StatusCode::kMalformed},
                      WriterRefusal{"control", {"a\nb"}, StatusCode::kMalformed},
                      WriterRefusal{"bad_utf8", {"\xff"}, StatusCode::kMalformed},
                      WriterRefusal{
                          "long_component", {std::string(101, 'a')}, StatusCode::kInvalidArgument},
                      WriterRefusal{"too_long",
                                    {std::string(150, 'a') + "/" + std::string(100, 'b') + "/c"},
                                    StatusCode::kInvalidArgument},
                      WriterRefusal{"duplicate", {"a/b", "a/./b"}, StatusCode::kDuplicate},
                      WriterRefusal{"file_as_dir", {"a", "a/b"}, StatusCode::kMalformed},
                      WriterRefusal{"dir_as_file", {"a/b", "a"}, StatusCode::kMalformed}),
    [](const ::testing::TestParamInfo<WriterRefusal>& param_info) {
      return param_info.param.label;
    });

TEST(TarWriter, UnfinishedWriterLeavesNothing) {
  fixture::TempDir dir("unfinished");
  {
    auto writer = TarWriter::Create(dir.File("out.tar"));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->AddFile("a", fixture::RandomBytes(5000, 3)).ok());
  }
  EXPECT_TRUE(fixture::ListDir(dir.path()).empty());
}

TEST(TarWriter, MissingSourceFileFailsWithoutOutput) {
  fixture::TempDir dir("missing");
  auto writer = TarWriter::Create(dir.File("out.tar"));
  ASSERT_TRUE(writer.ok());
  auto copied = writer->AddFileFromPath("a", dir.File("nope"));
  EXPECT_EQ(copied.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(writer->Finish().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fixture::ListDir(dir.path()).empty());
  EXPECT_EQ(writer->AddFileFromPath("a", dir.File("nope")).status().code(), StatusCode::kNotFound);
  // A missing output folder is an I/O error of the write (base::AtomicFile), not a missing input.
  EXPECT_EQ(TarWriter::Create(dir.File("no/such/dir/out.tar")).status().code(),
            StatusCode::kIoError);
}

TEST(TarWriter, AddFileFromPathReportsDigestAndSize) {
  fixture::TempDir dir("digest");
  const Bytes content = fixture::RandomBytes(300000, 4);
  fixture::WriteFile(dir.File("src"), content);
  auto writer = TarWriter::Create(dir.File("out.tar"));
  ASSERT_TRUE(writer.ok());
  auto copied = writer->AddFileFromPath("src", dir.File("src"));
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(base::ToHex(copied->digest), fixture::Sha256Hex(content));
  EXPECT_EQ(copied->size, content.size());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(writer->Finish().code(), StatusCode::kFailedPrecondition);
}

TEST(TarReader, ReadAllStreamsInChunksAndNextSkipsUnreadData) {
  fixture::TempDir dir("readall");
  const Bytes big = fixture::RandomBytes(200000, 5);
  fixture::WriteFile(dir.File("big.bin"), big);
  WriteSample(dir.File("out.tar"), dir.File("big.bin"));
  auto reader = TarReader::Open(dir.File("out.tar"), TarLimits{});
  ASSERT_TRUE(reader.ok());
  std::vector<std::string> seen;
  while (true) {
    auto entry = reader->Next();
    ASSERT_TRUE(entry.ok()) << entry.status().ToString();
    if (!*entry) break;
    seen.push_back((*entry)->name);
    if ((*entry)->name != "blobs/big.bin") continue;  // others skipped unread
    Bytes got;
    std::size_t chunks = 0;
    Status s = reader->ReadAll([&](std::span<const std::uint8_t> chunk) {
      EXPECT_LE(chunk.size(), 64u << 10);
      got.insert(got.end(), chunk.begin(), chunk.end());
      ++chunks;
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(got, big);
    EXPECT_GT(chunks, 1u);
  }
  EXPECT_EQ(seen.size(), 7u);
  // After the end, Next() keeps returning nullopt.
  auto again = reader->Next();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST(TarReader, SinkErrorStopsAndSticks) {
  fixture::TempDir dir("sink");
  fixture::WriteFile(dir.File("big.bin"), fixture::RandomBytes(1000, 6));
  WriteSample(dir.File("out.tar"), dir.File("big.bin"));
  auto reader = TarReader::Open(dir.File("out.tar"), TarLimits{});
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(reader->Next().ok());
  ASSERT_TRUE(reader->Next().ok());  // blobs/hello.txt
  Status s = reader->ReadAll(
      [](std::span<const std::uint8_t>) { return Status(StatusCode::kCancelled, "stop"); });
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_EQ(reader->Next().status().code(), StatusCode::kCancelled);
}

TEST(TarReader, MissingFileIsNotFound) {
  EXPECT_EQ(TarReader::Open("/nonexistent/x.tar", TarLimits{}).status().code(),
            StatusCode::kNotFound);
}

TEST(TarGnu, ListsAndExtractsWhatTheWriterWrote) {
  if (!fixture::HaveGnuTar()) GTEST_SKIP() << "GNU tar is not installed";
  fixture::TempDir dir("gnu_list");
  const Bytes big = fixture::RandomBytes(100000, 7);
  fixture::WriteFile(dir.File("big.bin"), big);
  WriteSample(dir.File("out.tar"), dir.File("big.bin"));

  std::string listing;
  ASSERT_EQ(fixture::RunCommand("tar -tvf " + dir.File("out.tar"), &listing), 0) << listing;
  EXPECT_EQ(listing.find("tar:"), std::string::npos) << listing;  // no warnings
  for (const std::string& expected :
       {std::string("drwxr-xr-x 0/0               0 1970-01-01 00:00 blobs/\n"),
        std::string("-rw-r--r-- 0/0              11 1970-01-01 00:00 blobs/hello.txt\n"),
        std::string("-rw-r--r-- 0/0               0 1970-01-01 00:00 empty\n"),
        std::string("-rw-r--r-- 0/0          100000 1970-01-01 00:00 blobs/big.bin\n"),
        std::string(" " + kLongName + "\n")}) {
    EXPECT_NE(listing.find(expected), std::string::npos) << expected << "\nin\n" << listing;
  }

  ASSERT_EQ(::mkdir(dir.File("x").c_str(), 0755), 0);
  std::string out;
  ASSERT_EQ(fixture::RunCommand("tar -xf " + dir.File("out.tar") + " -C " + dir.File("x"), &out), 0)
      << out;
  EXPECT_EQ(fixture::ReadFile(dir.File("x/blobs/big.bin")), big);
  EXPECT_EQ(fixture::ReadFile(dir.File("x/" + kLongName)), fixture::ToBytes("deep"));
}

TEST(TarGnu, ReaderReadsGnuTarUstarOutput) {
  if (!fixture::HaveGnuTar()) GTEST_SKIP() << "GNU tar is not installed";
  fixture::TempDir dir("gnu_read");
  ASSERT_EQ(::mkdir(dir.File("src").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(dir.File("src/sub").c_str(), 0755), 0);
  const Bytes data = fixture::RandomBytes(5000, 8);
  fixture::WriteFile(dir.File("src/sub/data.bin"), data);
  fixture::WriteFile(dir.File("src/note"), fixture::ToBytes("note"));
  std::string out;
  // "." makes GNU tar write a "./" root entry and "./"-prefixed names; the archive is padded to
  // a 10240-byte record with zeros after the end marker.
  ASSERT_EQ(fixture::RunCommand("tar --format=ustar --sort=name -cf " + dir.File("gnu.tar") +
                                    " -C " + dir.File("src") + " .",
                                &out),
            0)
      << out;
  auto entries = ReadArchive(dir.File("gnu.tar"));
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].entry.name, "note");
  EXPECT_EQ((*entries)[1].entry.name, "sub");
  EXPECT_EQ((*entries)[1].entry.type, TarEntryType::kDirectory);
  EXPECT_EQ((*entries)[2].entry.name, "sub/data.bin");
  EXPECT_EQ((*entries)[2].data, data);
}

TEST(TarGnu, GnuFormatAndSymlinksAreRefused) {
  if (!fixture::HaveGnuTar()) GTEST_SKIP() << "GNU tar is not installed";
  fixture::TempDir dir("gnu_refuse");
  ASSERT_EQ(::mkdir(dir.File("src").c_str(), 0755), 0);
  fixture::WriteFile(dir.File("src/a"), fixture::ToBytes("a"));
  ASSERT_EQ(::symlink("a", dir.File("src/link").c_str()), 0);
  std::string out;
  ASSERT_EQ(fixture::RunCommand("tar --format=ustar --sort=name -cf " + dir.File("link.tar") +
                                    " -C " + dir.File("src") + " a link",
                                &out),
            0)
      << out;
  auto entries = ReadArchive(dir.File("link.tar"));
  EXPECT_EQ(entries.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(entries.status().message().find("symbolic link"), std::string::npos);
  EXPECT_NE(entries.status().message().find("\"link\""), std::string::npos);

  ASSERT_EQ(
      fixture::RunCommand(
          "tar --format=gnu -cf " + dir.File("gnu.tar") + " -C " + dir.File("src") + " a", &out),
      0)
      << out;
  EXPECT_EQ(ReadArchive(dir.File("gnu.tar")).status().code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace tessera::package
