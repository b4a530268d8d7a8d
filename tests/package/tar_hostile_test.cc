// TarReader against archives crafted byte by byte (tar_fixture.h's RawTar shares no code with the
// library): every refusal of tar.h with its code and a message naming the entry and the problem,
// and the unusual-but-valid forms the reader accepts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "package/tar_reader.h"
#include "tar_fixture.h"

namespace tessera::package {
namespace {

using fixture::Bytes;
using fixture::Dir;
using fixture::File;
using fixture::RawEntry;
using fixture::RawTar;

// Reads every entry of `archive` (data included); returns the names or the first error.
Result<std::vector<std::string>> Drain(const Bytes& archive, const TarLimits& limits,
                                       const std::string& tag) {
  fixture::TempDir dir(tag);
  const std::string path = dir.File("in.tar");
  fixture::WriteFile(path, archive);
  TS_ASSIGN_OR_RETURN(TarReader reader, TarReader::Open(path, limits));
  std::vector<std::string> names;
  while (true) {
    TS_ASSIGN_OR_RETURN(std::optional<TarEntry> entry, reader.Next());
    if (!entry) break;
    names.push_back(entry->name);
    TS_RETURN_IF_ERROR(reader.ReadAll([](std::span<const std::uint8_t>) { return Status::Ok(); }));
  }
  return names;
}

RawEntry With(RawEntry e, void (*edit)(RawEntry&)) {
  edit(e);
  return e;
}

Bytes Concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

RawEntry Typed(char type) {
  RawEntry e = File("special", "");
  e.type = type;
  return e;
}

struct Hostile {
  const char* label;
  Bytes archive;
  StatusCode code;
  std::vector<std::string> needles;  // substrings of the message
  TarLimits limits = {};
};

void PrintTo(const Hostile& c, std::ostream* os) { *os << c.label; }

class TarHostile : public ::testing::TestWithParam<Hostile> {};

TEST_P(TarHostile, IsRefusedWithAClearStatus) {
  const Hostile& c = GetParam();
  auto names = Drain(c.archive, c.limits, c.label);
  ASSERT_FALSE(names.ok()) << c.label << " was accepted";
  EXPECT_EQ(names.status().code(), c.code) << names.status().ToString();
  EXPECT_EQ(names.status().message().rfind("tar: ", 0), 0u) << names.status().message();
  for (const std::string& needle : c.needles) {
    EXPECT_NE(names.status().message().find(needle), std::string::npos)
        << "\"" << needle << "\" not in: " << names.status().message();
  }
}

const std::string k2000(2000, 'z');
const std::string k600(600, 'z');

Bytes Truncate(Bytes b, std::size_t n) {
  b.resize(n);
  return b;
}

Bytes FlipByte(Bytes b, std::size_t at) {
  b[at] ^= 0x01;
  return b;
}

std::vector<Hostile> HostileCases() {
  using C = StatusCode;
  const Bytes one = RawTar({File("a", "x")});
  const Bytes no_end = RawTar({File("a", "x")}, false);
  return {
      // Names.
      {"dotdot",
       RawTar({File("../evil", "x")}),
       C::kMalformed,
       {"entry \"../evil\"", "header at byte 0", "path component \"..\""}},
      {"dotdot_inner",
       RawTar({File("ok", "1"), File("a/../../b", "2")}),
       C::kMalformed,
       {"\"a/../../b\"", "header at byte 1024", "\"..\""}},
      {"dotdot_in_prefix",
       RawTar({With(File("x", "1"), [](RawEntry& e) { e.prefix = "a/.."; })}),
       C::kMalformed,
       {"\"a/../x\"", "\"..\""}},
      {"absolute", RawTar({File("/etc/passwd", "x")}), C::kMalformed, {"absolute path"}},
      {"absolute_prefix",
       RawTar({With(File("passwd", "x"), [](RawEntry& e) { e.prefix = "/etc"; })}),
       C::kMalformed,
       {"\"/etc/passwd\"", "absolute path"}},
      {"empty_name", RawTar({File("", "x")}), C::kMalformed, {"empty name"}},
      {"only_dot", RawTar({File(".", "x")}), C::kMalformed, {"archive root"}},
      {"nul_inside_name",
       RawTar({File(std::string("abc\0def", 7), "x")}),
       C::kMalformed,
       {"\"abc\"", "name field has bytes after its NUL terminator"}},
      {"nul_inside_prefix",
       RawTar({With(File("n", "x"), [](RawEntry& e) { e.prefix = std::string("p\0q", 3); })}),
       C::kMalformed,
       {"prefix field has bytes after its NUL"}},
      {"nul_inside_linkname",
       RawTar({With(File("n", "x"), [](RawEntry& e) { e.linkname = std::string("\0q", 2); })}),
       C::kMalformed,
       {"linkname field"}},
      {"backslash", RawTar({File("a\\b", "x")}), C::kMalformed, {"\"a\\x5cb\"", "backslash"}},
      {"control_char",
       RawTar({File("a\x01"
                    "b",
                    "x")}),
       C::kMalformed,
       {"\"a\\x01b\"", "control character 0x01"}},
      {"delete_char", RawTar({File("a\x7f", "x")}), C::kMalformed, {"control character 0x7f"}},
      {"bad_utf8", RawTar({File("caf\xe9", "x")}), C::kMalformed, {"\"caf\\xe9\"", "UTF-8"}},
      {"file_with_trailing_slash", RawTar({File("a/", "")}), C::kMalformed, {"ends with '/'"}},
      // Entry types.
      {"symlink",
       RawTar({With(Typed('2'), [](RawEntry& e) { e.linkname = "/etc/passwd"; })}),
       C::kUnsupported,
       {"\"special\"", "symbolic link (type '2') refused"}},
      {"hard_link",
       RawTar({With(Typed('1'), [](RawEntry& e) { e.linkname = "a"; })}),
       C::kUnsupported,
       {"hard link (type '1')"}},
      {"char_device", RawTar({Typed('3')}), C::kUnsupported, {"character device"}},
      {"block_device", RawTar({Typed('4')}), C::kUnsupported, {"block device"}},
      {"fifo", RawTar({Typed('6')}), C::kUnsupported, {"FIFO"}},
      {"contiguous", RawTar({Typed('7')}), C::kUnsupported, {"contiguous file"}},
      {"pax_header",
       RawTar({With(Typed('x'), [](RawEntry& e) { e.data = "22 path=../../evil\n"; }),
               File("innocent", "x")}),
       C::kUnsupported,
       {"pax extended header"}},
      {"pax_global", RawTar({Typed('g')}), C::kUnsupported, {"pax global header"}},
      {"gnu_long_name",
       RawTar({With(Typed('L'), [](RawEntry& e) { e.data = std::string(300, 'n'); })}),
       C::kUnsupported,
       {"GNU long name"}},
      {"gnu_long_link", RawTar({Typed('K')}), C::kUnsupported, {"GNU long link name"}},
      {"unknown_type", RawTar({Typed('Z')}), C::kUnsupported, {"unknown entry type (type 'Z')"}},
      {"binary_type", RawTar({Typed('\x80')}), C::kUnsupported, {"(type 0x80)"}},
      {"linkname_on_file",
       RawTar({With(File("a", "x"), [](RawEntry& e) { e.linkname = "b"; })}),
       C::kMalformed,
       {"link name is set"}},
      // Duplicates and files used as directories.
      {"duplicate",
       RawTar({File("a/b", "1"), File("a/b", "2")}),
       C::kDuplicate,
       {"\"a/b\"", "header at byte 1024", "duplicate name"}},
      {"duplicate_dot",
       RawTar({File("a/b", "1"), File("a/./b", "2")}),
       C::kDuplicate,
       {"duplicate name \"a/b\""}},
      {"duplicate_leading_dot", RawTar({File("./a", "1"), File("a", "2")}), C::kDuplicate, {}},
      {"duplicate_double_slash", RawTar({File("a//b", "1"), File("a/b", "2")}), C::kDuplicate, {}},
      {"duplicate_dir", RawTar({Dir("d/"), Dir("./d")}), C::kDuplicate, {}},
      {"duplicate_prefix_split",
       RawTar({With(File("q", "1"), [](RawEntry& e) { e.prefix = "p"; }), File("p/q", "2")}),
       C::kDuplicate,
       {}},
      {"duplicate_root", RawTar({Dir("./"), Dir(".")}), C::kDuplicate, {}},
      {"path_through_file",
       RawTar({File("a", "x"), File("a/b", "y")}),
       C::kMalformed,
       {"path goes through regular file \"a\""}},
      {"file_over_directory",
       RawTar({File("a/b", "x"), File("a", "y")}),
       C::kMalformed,
       {"is a directory of an earlier entry"}},
      // Sizes and limits.
      {"size_beyond_file",
       RawTar({With(File("big", "x"), [](RawEntry& e) { e.size = "00000100000"; })}),
       C::kTruncated,
       {"\"big\"", "declares 32768 data bytes", "remain in the file"}},
      {"size_huge",
       RawTar({With(File("big", "x"), [](RawEntry& e) { e.size = "77777777777"; })}),
       C::kTruncated,
       {"declares 8589934591"}},
      {"size_above_entry_limit",
       RawTar({File("a", k2000)}),
       C::kResourceExhausted,
       {"\"a\"", "is 2000 bytes, limit 1999"},
       TarLimits{1999, 1u << 20, 10}},
      {"total_above_limit",
       RawTar({File("a", k600), File("b", k600)}),
       C::kResourceExhausted,
       {"\"b\"", "limit 1000"},
       TarLimits{1000, 1000, 10}},
      {"too_many_entries",
       RawTar({File("a", ""), File("b", ""), File("c", "")}),
       C::kResourceExhausted,
       {"more than 2 entries"},
       TarLimits{100, 100, 2}},
      // Header integrity.
      {"bad_checksum", FlipByte(one, 0), C::kMalformed, {"header checksum is"}},
      {"checksum_not_octal",
       RawTar({With(File("a", "x"), [](RawEntry& e) { e.checksum = std::string("zz\0", 3); })}),
       C::kMalformed,
       {"chksum field is not an octal number"}},
      {"v7_header",
       RawTar({With(File("a", "x"), [](RawEntry& e) { e.magic = e.version = ""; })}),
       C::kMalformed,
       {"not a POSIX ustar header"}},
      {"gnu_magic",
       RawTar({With(File("a", "x"),
                    [](RawEntry& e) {
                      e.magic = "ustar ";
                      e.version = std::string(" \0", 2);
                    })}),
       C::kUnsupported,
       {"GNU tar header"}},
      {"base256_size",
       RawTar(
           {With(File("a", "x"),
                 [](RawEntry& e) { e.size = std::string("\x80\0\0\0\0\0\0\0\0\0\0\x01", 12); })}),
       C::kUnsupported,
       {"base-256 number in size"}},
      {"size_not_octal",
       RawTar({With(File("a", "x"), [](RawEntry& e) { e.size = "0000000001x"; })}),
       C::kMalformed,
       {"size field is not an octal number"}},
      {"size_with_digit_8",
       RawTar({With(File("a", "x"), [](RawEntry& e) { e.size = "00000000008"; })}),
       C::kMalformed,
       {"size field"}},
      {"mode_not_octal",
       RawTar({With(File("a", "x"), [](RawEntry& e) { e.mode = "rw-r--r"; })}),
       C::kMalformed,
       {"mode field"}},
      {"directory_with_data",
       RawTar({With(Dir("d"), [](RawEntry& e) { e.size = "00000000001"; })}),
       C::kMalformed,
       {"directory declares 1 data bytes"}},
      {"nonzero_padding",
       RawTar({With(File("a", "x"), [](RawEntry& e) { e.padding_fill = "P"; })}),
       C::kMalformed,
       {"non-zero padding"}},
      // The end of the archive.
      {"garbage_after_end",
       Concat(one, fixture::ToBytes("junk")),
       C::kMalformed,
       {"data after the end-of-archive marker at byte 2048"}},
      {"garbage_after_zero_record",
       Concat(Concat(one, Bytes(10240, 0)), Bytes(1, 7)),
       C::kMalformed,
       {"at byte 12288"}},
      {"header_after_zero_block",
       Concat(Concat(no_end, Bytes(512, 0)), RawTar({File("b", "y")})),
       C::kMalformed,
       {"followed by a non-zero block"}},
      {"truncated_in_data",
       Truncate(RawTar({File("a", k2000)}), 1500),
       C::kTruncated,
       {"declares 2000 data bytes"}},
      {"truncated_in_padding",
       Truncate(RawTar({File("a", k600)}), 1200),
       C::kTruncated,
       {"with padding"}},
      {"truncated_in_header", Truncate(one, 300), C::kTruncated, {"inside the header at byte 0"}},
      {"truncated_second_header",
       Truncate(RawTar({File("a", "x"), File("b", "y")}), 1100),
       C::kTruncated,
       {"inside the header at byte 1024"}},
      {"no_end_marker", no_end, C::kTruncated, {"without the end-of-archive marker"}},
      {"lone_zero_block", Concat(no_end, Bytes(512, 0)), C::kTruncated, {"lone zero block"}},
      {"empty_file", Bytes{}, C::kTruncated, {"ends at byte 0 without"}},
  };
}

INSTANTIATE_TEST_SUITE_P(TarArchives, TarHostile, ::testing::ValuesIn(HostileCases()),
                         [](const ::testing::TestParamInfo<Hostile>& param_info) {
                           return param_info.param.label;
                         });

TEST(TarHostileReader, ErrorIsStickyAndEarlierEntriesWereValid) {
  fixture::TempDir dir("sticky");
  fixture::WriteFile(dir.File("in.tar"), RawTar({File("good", "1"), File("../bad", "2")}));
  auto reader = TarReader::Open(dir.File("in.tar"), TarLimits{});
  ASSERT_TRUE(reader.ok());
  auto first = reader->Next();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)->name, "good");
  auto second = reader->Next();
  EXPECT_EQ(second.status().code(), StatusCode::kMalformed);
  EXPECT_EQ(reader->Next().status().message(), second.status().message());
  std::uint8_t buf[4];
  EXPECT_EQ(reader->Read(buf).status().code(), StatusCode::kMalformed);
}

