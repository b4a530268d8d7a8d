// Tests of LoRA adapters (tessera::Adapter, SessionOptions::adapters): a base + adapter session
// reproduces the merged model W + s B A (prefill batches and single-token decode), leaves the
// base unchanged, and every malformed or mismatched adapter is refused with its code.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "lora_fixture.h"
#include "tessera/engine.h"
#include "test_model.h"

namespace tessera::engine_test {
namespace {

using lora_test::AdapterFile;
using lora_test::Factors;

// Log-probabilities agree within this between base + adapter and the merged model (F32 factors:
// the two compute the same sums in a different order).
constexpr float kTol = 2e-4f;

const std::vector<std::string> kTargets = {"blk.0.attn_q.weight",      "blk.1.attn_v.weight",
                                           "blk.0.ffn_down.weight",    "blk.1.attn_k.weight",
                                           "blk.0.attn_output.weight", "blk.1.ffn_gate.weight",
                                           "blk.1.ffn_up.weight",      "output.weight"};

class LoraTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    base_path_ = new std::string(WriteTestModel("lora_base"));
    model_ = OpenModel(*base_path_).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    std::remove(base_path_->c_str());
    delete base_path_;
  }
  void TearDown() override {
    for (const std::string& p : written_) std::remove(p.c_str());
  }

