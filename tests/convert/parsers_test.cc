// The converter's own parsers on valid and hostile bytes: safetensors and the protobuf /
// SentencePiece reader. Corrupted inputs must give an error or a value, never a crash or an
// overread (run under ASan by scripts/test --sanitize).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "convert/safetensors.h"
#include "convert/spm_model.h"
#include "hf_fixture.h"

namespace tessera::convert {
namespace {

std::span<const std::uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(SafetensorsTest, ParsesDtypesShapesAndMetadata) {
  testing::TensorMap m;
  m["a"] = {"F32", {2, 3}, {1, 2, 3, 4, 5, 6}};
  m["b"] = {"F16", {4}, {0.5f, 1, 2, 3}};
  m["c"] = {"BF16", {1, 2}, {1, -1}};
  const std::string bytes = testing::SafetensorsBytes(m);
  std::vector<StTensor> tensors;
  std::map<std::string, std::string> meta;
  ASSERT_TRUE(ParseSafetensors(Bytes(bytes), "t", &tensors, &meta).ok());
  ASSERT_EQ(tensors.size(), 3u);
  EXPECT_EQ(meta.at("format"), "pt");
  EXPECT_EQ(tensors[0].name, "a");
  EXPECT_EQ(tensors[0].shape, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(tensors[0].n_rows(), 2u);
  EXPECT_EQ(tensors[0].row_length(), 3u);
  EXPECT_EQ(tensors[1].dtype, tensor::DType::kF16);
  EXPECT_EQ(tensors[1].data.size(), 8u);
  EXPECT_EQ(tensors[2].dtype, tensor::DType::kBF16);
  float f = 0;
  std::memcpy(&f, tensors[0].data.data() + 4 * 5, 4);
  EXPECT_EQ(f, 6.0f);
}

TEST(SafetensorsTest, ShortFilesAreTruncated) {
  std::vector<StTensor> t;
  std::map<std::string, std::string> m;
  EXPECT_EQ(ParseSafetensors(Bytes("abc"), "t", &t, &m).code(), StatusCode::kTruncated);
  std::string header_only(8, '\0');
  header_only[0] = 50;
  EXPECT_EQ(ParseSafetensors(Bytes(header_only + "{}"), "t", &t, &m).code(),
            StatusCode::kTruncated);
}

TEST(SafetensorsTest, CorruptedBytesNeverCrash) {
  testing::TensorMap m;
  m["x"] = {"F32", {4, 4}, std::vector<float>(16, 1.0f)};
  m["y"] = {"F16", {8}, std::vector<float>(8, 2.0f)};
  const std::string good = testing::SafetensorsBytes(m);
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    std::string bad = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      bad[rng() % bad.size()] = static_cast<char>(rng() & 0xff);
    }
    if (rng() % 4 == 0) bad.resize(rng() % bad.size());
    std::vector<StTensor> t;
    std::map<std::string, std::string> meta;
    Status s = ParseSafetensors(Bytes(bad), "fuzz", &t, &meta);
    if (s.ok()) {
      for (const StTensor& x : t) {
        ASSERT_GE(x.data.data(), reinterpret_cast<const std::uint8_t*>(bad.data()));
        ASSERT_LE(x.data.data() + x.data.size(),
                  reinterpret_cast<const std::uint8_t*>(bad.data()) + bad.size());
      }
    }
  }
}

TEST(SpmModelTest, ReadsPiecesTrainerAndNormalizer) {
  const std::string bytes = testing::SpmModelBytes();
  Result<SpmModel> m = ParseSpmModel(Bytes(bytes), "tokenizer.model");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->pieces.size(), static_cast<std::size_t>(testing::kSpmPieces));
  EXPECT_EQ(m->pieces[1].piece, "<s>");
  EXPECT_EQ(m->pieces[1].type, 3);
  EXPECT_EQ(m->pieces[3].piece, "<0x00>");
  EXPECT_EQ(m->pieces[3].type, 6);
  EXPECT_EQ(m->pieces[testing::kSpmHello].piece, "\xe2\x96\x81hello");
  EXPECT_FLOAT_EQ(m->pieces[testing::kSpmHello].score, -5.0f);
  EXPECT_EQ(m->model_type, 2);
  EXPECT_TRUE(m->byte_fallback);
  EXPECT_EQ(m->bos_id, 1);
  EXPECT_EQ(m->eos_id, 2);
  EXPECT_EQ(m->pad_id, -1);  // a 10-byte negative varint
  EXPECT_EQ(m->normalizer_name, "identity");
  EXPECT_TRUE(m->add_dummy_prefix);
  EXPECT_FALSE(m->remove_extra_whitespaces);
}

TEST(SpmModelTest, CorruptedBytesNeverCrash) {
  const std::string good = testing::SpmModelBytes();
  std::mt19937 rng(2);
  int errors = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string bad = good;
    for (int f = 0; f < 3; ++f) bad[rng() % bad.size()] = static_cast<char>(rng() & 0xff);
    if (rng() % 3 == 0) bad.resize(rng() % bad.size());
    Result<SpmModel> m = ParseSpmModel(Bytes(bad), "fuzz");
    errors += m.ok() ? 0 : 1;
  }
  EXPECT_GT(errors, 0);
  Result<SpmModel> group = ParseSpmModel(Bytes(std::string("\x0b", 1)), "g");  // wire type 3
  EXPECT_EQ(group.status().code(), StatusCode::kMalformed);
  Result<SpmModel> varint = ParseSpmModel(Bytes(std::string(11, '\xff')), "v");
  EXPECT_FALSE(varint.ok());
}

}  // namespace
}  // namespace tessera::convert
