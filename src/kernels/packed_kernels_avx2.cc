// AVX2 kernels over the packed Q4_0x8 and Q8_0x8 layouts (kernels.h, ADR 0023): the
// packed_tile of the AVX2 Q4_0 and Q8_0 tables.
//
// One register holds 4 consecutive elements of each of the group's 8 rows (int32 lane i = row
// i), so one vector operation advances 8 rows and the results land one row per lane: no
// horizontal sums, and the float work of a block is a few vector operations per token for 8
// rows. The activation's 4 bytes of the same elements are broadcast to every lane.
//
// Q4_0, per block and token:
//   * the 4 chunks of 32 nibble bytes expand to 8 registers U_j of levels q in 0..15 (low
//     nibbles: elements 4j..4j+3, j < 4; high nibbles: elements 16 + 4(j - 4)..; the Q4_0
//     element order), once per block for up to kTokens tokens;
//   * maddubs(U_j, x) gives int16 sums of two products (|.| <= 2 * 15 * 128 = 3840), the 8 of
//     a block are added in int16 (|.| <= 30720 < 32767: no saturation), then madd with ones
//     widens to the int32 sum of q * x per row;
//   * minus 8 * sum(x) (Q8Summary) gives sum((q - 8) * x): the reference's exact int32 isum;
//   * acc += (float(isum) * d_w) * d_x, rounded in that order without FMA.
// Q8_0, per block and token: maddubs(|w|, x with w's sign) per chunk (pair sums up to
// 2 * 127 * 127, which leaves no room to add two in int16), madd with ones, int32 adds: the
// exact isum; then acc += float(isum) * (d_w * d_x), the reference's order.
// Each is the reference's block term operation for operation in every lane, so the results are
// bit-identical to the scalar reference (tests/kernels/packed_weights_test.cc).
//
// Everything between the pragmas is compiled for AVX2 + FMA + F16C, with -ffp-contract=off.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/simd_tables.h"
#include "tensor/blocks.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace tessera::kernels::simd {
namespace {

constexpr std::int64_t kQK = 32;
constexpr std::int64_t kXBlockBytes = sizeof(tensor::BlockQ8_0);  // 34
// Tokens per pass over a group.
constexpr int kTokens = 4;

inline __m256i Broadcast4(const std::uint8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm256_set1_epi32(v);
}

// Q4_0: the 8 rows of one group (nb blocks at g) by T tokens.
template <int T>
void Q4_0GroupTokens(std::int64_t nb, const std::uint8_t* g, const std::uint8_t* x,
                     std::size_t x_stride, const Q8Summary* sums, std::size_t sums_stride, float* y,
                     std::size_t y_stride) {
  const __m256i low = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (std::int64_t b = 0; b < nb; ++b) {
    const std::uint8_t* gb =
        g + b * kPackRows * static_cast<std::int64_t>(sizeof(tensor::BlockQ4_0));
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(gb)));
    __m256i u[8];
    for (int k = 0; k < 4; ++k) {
      const __m256i p =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb + 2 * kPackRows + 32 * k));
      u[k] = _mm256_and_si256(p, low);
      u[k + 4] = _mm256_and_si256(_mm256_srli_epi16(p, 4), low);
    }
    for (int t = 0; t < T; ++t) {
      const std::uint8_t* xq = x + t * x_stride + b * kXBlockBytes + 2;
      __m256i s16 = _mm256_maddubs_epi16(u[0], Broadcast4(xq));
      for (int j = 1; j < 8; ++j) {
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(u[j], Broadcast4(xq + 4 * j)));
      }
      const Q8Summary& s = sums[t * sums_stride + b];
      const __m256i isum =
          _mm256_sub_epi32(_mm256_madd_epi16(s16, ones), _mm256_set1_epi32(8 * s.sum));
      const __m256 v =
          _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(isum), dw), _mm256_set1_ps(s.d));
      acc[t] = _mm256_add_ps(acc[t], v);
    }
  }
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
}