  std::vector<Factors> MakeFactors(std::uint64_t seed, std::int64_t rank = 4, bool f16 = false,
                                   const std::vector<std::string>& targets = kTargets) {
    Result<gguf::File> base = gguf::File::Open(*base_path_);
    EXPECT_TRUE(base.ok()) << base.status().ToString();
    if (!base.ok()) return {};
    Result<std::vector<Factors>> f = lora_test::MakeFactors(*base, targets, rank, seed, 0.1f, f16);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::move(f).value() : std::vector<Factors>{};
  }
  std::string Write(const AdapterFile& f, const std::string& name) {
    const std::string path = TempPath(name);
    const Status st = lora_test::WriteAdapter(f, path);
    EXPECT_TRUE(st.ok()) << st.ToString();
    written_.push_back(path);
    return path;
  }
  std::string WriteMerged(const std::vector<Factors>& f, float alpha, float scale,
                          const std::string& name) {
    const std::string path = TempPath(name);
    const Status st = lora_test::WriteMergedModel(*base_path_, f, alpha, scale, path);
    EXPECT_TRUE(st.ok()) << st.ToString();
    written_.push_back(path);
    return path;
  }
  std::shared_ptr<const Adapter> OpenAdapter(const std::string& path, const Model& base) {
    Result<std::shared_ptr<const Adapter>> a = Adapter::Open(path, base);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : nullptr;
  }
  std::unique_ptr<Session> NewSessionWith(const Model& model,
                                          std::shared_ptr<const Adapter> adapter,
                                          float scale = 1.0f) {
    SessionOptions so;
    so.adapters.push_back(AdapterUse{std::move(adapter), scale});
    Result<std::unique_ptr<Session>> s = model.NewSession(so);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // Opens `path` as an adapter of the shared model and expects `code` and every fragment.
  void ExpectRefused(const std::string& path, StatusCode code,
                     const std::vector<std::string>& fragments) {
    Result<std::shared_ptr<const Adapter>> a = Adapter::Open(path, *model_);
    ASSERT_FALSE(a.ok()) << path;
    EXPECT_EQ(a.status().code(), code) << a.status().ToString();
    for (const std::string& f : fragments) {
      EXPECT_NE(a.status().message().find(f), std::string::npos)
          << "\"" << f << "\" not in: " << a.status().message();
    }
  }

  static std::string* base_path_;
  static Model* model_;
  std::vector<std::string> written_;
};
std::string* LoraTest::base_path_ = nullptr;
Model* LoraTest::model_ = nullptr;

// 70 prompt tokens: more than one prefill chunk (64) and one Score chunk.
std::vector<std::int32_t> LongPrompt() {
  std::vector<std::int32_t> p = {1};
  for (std::int32_t i = 0; i < 69; ++i) p.push_back(260 + (i * 37) % 250);
  return p;
}

GenerateOptions Greedy(std::int32_t n, std::int32_t top_n = 20) {
  GenerateOptions o;
  o.max_tokens = n;
  o.top_n = top_n;
  return o;
}

// Same ids; log-probabilities of each token and of its alternatives within `tol`.
void ExpectSameGeneration(const GenerateResult& got, const GenerateResult& want, float tol) {
  ASSERT_EQ(Ids(got), Ids(want));
  for (std::size_t i = 0; i < got.tokens.size(); ++i) {
    EXPECT_NEAR(got.tokens[i].logprob, want.tokens[i].logprob, tol) << "token " << i;
    const auto ga = got.Alternatives(i);
    const auto wa = want.Alternatives(i);
    ASSERT_EQ(ga.size(), wa.size());
    for (std::size_t k = 0; k < ga.size(); ++k) {
      EXPECT_NEAR(ga[k].logprob, wa[k].logprob, tol) << "token " << i << " alternative " << k;
    }
  }
}

void ExpectSameScore(const ScoreResult& got, const ScoreResult& want, float tol) {
  ASSERT_EQ(got.tokens.size(), want.tokens.size());
  for (std::size_t i = 0; i < got.tokens.size(); ++i) {
    EXPECT_NEAR(got.tokens[i].logprob, want.tokens[i].logprob, tol) << "token " << i;
    const auto ga = got.Alternatives(i);
    const auto wa = want.Alternatives(i);
    ASSERT_EQ(ga.size(), wa.size());
    for (std::size_t k = 0; k < ga.size(); ++k) {
      EXPECT_NEAR(ga[k].logprob, wa[k].logprob, tol) << "token " << i << " alternative " << k;
    }
  }
}

// Bit-for-bit equal generations.
void ExpectIdentical(const GenerateResult& a, const GenerateResult& b) {
  ASSERT_EQ(Ids(a), Ids(b));
  for (std::size_t i = 0; i < a.tokens.size(); ++i) {
    EXPECT_EQ(a.tokens[i].logprob, b.tokens[i].logprob) << "token " << i;
  }
}

TEST_F(LoraTest, AdapterReportsItsFacts) {
  const std::vector<Factors> f = MakeFactors(11, 4);
  const std::string path = Write(lora_test::MakeAdapter(f, 8.0f), "facts");
  auto a = OpenAdapter(path, *model_);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->path(), path);
  EXPECT_EQ(a->sha256().size(), 64u);
  EXPECT_TRUE(a->base_sha256().empty());
  EXPECT_EQ(a->alpha(), 8.0f);
  EXPECT_EQ(a->rank(), 4);
  EXPECT_EQ(a->n_matrices(), static_cast<std::int32_t>(kTargets.size()));
  std::int64_t params = 0;
  for (const Factors& x : f) params += x.rank * (x.n_in + x.n_out);
  EXPECT_EQ(a->n_params(), params);
  EXPECT_NE(a->description().find("rank 4"), std::string::npos) << a->description();
  auto s = NewSessionWith(*model_, a, 0.5f);
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->adapters().size(), 1u);
  EXPECT_EQ(s->adapters()[0].adapter, a);
  EXPECT_EQ(s->adapters()[0].scale, 0.5f);
  EXPECT_TRUE(NewSession(*model_)->adapters().empty());
}

