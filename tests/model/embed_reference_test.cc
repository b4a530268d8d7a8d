// Hidden states against the naive double-precision reference (naive_llama.h): Forward's
// LogitsMode::kHidden at every position on random models, and Session::Embed (the mean over the
// positions, include/tessera/engine.h) on the shipped test and base models, with and without a
// LoRA adapter, for inputs shorter and longer than the session's prefill batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "model/llama.h"
#include "model/synth.h"
#include "model_test_util.h"
#include "naive_llama.h"
#include "tessera/engine.h"

namespace tessera::model {
namespace {

using testing::NaiveLlama;

// Largest |ours - ref| over a vector, relative to the largest |ref| of the vector.
double RelativeError(std::span<const float> ours, std::span<const double> ref) {
  double max_diff = 0.0, max_ref = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(static_cast<double>(ours[i]) - ref[i]));
    max_ref = std::max(max_ref, std::abs(ref[i]));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

// The reference embedding: the mean of NormedHidden over the positions.
std::vector<double> MeanHidden(const NaiveLlama& naive, std::span<const std::int32_t> ids) {
  const std::vector<std::vector<double>> rows = naive.NormedHidden(ids);
  std::vector<double> mean(static_cast<std::size_t>(naive.n_embd()), 0.0);
  for (const std::vector<double>& row : rows) {
    for (std::size_t j = 0; j < mean.size(); ++j) mean[j] += row[j];
  }
  for (double& v : mean) v /= static_cast<double>(rows.size());
  return mean;
}

// n seeded ids in [3, n_vocab): no BOS/EOS, so that nothing depends on special tokens.
std::vector<std::int32_t> RandomIds(std::size_t n, std::int32_t n_vocab, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int32_t> dist(3, n_vocab - 1);
  std::vector<std::int32_t> ids(n);
  for (std::int32_t& id : ids) id = dist(rng);
  return ids;
}

SynthSpec F32Spec() {
  SynthSpec spec;
  spec.n_vocab = 320;
  spec.n_embd = 64;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 96;
  spec.n_layer = 2;
  spec.n_ctx = 32;
  spec.tied_output = false;
  spec.matrix_type = tensor::DType::kF32;
  spec.output_type = tensor::DType::kF32;
  spec.embd_type = tensor::DType::kF32;
  spec.seed = 17;
  spec.stddev = 0.15f;
  spec.norm_stddev = 0.3f;  // random output_norm gains: a skipped gain shows up
  return spec;
}

// kHidden rows equal the reference's RMSNorm(x) * output_norm at every position, batched in
// chunks of 4 and one token at a time.
TEST(HiddenReferenceTest, ForwardHiddenMatchesNaiveAtEveryPosition) {
  auto file = testing::SynthFile(F32Spec());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto model = LlamaModel::Load(*file);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto naive = NaiveLlama::FromFile(**file);
  ASSERT_TRUE(naive.ok()) << naive.status().ToString();
  const LlamaModel& m = **model;
  const std::size_t d = static_cast<std::size_t>(m.config().n_embd);
  const std::vector<std::int32_t> tokens = {1, 300, 17, 259, 42, 0, 311, 5, 128, 300};
  const std::vector<std::vector<double>> ref = naive->NormedHidden(tokens);

  auto cache = KvCache::Create(m.config(), 16);
  auto scratch = ForwardScratch::Create(m, 4, 16);
  ASSERT_TRUE(cache.ok() && scratch.ok());
  std::vector<float> hidden(tokens.size() * d);
  const std::size_t n_batch = 7;  // two chunks of the scratch's 4 rows
  ASSERT_TRUE(
      Forward(m, *cache, *scratch, std::span(tokens).first(n_batch), 0, LogitsMode::kHidden, hidden)
          .ok());
  for (std::size_t t = n_batch; t < tokens.size(); ++t) {
    ASSERT_TRUE(Forward(m, *cache, *scratch, std::span(tokens).subspan(t, 1),
                        static_cast<std::int32_t>(t), LogitsMode::kHidden,
                        std::span(hidden).subspan(t * d, d))
                    .ok());
  }
  double worst = 0.0;
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    const double err = RelativeError(std::span(hidden).subspan(t * d, d), ref[t]);
    EXPECT_LE(err, 2e-5) << "position " << t;
    worst = std::max(worst, err);
  }
  std::printf("[ measured ] f32 hidden worst relative error %.3g (tolerance 2e-5)\n", worst);
}

TEST(HiddenReferenceTest, HiddenOutputMustHoldEveryRow) {
  auto file = testing::SynthFile(F32Spec());
  ASSERT_TRUE(file.ok());
  auto model = LlamaModel::Load(*file);
  ASSERT_TRUE(model.ok());
  const LlamaModel& m = **model;
  auto cache = KvCache::Create(m.config(), 16);
  auto scratch = ForwardScratch::Create(m, 4, 16);
  ASSERT_TRUE(cache.ok() && scratch.ok());
  const std::vector<std::int32_t> tokens = {1, 2, 3};
  // Room for two rows of n_embd (n_vocab would be more than enough for kLast).
  std::vector<float> out(2 * static_cast<std::size_t>(m.config().n_embd));
  EXPECT_EQ(Forward(m, *cache, *scratch, tokens, 0, LogitsMode::kHidden, out).code(),
            StatusCode::kInvalidArgument);
}

// Session::Embed of real models against the reference mean.
class EmbedReferenceTest : public ::testing::Test {
 protected:
  struct Opened {
    std::unique_ptr<Model> model;
    std::unique_ptr<gguf::File> file;
  };
  static Opened Open(const std::string& path) {
    Opened o;
    ModelOptions options;
    options.n_threads = 1;
    Result<std::unique_ptr<Model>> model = Model::Open(path, options);
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    if (model.ok()) o.model = std::move(model).value();
    Result<gguf::File> file = gguf::File::Open(path);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    if (file.ok()) o.file = std::make_unique<gguf::File>(std::move(file).value());
    return o;
  }

