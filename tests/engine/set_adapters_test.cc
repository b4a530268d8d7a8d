// Tests of Session::SetAdapters (include/tessera/engine.h): after a switch a session generates
// exactly what a new session with those adapters generates (the shipped base with its date and
// unit adapters; random adapters of different ranks, so the LoRA scratch must grow); switching
// back to none is the plain base bit for bit; refused switches leave the session unchanged.
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

GenerateOptions Greedy(std::int32_t n) {
  GenerateOptions o;
  o.max_tokens = n;
  o.top_n = 4;
  return o;
}

// Bit-for-bit equal generations: ids, log-probabilities and alternatives.
void ExpectIdentical(const GenerateResult& a, const GenerateResult& b, const std::string& what) {
  ASSERT_EQ(Ids(a), Ids(b)) << what;
  for (std::size_t i = 0; i < a.tokens.size(); ++i) {
    EXPECT_EQ(a.tokens[i].logprob, b.tokens[i].logprob) << what << " token " << i;
    const auto aa = a.Alternatives(i);
    const auto ba = b.Alternatives(i);
    ASSERT_EQ(aa.size(), ba.size());
    for (std::size_t k = 0; k < aa.size(); ++k) {
      EXPECT_EQ(aa[k].id, ba[k].id) << what << " token " << i;
      EXPECT_EQ(aa[k].logprob, ba[k].logprob) << what << " token " << i;
    }
  }
}

Result<GenerateResult> GenerateGreedy(Session& s, const std::string& prompt, std::int32_t n = 24) {
  return s.Generate(prompt, Greedy(n));
}

// What a new session with `adapters` generates for `prompt`.
GenerateResult Fresh(const Model& model, const std::vector<AdapterUse>& adapters,
                     const std::string& prompt) {
  SessionOptions so;
  so.adapters = adapters;
  auto s = model.NewSession(so);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return {};
  Result<GenerateResult> r = GenerateGreedy(**s, prompt);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : GenerateResult{};
}

class SetAdaptersShippedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = std::string(TESSERA_SOURCE_DIR) + "/models/";
    ModelOptions options;
    options.n_threads = 1;
    model_ = OpenModel(dir + "base.gguf", options).release();
    ASSERT_NE(model_, nullptr);
    date_ = new std::shared_ptr<const Adapter>(Open(dir + "adapters/date.lora.gguf"));
    unit_ = new std::shared_ptr<const Adapter>(Open(dir + "adapters/unit.lora.gguf"));
  }
  static void TearDownTestSuite() {
    delete date_;
    delete unit_;
    delete model_;
  }
  static std::shared_ptr<const Adapter> Open(const std::string& path) {
    Result<std::shared_ptr<const Adapter>> a = Adapter::Open(path, *model_);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : nullptr;
  }
  static Model* model_;
  static std::shared_ptr<const Adapter>* date_;
  static std::shared_ptr<const Adapter>* unit_;
};
Model* SetAdaptersShippedTest::model_ = nullptr;
std::shared_ptr<const Adapter>* SetAdaptersShippedTest::date_ = nullptr;
std::shared_ptr<const Adapter>* SetAdaptersShippedTest::unit_ = nullptr;

const char kDatePrompt[] = "date: 5th of March, 2021\n";
const char kUnitPrompt[] = "unit: how many m is 643 km?\n";

