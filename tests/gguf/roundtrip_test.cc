// Writer -> reader round trips: every value type, nested and empty arrays, several tensor types
// and alignments; the writer's own error cases; the atomic WriteFile().
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gguf/keys.h"
#include "gguf/reader.h"
#include "gguf/writer.h"

namespace tessera::gguf {
namespace {

std::vector<std::uint8_t> RandomBytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

// Every value type, with edge values.
std::vector<KeyValue> AllValues() {
  std::vector<KeyValue> kv;
  kv.push_back({"general.architecture", Value::String("llama")});
  kv.push_back(
      {"general.name", Value::String("round trip \xE2\x9C\x93 \xF0\x9F\xA6\x99 \xC3\xA9")});
  kv.push_back({"t.u8", Value::U8(255)});
  kv.push_back({"t.i8", Value::I8(-128)});
  kv.push_back({"t.u16", Value::U16(65535)});
  kv.push_back({"t.i16", Value::I16(-32768)});
  kv.push_back({"t.u32", Value::U32(4294967295u)});
  kv.push_back({"t.i32", Value::I32(std::numeric_limits<std::int32_t>::min())});
  kv.push_back({"t.u64", Value::U64(std::numeric_limits<std::uint64_t>::max())});
  kv.push_back({"t.i64", Value::I64(std::numeric_limits<std::int64_t>::min())});
  kv.push_back({"t.f32", Value::F32(-1.5e-7f)});
  kv.push_back({"t.f64", Value::F64(3.141592653589793)});
  kv.push_back({"t.bool.true", Value::Bool(true)});
  kv.push_back({"t.bool.false", Value::Bool(false)});
  kv.push_back({"t.string.empty", Value::String("")});
  kv.push_back({"t.string.nul", Value::String(std::string("a\0b", 3))});
  kv.push_back(
      {"tokenizer.ggml.tokens", Value::StringArray({"<unk>", "<s>", "\xE2\x96\x81the", ""})});
  kv.push_back({"tokenizer.ggml.scores", Value::F32Array({0.0f, -1.0f, -2.5f, 3.0f})});
  kv.push_back({"tokenizer.ggml.token_type", Value::I32Array({2, 3, 1, 6})});
  kv.push_back({"llama.block_count", Value::U32(2)});
  kv.push_back({"llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5f)});
  for (ValueType t : {ValueType::kU8, ValueType::kString, ValueType::kArray, ValueType::kF64}) {
    Array empty;
    empty.element_type = t;
    kv.push_back({"t.empty." + std::string(ValueTypeName(t)), Value::MakeArray(empty)});
  }
  Array u64s{ValueType::kU64, {Value::U64(0), Value::U64(1ull << 63)}};
  kv.push_back({"t.array.u64", Value::MakeArray(u64s)});
  Array bools{ValueType::kBool, {Value::Bool(true), Value::Bool(false)}};
  kv.push_back({"t.array.bool", Value::MakeArray(bools)});
  // [[1, 2], [], [3]] of i16, and [[["deep"]]].
  Array inner1{ValueType::kI16, {Value::I16(1), Value::I16(2)}};
  Array inner2{ValueType::kI16, {}};
  Array inner3{ValueType::kI16, {Value::I16(3)}};
  Array outer{ValueType::kArray,
              {Value::MakeArray(inner1), Value::MakeArray(inner2), Value::MakeArray(inner3)}};
  kv.push_back({"t.nested", Value::MakeArray(outer)});
  Array d1{ValueType::kString, {Value::String("deep")}};
  Array d2{ValueType::kArray, {Value::MakeArray(d1)}};
  Array d3{ValueType::kArray, {Value::MakeArray(d2)}};
  kv.push_back({"t.nested3", Value::MakeArray(d3)});
  return kv;
}

struct TensorSpec {
  std::string name;
  std::vector<std::uint64_t> dims;
  tensor::DType type;
};

std::vector<TensorSpec> AllTensors() {
  return {
      {"token_embd.weight", {8, 5}, tensor::DType::kF16},      // 80 bytes
      {"output_norm.weight", {7}, tensor::DType::kF32},        // 28 bytes: not aligned
      {"blk.0.attn_q.weight", {64, 3}, tensor::DType::kQ8_0},  // 6 blocks of 34 bytes
      {"blk.0.ffn_up.weight", {32, 2, 2}, tensor::DType::kQ4_0},
      {"blk.0.ffn_down.weight", {256, 1, 1, 2}, tensor::DType::kQ6_K},
      {"x.bf16", {3, 1, 1, 1}, tensor::DType::kBF16},
  };
}

std::uint64_t SizeOf(const TensorSpec& t) {
  std::uint64_t n = 1;
  for (std::uint64_t d : t.dims) n *= d;
  const tensor::TypeTraits& tr = tensor::Traits(t.type);
  return n / tr.block_size * tr.type_size;
}

class RoundTripTest : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(RoundTripTest, EverythingSurvives) {
  const std::uint32_t alignment = GetParam();
  std::vector<KeyValue> kvs = AllValues();
  std::vector<TensorSpec> specs = AllTensors();
  std::vector<std::vector<std::uint8_t>> payloads;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    payloads.push_back(RandomBytes(SizeOf(specs[i]), 1234 + static_cast<std::uint32_t>(i)));
  }

  Writer w;
  w.SetAlignment(alignment);
  for (const KeyValue& kv : kvs) ASSERT_TRUE(w.AddKeyValue(kv.key, kv.value).ok()) << kv.key;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    Status s = w.AddTensor(specs[i].name, specs[i].dims, specs[i].type, payloads[i]);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  Result<std::vector<std::uint8_t>> buf = w.WriteToBuffer();
  ASSERT_TRUE(buf.ok()) << buf.status().ToString();

  Result<File> f = File::Parse(*buf);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), alignment);
  EXPECT_TRUE(f->path().empty());
  // general.alignment is written only when it is not the default.
  const std::size_t extra = alignment == 32 ? 0 : 1;
  ASSERT_EQ(f->metadata().size(), kvs.size() + extra);
  for (std::size_t i = 0; i < kvs.size(); ++i) {
    EXPECT_EQ(f->metadata()[i].key, kvs[i].key);
    EXPECT_TRUE(f->metadata()[i].value == kvs[i].value) << kvs[i].key;
  }
  if (alignment != 32) {
    Result<std::uint32_t> a = f->GetU32(keys::kGeneralAlignment);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(*a, alignment);
    EXPECT_EQ(f->Find(keys::kGeneralAlignment)->type(), ValueType::kU32);
  } else {
    EXPECT_EQ(f->Find(keys::kGeneralAlignment), nullptr);
  }