  // Embeds `ids` with `session` and checks it against `naive`; returns the relative error.
  static double Check(Session& session, const NaiveLlama& naive, std::span<const std::int32_t> ids,
                      double tolerance, const char* what) {
    Result<std::vector<float>> e = session.Embed(ids);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (!e.ok()) return 1e9;
    EXPECT_EQ(e->size(), static_cast<std::size_t>(naive.n_embd()));
    const std::vector<double> ref = MeanHidden(naive, ids);
    const double err = RelativeError(*e, ref);
    EXPECT_LE(err, tolerance) << what;
    std::printf("[ measured ] %s: %zu tokens, relative error %.3g (tolerance %.3g)\n", what,
                ids.size(), err, tolerance);
    return err;
  }
};

// F16 matrices: the kernels round the activations to f16 before every product (relative
// 2^-11 ~ 5e-4 per element), and the errors add up over the layers (the logits' reference test
// allows 5e-3 for f16). Measured on these models: at most 1.8e-4 (base, 100 tokens); the limit
// is ~5x that. A wrong pooling (last row, no norm, no gain) is off by order 1.
constexpr double kF16Tolerance = 1e-3;

TEST_F(EmbedReferenceTest, TinyRandomModelShortAndLongerThanTheBatch) {
  Opened o = Open(std::string(TESSERA_TEST_DATA_DIR) + "/llama-2-tiny-random.gguf");
  ASSERT_TRUE(o.model && o.file);
  auto naive = NaiveLlama::FromFile(*o.file);
  ASSERT_TRUE(naive.ok()) << naive.status().ToString();
  auto session = o.model->NewSession();
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(o.model->n_embd(), naive->n_embd());
  const std::vector<std::int32_t> short_ids = RandomIds(20, o.model->n_vocab(), 1);
  const std::vector<std::int32_t> long_ids = RandomIds(150, o.model->n_vocab(), 2);  // 3 chunks
  Check(**session, *naive, short_ids, kF16Tolerance, "tiny-random");
  Check(**session, *naive, long_ids, kF16Tolerance, "tiny-random, 3 batches");
}

TEST_F(EmbedReferenceTest, BaseModelWithAndWithoutAnAdapter) {
  const std::string dir = std::string(TESSERA_SOURCE_DIR) + "/models/";
  Opened o = Open(dir + "base.gguf");
  ASSERT_TRUE(o.model && o.file);
  auto naive = NaiveLlama::FromFile(*o.file);
  ASSERT_TRUE(naive.ok()) << naive.status().ToString();
  Result<std::vector<std::int32_t>> text =
      o.model->Tokenize("date: 5th of March, 2021\n", /*add_bos=*/true, false);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const std::vector<std::int32_t> long_ids = RandomIds(100, o.model->n_vocab(), 3);  // 2 chunks

  auto plain = o.model->NewSession();
  ASSERT_TRUE(plain.ok());
  Check(**plain, *naive, *text, kF16Tolerance, "base");
  Check(**plain, *naive, long_ids, kF16Tolerance, "base, 2 batches");
  Result<std::vector<float>> base_embedding = (*plain)->Embed(*text);
  ASSERT_TRUE(base_embedding.ok());

  Result<std::shared_ptr<const Adapter>> date =
      Adapter::Open(dir + "adapters/date.lora.gguf", *o.model);
  ASSERT_TRUE(date.ok()) << date.status().ToString();
  Result<gguf::File> date_file = gguf::File::Open(dir + "adapters/date.lora.gguf");
  ASSERT_TRUE(date_file.ok());
  auto merged = NaiveLlama::FromFile(*o.file);
  ASSERT_TRUE(merged.ok());
  ASSERT_TRUE(merged->MergeLora(*date_file, 1.0).ok());
  SessionOptions so;
  so.adapters.push_back({*date, 1.0f});
  auto tuned = o.model->NewSession(so);
  ASSERT_TRUE(tuned.ok());
  Check(**tuned, *merged, *text, kF16Tolerance, "base + date adapter");
  Check(**tuned, *merged, long_ids, kF16Tolerance, "base + date adapter, 2 batches");

  // The adapter moves the embedding by far more than the tolerance.
  Result<std::vector<float>> tuned_embedding = (*tuned)->Embed(*text);
  ASSERT_TRUE(tuned_embedding.ok());
  const std::vector<double> base_ref = MeanHidden(*naive, *text);
  const double moved = RelativeError(*tuned_embedding, base_ref);
  std::printf("[ measured ] the date adapter moves the embedding by %.3g (relative)\n", moved);
  EXPECT_GT(moved, 10 * kF16Tolerance);
}

}  // namespace
}  // namespace tessera::model
