// Tests of ModelOptions::pack_weights (include/tessera/engine.h, ADR 0023) on a Q4_0 model: the
// copies cover exactly the matrices a forward pass multiplies, the file's pages they replace are
// released, off means no copy, and the packed model gives the unpacked model's distribution and
// greedy text, with prefill and decode agreeing bit for bit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "tessera/engine.h"
#include "test_model.h"

namespace tessera::engine_test {
namespace {

model::SynthSpec Q4_0Spec() {
  model::SynthSpec spec = TestSpec();
  spec.matrix_type = tensor::DType::kQ4_0;  // blk.N.* matrices; token_embd and output F32
  spec.n_embd = 128;
  spec.n_ff = 1056;  // gate and up: 1056 rows, more than one packing chunk of 512 and a rest
  return spec;
}

std::unique_ptr<Model> OpenModel(const std::string& path, bool pack) {
  ModelOptions options;
  options.n_threads = 1;
  options.pack_weights = pack;
  Result<std::unique_ptr<Model>> m = Model::Open(path, options);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

class PackedWeightsTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = WriteTestModel("packed", Q4_0Spec()); }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(PackedWeightsTest, CopiesEveryMultipliedQ4_0MatrixAndReleasesItsPages) {
  std::unique_ptr<Model> packed = OpenModel(path_, true);
  std::unique_ptr<Model> plain = OpenModel(path_, false);
  ASSERT_TRUE(packed && plain);
  EXPECT_EQ(plain->packed_bytes(), 0u);
  EXPECT_EQ(plain->released_file_bytes(), 0u);
  if (packed->packed_bytes() == 0) {
    GTEST_SKIP() << "the active kernels have no packed Q4_0 kernel (AVX-512 VNNI or no x86)";
  }
  // Every Q4_0 tensor of this file is a blk.N matrix with a multiple of 8 rows.
  Result<gguf::File> file = gguf::File::Open(path_);
  ASSERT_TRUE(file.ok());
  std::uint64_t q4_bytes = 0;
  for (const gguf::TensorInfo& t : file->tensors()) {
    if (t.type == tensor::DType::kQ4_0) q4_bytes += t.data.size();
  }
  ASSERT_GT(q4_bytes, 0u);
  EXPECT_EQ(packed->packed_bytes(), q4_bytes);
  // Every whole page inside the packed tensors, chunk after chunk: at most the two partial
  // pages at the ends of each of the 14 matrices are kept.
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_GE(packed->released_file_bytes(), q4_bytes - 14 * 2 * page);
  EXPECT_LE(packed->released_file_bytes(), q4_bytes);
}

// The packed model of `path` against the same file used in place.
void ExpectSameAsFileLayout(const std::string& path) {
  std::unique_ptr<Model> packed = OpenModel(path, true);
  std::unique_ptr<Model> plain = OpenModel(path, false);
  ASSERT_TRUE(packed && plain);
  EXPECT_GT(packed->packed_bytes(), 0u);
  const std::vector<std::int32_t> prompt = {1, 300, 301, 302, 17, 44, 45};
  GenerateOptions options;
  options.max_tokens = 24;
  options.top_n = 5;
  auto a = NewSession(*packed);
  auto b = NewSession(*plain);
  Result<GenerateResult> ga = a->Generate(prompt, options);
  Result<GenerateResult> gb = b->Generate(prompt, options);
  ASSERT_TRUE(ga.ok() && gb.ok());
  ASSERT_EQ(ga->tokens.size(), gb->tokens.size());
  for (std::size_t i = 0; i < ga->tokens.size(); ++i) {
    ASSERT_EQ(ga->tokens[i].id, gb->tokens[i].id) << "token " << i;
    // The packed kernels round like the scalar reference, the file-layout AVX2 kernels sum in
    // 8 float lanes: the two differ by float rounding only.
    EXPECT_NEAR(ga->tokens[i].logprob, gb->tokens[i].logprob, 1e-4) << "token " << i;
  }
  // Teacher forcing the generated text (one batch) gives decode's log-probabilities exactly:
  // a packed product does not depend on how many tokens it is given.
  auto scorer = NewSession(*packed);
  std::vector<std::int32_t> continuation;
  for (const GeneratedToken& t : ga->tokens) continuation.push_back(t.id);
  Result<ScoreResult> s = scorer->Score(prompt, continuation, options.top_n);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->tokens.size(), continuation.size());
  for (std::size_t i = 0; i < continuation.size(); ++i) {
    EXPECT_EQ(s->tokens[i].logprob, ga->tokens[i].logprob) << "token " << i;
  }
}

TEST_F(PackedWeightsTest, SameDistributionAndGreedyTextAsTheFileLayout) {
  if (OpenModel(path_, true)->packed_bytes() == 0) GTEST_SKIP() << "no packed Q4_0 kernel";
  ExpectSameAsFileLayout(path_);
}

// A Q8_0 embedding tied to the output: the output is packed and the lookups read the copy.
TEST(PackedWeightsTiedTest, TiedEmbeddingLooksUpRowsInTheCopy) {
  model::SynthSpec spec = Q4_0Spec();
  spec.tied_output = true;
  spec.embd_type = tensor::DType::kQ8_0;
  const std::string path = WriteTestModel("packed_tied", spec);
  if (OpenModel(path, true)->packed_bytes() == 0) GTEST_SKIP() << "no packed kernels";
  ExpectSameAsFileLayout(path);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace tessera::engine_test
