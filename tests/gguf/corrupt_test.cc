// Deliberately corrupted GGUF files: each must yield its exact StatusCode and a message naming the
// problem; none may crash, hang or allocate more than the file warrants.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "alloc_probe.h"
#include "gguf/reader.h"
#include "gguf/writer.h"

namespace tessera::gguf {
namespace {

// Little-endian byte builder for hand-made GGUF images.
class Raw {
 public:
  Raw& U8(std::uint8_t v) { return Put(&v, 1); }
  Raw& U32(std::uint32_t v) { return Put(&v, 4); }
  Raw& U64(std::uint64_t v) { return Put(&v, 8); }
  Raw& Str(std::string_view s) {
    U64(s.size());
    return Put(s.data(), s.size());
  }
  Raw& Header(std::uint32_t version, std::uint64_t n_tensors, std::uint64_t n_kv) {
    Put("GGUF", 4);
    return U32(version).U64(n_tensors).U64(n_kv);
  }
  // A key with a value of raw type `type` (value bytes follow with other calls).
  Raw& Key(std::string_view key, std::uint32_t type) { return Str(key).U32(type); }
  // A tensor info: name, dims, type, offset.
  Raw& Tensor(std::string_view name, std::vector<std::uint64_t> dims, std::uint32_t type,
              std::uint64_t offset) {
    Str(name).U32(static_cast<std::uint32_t>(dims.size()));
    for (std::uint64_t d : dims) U64(d);
    return U32(type).U64(offset);
  }
  Raw& PadTo(std::size_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    return *this;
  }
  Raw& Zeros(std::size_t n) {
    bytes_.insert(bytes_.end(), n, 0);
    return *this;
  }
  Raw& Put(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
    return *this;
  }
  std::size_t size() const { return bytes_.size(); }
  std::vector<std::uint8_t> bytes() const { return bytes_; }
  // The first n bytes.
  std::vector<std::uint8_t> Cut(std::size_t n) const {
    return std::vector<std::uint8_t>(bytes_.begin(), bytes_.begin() + n);
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

constexpr std::uint32_t kF32 = 0, kF16 = 1, kQ8_0 = 8;  // ggml tensor types
constexpr std::uint32_t kTU8 = 0, kTU32 = 4, kTI32 = 5, kTBool = 7, kTString = 8, kTArray = 9,
                        kTU64 = 10;  // GGUF value types
constexpr std::uint64_t k2p62 = 1ull << 62;
const std::string kLongKey = "a.key.long.enough.to.pass.the.count.checks";

// A file with one f32 tensor [4] of 16 bytes, preceded by the given number of metadata pairs.
Raw OneTensor(std::uint64_t offset = 0, std::vector<std::uint64_t> dims = {4},
              std::uint32_t type = kF32) {
  Raw r;
  r.Header(3, 1, 0).Tensor("t.weight", dims, type, offset).PadTo(32).Zeros(16).PadTo(32);
  return r;
}

struct Case {
  std::string name;
  std::function<std::vector<std::uint8_t>()> build;
  StatusCode code;
  std::string substring;  // must appear in the message (empty for an OK case)
  ReadLimits limits = {};
};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> Cases() {
  std::vector<Case> c;
  // --- A valid file, so the table can tell a broken builder from a broken reader.
  c.push_back({"valid_one_tensor", [] { return OneTensor().bytes(); }, StatusCode::kOk, ""});
  c.push_back({"valid_empty", [] { return Raw().Header(3, 0, 0).bytes(); }, StatusCode::kOk, ""});
  c.push_back({"valid_v2", [] { return Raw().Header(2, 0, 0).bytes(); }, StatusCode::kOk, ""});

  // --- Header.
  c.push_back({"empty_file", [] { return std::vector<std::uint8_t>(); }, StatusCode::kTruncated,
               "file of 0 bytes is too short"});
  c.push_back({"three_bytes", [] { return Raw().Put("GGU", 3).bytes(); }, StatusCode::kTruncated,
               "too short for the magic"});
  c.push_back({"bad_magic", [] { return Raw().Put("GGUX", 4).U32(3).U64(0).U64(0).bytes(); },
               StatusCode::kMalformed, "bad magic 47 47 55 58 (\"GGUX\")"});
  c.push_back({"bad_magic_binary", [] { return Raw().U32(0x00ff0a01).bytes(); },
               StatusCode::kMalformed, "bad magic 01 0a ff 00"});
  c.push_back({"version_1", [] { return Raw().Header(1, 0, 0).bytes(); }, StatusCode::kUnsupported,
               "version 1 is not supported"});
  c.push_back({"version_4", [] { return Raw().Header(4, 0, 0).bytes(); }, StatusCode::kUnsupported,
               "version 4 is not supported"});
  c.push_back({"version_big_endian", [] { return Raw().Header(0x03000000, 0, 0).bytes(); },
               StatusCode::kUnsupported, "big-endian"});
  c.push_back({"cut_in_version", [] { return Raw().Header(3, 0, 0).Cut(6); },
               StatusCode::kTruncated, "version at offset 4 needs 4 bytes, only 2 remain"});
  c.push_back({"cut_in_tensor_count", [] { return Raw().Header(3, 0, 0).Cut(12); },
               StatusCode::kTruncated, "tensor_count at offset 8"});
  c.push_back({"cut_in_kv_count", [] { return Raw().Header(3, 0, 0).Cut(23); },
               StatusCode::kTruncated, "metadata_kv_count at offset 16"});

  // --- Metadata truncations (files sized so the count checks pass and the cut is reached).
  c.push_back({"cut_in_key_length",
               [] {
                 Raw r;
                 r.Header(3, 0, 2).Key(kLongKey, kTU8).U8(1);
                 const std::size_t second = r.size();
                 r.Key("second", kTU8).U8(2);
                 return r.Cut(second + 3);
               },
               StatusCode::kTruncated, "key #1 length at offset 79 needs 8 bytes, only 3 remain"});
  c.push_back({"cut_in_key_bytes",
               [] { return Raw().Header(3, 0, 1).Key(kLongKey, kTU8).U8(1).Cut(24 + 8 + 20); },
               StatusCode::kTruncated, "key #0 at offset 32 needs 42 bytes, only 20 remain"});
  c.push_back({"cut_in_value_type",
               [] { return Raw().Header(3, 0, 1).Key(kLongKey, kTU8).U8(1).Cut(24 + 8 + 42 + 2); },
               StatusCode::kTruncated, "value type of key \"" + kLongKey + "\""});
  c.push_back({"cut_in_scalar_value",
               [] { return Raw().Header(3, 0, 1).Key(kLongKey, kTU64).U64(1).Cut(24 + 54 + 3); },
               StatusCode::kTruncated, "value of key \"" + kLongKey + "\" at offset 78 needs 8"});
  c.push_back({"cut_in_string_value",
               [] {
                 Raw r;
                 r.Header(3, 0, 1).Key(kLongKey, kTString).Str("hello world");
                 return r.Cut(r.size() - 3);
               },
               StatusCode::kTruncated, "string value of key \"" + kLongKey + "\""});
  c.push_back({"cut_in_array_header",
               [] {
                 Raw r;
                 r.Header(3, 0, 1).Key(kLongKey, kTArray).U32(kTU8).U64(0);
                 return r.Cut(r.size() - 4);
               },
               StatusCode::kTruncated, "array header of key \"" + kLongKey + "\""});
  c.push_back({"cut_in_array_elements",
               [] {
                 Raw r;
                 r.Header(3, 0, 1).Key(kLongKey, kTArray).U32(kTU32).U64(4).U32(1).U32(2);
                 return r.bytes();
               },
               StatusCode::kTruncated, "declares 4 u32 elements, needing at least 16 bytes"});
  c.push_back(
      {"cut_in_string_array_element",
       [] {
         Raw r;
         r.Header(3, 0, 1).Key(kLongKey, kTArray).U32(kTString).U64(2).Str("one").Str("two");
         return r.Cut(r.size() - 1);
       },
       StatusCode::kTruncated, "string value of key"});

  // --- Tensor info truncations.
  const std::string tname = "tensor.with.a.rather.long.name.for.the.count.check";
  auto tensor_file = [tname] {
    Raw r;
    r.Header(3, 1, 0).Str(tname).U32(2).U64(4).U64(2).U32(kF32).U64(0);
    return r;
  };
  c.push_back({"cut_in_tensor_name", [=] { return tensor_file().Cut(24 + 8 + 30); },
               StatusCode::kTruncated, "name of tensor #0"});
  const std::size_t after_name = 24 + 8 + tname.size();
  c.push_back({"cut_in_n_dims", [=] { return tensor_file().Cut(after_name + 2); },
               StatusCode::kTruncated, "n_dims of tensor \"" + tname + "\""});
  c.push_back({"cut_in_dims", [=] { return tensor_file().Cut(after_name + 4 + 12); },
               StatusCode::kTruncated, "dims of tensor \"" + tname + "\""});
  c.push_back({"cut_in_tensor_type", [=] { return tensor_file().Cut(after_name + 4 + 16 + 1); },
               StatusCode::kTruncated, "type of tensor \"" + tname + "\""});
  c.push_back({"cut_in_offset", [=] { return tensor_file().Cut(after_name + 4 + 16 + 4 + 7); },
               StatusCode::kTruncated, "offset of tensor \"" + tname + "\""});
  c.push_back({"cut_in_padding",
               [] {
                 Raw r;  // tensor info ends at 59; padding up to 64
                 r.Header(3, 1, 0).Tensor("t.w", {4}, kF32, 0).PadTo(32).Zeros(16).PadTo(32);
                 return r.Cut(61);
               },
               StatusCode::kTruncated,
               "tensor \"t.w\" (offset 0, 16 bytes) ends at 80, past file size 61"});
  c.push_back({"cut_in_tensor_data", [] { return OneTensor().Cut(64 + 15); },
               StatusCode::kTruncated, "ends at 80, past file size 79"});
  c.push_back({"cut_in_last_tensor_padding", [] { return OneTensor().Cut(64 + 17); },
               StatusCode::kTruncated,
               "data section ends at 96 after padding the last tensor to the alignment 32, past "
               "file size 81"});

  // --- Absurd counts and lengths: must fail before allocating.
  c.push_back({"absurd_kv_count", [] { return Raw().Header(3, 0, k2p62).Zeros(64).bytes(); },
               StatusCode::kTruncated, "metadata_kv_count 4611686018427387904"});
  c.push_back({"absurd_tensor_count", [] { return Raw().Header(3, k2p62, 0).Zeros(64).bytes(); },
               StatusCode::kTruncated, "tensor_count 4611686018427387904"});
  c.push_back({"absurd_key_length",
               [] { return Raw().Header(3, 0, 1).U64(k2p62).Zeros(64).bytes(); },
               StatusCode::kTruncated, "needs 4611686018427387904 bytes"});
  c.push_back({"absurd_string_value_length",
               [] { return Raw().Header(3, 0, 1).Key("k", kTString).U64(k2p62).bytes(); },
               StatusCode::kTruncated, "string value of key \"k\""});
  c.push_back({"absurd_tensor_name_length",
               [] { return Raw().Header(3, 1, 0).U64(k2p62).Zeros(64).bytes(); },
               StatusCode::kTruncated, "name of tensor #0"});
  for (std::uint32_t t : {kTU8, kTU64, kTString, kTArray}) {
    c.push_back(
        {"absurd_array_count_type_" + std::to_string(t),
         [t] {
           return Raw().Header(3, 0, 1).Key("k", kTArray).U32(t).U64(k2p62).Zeros(64).bytes();
         },
         StatusCode::kTruncated, "declares 4611686018427387904"});
  }
  c.push_back({"absurd_array_count_all_ones",
               [] { return Raw().Header(3, 0, 1).Key("k", kTArray).U32(kTU64).U64(~0ull).bytes(); },
               StatusCode::kTruncated, "declares 18446744073709551615"});
  c.push_back(
      {"array_over_element_limit",
       [] { return Raw().Header(3, 0, 1).Key("k", kTArray).U32(kTU8).U64(5).Zeros(5).bytes(); },
       StatusCode::kOutOfRange, "array in key \"k\" has 5 elements, over the limit of 4",
       ReadLimits{.max_array_elements = 4}});
  c.push_back({"string_over_limit",
               [] { return Raw().Header(3, 0, 1).Key("k", kTString).Str("12345").bytes(); },
               StatusCode::kOutOfRange, "is 5 bytes, over the limit of 4",
               ReadLimits{.max_string_bytes = 4}});

  // --- Tensor shape and type.
  c.push_back(
      {"n_dims_0",
       [] { return Raw().Header(3, 1, 0).Str("t").U32(0).U32(kF32).U64(0).Zeros(32).bytes(); },
       StatusCode::kMalformed, "tensor \"t\" has n_dims 0, expected 1..4"});
  c.push_back({"n_dims_5",
               [] {
                 return OneTensor(0, {4, 1, 1, 1, 1}).bytes();
               },
               StatusCode::kMalformed, "tensor \"t.weight\" has n_dims 5, expected 1..4"});
  c.push_back({"zero_dim",
               [] {
                 return OneTensor(0, {4, 0}).bytes();
               },
               StatusCode::kMalformed, "tensor \"t.weight\" has dims[1] = 0"});
  c.push_back({"dims_overflow",
               [] {
                 return OneTensor(0, {1ull << 32, 1ull << 32}).bytes();
               },
               StatusCode::kMalformed, "element count overflows at dims[1] = 4294967296"});
  c.push_back({"dims_overflow_4d",
               [] {
                 return OneTensor(0, {1ull << 16, 1ull << 16, 1ull << 16, 1ull << 16}).bytes();
               },
               StatusCode::kMalformed, "overflows at dims[3]"});
  c.push_back({"bytes_overflow",
               [] {
                 return OneTensor(0, {1ull << 31, 1ull << 31}).bytes();
               },
               StatusCode::kMalformed, "byte size overflows"});
  c.push_back({"unknown_tensor_type", [] { return OneTensor(0, {4}, 99).bytes(); },
               StatusCode::kUnsupported, "tensor \"t.weight\" has unknown tensor type 99"});
  c.push_back({"removed_tensor_type_4", [] { return OneTensor(0, {4}, 4).bytes(); },
               StatusCode::kUnsupported, "unknown tensor type 4"});
  c.push_back({"row_not_whole_blocks", [] { return OneTensor(0, {16}, kQ8_0).bytes(); },
               StatusCode::kMalformed,
               "row length 16 is not a multiple of the q8_0 block size 32"});

  // --- Tensor placement.
  c.push_back({"tensor_out_of_range", [] { return OneTensor(1ull << 40).bytes(); },
               StatusCode::kTruncated,
               "tensor \"t.weight\" (offset 1099511627776, 16 bytes) ends at 1099511627856, past "
               "file size 96"});
  c.push_back({"tensor_offset_wraps", [] { return OneTensor(~0ull - 31).bytes(); },
               StatusCode::kTruncated, "ends at more than 2^64, past file size 96"});
  c.push_back({"misaligned_offset", [] { return OneTensor(16).bytes(); }, StatusCode::kMalformed,
               "tensor \"t.weight\" offset 16 is not a multiple of the alignment 32"});
  c.push_back({"overlapping_tensors",
               [] {
                 Raw r;
                 r.Header(3, 2, 0).Tensor("a", {16}, kF32, 0).Tensor("b", {4}, kF32, 32);
                 return r.PadTo(32).Zeros(128).bytes();
               },
               StatusCode::kMalformed,
               "tensor \"a\" [0, 64) overlaps tensor \"b\" starting at 32"});
  c.push_back({"same_offset_tensors",
               [] {
                 Raw r;
                 r.Header(3, 2, 0).Tensor("a", {4}, kF16, 0).Tensor("b", {4}, kF16, 0);
                 return r.PadTo(32).Zeros(32).bytes();
               },
               StatusCode::kMalformed, "overlaps tensor"});

  // --- Alignment.
  auto aligned = [](std::uint32_t a) {
    Raw r;
    r.Header(3, 0, 1).Key("general.alignment", kTU32).U32(a);
    return r.bytes();
  };
  c.push_back({"alignment_0", [=] { return aligned(0); }, StatusCode::kMalformed,
               "general.alignment 0 is not a non-zero power of two"});
  c.push_back({"alignment_3", [=] { return aligned(3); }, StatusCode::kMalformed,
               "general.alignment 3 is not a non-zero power of two"});
  c.push_back({"alignment_64_misaligned_offset",
               [] {
                 Raw r;
                 r.Header(3, 1, 1).Key("general.alignment", kTU32).U32(64);
                 r.Tensor("t", {4}, kF32, 32).PadTo(64).Zeros(128);
                 return r.bytes();
               },
               StatusCode::kMalformed, "offset 32 is not a multiple of the alignment 64"});

  // --- Duplicates.
  c.push_back(
      {"duplicate_key",
       [] {
         return Raw().Header(3, 0, 2).Key("dup.key", kTU8).U8(1).Key("dup.key", kTU8).U8(2).bytes();
       },
       StatusCode::kDuplicate, "metadata key \"dup.key\" occurs twice"});
  c.push_back({"duplicate_tensor",
               [] {
                 Raw r;
                 r.Header(3, 2, 0).Tensor("same", {4}, kF32, 0).Tensor("same", {4}, kF32, 32);
                 return r.PadTo(32).Zeros(64).bytes();
               },
               StatusCode::kDuplicate, "tensor name \"same\" occurs twice"});

  // --- Wrong types for well-known keys.
  c.push_back({"alignment_as_u64",
               [] { return Raw().Header(3, 0, 1).Key("general.alignment", kTU64).U64(32).bytes(); },
               StatusCode::kTypeMismatch, "\"general.alignment\" must be u32, found u64"});
  c.push_back(
      {"architecture_as_u32",
       [] { return Raw().Header(3, 0, 1).Key("general.architecture", kTU32).U32(1).bytes(); },
       StatusCode::kTypeMismatch, "\"general.architecture\" must be string, found u32"});
  c.push_back({"tokens_as_i32_array",
               [] {
                 return Raw()
                     .Header(3, 0, 1)
                     .Key("tokenizer.ggml.tokens", kTArray)
                     .U32(kTI32)
                     .U64(1)
                     .U32(7)
                     .bytes();
               },
               StatusCode::kTypeMismatch,
               "\"tokenizer.ggml.tokens\" must be array of string, found array of i32"});
  c.push_back(
      {"bos_as_string",
       [] {
         return Raw().Header(3, 0, 1).Key("tokenizer.ggml.bos_token_id", kTString).Str("1").bytes();
       },
       StatusCode::kTypeMismatch, "\"tokenizer.ggml.bos_token_id\" must be u32"});
  c.push_back({"block_count_as_string",
               [] {
                 Raw r;
                 r.Header(3, 0, 2).Key("llama.block_count", kTString).Str("12");
                 r.Key("general.architecture", kTString).Str("llama");
                 return r.bytes();
               },
               StatusCode::kTypeMismatch,
               "\"llama.block_count\" must be an integer type, found string"});
  c.push_back({"other_arch_keys_unchecked",
               [] {
                 Raw r;
                 r.Header(3, 0, 2).Key("qwen2.block_count", kTString).Str("12");
                 r.Key("general.architecture", kTString).Str("llama");
                 return r.bytes();
               },
               StatusCode::kOk, ""});

  // --- Bad values.
  c.push_back({"unknown_value_type",
               [] { return Raw().Header(3, 0, 1).Key("k", 13).U64(0).bytes(); },
               StatusCode::kMalformed, "key \"k\" has unknown value type 13"});
  c.push_back({"unknown_array_element_type",
               [] { return Raw().Header(3, 0, 1).Key("k", kTArray).U32(200).U64(0).bytes(); },
               StatusCode::kMalformed, "unknown element type 200"});
  c.push_back({"bool_byte_2", [] { return Raw().Header(3, 0, 1).Key("k", kTBool).U8(2).bytes(); },
               StatusCode::kMalformed, "is byte 2, expected 0 or 1"});
  c.push_back(
      {"bool_in_array_byte_255",
       [] {
         return Raw().Header(3, 0, 1).Key("k", kTArray).U32(kTBool).U64(2).U8(1).U8(255).bytes();
       },
       StatusCode::kMalformed, "is byte 255"});
  auto deep = [](int depth) {
    Raw r;
    r.Header(3, 0, 1).Key("deep", kTArray);
    for (int i = 1; i < depth; ++i) r.U32(kTArray).U64(1);
    r.U32(kTU8).U64(0);
    return r.bytes();
  };
  c.push_back({"array_nesting_100", [=] { return deep(100); }, StatusCode::kMalformed,
               "array in key \"deep\" at offset 136 nests 9 deep, over the limit of 8"});
  c.push_back({"array_nesting_8_ok", [=] { return deep(8); }, StatusCode::kOk, ""});
  c.push_back({"array_nesting_hard_cap", [=] { return deep(100); }, StatusCode::kMalformed,
               "over the limit of 64", ReadLimits{.max_array_depth = 1000000}});
  return c;
}

class CorruptTest : public ::testing::TestWithParam<Case> {};

TEST_P(CorruptTest, ExactCodeAndMessage) {
  const Case& c = GetParam();
  std::vector<std::uint8_t> bytes = c.build();
  test_support::ArmAllocProbe();
  Result<File> f = File::Parse(bytes, c.limits);
  const std::size_t largest = test_support::DisarmAllocProbe();
  // Never more than a few kilobytes for these tiny files (vectors of Values included).
  EXPECT_LT(largest, 64u * 1024u) << c.name;
  if (c.code == StatusCode::kOk) {
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_GT(largest, 0u);  // the probe sees the parser's allocations
    return;
  }
  ASSERT_FALSE(f.ok()) << c.name;
  EXPECT_EQ(f.status().code(), c.code) << f.status().ToString();
  EXPECT_NE(f.status().message().find(c.substring), std::string::npos)
      << "message: " << f.status().message() << "\nwanted: " << c.substring;
  EXPECT_EQ(f.status().message().rfind("gguf: ", 0), 0u) << f.status().message();
  EXPECT_EQ(f.status().message().find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Table, CorruptTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return param_info.param.name;
                         });

// A file with every section, written by the Writer.
std::vector<std::uint8_t> RichFile() {
  Writer w;
  w.SetAlignment(64);
  EXPECT_TRUE(w.AddKeyValue("general.architecture", Value::String("llama")).ok());
  EXPECT_TRUE(w.AddKeyValue("tokenizer.ggml.tokens", Value::StringArray({"a", "bc", ""})).ok());
  EXPECT_TRUE(w.AddKeyValue("llama.block_count", Value::U32(1)).ok());
  Array inner{ValueType::kI16, {Value::I16(-1)}};
  Array outer{ValueType::kArray, {Value::MakeArray(inner)}};
  EXPECT_TRUE(w.AddKeyValue("x.nested", Value::MakeArray(outer)).ok());
  EXPECT_TRUE(w.AddKeyValue("x.flag", Value::Bool(true)).ok());
  static const std::vector<std::uint8_t> a(16, 0xAB), b(34, 0xCD);
  EXPECT_TRUE(w.AddTensor("a", {4}, tensor::DType::kF32, a).ok());
  EXPECT_TRUE(w.AddTensor("b", {32}, tensor::DType::kQ8_0, b).ok());
  Result<std::vector<std::uint8_t>> buf = w.WriteToBuffer();
  EXPECT_TRUE(buf.ok());
  return buf.ok() ? *buf : std::vector<std::uint8_t>();
}

// Every proper prefix of a valid file fails as truncated; only the whole file parses. Each
// prefix is copied into its own exactly-sized buffer so the sanitizers see any over-read.
TEST(CorruptTest, EveryTruncationFails) {
  std::vector<std::uint8_t> full = RichFile();
  ASSERT_GT(full.size(), 200u);
  ASSERT_TRUE(File::Parse(full).ok());
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<std::uint8_t> prefix(full.begin(), full.begin() + n);
    Result<File> f = File::Parse(prefix);
    ASSERT_FALSE(f.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(f.status().code(), StatusCode::kTruncated) << n << ": " << f.status().ToString();
  }
}

// Seeded random corruption: any outcome but a crash, and a failure always has a message.
TEST(CorruptTest, RandomByteFlipsNeverCrash) {
  std::vector<std::uint8_t> full = RichFile();
  ASSERT_FALSE(full.empty());
  std::mt19937 rng(20261125);
  int failures = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<std::uint8_t> bytes = full;
    int n_flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n_flips; ++k) {
      std::size_t at = rng() % bytes.size();
      bytes[at] = (rng() % 3 == 0) ? 0xFF : static_cast<std::uint8_t>(rng());
    }
    test_support::ArmAllocProbe();
    Result<File> f = File::Parse(bytes);
    EXPECT_LT(test_support::DisarmAllocProbe(), 64u * 1024u) << "iteration " << iter;
    if (!f.ok()) {
      ++failures;
      EXPECT_FALSE(f.status().message().empty());
    }
  }
  EXPECT_GT(failures, 1000);  // most corruptions are detected
}

}  // namespace
}  // namespace tessera::gguf