  // Layout facts llama.cpp relies on.
  EXPECT_EQ(f->data_offset() % alignment, 0u);
  EXPECT_EQ(buf->size() % alignment, 0u);
  ASSERT_EQ(f->tensors().size(), specs.size());
  std::uint64_t expected_offset = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const TensorInfo& t = f->tensors()[i];
    EXPECT_EQ(t.name, specs[i].name);
    EXPECT_EQ(t.dims, specs[i].dims);
    EXPECT_EQ(t.type, specs[i].type);
    EXPECT_EQ(t.offset, expected_offset) << t.name;
    EXPECT_EQ(t.size_bytes, payloads[i].size());
    ASSERT_EQ(t.data.size(), payloads[i].size());
    EXPECT_EQ(std::memcmp(t.data.data(), payloads[i].data(), payloads[i].size()), 0) << t.name;
    // Padding after the tensor is zero.
    std::uint64_t end = f->data_offset() + t.offset + t.size_bytes;
    std::uint64_t padded_end = (end + alignment - 1) / alignment * alignment;
    for (std::uint64_t p = end; p < padded_end; ++p) EXPECT_EQ((*buf)[p], 0) << t.name;
    expected_offset += (t.size_bytes + alignment - 1) / alignment * alignment;
    EXPECT_EQ(f->FindTensor(t.name), &t);
  }
  EXPECT_EQ(f->data_offset() + expected_offset, buf->size());