TEST_F(SetAdaptersShippedTest, SwitchedSessionGeneratesLikeANewSession) {
  const std::vector<AdapterUse> date = {{*date_, 1.0f}};
  const std::vector<AdapterUse> unit = {{*unit_, 1.0f}};
  const std::vector<AdapterUse> both = {{*date_, 0.5f}, {*unit_, 0.5f}};
  auto s = NewSession(*model_);
  ASSERT_NE(s, nullptr);
  Result<GenerateResult> plain = GenerateGreedy(*s, kDatePrompt);
  ASSERT_TRUE(plain.ok());

  for (int round = 0; round < 2; ++round) {  // the second round reuses the grown scratch
    ASSERT_TRUE(s->SetAdapters(date).ok());
    EXPECT_EQ(s->n_past(), 0);
    ASSERT_EQ(s->adapters().size(), 1u);
    EXPECT_EQ(s->adapters()[0].adapter, *date_);
    Result<GenerateResult> r = GenerateGreedy(*s, kDatePrompt);
    ASSERT_TRUE(r.ok());
    ExpectIdentical(*r, Fresh(*model_, date, kDatePrompt), "date");

    ASSERT_TRUE(s->SetAdapters(unit).ok());
    r = GenerateGreedy(*s, kUnitPrompt);
    ASSERT_TRUE(r.ok());
    ExpectIdentical(*r, Fresh(*model_, unit, kUnitPrompt), "unit");

    ASSERT_TRUE(s->SetAdapters(both).ok());
    EXPECT_EQ(s->adapters().size(), 2u);
    r = GenerateGreedy(*s, kUnitPrompt);
    ASSERT_TRUE(r.ok());
    ExpectIdentical(*r, Fresh(*model_, both, kUnitPrompt), "date + unit");

    // Back to none: the plain base, bit for bit.
    ASSERT_TRUE(s->SetAdapters({}).ok());
    EXPECT_TRUE(s->adapters().empty());
    r = GenerateGreedy(*s, kDatePrompt);
    ASSERT_TRUE(r.ok());
    ExpectIdentical(*r, *plain, "none");
  }
}

TEST_F(SetAdaptersShippedTest, SwitchingForgetsTheContext) {
  auto s = NewSession(*model_);
  ASSERT_TRUE(GenerateGreedy(*s, kDatePrompt, 4).ok());
  ASSERT_GT(s->n_past(), 0);
  ASSERT_TRUE(s->SetAdapters({{*date_, 1.0f}}).ok());
  EXPECT_EQ(s->n_past(), 0);
  EXPECT_TRUE(s->tokens().empty());
}

// Between adapters of one shape (the shipped ones: rank 16 on the same matrices) the session's
// memory does not change; the first switch from the plain base grows only the LoRA scratch.
TEST_F(SetAdaptersShippedTest, MemoryGrowsOnceAndOnlyForLoraScratch) {
  auto s = NewSession(*model_);
  const SessionMemory plain = s->memory();
  ASSERT_TRUE(s->SetAdapters({{*date_, 1.0f}}).ok());
  const SessionMemory grown = s->memory();
  EXPECT_EQ(grown.kv_bytes, plain.kv_bytes);
  EXPECT_GT(grown.other_bytes, plain.other_bytes);

  SessionOptions so;
  so.adapters.push_back({*date_, 1.0f});
  auto created = model_->NewSession(so);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(grown.other_bytes, (*created)->memory().other_bytes);

  ASSERT_TRUE(s->SetAdapters({{*unit_, 1.0f}}).ok());
  EXPECT_EQ(s->memory().other_bytes, grown.other_bytes);
  ASSERT_TRUE(s->SetAdapters({}).ok());
  EXPECT_EQ(s->memory().other_bytes, grown.other_bytes);  // never shrinks
}

