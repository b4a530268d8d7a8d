// base::ZeroedArray: zero contents for small (calloc) and large (mapped) blocks, writes kept,
// moves that transfer ownership, resets.
#include "base/zeroed_array.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <utility>

namespace tessera::base {
namespace {

TEST(ZeroedArrayTest, SmallAndLargeBlocksStartAtZero) {
  for (std::size_t n : {std::size_t{1}, std::size_t{100}, kMapBytes / sizeof(float) - 1,
                        kMapBytes / sizeof(float), std::size_t{1} << 20}) {
    SCOPED_TRACE(n);
    ZeroedArray<float> a(n);
    ASSERT_EQ(a.size(), n);
    ASSERT_NE(a.data(), nullptr);
    EXPECT_TRUE(std::all_of(a.data(), a.data() + n, [](float x) { return x == 0.0f; }));
    a[n - 1] = 3.5f;
    std::span<const float> view = std::as_const(a);
    EXPECT_EQ(view.size(), n);
    EXPECT_EQ(view.back(), 3.5f);
  }
}

TEST(ZeroedArrayTest, MovesTransferTheBlock) {
  ZeroedArray<std::uint8_t> a(kMapBytes * 2);
  a[7] = 9;
  std::uint8_t* block = a.data();
  ZeroedArray<std::uint8_t> b(std::move(a));
  EXPECT_EQ(b.data(), block);
  EXPECT_EQ(b[7], 9);
  EXPECT_EQ(a.size(), 0u);  // NOLINT: moved-from is empty by contract
  EXPECT_EQ(a.data(), nullptr);
  ZeroedArray<std::uint8_t> c(3);
  c = std::move(b);
  EXPECT_EQ(c.data(), block);
  c.Reset(5);  // a new block, zero again
  EXPECT_EQ(c.size(), 5u);
  EXPECT_EQ(c[0], 0);
  c.Reset(0);
  EXPECT_EQ(c.data(), nullptr);
}

}  // namespace
}  // namespace tessera::base
