// LlamaModel + Forward against the naive double-precision reference (naive_llama.h), at every
// position, on random models of several shapes and every matrix type.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "model/llama.h"
#include "model/synth.h"
#include "model_test_util.h"
#include "naive_llama.h"

namespace tessera::model {
namespace {

using tensor::DType;
using testing::NaiveLlama;

struct Shape {
  const char* name;
  std::int32_t n_embd, n_head, n_head_kv, n_ff, n_layer, n_rot;
  bool tied;
  float rope_base;
  const char* arch = "llama";  // "qwen2": Q/K/V biases and NEOX RoPE; "qwen3": head norms
  std::int32_t head_dim = 0;   // 0: n_embd / n_head
  // gemma3 only: sliding window, its pattern, soft-capping, windowed layers' RoPE base (0: the
  // file states none).
  std::int32_t window = 0, pattern = 0;
  float softcap = 0.0f, rope_base_swa = 0.0f;
};

const Shape kShapes[] = {
    {"mha_untied", 64, 4, 4, 96, 2, 0, false, 10000.0f},
    {"gqa_4_2_tied_rot8", 64, 4, 2, 128, 2, 8, true, 10000.0f},
    {"gqa_6_2_untied_rot10", 96, 6, 2, 160, 1, 10, false, 500.0f},
    {"qwen2_gqa_4_2_tied", 64, 4, 2, 128, 2, 0, true, 1000000.0f, "qwen2"},
    {"qwen2_mha_untied_rot8", 64, 4, 4, 96, 2, 8, false, 10000.0f, "qwen2"},
    // Heads wider than n_embd / n_head, as Qwen3's (16 x 128 on 1024).
    {"qwen3_gqa_4_2_hd32_tied", 64, 4, 2, 128, 2, 0, true, 1000000.0f, "qwen3", 32},
    {"qwen3_mha_hd16_untied_rot8", 64, 4, 4, 96, 2, 8, false, 10000.0f, "qwen3"},
    // Gemma 3: 3 layers with a window of 3 and pattern 2 (layers 0 and 2 windowed), so the
    // 10-token test crosses the window in a batch, across chunks and one token at a time.
    {"gemma3_gqa_4_1_hd32_swa3", 64, 4, 1, 128, 3, 0, true, 1000000.0f, "gemma3", 32, 3, 2},
    // Pattern 3 (layer 2 global), soft-capped logits, windowed layers with base 100.
    {"gemma3_mha_untied_swa4_cap", 64, 4, 4, 96, 3, 0, false, 10000.0f, "gemma3", 0, 4, 3, 3.0f,
     100.0f},
};

// Largest |ours - ref| over a row, relative to the largest |ref| of the row.
//
// Tolerances per matrix type, on that relative error. The reference sees the weights exactly as
// stored, so the differences come only from how the kernels convert the activations before each
// dot product (llama.cpp's "vec dot type") and from float vs double summation:
//   f32   activations stay f32; only float rounding and summation order (~1e-6).
//   f16   activations rounded to f16 (relative 2^-11 ~ 5e-4 per element) before every product.
//   bf16  activations rounded to bf16 (relative 2^-8 ~ 4e-3 per element).
//   q8_0  activations quantized to q8_0 (per 32-block, step amax/127: up to ~0.4% of the
//         block's largest element per element).
//   q4_0  same activation quantization as q8_0 (q4_0 dots against q8_0 activations).
// Errors add up over 2 layers and the output matrix. Measured worst cases over these shapes:
// f32 5e-7, f16 1.4e-3, bf16 1.2e-2, q8_0 4.4e-2, q4_0 4.5e-2; the limits are ~3-5x those.
// A wrong formula (RoPE pairing, head mapping, mask, norm) gives errors of order 1 and is caught
// by the f32 cases at 2e-5; the quantized cases check binding and dispatch of those types.
double ToleranceFor(DType t) {
  switch (t) {
    case DType::kF32:
      return 2e-5;
    case DType::kF16:
      return 5e-3;
    case DType::kBF16:
      return 4e-2;
    case DType::kQ8_0:
      return 0.12;
    case DType::kQ4_0:
      return 0.12;
    default:
      return 0.0;
  }
}

double RelativeError(std::span<const float> ours, const std::vector<double>& ref) {
  double max_diff = 0.0, max_ref = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(static_cast<double>(ours[i]) - ref[i]));
    max_ref = std::max(max_ref, std::abs(ref[i]));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

SynthSpec SpecFor(const Shape& s, DType matrix, DType output, DType embd, std::uint64_t seed) {
  SynthSpec spec;
  spec.n_vocab = 320;
  spec.n_embd = s.n_embd;
  spec.n_head = s.n_head;
  spec.n_head_kv = s.n_head_kv;
  spec.n_ff = s.n_ff;
  spec.n_layer = s.n_layer;
  spec.n_rot = s.n_rot;
  spec.n_ctx = 32;
  spec.tied_output = s.tied;
  spec.rope_freq_base = s.rope_base;
  spec.matrix_type = matrix;
  spec.output_type = output;
  spec.embd_type = embd;
  spec.seed = seed;
  // Large enough that attention is far from uniform and the residual stream moves, so a wrong
  // head mapping, RoPE or mask shows up well above the tolerances.
  spec.stddev = 0.15f;
  spec.norm_stddev = 0.3f;  // random gains: a swapped or unapplied norm vector shows up
  spec.architecture = s.arch;
  spec.head_dim = s.head_dim;
  spec.bias_stddev = 0.3f;  // qwen2: a missing or misplaced bias shows up
  spec.sliding_window = s.window;
  spec.sliding_window_pattern = s.pattern;
  spec.final_logit_softcap = s.softcap;
  spec.rope_freq_base_swa = s.rope_base_swa;
  return spec;
}

// Runs 10 tokens through Forward (6 as a batch with kAll and max_batch 4, so in two chunks,
// then 4 one at a time with kLast) and checks every position against the reference. Returns the
// worst relative error.
double CheckFileAgainstReference(const Result<std::shared_ptr<const gguf::File>>& file,
                                 double tolerance);

double CheckAgainstReference(const SynthSpec& spec, double tolerance) {
  return CheckFileAgainstReference(testing::SynthFile(spec), tolerance);
}

double CheckFileAgainstReference(const Result<std::shared_ptr<const gguf::File>>& file,
                                 double tolerance) {
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return 1e9;
  auto model = LlamaModel::Load(*file);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return 1e9;
  auto naive = NaiveLlama::FromFile(**file);
  EXPECT_TRUE(naive.ok()) << naive.status().ToString();
  if (!naive.ok()) return 1e9;

  const LlamaModel& m = **model;
  const std::int32_t n_vocab = m.config().n_vocab;
  const std::vector<std::int32_t> tokens = {1, 300, 17, 259, 42, 0, 311, 5, 128, 300};
  auto cache = KvCache::Create(m.config(), 16);
  auto scratch = ForwardScratch::Create(m, 4, 16);
  EXPECT_TRUE(cache.ok() && scratch.ok());
  if (!cache.ok() || !scratch.ok()) return 1e9;

  std::vector<float> logits(tokens.size() * n_vocab);
  const std::size_t n_batch = 6;
  Status st =
      Forward(m, *cache, *scratch, std::span(tokens).first(n_batch), 0, LogitsMode::kAll, logits);
  EXPECT_TRUE(st.ok()) << st.ToString();
  for (std::size_t t = n_batch; t < tokens.size(); ++t) {
    st = Forward(m, *cache, *scratch, std::span(tokens).subspan(t, 1), static_cast<std::int32_t>(t),
                 LogitsMode::kLast, std::span(logits).subspan(t * n_vocab, n_vocab));
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  double worst = 0.0;
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    const std::vector<double> ref = naive->LastLogits(std::span(tokens).first(t + 1));
    const double err = RelativeError(std::span(logits).subspan(t * n_vocab, n_vocab), ref);
    EXPECT_LE(err, tolerance) << "position " << t;
    worst = std::max(worst, err);
  }
  return worst;
}

struct Case {
  Shape shape;
  DType type;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.shape.name << "/" << tensor::TypeName(c.type);
}

class LlamaReferenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(LlamaReferenceTest, LogitsMatchNaiveReferenceAtEveryPosition) {
  const Case& c = GetParam();
  const double tol = ToleranceFor(c.type);
  const double worst = CheckAgainstReference(SpecFor(c.shape, c.type, c.type, c.type, 7), tol);
  std::printf("[ measured ] %s %s worst relative error %.3g (tolerance %.3g)\n", c.shape.name,
              std::string(tensor::TypeName(c.type)).c_str(), worst, tol);
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const Shape& s : kShapes) {
    for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0}) {
      cases.push_back({s, t});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(ShapesAndTypes, LlamaReferenceTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return std::string(param_info.param.shape.name) + "_" +
                                  std::string(tensor::TypeName(param_info.param.type));
                         });

// Q4_0 matrices, a Q8_0 output, an F16 embedding and F32 norms in one file.
TEST(LlamaReferenceMixedTest, MixedTypesInOneFile) {
  const double worst = CheckAgainstReference(
      SpecFor(kShapes[2], DType::kQ4_0, DType::kQ8_0, DType::kF16, 11), ToleranceFor(DType::kQ4_0));
  std::printf("[ measured ] mixed q4_0/q8_0/f16 worst relative error %.3g\n", worst);
}

// Linear RoPE scaling (rope.scaling.factor 4): positions are divided by 4 (gemma3: in the global
// layers only).
TEST(LlamaReferenceMixedTest, LinearRopeScaling) {
  for (const Shape& s : {kShapes[1], kShapes[8]}) {
    const SynthSpec spec = SpecFor(s, DType::kF32, DType::kF32, DType::kF32, 13);
    auto file = testing::SynthFile(spec);
    ASSERT_TRUE(file.ok());
    const std::string key = spec.architecture + ".rope.scaling.factor";
    auto scaled = testing::Rewrite(**file, nullptr, nullptr, {{key, gguf::Value::F32(4.0f)}});
    const double worst = CheckFileAgainstReference(scaled, ToleranceFor(DType::kF32));
    std::printf("[ measured ] %s, linear RoPE scaling 4: worst relative error %.3g\n", s.name,
                worst);
  }
}

// The same logits whether tokens arrive as one batch, in chunks, or one at a time.
TEST(LlamaForwardTest, BatchedAndIncrementalAgree) {
  const SynthSpec spec = SpecFor(kShapes[1], DType::kQ8_0, DType::kQ8_0, DType::kQ8_0, 3);
  auto file = testing::SynthFile(spec);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto model = LlamaModel::Load(*file);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const LlamaModel& m = **model;
  const std::int32_t nv = m.config().n_vocab;
  const std::vector<std::int32_t> tokens = {1, 2, 3, 300, 44, 55, 66, 77, 88};
  const std::size_t n = tokens.size();

  auto cache_a = KvCache::Create(m.config(), 32);
  auto scratch_a = ForwardScratch::Create(m, 16, 32);
  ASSERT_TRUE(cache_a.ok() && scratch_a.ok());
  std::vector<float> all(n * nv);
  ASSERT_TRUE(Forward(m, *cache_a, *scratch_a, tokens, 0, LogitsMode::kAll, all).ok());

  auto cache_b = KvCache::Create(m.config(), 32);
  auto scratch_b = ForwardScratch::Create(m, 1, 32);
  ASSERT_TRUE(cache_b.ok() && scratch_b.ok());
  std::vector<float> last(nv);
  for (std::size_t t = 0; t < n; ++t) {
    ASSERT_TRUE(Forward(m, *cache_b, *scratch_b, std::span(tokens).subspan(t, 1),
                        static_cast<std::int32_t>(t), LogitsMode::kLast, last)
                    .ok());
    for (std::int32_t i = 0; i < nv; ++i) {
      ASSERT_NEAR(last[i], all[t * nv + i], 1e-5f) << "token " << t << " logit " << i;
    }
  }
  // kLast over a batch longer than max_batch equals the last row of kAll.
  auto cache_c = KvCache::Create(m.config(), 32);
  auto scratch_c = ForwardScratch::Create(m, 4, 32);
  ASSERT_TRUE(cache_c.ok() && scratch_c.ok());
  ASSERT_TRUE(Forward(m, *cache_c, *scratch_c, tokens, 0, LogitsMode::kLast, last).ok());
  for (std::int32_t i = 0; i < nv; ++i) ASSERT_NEAR(last[i], all[(n - 1) * nv + i], 1e-5f);
}

}  // namespace
}  // namespace tessera::model
