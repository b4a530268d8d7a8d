// AVX2 + FMA + F16C dot products of the low-bit types Q2_K, Q3_K, IQ4_XS (with a Q8_K activation)
// and IQ4_NL (with Q8_0) (layouts in tensor/blocks.h, scalar twins in
// reference_lowbit_kernels.cc); used by the AVX2 and AVX-512 variants (simd_tables.h).
//
// Inside a block everything is exact int32 arithmetic, as in the reference:
//   Q2_K    maddubs(q (u8, 0..3), x (s8)) pair sums times the sub-block's 4-bit scale by madd;
//           the mins part sum(mn[s] * bsum[s]) by one madd over the Q8_K bsums;
//           lanes += d_w d_x * isum - dmin_w d_x * msum (float, FMA).
//   Q3_K    q + 4 = two bits | third bit << 2 (u8, 0..7) through maddubs, times the signed
//           scale by madd; the -4 as -4 * sum(scale[s] * bsum[s]) by one madd over the bsums.
//   IQ4_XS  code-book levels by one byte shuffle; maddubs(|level|, x with the level's sign)
//           (|level| <= 127 and |x| <= 127 here, so no pair sum overflows) times the signed
//           sub-block scale by madd.
//   IQ4_NL  the same per block of 32, against Q8_0; lanes += d_w d_x * isum per block.
// Only the float accumulation differs from the reference (8 lanes with FMA). The activation
// conversions are the reference ones (tensor::QuantizeRowQ8_K / QuantizeRowQ8_0). Each weight
// block is unpacked once and dotted with one activation (vec_dot, vec_dot_rows) or several
// (vec_dot_tile); all run the same per-pair sequence, so their results are bit-identical.
#include <cstddef>
#include <cstdint>

#include "kernels/simd_bits.h"
#include "kernels/simd_entry.h"
#include "kernels/simd_tables.h"
#include "tensor/block_io.h"
#include "tensor/blocks.h"
#include "tensor/quantize.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace tessera::kernels::simd {
namespace {

using tensor::BlockIQ4_NL;
using tensor::BlockIQ4_XS;
using tensor::BlockQ2_K;
using tensor::BlockQ3_K;
using tensor::BlockQ8_0;
using tensor::BlockQ8_K;
using tensor::kQK4_NL;
using tensor::kQK_K;

constexpr int kMaxRows = 4;  // rows per vec_dot_rows step

inline __m256i Load32(const std::uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

inline const std::uint8_t* Q8KQuants(const std::uint8_t* xb) {
  return xb + offsetof(BlockQ8_K, qs);
}

// Scale s for the first 16 lanes of int16 pairs, scale s + 1 for the last 16 (one 32-element
// chunk spans two sub-blocks of 16).
inline __m256i PairScales(std::int16_t first, std::int16_t second) {
  return _mm256_set_m128i(_mm_set1_epi16(second), _mm_set1_epi16(first));
}

// The 32 code-book levels (int8) of 16 packed bytes: element j low nibble of byte j, element
// j + 16 its high nibble.
inline __m256i Iq4Levels(const std::uint8_t* qs) {
  const __m128i book = _mm_loadu_si128(reinterpret_cast<const __m128i*>(tensor::kIq4Levels));
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i low4 = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_shuffle_epi8(book, _mm_and_si128(q, low4));
  const __m128i hi = _mm_shuffle_epi8(book, _mm_and_si128(_mm_srli_epi16(q, 4), low4));
  return _mm256_set_m128i(hi, lo);
}

// Pair sums of levels (int8) times x (int8), as int16: maddubs needs an unsigned first operand.
inline __m256i SignedPairs(__m256i levels, __m256i x) {
  return _mm256_maddubs_epi16(_mm256_sign_epi8(levels, levels), _mm256_sign_epi8(x, levels));
}

// ---- Q2_K

struct Q2Unpacked {
  __m256i q[8];  // q[4 h + k]: the levels of elements 128 h + 32 k .. + 31
  __m256i mins;  // the 16 four-bit mins as int16
  std::int16_t sc[16];
  float d;
  float dmin;
};

inline void Unpack(const std::uint8_t* wb, Q2Unpacked* u) {
  const std::uint8_t* scales = wb + offsetof(BlockQ2_K, scales);
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(scales));
  u->mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F)));
  for (int s = 0; s < 16; ++s) u->sc[s] = static_cast<std::int16_t>(scales[s] & 0x0F);
  u->d = LoadHalfF16c(wb + offsetof(BlockQ2_K, d));
  u->dmin = LoadHalfF16c(wb + offsetof(BlockQ2_K, dmin));
  const __m256i two = _mm256_set1_epi8(3);
  for (int h = 0; h < 2; ++h) {
    const __m256i q = Load32(wb + offsetof(BlockQ2_K, qs) + 32 * h);
    for (int k = 0; k < 4; ++k) {
      u->q[4 * h + k] = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), two);
    }
  }
}