TEST_F(LoraTest, MatchesMergedModelInPrefillAndDecode) {
  const std::vector<Factors> f = MakeFactors(12, 4);
  const std::string adapter_path = Write(lora_test::MakeAdapter(f, 8.0f), "merged_a");
  auto merged = OpenModel(WriteMerged(f, 8.0f, 1.0f, "merged_m"));
  ASSERT_NE(merged, nullptr);
  auto tuned = NewSessionWith(*model_, OpenAdapter(adapter_path, *model_));
  ASSERT_NE(tuned, nullptr);
  auto reference = NewSession(*merged);
  auto plain = NewSession(*model_);

  const std::vector<std::int32_t> prompt = LongPrompt();
  Result<GenerateResult> got = tuned->Generate(prompt, Greedy(24));
  Result<GenerateResult> want = reference->Generate(prompt, Greedy(24));
  Result<GenerateResult> base = plain->Generate(prompt, Greedy(24));
  ASSERT_TRUE(got.ok() && want.ok() && base.ok());
  ExpectSameGeneration(*got, *want, kTol);
  // The adapter matters: the base distribution is clearly different.
  float max_diff = 0.0f;
  for (std::size_t i = 0; i < std::min(got->tokens.size(), base->tokens.size()); ++i) {
    max_diff = std::max(max_diff, std::fabs(got->tokens[i].logprob - base->tokens[i].logprob));
  }
  EXPECT_TRUE(max_diff > 0.05f || Ids(*got) != Ids(*base)) << max_diff;

  // A second turn continues with single-token decode and a short prefill.
  const std::vector<std::int32_t> turn = {300, 301, 302};
  Result<GenerateResult> got2 = tuned->Generate(turn, Greedy(8));
  Result<GenerateResult> want2 = reference->Generate(turn, Greedy(8));
  ASSERT_TRUE(got2.ok() && want2.ok());
  ExpectSameGeneration(*got2, *want2, kTol);

  // Teacher forcing: batched kAll logits over more than one chunk.
  std::vector<std::int32_t> continuation = Ids(*want);
  for (std::int32_t i = 0; i < 60; ++i) continuation.push_back(270 + (i * 53) % 230);
  Result<ScoreResult> sg = tuned->Score(prompt, continuation, 50);
  Result<ScoreResult> sw = reference->Score(prompt, continuation, 50);
  ASSERT_TRUE(sg.ok() && sw.ok());
  ExpectSameScore(*sg, *sw, kTol);
  EXPECT_NEAR(sg->sum_logprob, sw->sum_logprob, 1e-2);
}

TEST_F(LoraTest, BaseSessionsAreUnchanged) {
  // A fresh model, never used with an adapter, is the reference.
  auto fresh = OpenModel(*base_path_);
  ASSERT_NE(fresh, nullptr);
  const std::vector<Factors> f = MakeFactors(13, 8);
  auto adapter = OpenAdapter(Write(lora_test::MakeAdapter(f, 16.0f), "unchanged"), *model_);
  auto tuned = NewSessionWith(*model_, adapter);
  const std::vector<std::int32_t> prompt = LongPrompt();
  ASSERT_TRUE(tuned->Generate(prompt, Greedy(4)).ok());

  Result<GenerateResult> plain = NewSession(*model_)->Generate(prompt, Greedy(16));
  Result<std::unique_ptr<Session>> empty_options = model_->NewSession(SessionOptions{});
  ASSERT_TRUE(empty_options.ok());
  Result<GenerateResult> plain2 = (*empty_options)->Generate(prompt, Greedy(16));
  Result<GenerateResult> reference = NewSession(*fresh)->Generate(prompt, Greedy(16));
  ASSERT_TRUE(plain.ok() && plain2.ok() && reference.ok());
  ExpectIdentical(*plain, *reference);
  ExpectIdentical(*plain2, *reference);
}

TEST_F(LoraTest, ScaleZeroIsTheBaseBitForBit) {
  auto adapter = OpenAdapter(Write(lora_test::MakeAdapter(MakeFactors(14), 8.0f), "zero"), *model_);
  const std::vector<std::int32_t> prompt = LongPrompt();
  Result<GenerateResult> zero =
      NewSessionWith(*model_, adapter, 0.0f)->Generate(prompt, Greedy(16));
  Result<GenerateResult> base = NewSession(*model_)->Generate(prompt, Greedy(16));
  ASSERT_TRUE(zero.ok() && base.ok());
  ExpectIdentical(*zero, *base);
}

