// Reads GGUF files written by other tools (tests/data, see PROVENANCE.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gguf/keys.h"
#include "gguf/reader.h"
#include "gguf/writer.h"

namespace tessera::gguf {
namespace {

std::string DataPath(const std::string& name) {
  return std::string(TESSERA_TEST_DATA_DIR) + "/" + name;
}

TEST(RealFileTest, TinyLlamaHeaderAndKeys) {
  Result<File> f = File::Open(DataPath("llama-2-tiny-random.gguf"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->tensors().size(), 12u);
  EXPECT_EQ(f->data_offset() % 32, 0u);
  EXPECT_FALSE(f->path().empty());

  Result<std::string_view> arch = f->GetString(keys::kGeneralArchitecture);
  ASSERT_TRUE(arch.ok()) << arch.status().ToString();
  EXPECT_EQ(*arch, "llama");
  Result<const Array*> tokens = f->GetArray(keys::kTokenizerTokens);
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  EXPECT_EQ((*tokens)->element_type, ValueType::kString);
  EXPECT_EQ((*tokens)->items.size(), 32000u);
  EXPECT_EQ((*tokens)->items[1].string(), "<s>");
  Result<const Array*> scores = f->GetArray(keys::kTokenizerScores);
  ASSERT_TRUE(scores.ok());
  EXPECT_EQ((*scores)->items.size(), 32000u);

  Result<std::uint64_t> n_embd = f->GetU64(keys::ArchKey("llama", keys::kEmbeddingLength));
  ASSERT_TRUE(n_embd.ok()) << n_embd.status().ToString();
  EXPECT_EQ(*n_embd, 8u);
  Result<std::uint32_t> blocks = f->GetU32(keys::ArchKey("llama", keys::kBlockCount));
  ASSERT_TRUE(blocks.ok());
  EXPECT_EQ(*blocks, 1u);
  Result<std::uint32_t> bos = f->GetU32(keys::kTokenizerBosId);
  ASSERT_TRUE(bos.ok());
  EXPECT_EQ(*bos, 1u);
  Result<float> eps = f->GetF32(keys::ArchKey("llama", keys::kLayerNormRmsEpsilon));
  ASSERT_TRUE(eps.ok()) << eps.status().ToString();
  EXPECT_GT(*eps, 0.0f);

  EXPECT_EQ(f->GetString("no.such.key").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(f->GetString(keys::ArchKey("llama", keys::kBlockCount)).status().code(),
            StatusCode::kTypeMismatch);
  EXPECT_EQ(f->GetU32(keys::kGeneralArchitecture).status().code(), StatusCode::kTypeMismatch);

  std::uint64_t prev_end = 0;
  for (const TensorInfo& t : f->tensors()) {
    EXPECT_FALSE(t.dims.empty());
    EXPECT_EQ(t.data.size(), t.size_bytes) << t.name;
    EXPECT_EQ(t.data.data(), f->bytes().data() + f->data_offset() + t.offset) << t.name;
    EXPECT_GE(t.offset, prev_end) << t.name;
    prev_end = t.offset + t.size_bytes;
    EXPECT_EQ(f->FindTensor(t.name), &t);
  }
  const TensorInfo* emb = f->FindTensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dims.size(), 2u);
  EXPECT_EQ(emb->dims[0], 8u);      // innermost: n_embd
  EXPECT_EQ(emb->dims[1], 32000u);  // rows: vocabulary
  EXPECT_EQ(emb->row_length(), 8u);
  EXPECT_EQ(emb->n_rows(), 32000u);
  EXPECT_EQ(emb->n_elements(), 8u * 32000u);
  EXPECT_EQ(f->FindTensor("nope"), nullptr);
}

TEST(RealFileTest, VocabOnlyFile) {
  Result<File> f = File::Open(DataPath("vocab/ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->tensors().empty());
  Result<std::string_view> model = f->GetString(keys::kTokenizerModel);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(*model, "llama");
  Result<const Array*> types = f->GetArray(keys::kTokenizerTokenType);
  ASSERT_TRUE(types.ok());
  EXPECT_EQ((*types)->element_type, ValueType::kI32);
  EXPECT_EQ((*types)->items.size(), 32000u);
  EXPECT_EQ((*types)->items[0].AsI64(), static_cast<std::int64_t>(keys::TokenType::kUnknown));
}

// Parsed metadata and tensor bytes survive a rewrite with Writer.
void ExpectRewriteIdentical(const std::string& name) {
  Result<File> f = File::Open(DataPath(name));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  Writer w;
  Status added = w.AddAllFrom(*f);
  ASSERT_TRUE(added.ok()) << added.ToString();
  Result<std::vector<std::uint8_t>> buf = w.WriteToBuffer();
  ASSERT_TRUE(buf.ok()) << buf.status().ToString();
  Result<File> g = File::Parse(*buf);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(g->alignment(), f->alignment());
  ASSERT_EQ(g->metadata().size(), f->metadata().size());
  for (std::size_t i = 0; i < f->metadata().size(); ++i) {
    EXPECT_EQ(g->metadata()[i].key, f->metadata()[i].key);
    EXPECT_TRUE(g->metadata()[i].value == f->metadata()[i].value) << f->metadata()[i].key;
  }
  ASSERT_EQ(g->tensors().size(), f->tensors().size());
  for (std::size_t i = 0; i < f->tensors().size(); ++i) {
    const TensorInfo& a = f->tensors()[i];
    const TensorInfo& b = g->tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.dims, b.dims);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.offset, b.offset) << a.name;  // both use llama.cpp's contiguous layout
    ASSERT_EQ(a.data.size(), b.data.size());
    EXPECT_TRUE(std::equal(a.data.begin(), a.data.end(), b.data.begin())) << a.name;
  }
  // llama.cpp-written files use the same layout, so the rewrite is byte-identical when the
  // source pads its last tensor as llama.cpp does.
  ASSERT_EQ(f->bytes().size(), buf->size());
  EXPECT_TRUE(std::equal(buf->begin(), buf->end(), f->bytes().begin()));
}

TEST(RealFileTest, TinyLlamaRewriteIsIdentical) {
  ExpectRewriteIdentical("llama-2-tiny-random.gguf");
}

TEST(RealFileTest, VocabRewriteIsIdentical) { ExpectRewriteIdentical("vocab/ggml-vocab-llama-spm.gguf"); }

TEST(RealFileTest, MissingFile) {
  Result<File> f = File::Open(DataPath("does-not-exist.gguf"));
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera::gguf