  // Getters.
  EXPECT_EQ(*f->GetU64("t.u64"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(f->GetI64("t.u64").status().code(), StatusCode::kTypeMismatch);  // does not fit
  EXPECT_EQ(*f->GetI64("t.i64"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(f->GetU64("t.i8").status().code(), StatusCode::kTypeMismatch);  // negative
  EXPECT_EQ(*f->GetU32("t.u16"), 65535u);
  EXPECT_EQ(f->GetU32("t.u64").status().code(), StatusCode::kTypeMismatch);
  EXPECT_EQ(*f->GetI64("t.i8"), -128);
  EXPECT_FLOAT_EQ(*f->GetF32("t.f32"), -1.5e-7f);
  EXPECT_FLOAT_EQ(*f->GetF32("t.f64"), 3.14159265f);
  EXPECT_EQ(f->GetF32("t.u8").status().code(), StatusCode::kTypeMismatch);
  EXPECT_TRUE(*f->GetBool("t.bool.true"));
  EXPECT_FALSE(*f->GetBool("t.bool.false"));
  EXPECT_EQ(f->GetBool("t.u8").status().code(), StatusCode::kTypeMismatch);
  EXPECT_EQ(*f->GetString("t.string.nul"), std::string_view("a\0b", 3));
  EXPECT_EQ(f->GetArray("t.u8").status().code(), StatusCode::kTypeMismatch);
  Result<const Array*> empty = f->GetArray("t.empty.string");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->element_type, ValueType::kString);
  EXPECT_TRUE((*empty)->items.empty());
  Result<const Array*> nested = f->GetArray("t.nested");
  ASSERT_TRUE(nested.ok());
  ASSERT_EQ((*nested)->items.size(), 3u);
  EXPECT_EQ((*nested)->items[0].array().items[1].AsI64(), 2);
  Status mismatch = f->GetString("t.u32").status();
  EXPECT_EQ(mismatch.code(), StatusCode::kTypeMismatch);
  EXPECT_NE(mismatch.message().find("\"t.u32\" is u32, expected string"), std::string::npos)
      << mismatch.message();
  Status missing = f->GetU32("t.none").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("\"t.none\""), std::string::npos);

  // Writing is deterministic.
  Result<std::vector<std::uint8_t>> again = w.WriteToBuffer();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *buf);
}

INSTANTIATE_TEST_SUITE_P(Alignments, RoundTripTest, ::testing::Values(32u, 64u, 1u, 4096u));

TEST(WriterTest, NoTensorsHasNoTrailingPadding) {
  Writer w;
  ASSERT_TRUE(w.AddKeyValue("a", Value::U8(1)).ok());
  Result<std::vector<std::uint8_t>> buf = w.WriteToBuffer();
  ASSERT_TRUE(buf.ok());
  // header 24 + key (8 + 1) + type 4 + value 1
  EXPECT_EQ(buf->size(), 24u + 9u + 4u + 1u);
  Result<File> f = File::Parse(*buf);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->tensors().empty());
}