TEST_F(LoraTest, ScaleRuleFollowsLlamaCpp) {
  const std::vector<Factors> f = MakeFactors(15, 4);
  const std::vector<std::int32_t> prompt = LongPrompt();
  // s = user_scale * alpha / r with alpha; s = user_scale when alpha is 0.
  for (const auto& [alpha, scale] :
       std::vector<std::pair<float, float>>{{16.0f, 0.5f}, {0.0f, 0.75f}, {4.0f, -1.0f}}) {
    SCOPED_TRACE("alpha " + std::to_string(alpha) + " scale " + std::to_string(scale));
    auto adapter = OpenAdapter(Write(lora_test::MakeAdapter(f, alpha), "rule"), *model_);
    auto merged = OpenModel(WriteMerged(f, alpha, scale, "rule_m"));
    ASSERT_NE(merged, nullptr);
    Result<GenerateResult> got =
        NewSessionWith(*model_, adapter, scale)->Generate(prompt, Greedy(12));
    Result<GenerateResult> want = NewSession(*merged)->Generate(prompt, Greedy(12));
    ASSERT_TRUE(got.ok() && want.ok());
    ExpectSameGeneration(*got, *want, kTol);
  }
}

TEST_F(LoraTest, AlphaAbsentMeansUserScaleOnly) {
  const std::vector<Factors> f = MakeFactors(16, 4);
  AdapterFile file = lora_test::MakeAdapter(f, 8.0f);
  file.Erase("adapter.lora.alpha");
  auto adapter = OpenAdapter(Write(file, "no_alpha"), *model_);
  ASSERT_NE(adapter, nullptr);
  EXPECT_EQ(adapter->alpha(), 0.0f);
  auto merged = OpenModel(WriteMerged(f, 0.0f, 1.0f, "no_alpha_m"));
  const std::vector<std::int32_t> prompt = LongPrompt();
  Result<GenerateResult> got = NewSessionWith(*model_, adapter)->Generate(prompt, Greedy(12));
  Result<GenerateResult> want = NewSession(*merged)->Generate(prompt, Greedy(12));
  ASSERT_TRUE(got.ok() && want.ok());
  ExpectSameGeneration(*got, *want, kTol);
}

TEST_F(LoraTest, TwoSessionsWithDifferentAdaptersRunIndependently) {
  const std::vector<Factors> fx = MakeFactors(17, 4);
  const std::vector<Factors> fy =
      MakeFactors(18, 2, false, {"blk.0.attn_v.weight", "blk.1.ffn_down.weight"});
  auto ax = OpenAdapter(Write(lora_test::MakeAdapter(fx, 8.0f), "two_x"), *model_);
  auto ay = OpenAdapter(Write(lora_test::MakeAdapter(fy, 2.0f), "two_y"), *model_);
  auto mx = OpenModel(WriteMerged(fx, 8.0f, 1.0f, "two_mx"));
  auto my = OpenModel(WriteMerged(fy, 2.0f, 1.0f, "two_my"));
  ASSERT_TRUE(ax && ay && mx && my);
  auto sx = NewSessionWith(*model_, ax);
  auto sy = NewSessionWith(*model_, ay);
  auto rx = NewSession(*mx);
  auto ry = NewSession(*my);
  // Interleaved turns: each session keeps its own adapters and cache.
  const std::vector<std::vector<std::int32_t>> turns = {LongPrompt(), {300, 310}, {320}};
  for (const auto& turn : turns) {
    Result<GenerateResult> gx = sx->Generate(turn, Greedy(6));
    Result<GenerateResult> gy = sy->Generate(turn, Greedy(6));
    Result<GenerateResult> wx = rx->Generate(turn, Greedy(6));
    Result<GenerateResult> wy = ry->Generate(turn, Greedy(6));
    ASSERT_TRUE(gx.ok() && gy.ok() && wx.ok() && wy.ok());
    ExpectSameGeneration(*gx, *wx, kTol);
    ExpectSameGeneration(*gy, *wy, kTol);
  }
}