struct Accepted {
  const char* label;
  Bytes archive;
  std::vector<std::string> names;
};

void PrintTo(const Accepted& c, std::ostream* os) { *os << c.label; }

class TarAccepted : public ::testing::TestWithParam<Accepted> {};

TEST_P(TarAccepted, Reads) {
  const Accepted& c = GetParam();
  auto names = Drain(c.archive, TarLimits{}, c.label);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, c.names);
}

std::vector<Accepted> AcceptedCases() {
  return {
      {"root_entry_skipped",
       RawTar({Dir("./"), File("./a", "x"), Dir("./d/"), File("./d/b", "")}),
       {"a", "d", "d/b"}},
      {"nul_typeflag_is_file",
       RawTar({With(File("a", "x"), [](RawEntry& e) { e.type = '\0'; })}),
       {"a"}},
      {"spaced_octal_fields",
       RawTar({With(File("a", "x"),
                    [](RawEntry& e) {
                      e.mode = std::string("   644 \0", 8);
                      e.size = std::string("          1 ", 12);
                    })}),
       {"a"}},
      {"size_fills_field",
       RawTar({With(File("a", "x"), [](RawEntry& e) { e.size = "000000000001"; })}),
       {"a"}},
      {"name_fills_field", RawTar({File(std::string(100, 'n'), "x")}), {std::string(100, 'n')}},
      {"prefix_and_name",
       RawTar({With(File("name", "x"), [](RawEntry& e) { e.prefix = "pre/fix"; })}),
       {"pre/fix/name"}},
      {"utf8_name", RawTar({File("mod\xc3\xa8le.gguf", "x")}), {"mod\xc3\xa8le.gguf"}},
      {"dir_after_children", RawTar({File("d/a", "x"), Dir("d")}), {"d/a", "d"}},
      {"zero_record_padding", Concat(RawTar({File("a", "x")}), Bytes(8704, 0)), {"a"}},
      {"empty_archive", Bytes(1024, 0), {}},
  };
}

INSTANTIATE_TEST_SUITE_P(TarArchives, TarAccepted, ::testing::ValuesIn(AcceptedCases()),
                         [](const ::testing::TestParamInfo<Accepted>& param_info) {
                           return param_info.param.label;
                         });

}  // namespace
}  // namespace tessera::package