TEST(WriterTest, RefusesBadInput) {
  std::vector<std::uint8_t> bytes(28);
  Writer w;
  ASSERT_TRUE(w.AddKeyValue("k", Value::U8(1)).ok());
  Status dup = w.AddKeyValue("k", Value::U8(2));
  EXPECT_EQ(dup.code(), StatusCode::kDuplicate);
  EXPECT_NE(dup.message().find("\"k\""), std::string::npos);
  EXPECT_EQ(w.AddKeyValue("", Value::U8(2)).code(), StatusCode::kInvalidArgument);
  Array mixed{ValueType::kU8, {Value::U8(1), Value::I32(2)}};
  EXPECT_EQ(w.AddKeyValue("mixed", Value::MakeArray(mixed)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddKeyValue("general.alignment", Value::U64(64)).code(), StatusCode::kTypeMismatch);

  ASSERT_TRUE(w.AddTensor("t", {7}, tensor::DType::kF32, bytes).ok());
  Status dup_t = w.AddTensor("t", {7}, tensor::DType::kF32, bytes);
  EXPECT_EQ(dup_t.code(), StatusCode::kDuplicate);
  EXPECT_NE(dup_t.message().find("\"t\""), std::string::npos);
  EXPECT_EQ(w.AddTensor("u", {8}, tensor::DType::kF32, bytes).code(),
            StatusCode::kInvalidArgument);  // 28 bytes, needs 32
  EXPECT_EQ(w.AddTensor("u", {}, tensor::DType::kF32, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("u", {1, 1, 1, 1, 7}, tensor::DType::kF32, bytes).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("u", {7, 0}, tensor::DType::kF32, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("u", {16}, tensor::DType::kQ8_0, bytes).code(),
            StatusCode::kInvalidArgument);  // not a whole block
  EXPECT_EQ(w.AddTensor("u", {1ull << 32, 1ull << 32}, tensor::DType::kF32, bytes).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor(std::string(64, 'n'), {7}, tensor::DType::kF32, bytes).code(),
            StatusCode::kInvalidArgument);  // llama.cpp's name limit
  EXPECT_TRUE(w.AddTensor(std::string(63, 'n'), {7}, tensor::DType::kF32, bytes).ok());

  w.SetAlignment(3);
  EXPECT_EQ(w.WriteToBuffer().status().code(), StatusCode::kInvalidArgument);
  w.SetAlignment(0);
  EXPECT_EQ(w.WriteToBuffer().status().code(), StatusCode::kInvalidArgument);
  w.SetAlignment(16);
  EXPECT_TRUE(w.WriteToBuffer().ok());
}

TEST(WriterTest, RefusesWrongTypeForWellKnownKey) {
  Writer w;
  ASSERT_TRUE(w.AddKeyValue("general.architecture", Value::String("qwen2")).ok());
  ASSERT_TRUE(w.AddKeyValue("qwen2.context_length", Value::String("4096")).ok());
  Status s = w.WriteToBuffer().status();
  EXPECT_EQ(s.code(), StatusCode::kTypeMismatch);
  EXPECT_NE(s.message().find("\"qwen2.context_length\" must be an integer type, found string"),
            std::string::npos)
      << s.message();
}

TEST(WriterTest, AlignmentKeyAndSetAlignmentAgree) {
  Writer w;
  ASSERT_TRUE(w.AddKeyValue("general.alignment", Value::U32(64)).ok());
  EXPECT_EQ(w.alignment(), 64u);
  w.SetAlignment(128);  // overrides the value written for the key
  std::vector<std::uint8_t> bytes(4);
  ASSERT_TRUE(w.AddTensor("t", {1}, tensor::DType::kF32, bytes).ok());
  Result<std::vector<std::uint8_t>> buf = w.WriteToBuffer();
  ASSERT_TRUE(buf.ok());
  Result<File> f = File::Parse(*buf);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->alignment(), 128u);
  EXPECT_EQ(f->metadata().size(), 1u);
  EXPECT_EQ(f->data_offset() % 128, 0u);
}

class WriteFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(TESSERA_BINARY_DIR) / "gguf_write_file_test" /
           std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(WriteFileTest, WritesAtomicallyAndOpens) {
  std::vector<std::uint8_t> bytes = RandomBytes(80, 7);
  Writer w;
  ASSERT_TRUE(w.AddKeyValue("general.architecture", Value::String("llama")).ok());
  ASSERT_TRUE(w.AddTensor("t", {8, 5}, tensor::DType::kF16, bytes).ok());
  std::string path = (dir_ / "out.gguf").string();
  // An existing file is replaced whole.
  ASSERT_TRUE(Writer().WriteFile(path).ok());
  Status s = w.WriteFile(path);
  ASSERT_TRUE(s.ok()) << s.ToString();
  Result<File> f = File::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->path(), path);
  ASSERT_EQ(f->tensors().size(), 1u);
  EXPECT_EQ(std::memcmp(f->tensors()[0].data.data(), bytes.data(), bytes.size()), 0);
  Result<std::vector<std::uint8_t>> buf = w.WriteToBuffer();
  ASSERT_TRUE(buf.ok());
  EXPECT_TRUE(std::equal(buf->begin(), buf->end(), f->bytes().begin(), f->bytes().end()));
  // Nothing but the file is left in the folder.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename(), "out.gguf");
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(WriteFileTest, FailureLeavesNothing) {
  Writer w;
  std::string path = (dir_ / "missing-folder" / "out.gguf").string();
  Status s = w.WriteFile(path);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("missing-folder"), std::string::npos) << s.message();
  // Renaming onto a directory fails after the temporary was written: it must be removed.
  std::filesystem::create_directories(dir_ / "is-a-dir" / "child");
  s = w.WriteFile((dir_ / "is-a-dir").string());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename(), "is-a-dir");
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  // A bad alignment fails before any file is created.
  w.SetAlignment(3);
  EXPECT_EQ(w.WriteFile((dir_ / "x.gguf").string()).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.gguf"));
}

}  // namespace
}  // namespace tessera::gguf