TEST_F(LoraTest, TwoAdaptersInOneSessionAddUp) {
  const std::vector<Factors> fx = MakeFactors(19, 4, false, {"blk.0.attn_q.weight"});
  const std::vector<Factors> fy = MakeFactors(20, 4, false, {"blk.1.ffn_down.weight"});
  SessionOptions so;
  so.adapters.push_back(
      {OpenAdapter(Write(lora_test::MakeAdapter(fx, 4.0f), "sum_x"), *model_), 1.0f});
  so.adapters.push_back(
      {OpenAdapter(Write(lora_test::MakeAdapter(fy, 4.0f), "sum_y"), *model_), 1.0f});
  Result<std::unique_ptr<Session>> s = model_->NewSession(so);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<Factors> both = fx;
  both.insert(both.end(), fy.begin(), fy.end());
  auto merged = OpenModel(WriteMerged(both, 4.0f, 1.0f, "sum_m"));
  const std::vector<std::int32_t> prompt = LongPrompt();
  Result<GenerateResult> got = (*s)->Generate(prompt, Greedy(12));
  Result<GenerateResult> want = NewSession(*merged)->Generate(prompt, Greedy(12));
  ASSERT_TRUE(got.ok() && want.ok());
  ExpectSameGeneration(*got, *want, kTol);
}

TEST_F(LoraTest, F16FactorsMatchTheMergedModel) {
  const std::vector<Factors> f = MakeFactors(21, 4, /*f16=*/true);
  auto adapter = OpenAdapter(Write(lora_test::MakeAdapter(f, 8.0f, "llama", true), "f16"), *model_);
  auto merged = OpenModel(WriteMerged(f, 8.0f, 1.0f, "f16_m"));
  ASSERT_TRUE(adapter && merged);
  EXPECT_NE(adapter->description().find("f16"), std::string::npos) << adapter->description();
  const std::vector<std::int32_t> prompt = LongPrompt();
  const std::vector<std::int32_t> continuation = {300, 301, 302};
  Result<ScoreResult> got = NewSessionWith(*model_, adapter)->Score(prompt, continuation, 10);
  Result<ScoreResult> want = NewSession(*merged)->Score(prompt, continuation, 10);
  ASSERT_TRUE(got.ok() && want.ok());
  // F16 products round the activations to F16 (as ggml does): a looser tolerance.
  ExpectSameScore(*got, *want, 2e-2f);
}

TEST_F(LoraTest, SessionRefusesAnAdapterOfAnotherModelObject) {
  const std::string path = Write(lora_test::MakeAdapter(MakeFactors(22), 8.0f), "other");
  auto other = OpenModel(*base_path_);  // the same file, another Model
  ASSERT_NE(other, nullptr);
  auto adapter = OpenAdapter(path, *other);
  SessionOptions so;
  so.adapters.push_back({adapter, 1.0f});
  Result<std::unique_ptr<Session>> s = model_->NewSession(so);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("another base model"), std::string::npos)
      << s.status().message();
  EXPECT_TRUE(other->NewSession(so).ok());
  // The adapter outlives its model: still refused by others, no dangling use.
  other.reset();
  EXPECT_EQ(model_->NewSession(so).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LoraTest, SessionRefusesBadUses) {
  auto adapter = OpenAdapter(Write(lora_test::MakeAdapter(MakeFactors(23), 8.0f), "uses"), *model_);
  SessionOptions null_adapter;
  null_adapter.adapters.push_back({nullptr, 1.0f});
  Result<std::unique_ptr<Session>> s1 = model_->NewSession(null_adapter);
  EXPECT_EQ(s1.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s1.status().message().find("null"), std::string::npos) << s1.status().message();
  SessionOptions nan_scale;
  nan_scale.adapters.push_back({adapter, std::numeric_limits<float>::quiet_NaN()});
  Result<std::unique_ptr<Session>> s2 = model_->NewSession(nan_scale);
  EXPECT_EQ(s2.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s2.status().message().find("scale"), std::string::npos) << s2.status().message();
}