TEST_F(SetAdaptersShippedTest, RefusedSwitchLeavesTheSessionUnchanged) {
  // An adapter opened for another Model object of the same file.
  ModelOptions options;
  options.n_threads = 1;
  auto other = OpenModel(std::string(TESSERA_SOURCE_DIR) + "/models/base.gguf", options);
  ASSERT_NE(other, nullptr);
  Result<std::shared_ptr<const Adapter>> foreign =
      Adapter::Open(std::string(TESSERA_SOURCE_DIR) + "/models/adapters/unit.lora.gguf", *other);
  ASSERT_TRUE(foreign.ok());

  SessionOptions so;
  so.adapters.push_back({*date_, 1.0f});
  auto s = model_->NewSession(so);
  auto twin = model_->NewSession(so);
  ASSERT_TRUE(s.ok() && twin.ok());
  ASSERT_TRUE(GenerateGreedy(**s, kDatePrompt, 4).ok());
  ASSERT_TRUE(GenerateGreedy(**twin, kDatePrompt, 4).ok());
  const std::vector<std::int32_t> before((*s)->tokens().begin(), (*s)->tokens().end());
  const SessionMemory memory = (*s)->memory();

  struct Case {
    std::vector<AdapterUse> uses;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {{{*unit_, 1.0f}, {nullptr, 1.0f}}, "adapter 1 is null"},
      {{{*unit_, std::numeric_limits<float>::quiet_NaN()}}, "finite"},
      {{{*unit_, std::numeric_limits<float>::infinity()}}, "finite"},
      {{{*unit_, 1.0f}, {*foreign, 1.0f}}, "another base model"},
  };
  for (const Case& c : cases) {
    const Status st = (*s)->SetAdapters(c.uses);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
    EXPECT_NE(st.message().find(c.fragment), std::string::npos) << st.ToString();
    ASSERT_EQ((*s)->adapters().size(), 1u);
    EXPECT_EQ((*s)->adapters()[0].adapter, *date_);
    EXPECT_EQ(std::vector<std::int32_t>((*s)->tokens().begin(), (*s)->tokens().end()), before);
    EXPECT_EQ((*s)->memory().other_bytes, memory.other_bytes);
  }
  // Still usable, and continuing exactly as a session that never saw the failed calls.
  Result<GenerateResult> a = (*s)->Generate("2021", Greedy(8));
  Result<GenerateResult> b = (*twin)->Generate("2021", Greedy(8));
  ASSERT_TRUE(a.ok() && b.ok());
  ExpectIdentical(*a, *b, "after refused switches");
}

// Random adapters of different ranks and widths on the engine's test model: the LoRA scratch
// must grow on the switch (rank 2 on a few matrices -> rank 8 including the output matrix).
TEST(SetAdaptersGrowTest, LargerAdapterAfterASmallerOneGeneratesLikeANewSession) {
  const std::string path = WriteTestModel("set_adapters_grow");
  auto model = OpenModel(path);
  ASSERT_NE(model, nullptr);
  Result<gguf::File> base = gguf::File::Open(path);
  ASSERT_TRUE(base.ok());
  Result<std::vector<lora_test::Factors>> small =
      lora_test::MakeFactors(*base, {"blk.0.attn_q.weight", "blk.1.attn_v.weight"}, 2, 11);
  Result<std::vector<lora_test::Factors>> large = lora_test::MakeFactors(
      *base, {"blk.0.ffn_up.weight", "blk.1.ffn_down.weight", "output.weight"}, 8, 12);
  ASSERT_TRUE(small.ok() && large.ok());
  const std::string small_path = TempPath("set_adapters_small");
  const std::string large_path = TempPath("set_adapters_large");
  ASSERT_TRUE(lora_test::WriteAdapter(lora_test::MakeAdapter(*small, 4.0f), small_path).ok());
  ASSERT_TRUE(lora_test::WriteAdapter(lora_test::MakeAdapter(*large, 16.0f), large_path).ok());
  Result<std::shared_ptr<const Adapter>> a = Adapter::Open(small_path, *model);
  Result<std::shared_ptr<const Adapter>> b = Adapter::Open(large_path, *model);
  ASSERT_TRUE(a.ok() && b.ok());

  SessionOptions so;
  so.adapters.push_back({*a, 1.0f});
  auto s = model->NewSession(so);
  ASSERT_TRUE(s.ok());
  const std::uint64_t small_bytes = (*s)->memory().other_bytes;
  ASSERT_TRUE(GenerateGreedy(**s, "abc").ok());
  ASSERT_TRUE((*s)->SetAdapters({{*b, 1.0f}}).ok());
  EXPECT_GT((*s)->memory().other_bytes, small_bytes);
  Result<GenerateResult> r = GenerateGreedy(**s, "abc");
  ASSERT_TRUE(r.ok());
  ExpectIdentical(*r, Fresh(*model, {{*b, 1.0f}}, "abc"), "large after small");
  ASSERT_TRUE((*s)->SetAdapters({{*a, 1.0f}, {*b, -0.5f}}).ok());
  r = GenerateGreedy(**s, "abc");
  ASSERT_TRUE(r.ok());
  ExpectIdentical(*r, Fresh(*model, {{*a, 1.0f}, {*b, -0.5f}}, "abc"), "small + large");

  std::remove(small_path.c_str());
  std::remove(large_path.c_str());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace tessera::engine_test