inline __m256 Accumulate(const Q2Unpacked& u, const std::uint8_t* xb, __m256 acc) {
  __m256i isum = _mm256_setzero_si256();
  for (int c = 0; c < 8; ++c) {  // c = 4 h + k: sub-blocks 2 c and 2 c + 1
    const __m256i p = _mm256_maddubs_epi16(u.q[c], Load32(Q8KQuants(xb) + 32 * c));
    isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, PairScales(u.sc[2 * c], u.sc[2 * c + 1])));
  }
  const __m256i msum = _mm256_madd_epi16(Load32(xb + offsetof(BlockQ8_K, bsums)), u.mins);
  const float dx = tensor::LoadF32At(xb + offsetof(BlockQ8_K, d));
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(u.d * dx), acc);
  return _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(u.dmin * dx), acc);
}

// ---- Q3_K

struct Q3Unpacked {
  __m256i q[8];   // q[4 h + k]: level + 4 (0..7) of elements 128 h + 32 k .. + 31
  __m256i sc16;   // the 16 signed scales (scale - 32) as int16
  std::int16_t sc[16];
  float d;
};

inline void Unpack(const std::uint8_t* wb, Q3Unpacked* u) {
  alignas(32) std::int16_t scales[16];
  for (int s = 0; s < 16; ++s) {
    scales[s] = static_cast<std::int16_t>(tensor::ScaleQ3K(s, wb + offsetof(BlockQ3_K, scales)) - 32);
    u->sc[s] = scales[s];
  }
  u->sc16 = _mm256_load_si256(reinterpret_cast<const __m256i*>(scales));
  u->d = LoadHalfF16c(wb + offsetof(BlockQ3_K, d));
  const __m256i hmask = Load32(wb + offsetof(BlockQ3_K, hmask));
  const __m256i two = _mm256_set1_epi8(3);
  const __m256i four = _mm256_set1_epi8(4);
  for (int h = 0; h < 2; ++h) {
    const __m256i q = Load32(wb + offsetof(BlockQ3_K, qs) + 32 * h);
    for (int k = 0; k < 4; ++k) {
      const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << (4 * h + k)));
      const __m256i third = _mm256_cmpeq_epi8(_mm256_and_si256(hmask, bit), bit);
      u->q[4 * h + k] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 2 * k), two),
                                        _mm256_and_si256(third, four));
    }
  }
}

inline __m256 Accumulate(const Q3Unpacked& u, const std::uint8_t* xb, __m256 acc) {
  __m256i isum = _mm256_setzero_si256();
  for (int c = 0; c < 8; ++c) {
    const __m256i p = _mm256_maddubs_epi16(u.q[c], Load32(Q8KQuants(xb) + 32 * c));
    isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, PairScales(u.sc[2 * c], u.sc[2 * c + 1])));
  }
  // The levels were stored + 4: subtract 4 * sum(scale[s] * bsum[s]).
  const __m256i offs = _mm256_madd_epi16(Load32(xb + offsetof(BlockQ8_K, bsums)), u.sc16);
  isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(offs, 2));
  const float dx = tensor::LoadF32At(xb + offsetof(BlockQ8_K, d));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(u.d * dx), acc);
}

// ---- IQ4_XS

struct Iq4XsUnpacked {
  __m256i levels[8];  // sub-block s: elements 32 s .. + 31
  std::int16_t sc[8];
  float d;
};

inline void Unpack(const std::uint8_t* wb, Iq4XsUnpacked* u) {
  for (int s = 0; s < 8; ++s) {
    u->levels[s] = Iq4Levels(wb + offsetof(BlockIQ4_XS, qs) + 16 * s);
    u->sc[s] = static_cast<std::int16_t>(tensor::ScaleIQ4XS(s, wb) - 32);
  }
  u->d = LoadHalfF16c(wb + offsetof(BlockIQ4_XS, d));
}

inline __m256 Accumulate(const Iq4XsUnpacked& u, const std::uint8_t* xb, __m256 acc) {
  __m256i isum = _mm256_setzero_si256();
  for (int s = 0; s < 8; ++s) {
    const __m256i p = SignedPairs(u.levels[s], Load32(Q8KQuants(xb) + 32 * s));
    isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, _mm256_set1_epi16(u.sc[s])));
  }
  const float dx = tensor::LoadF32At(xb + offsetof(BlockQ8_K, d));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(u.d * dx), acc);
}

// ---- IQ4_NL

struct Iq4NlUnpacked {
  __m256i levels;
  float d;
};

inline void Unpack(const std::uint8_t* wb, Iq4NlUnpacked* u) {
  u->levels = Iq4Levels(wb + offsetof(BlockIQ4_NL, qs));
  u->d = LoadHalfF16c(wb + offsetof(BlockIQ4_NL, d));
}

inline __m256 Accumulate(const Iq4NlUnpacked& u, const std::uint8_t* xb, __m256 acc) {
  const __m256i p = SignedPairs(u.levels, Load32(xb + offsetof(BlockQ8_0, qs)));
  const __m256i isum = _mm256_madd_epi16(p, _mm256_set1_epi16(1));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum),
                         _mm256_set1_ps(u.d * LoadHalfF16c(xb + offsetof(BlockQ8_0, d))), acc);
}

// ---- R rows x T tokens for any of the above; each weight block is unpacked once for the T
// tokens.