TEST_F(LoraTest, BaseSha256IsChecked) {
  const std::vector<Factors> f = MakeFactors(24);
  auto ok = OpenAdapter(
      Write(lora_test::MakeAdapter(f, 8.0f, "llama", false, model_->sha256()), "sha_ok"), *model_);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->base_sha256(), model_->sha256());
  const std::string other(64, 'a');
  ExpectRefused(Write(lora_test::MakeAdapter(f, 8.0f, "llama", false, other), "sha_bad"),
                StatusCode::kIncompatible, {other, model_->sha256()});
  ExpectRefused(Write(lora_test::MakeAdapter(f, 8.0f, "llama", false, "abc"), "sha_short"),
                StatusCode::kMalformed, {"adapter.base.sha256", "64"});
}

TEST_F(LoraTest, RefusesFilesThatAreNotLoraAdapters) {
  ExpectRefused(*base_path_, StatusCode::kInvalidArgument, {"not an adapter", "general.type"});
  ExpectRefused(TempPath("does_not_exist"), StatusCode::kNotFound, {"does_not_exist"});
  const std::vector<Factors> f = MakeFactors(25);
  AdapterFile model_type = lora_test::MakeAdapter(f, 8.0f);
  *model_type.Find("general.type") = gguf::Value::String("model");
  ExpectRefused(Write(model_type, "type_model"), StatusCode::kInvalidArgument,
                {"general.type", "\"model\""});
  AdapterFile ia3 = lora_test::MakeAdapter(f, 8.0f);
  *ia3.Find("adapter.type") = gguf::Value::String("ia3");
  ExpectRefused(Write(ia3, "ia3"), StatusCode::kUnsupported, {"adapter.type", "ia3"});
  AdapterFile no_type = lora_test::MakeAdapter(f, 8.0f);
  no_type.Erase("adapter.type");
  ExpectRefused(Write(no_type, "no_type"), StatusCode::kNotFound, {"adapter.type"});
  AdapterFile qwen = lora_test::MakeAdapter(f, 8.0f, "qwen2");
  ExpectRefused(Write(qwen, "arch"), StatusCode::kIncompatible, {"qwen2", "llama"});
  AdapterFile nan_alpha = lora_test::MakeAdapter(f, std::numeric_limits<float>::infinity());
  ExpectRefused(Write(nan_alpha, "alpha_inf"), StatusCode::kMalformed, {"adapter.lora.alpha"});
  AdapterFile text_alpha = lora_test::MakeAdapter(f, 8.0f);
  *text_alpha.Find("adapter.lora.alpha") = gguf::Value::String("8");
  ExpectRefused(Write(text_alpha, "alpha_text"), StatusCode::kTypeMismatch, {"adapter.lora.alpha"});
  AdapterFile empty = lora_test::MakeAdapter({}, 8.0f);
  ExpectRefused(Write(empty, "empty"), StatusCode::kMalformed, {"no lora_a/lora_b"});
}

