// Checks that the decode loop of Session::Generate does not allocate: this binary's global
// operator new counts calls, and the count must not change between the first and the last
// token callback. (The generated vocabulary's pieces are short, so the tokenizer's
// StreamDecoder strings stay in their small-string buffers.) Also that Embed allocates only its
// result and that switching between adapters of one shape (SetAdapters) allocates nothing.
// The replacement operators below pair malloc with free by construction; GCC 12 cannot see that
// through inlining and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "lora_fixture.h"
#include "tessera/engine.h"
#include "test_model.h"

namespace {
std::atomic<long> g_allocations{0};  // test instrumentation only
}  // namespace

// Every non-aligned form is replaced so that new and delete always pair malloc with free.
namespace {
void* CountedAlloc(std::size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace
void* operator new(std::size_t size) {
  if (void* p = CountedAlloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = CountedAlloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return CountedAlloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAlloc(size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace tessera::engine_test {
namespace {

TEST(AllocationTest, DecodeLoopDoesNotAllocate) {
  const std::string path = WriteTestModel("alloc");
  auto model = OpenModel(path);
  ASSERT_NE(model, nullptr);
  auto session = NewSession(*model);
  for (const float temperature : {0.0f, 0.9f}) {
    session->Reset();
    GenerateOptions options;
    options.max_tokens = 40;
    options.temperature = temperature;
    options.top_k = temperature > 0.0f ? 50 : 0;
    options.top_p = 0.9f;
    options.seed = 5;
    options.top_n = 5;
    long at_first = -1;
    long at_last = -1;
    Result<GenerateResult> r = session->Generate("abc", options, [&](const TokenEvent& e) {
      const long now = g_allocations.load(std::memory_order_relaxed);
      if (e.index == 0) at_first = now;
      at_last = now;
      return true;
    });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_GE(r->tokens.size(), 10u);
    EXPECT_EQ(at_last, at_first) << "allocations during " << r->tokens.size() << " tokens at "
                                 << "temperature " << temperature;
  }
  std::remove(path.c_str());
}

TEST(AllocationTest, DecodeLoopWithLoraAdaptersDoesNotAllocate) {
  const std::string path = WriteTestModel("alloc_lora");
  auto model = OpenModel(path);
  ASSERT_NE(model, nullptr);
  Result<gguf::File> base = gguf::File::Open(path);
  ASSERT_TRUE(base.ok());
  Result<std::vector<lora_test::Factors>> f = lora_test::MakeFactors(
      *base, {"blk.0.attn_q.weight", "blk.1.ffn_down.weight", "output.weight"}, 4, 7);
  ASSERT_TRUE(f.ok());
  const std::string adapter_path = TempPath("alloc_lora_adapter");
  ASSERT_TRUE(lora_test::WriteAdapter(lora_test::MakeAdapter(*f, 8.0f), adapter_path).ok());
  Result<std::shared_ptr<const Adapter>> adapter = Adapter::Open(adapter_path, *model);
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  SessionOptions so;
  so.adapters.push_back({*adapter, 1.0f});
  Result<std::unique_ptr<Session>> session = model->NewSession(so);
  ASSERT_TRUE(session.ok());
  GenerateOptions options;
  options.max_tokens = 40;
  options.top_n = 5;
  long at_first = -1;
  long at_last = -1;
  Result<GenerateResult> r = (*session)->Generate("abc", options, [&](const TokenEvent& e) {
    const long now = g_allocations.load(std::memory_order_relaxed);
    if (e.index == 0) at_first = now;
    at_last = now;
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_GE(r->tokens.size(), 10u);
  EXPECT_EQ(at_last, at_first) << "allocations during " << r->tokens.size() << " tokens";
  std::remove(adapter_path.c_str());
  std::remove(path.c_str());
}

// Embed allocates its result and nothing else: the hidden rows go through session buffers.
TEST(AllocationTest, EmbedAllocatesOnlyItsResult) {
  const std::string path = WriteTestModel("alloc_embed");
  auto model = OpenModel(path);
  ASSERT_NE(model, nullptr);
  auto session = NewSession(*model);
  std::vector<std::int32_t> ids = {1};
  for (std::int32_t i = 0; i < 99; ++i) ids.push_back(260 + (i * 37) % 250);  // two batches
  for (int round = 0; round < 2; ++round) {
    const long before = g_allocations.load(std::memory_order_relaxed);
    Result<std::vector<float>> e = session->Embed(ids);
    const long after = g_allocations.load(std::memory_order_relaxed);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(after - before, 1) << "round " << round;
  }
  std::remove(path.c_str());
}

// Switching between adapters of one shape reuses the session's LoRA table and scratch: after
// the first switch to that shape, SetAdapters allocates nothing.
TEST(AllocationTest, SetAdaptersBetweenAdaptersOfOneShapeDoesNotAllocate) {
  const std::string path = WriteTestModel("alloc_switch");
  auto model = OpenModel(path);
  ASSERT_NE(model, nullptr);
  Result<gguf::File> base = gguf::File::Open(path);
  ASSERT_TRUE(base.ok());
  const std::vector<std::string> targets = {"blk.0.attn_q.weight", "blk.1.ffn_down.weight",
                                            "output.weight"};
  std::vector<std::shared_ptr<const Adapter>> adapters;
  std::vector<std::string> paths;
  for (std::uint64_t seed : {21, 22}) {
    Result<std::vector<lora_test::Factors>> f = lora_test::MakeFactors(*base, targets, 4, seed);
    ASSERT_TRUE(f.ok());
    paths.push_back(TempPath("alloc_switch_" + std::to_string(seed)));
    ASSERT_TRUE(lora_test::WriteAdapter(lora_test::MakeAdapter(*f, 8.0f), paths.back()).ok());
    Result<std::shared_ptr<const Adapter>> a = Adapter::Open(paths.back(), *model);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    adapters.push_back(*a);
  }
  auto session = NewSession(*model);
  ASSERT_TRUE(session->SetAdapters({{adapters[0], 1.0f}}).ok());  // grows the LoRA scratch
  for (int i = 0; i < 4; ++i) {
    std::vector<AdapterUse> next = {{adapters[static_cast<std::size_t>((i + 1) % 2)], 1.0f}};
    const long before = g_allocations.load(std::memory_order_relaxed);
    const Status st = session->SetAdapters(std::move(next));
    const long after = g_allocations.load(std::memory_order_relaxed);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(after, before) << "switch " << i;
  }
  for (const std::string& p : paths) std::remove(p.c_str());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace tessera::engine_test