// U is an unpacked block type with its Unpack and Accumulate overloads above; blocks of kBlock
// elements, kWBytes per weight block, kXBytes per activation block.
template <class U, std::int64_t kBlock, std::int64_t kWBytes, std::int64_t kXBytes>
struct Kernel {
  template <int R, int N>
  static void Tile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                   const std::uint8_t* x, std::size_t x_stride, float* y, std::size_t y_stride) {
    __m256 acc[R][N];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < N; ++t) acc[r][t] = _mm256_setzero_ps();
    }
    for (std::int64_t b = 0; b < n / kBlock; ++b) {
      for (int r = 0; r < R; ++r) {
        U u;
        Unpack(w + r * row_bytes + b * kWBytes, &u);
        for (int t = 0; t < N; ++t) {
          acc[r][t] = Accumulate(u, x + t * x_stride + b * kXBytes, acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < N; ++t) y[t * y_stride + r] = HorizontalSum8(acc[r][t]);
    }
  }
  template <int R>
  static void Rows(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                   const std::uint8_t* x, float* y) {
    Tile<R, 1>(n, w, row_bytes, x, 0, y, 0);
  }
};

constexpr std::int64_t kQ8_KBytes = sizeof(BlockQ8_K);
constexpr std::int64_t kQ8_0Bytes = sizeof(BlockQ8_0);
using Q2_K = Kernel<Q2Unpacked, kQK_K, sizeof(BlockQ2_K), kQ8_KBytes>;
using Q3_K = Kernel<Q3Unpacked, kQK_K, sizeof(BlockQ3_K), kQ8_KBytes>;
using IQ4_XS = Kernel<Iq4XsUnpacked, kQK_K, sizeof(BlockIQ4_XS), kQ8_KBytes>;
using IQ4_NL = Kernel<Iq4NlUnpacked, kQK4_NL, sizeof(BlockIQ4_NL), kQ8_0Bytes>;

// Tiles of 2 rows x 4 tokens: each unpacked block serves 4 tokens.
constexpr int kTileRows = 2;
constexpr int kTileTokens = 4;
template <class K>
using EntryOf = RowsEntry<kMaxRows, K::template Rows<1>, K::template Rows<kMaxRows>>;
template <class K>
constexpr auto kTileOf =
    TileEntry<kTileRows, kTileTokens, K::template Tile<kTileRows, kTileTokens>,
              K::template Tile<kTileRows, 1>, K::template Tile<1, kTileTokens>,
              K::template Tile<1, 1>>;

constexpr TypeKernels kAvx2Q2_K = {DType::kQ2_K,           DType::kQ8_K,
                                   "avx2",                 tensor::QuantizeRowQ2_K,
                                   tensor::DequantizeRowQ2_K, tensor::QuantizeRowQ8_K,
                                   EntryOf<Q2_K>::VecDot,    EntryOf<Q2_K>::VecDotRows,
                                   kTileOf<Q2_K>};
constexpr TypeKernels kAvx2Q3_K = {DType::kQ3_K,           DType::kQ8_K,
                                   "avx2",                 tensor::QuantizeRowQ3_K,
                                   tensor::DequantizeRowQ3_K, tensor::QuantizeRowQ8_K,
                                   EntryOf<Q3_K>::VecDot,    EntryOf<Q3_K>::VecDotRows,
                                   kTileOf<Q3_K>};
constexpr TypeKernels kAvx2IQ4_XS = {DType::kIQ4_XS,            DType::kQ8_K,
                                     "avx2",                  tensor::QuantizeRowIQ4_XS,
                                     tensor::DequantizeRowIQ4_XS, tensor::QuantizeRowQ8_K,
                                     EntryOf<IQ4_XS>::VecDot,   EntryOf<IQ4_XS>::VecDotRows,
                                     kTileOf<IQ4_XS>};
constexpr TypeKernels kAvx2IQ4_NL = {DType::kIQ4_NL,            DType::kQ8_0,
                                     "avx2",                  tensor::QuantizeRowIQ4_NL,
                                     tensor::DequantizeRowIQ4_NL, tensor::QuantizeRowQ8_0,
                                     EntryOf<IQ4_NL>::VecDot,   EntryOf<IQ4_NL>::VecDotRows,
                                     kTileOf<IQ4_NL>};

}  // namespace
}  // namespace tessera::kernels::simd

#pragma GCC pop_options

// Plain x86-64 code from here: the dispatcher calls this on any CPU.
namespace tessera::kernels::simd {

const TypeKernels* Avx2LowBitKernels(DType type) {
  switch (type) {
    case DType::kQ2_K: return &kAvx2Q2_K;
    case DType::kQ3_K: return &kAvx2Q3_K;
    case DType::kIQ4_NL: return &kAvx2IQ4_NL;
    case DType::kIQ4_XS: return &kAvx2IQ4_XS;
    default: return nullptr;
  }
}

}  // namespace tessera::kernels::simd

#else  // not x86-64 with GCC/Clang

namespace tessera::kernels::simd {
const TypeKernels* Avx2LowBitKernels(DType) { return nullptr; }
}  // namespace tessera::kernels::simd

#endif