TEST_F(LoraTest, RefusesTensorsThatDoNotFitTheBase) {
  const std::vector<Factors> f = MakeFactors(26, 4);
  {
    AdapterFile a = lora_test::MakeAdapter(f, 8.0f);
    a.EraseTensor("blk.1.attn_v.weight.lora_b");
    ExpectRefused(Write(a, "partner"), StatusCode::kMissingTensor,
                  {"blk.1.attn_v.weight.lora_a", "blk.1.attn_v.weight.lora_b"});
  }
  {
    AdapterFile a = lora_test::MakeAdapter(f, 8.0f);
    lora_test::RawTensor* t = a.FindTensor("blk.0.ffn_down.weight.lora_a");  // [128, 4]
    t->dims = {64, 8};                                                       // same bytes
    ExpectRefused(Write(a, "shape"), StatusCode::kShapeMismatch,
                  {"blk.0.ffn_down.weight.lora_a", "[64, 8]", "128"});
  }
  {
    AdapterFile a = lora_test::MakeAdapter(f, 8.0f);
    lora_test::RawTensor* t = a.FindTensor("blk.0.attn_q.weight.lora_b");  // [4, 64]
    t->dims = {4, 32};
    t->bytes.resize(4 * 32 * 4);
    ExpectRefused(Write(a, "n_out"), StatusCode::kShapeMismatch,
                  {"blk.0.attn_q.weight.lora_b", "64 outputs"});
  }
  {
    AdapterFile a = lora_test::MakeAdapter(f, 8.0f);
    lora_test::RawTensor* t = a.FindTensor("blk.0.attn_q.weight.lora_b");  // [4, 64]
    t->dims = {8, 64};                                                     // rank 8
    t->bytes.resize(8 * 64 * 4);
    ExpectRefused(Write(a, "rank"), StatusCode::kShapeMismatch,
                  {"rank", "blk.0.attn_q.weight.lora_a", "(4)", "(8)"});
  }
  {
    AdapterFile a = lora_test::MakeAdapter(f, 8.0f);
    lora_test::RawTensor* t = a.FindTensor("blk.0.attn_q.weight.lora_a");
    t->dims = {64, 4, 1};
    ExpectRefused(Write(a, "three_d"), StatusCode::kShapeMismatch,
                  {"blk.0.attn_q.weight.lora_a", "2 dimensions"});
  }
  {
    AdapterFile a = lora_test::MakeAdapter(f, 8.0f);
    a.FindTensor("blk.0.attn_q.weight.lora_a")->name = "blk.7.attn_q.weight.lora_a";
    a.FindTensor("blk.0.attn_q.weight.lora_b")->name = "blk.7.attn_q.weight.lora_b";
    ExpectRefused(Write(a, "unknown"), StatusCode::kNotFound, {"blk.7.attn_q.weight"});
  }
  {
    AdapterFile a = lora_test::MakeAdapter(f, 8.0f);
    a.FindTensor("blk.0.attn_q.weight.lora_a")->name = "token_embd.weight.lora_a";
    a.FindTensor("blk.0.attn_q.weight.lora_b")->name = "token_embd.weight.lora_b";
    ExpectRefused(Write(a, "embd"), StatusCode::kUnsupported,
                  {"token_embd.weight", "not an adaptable"});
  }
  {
    AdapterFile a = lora_test::MakeAdapter(f, 8.0f);
    a.FindTensor("blk.0.attn_q.weight.lora_a")->name = "blk.0.attn_q.weight.lora_x";
    ExpectRefused(Write(a, "suffix"), StatusCode::kMalformed, {"blk.0.attn_q.weight.lora_x"});
  }
  {
    AdapterFile a = lora_test::MakeAdapter(f, 8.0f);
    lora_test::RawTensor* t = a.FindTensor("blk.0.attn_q.weight.lora_a");  // [64, 4]
    t->type = tensor::DType::kQ8_0;
    t->bytes.assign(64 / 32 * 34 * 4, 0);
    ExpectRefused(Write(a, "q8"), StatusCode::kUnsupported,
                  {"blk.0.attn_q.weight.lora_a", "q8_0", "f32 or f16"});
  }
}

TEST_F(LoraTest, OutputAdapterNeedsAnUntiedOutput) {
  model::SynthSpec spec = TestSpec();
  spec.tied_output = true;
  const std::string tied_path = WriteTestModel("lora_tied", spec);
  written_.push_back(tied_path);
  auto tied = OpenModel(tied_path);
  ASSERT_NE(tied, nullptr);
  const std::vector<Factors> f = MakeFactors(27, 4, false, {"output.weight"});
  Result<std::shared_ptr<const Adapter>> a =
      Adapter::Open(Write(lora_test::MakeAdapter(f, 8.0f), "tied_out"), *tied);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kNotFound) << a.status().ToString();
  EXPECT_NE(a.status().message().find("output.weight"), std::string::npos);
}

}  // namespace
}  // namespace tessera::engine_test