// Q8_0: the 8 rows of one group by T tokens.
template <int T>
void Q8_0GroupTokens(std::int64_t nb, const std::uint8_t* g, const std::uint8_t* x,
                     std::size_t x_stride, const Q8Summary* sums, std::size_t sums_stride, float* y,
                     std::size_t y_stride) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (std::int64_t b = 0; b < nb; ++b) {
    const std::uint8_t* gb =
        g + b * kPackRows * static_cast<std::int64_t>(sizeof(tensor::BlockQ8_0));
    __m256i isum[T];
    for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      const __m256i w =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb + 2 * kPackRows + 32 * j));
      const __m256i wabs = _mm256_abs_epi8(w);
      for (int t = 0; t < T; ++t) {
        const __m256i xs =
            _mm256_sign_epi8(Broadcast4(x + t * x_stride + b * kXBlockBytes + 2 + 4 * j), w);
        isum[t] =
            _mm256_add_epi32(isum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, xs), ones));
      }
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(gb)));
    for (int t = 0; t < T; ++t) {
      const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(sums[t * sums_stride + b].d));
      acc[t] = _mm256_add_ps(acc[t], _mm256_mul_ps(_mm256_cvtepi32_ps(isum[t]), d));
    }
  }
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
}

// Every group by every token: tiles of kTokens tokens, then one of the 1..3 left. K::Run<T> is
// the kernel of one group by T tokens.
template <typename K>
void PackedTile(std::int64_t n, std::int64_t n_groups, std::size_t block_bytes, const void* packed,
                std::int64_t n_tok, const void* x, std::size_t x_stride, const Q8Summary* sums,
                std::size_t sums_stride, float* y, std::size_t y_stride) {
  const std::int64_t nb = n / kQK;
  const auto* p = static_cast<const std::uint8_t*>(packed);
  const auto* xp = static_cast<const std::uint8_t*>(x);
  for (std::int64_t gi = 0; gi < n_groups; ++gi) {
    const std::uint8_t* g = p + gi * nb * kPackRows * static_cast<std::int64_t>(block_bytes);
    float* yg = y + gi * kPackRows;
    std::int64_t t = 0;
    for (; t + kTokens <= n_tok; t += kTokens) {
      K::template Run<kTokens>(nb, g, xp + t * x_stride, x_stride, sums + t * sums_stride,
                               sums_stride, yg + t * y_stride, y_stride);
    }
    const auto xt = xp + t * x_stride;
    const Q8Summary* st = sums + t * sums_stride;
    float* yt = yg + t * y_stride;
    switch (n_tok - t) {
      case 3:
        K::template Run<3>(nb, g, xt, x_stride, st, sums_stride, yt, y_stride);
        break;
      case 2:
        K::template Run<2>(nb, g, xt, x_stride, st, sums_stride, yt, y_stride);
        break;
      case 1:
        K::template Run<1>(nb, g, xt, x_stride, st, sums_stride, yt, y_stride);
        break;
      default:
        break;
    }
  }
}

struct Q4_0Group {
  template <int T>
  static constexpr auto Run = Q4_0GroupTokens<T>;
};
struct Q8_0Group {
  template <int T>
  static constexpr auto Run = Q8_0GroupTokens<T>;
};

}  // namespace

void PackedTileQ4_0Avx2(std::int64_t n, std::int64_t n_groups, const void* packed,
                        std::int64_t n_tok, const void* x, std::size_t x_stride,
                        const Q8Summary* sums, std::size_t sums_stride, float* y,
                        std::size_t y_stride) {
  PackedTile<Q4_0Group>(n, n_groups, sizeof(tensor::BlockQ4_0), packed, n_tok, x, x_stride, sums,
                        sums_stride, y, y_stride);
}

void PackedTileQ8_0Avx2(std::int64_t n, std::int64_t n_groups, const void* packed,
                        std::int64_t n_tok, const void* x, std::size_t x_stride,
                        const Q8Summary* sums, std::size_t sums_stride, float* y,
                        std::size_t y_stride) {
  PackedTile<Q8_0Group>(n, n_groups, sizeof(tensor::BlockQ8_0), packed, n_tok, x, x_stride, sums,
                        sums_stride, y, y_stride);
}

}  // namespace tessera::kernels::simd

#pragma GCC pop_options

#endif  // x86-64 with GCC/Clang
