// AVX-512 (F/BW/VL/DQ) dot products of the K-quants Q4_K, Q5_K and Q6_K with a Q8_K activation:
// the integer scheme of the AVX2 kernels (kquant_kernels_avx2.cc) on 512-bit registers, so that
// one maddubs / madd pair covers 64 elements (two sub-blocks of Q4_K / Q5_K, four of Q6_K)
// instead of 32. Where the core executes 512-bit operations at full width (Zen 5, Intel server
// cores) that halves the work of a super-block; where it splits them in two (Zen 4) it still
// halves the instructions issued.
//
// Inside a 256-element super-block everything is exact int32 arithmetic, as in the reference:
//   Q4_K / Q5_K  zmm g holds the levels of elements 64 g .. 64 g + 63 (the low nibbles of
//                qs[32 g ..] then the high ones: the Q8_K element order); maddubs with the
//                activation's 64 bytes, madd with the two sub-blocks' 6-bit scales (one per
//                256-bit half) -> 16 int32 lanes; the mins part as in AVX2 (one madd over the
//                bsums); lanes += d_w d_x * isum - dmin_w d_x * msum (float, FMA).
//   Q6_K         zmm 2 h + p holds elements 128 h + 64 p .. + 63; madd with the four signed
//                16-element sub-block scales (one per 128-bit lane); the -32 offset as
//                -32 * sum(scale[sub] * bsum[sub]).
// Only the float accumulation differs from the reference (16 lanes with FMA). The activation is
// the AVX2 tables' ActQ8_K (the reference's bytes). Each weight super-block is unpacked once per
// tile for its T tokens; vec_dot, vec_dot_rows and vec_dot_tile run the same per-pair sequence,
// so they are bit-identical to one another (tests/kernels/kernels_test.cc).
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
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")

namespace tessera::kernels::simd {
namespace {

using tensor::BlockQ4_K;
using tensor::BlockQ5_K;
using tensor::BlockQ6_K;
using tensor::BlockQ8_K;
using tensor::kQK_K;

constexpr std::int64_t kQ8_KBytes = sizeof(BlockQ8_K);  // 292
constexpr int kMaxRows = 4;                             // rows per vec_dot_rows step

inline __m256i Load32(const std::uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

inline __m512i Load64(const std::uint8_t* p) { return _mm512_loadu_si512(p); }

// The masked forms below only avoid GCC 12's "may be used uninitialized" on the intrinsics
// whose unmasked forms start from an undefined register.

// a in the low 256 bits, b in the high ones.
inline __m512i Join(__m256i a, __m256i b) {
  return _mm512_mask_broadcast_i64x4(_mm512_maskz_broadcast_i64x4(0x0F, a), 0xF0, b);
}

inline __m512 ToFloat(__m512i v) { return _mm512_maskz_cvtepi32_ps(0xFFFF, v); }

// A Q4_K / Q5_K super-block unpacked once for any number of activations.
struct ScaleMinUnpacked {
  __m512i q[4];   // levels 0..31 of elements 64 g .. 64 g + 63
  __m512i sc[4];  // int16: sub-block 2 g's scale in the low half, 2 g + 1's in the high half
  __m128i mn;     // the 8 mins as int16
  float d;
  float dmin;
};

template <bool kFifthBit>
inline void UnpackScaleMin(const std::uint8_t* wb, ScaleMinUnpacked* u) {
  const std::uint8_t* qs = wb + (kFifthBit ? offsetof(BlockQ5_K, qs) : offsetof(BlockQ4_K, qs));
  const __m256i sc_mn = UnpackScalesMins(wb + offsetof(BlockQ4_K, scales));
  u->mn = _mm256_extracti128_si256(sc_mn, 1);
  u->d = LoadHalfF16c(wb + offsetof(BlockQ4_K, d));
  u->dmin = LoadHalfF16c(wb + offsetof(BlockQ4_K, dmin));
  __m512i qh = _mm512_setzero_si512();
  if (kFifthBit) qh = _mm512_maskz_broadcast_i64x4(0xFF, Load32(wb + offsetof(BlockQ5_K, qh)));
  // The 32 bytes of a group in both halves, the high half shifted right by 4, then masked.
  const __m512i shifts = Join(_mm256_setzero_si256(), _mm256_set1_epi16(4));
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  // The 16 scales and mins in every 256-bit half; vpermw picks sub-block 2 g's scale for the
  // low half and 2 g + 1's for the high half.
  const __m512i sc_mn2 = _mm512_maskz_broadcast_i64x4(0xFF, sc_mn);
  for (int g = 0; g < 4; ++g) {
    const __m512i q = _mm512_maskz_broadcast_i64x4(0xFF, Load32(qs + 32 * g));
    __m512i levels = _mm512_and_si512(_mm512_srlv_epi16(q, shifts), low4);
    if (kFifthBit) {
      // Element l of the low half takes bit 2 g of qh[l], of the high half bit 2 g + 1.
      const __m512i bits = Join(_mm256_set1_epi8(static_cast<char>(1 << (2 * g))),
                                _mm256_set1_epi8(static_cast<char>(1 << (2 * g + 1))));
      levels = _mm512_mask_add_epi8(levels, _mm512_test_epi8_mask(qh, bits), levels,
                                    _mm512_set1_epi8(16));
    }
    u->q[g] = levels;
    u->sc[g] =
        _mm512_maskz_permutexvar_epi16(0xFFFFFFFF,
                                       Join(_mm256_set1_epi16(static_cast<short>(2 * g)),
                                            _mm256_set1_epi16(static_cast<short>(2 * g + 1))),
                                       sc_mn2);
  }
}

// acc += d_w d_x * sum(sc * q * x) - dmin_w d_x * sum(mn * x) over one super-block, the sums as
// exact int32 lanes (msum: lanes 4..15 zero).
inline __m512 ScaleMinAccumulate(const ScaleMinUnpacked& u, const std::uint8_t* xb, __m512 acc) {
  const float dx = tensor::LoadF32At(xb + offsetof(BlockQ8_K, d));
  const __m128i msum = _mm_madd_epi16(SubBlockSums(xb + offsetof(BlockQ8_K, bsums)), u.mn);
  __m512i isum = _mm512_setzero_si512();
  for (int g = 0; g < 4; ++g) {
    const __m512i p = _mm512_maddubs_epi16(u.q[g], Load64(xb + offsetof(BlockQ8_K, qs) + 64 * g));
    isum = _mm512_add_epi32(isum, _mm512_madd_epi16(p, u.sc[g]));
  }
  acc = _mm512_fmadd_ps(ToFloat(isum), _mm512_set1_ps(u.d * dx), acc);
  return _mm512_fnmadd_ps(ToFloat(_mm512_maskz_broadcast_i32x4(0x000F, msum)),
                          _mm512_set1_ps(u.dmin * dx), acc);
}

// R rows x T tokens; each super-block of a row is unpacked once for the T tokens.
template <bool kFifthBit, int R, int T>
void ScaleMinTile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                  const std::uint8_t* x, std::size_t x_stride, float* y, std::size_t y_stride) {
  constexpr std::int64_t kWBytes = kFifthBit ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    for (int r = 0; r < R; ++r) {
      ScaleMinUnpacked u;
      UnpackScaleMin<kFifthBit>(w + r * row_bytes + b * kWBytes, &u);
      for (int t = 0; t < T; ++t) {
        acc[r][t] = ScaleMinAccumulate(u, x + t * x_stride + b * kQ8_KBytes, acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = HorizontalSum512(acc[r][t]);
  }
}

template <bool kFifthBit, int R>
void ScaleMinDotRows(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                     const std::uint8_t* x, float* y) {
  ScaleMinTile<kFifthBit, R, 1>(n, w, row_bytes, x, 0, y, 0);
}

// A Q6_K super-block unpacked: the levels (0..63) of elements 128 h + 64 p .. + 63 in q[2 h + p],
// the matching four signed sub-block scales as int16 (one per 128-bit lane) in sc[2 h + p], all
// 16 scales as int16 for the offset, d.
struct Q6Unpacked {
  __m512i q[4];
  __m512i sc[4];
  __m256i sc16;
  float d;
};

// Byte j of the result = byte base + j / 8 of every 128-bit half of v.
inline __m256i SpreadFour(__m256i v, int base) {
  const auto rep = [](int b) { return static_cast<long long>(0x0101010101010101ULL * b); };
  return _mm256_shuffle_epi8(
      v, _mm256_setr_epi64x(rep(base), rep(base + 1), rep(base + 2), rep(base + 3)));
}

inline void UnpackQ6(const std::uint8_t* wb, Q6Unpacked* u) {
  const __m128i scales =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb + offsetof(BlockQ6_K, scales)));
  u->sc16 = _mm256_cvtepi8_epi16(scales);
  const __m256i both = _mm256_broadcastsi128_si256(scales);
  u->d = LoadHalfF16c(wb + offsetof(BlockQ6_K, d));
  for (int h = 0; h < 2; ++h) {
    __m256i q[4];
    UnpackQ6Half(wb + offsetof(BlockQ6_K, ql) + 64 * h, wb + offsetof(BlockQ6_K, qh) + 32 * h, q);
    u->q[2 * h] = Join(q[0], q[1]);
    u->q[2 * h + 1] = Join(q[2], q[3]);
    for (int p = 0; p < 2; ++p) {
      u->sc[2 * h + p] = _mm512_maskz_cvtepi8_epi16(0xFFFFFFFF, SpreadFour(both, 8 * h + 4 * p));
    }
  }
}

// acc += d_w d_x * sum(scale * (q - 32) * x) over one super-block (exact int32 lanes).
inline __m512 Q6Accumulate(const Q6Unpacked& u, const std::uint8_t* xb, __m512 acc) {
  __m512i isum = _mm512_setzero_si512();
  for (int c = 0; c < 4; ++c) {
    const __m512i p = _mm512_maddubs_epi16(u.q[c], Load64(xb + offsetof(BlockQ8_K, qs) + 64 * c));
    isum = _mm512_add_epi32(isum, _mm512_madd_epi16(p, u.sc[c]));
  }
  // The -32 offset: 32 * sum(scale[sub] * bsum[sub]).
  const __m256i offs = _mm256_madd_epi16(Load32(xb + offsetof(BlockQ8_K, bsums)), u.sc16);
  isum = _mm512_sub_epi32(isum, _mm512_maskz_broadcast_i64x4(0x0F, _mm256_slli_epi32(offs, 5)));
  const float dx = tensor::LoadF32At(xb + offsetof(BlockQ8_K, d));
  return _mm512_fmadd_ps(ToFloat(isum), _mm512_set1_ps(u.d * dx), acc);
}

template <int R, int T>
void Q6_KTile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes, const std::uint8_t* x,
              std::size_t x_stride, float* y, std::size_t y_stride) {
  constexpr std::int64_t kWBytes = sizeof(BlockQ6_K);
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    for (int r = 0; r < R; ++r) {
      Q6Unpacked u;
      UnpackQ6(w + r * row_bytes + b * kWBytes, &u);
      for (int t = 0; t < T; ++t) {
        acc[r][t] = Q6Accumulate(u, x + t * x_stride + b * kQ8_KBytes, acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = HorizontalSum512(acc[r][t]);
  }
}

template <int R>
void Q6_KDotRows(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                 const std::uint8_t* x, float* y) {
  Q6_KTile<R, 1>(n, w, row_bytes, x, 0, y, 0);
}

using Q4_KEntry = RowsEntry<kMaxRows, ScaleMinDotRows<false, 1>, ScaleMinDotRows<false, kMaxRows>>;
using Q5_KEntry = RowsEntry<kMaxRows, ScaleMinDotRows<true, 1>, ScaleMinDotRows<true, kMaxRows>>;
using Q6_KEntry = RowsEntry<kMaxRows, Q6_KDotRows<1>, Q6_KDotRows<kMaxRows>>;

// One weight row at a time against 16, then 8, then 4 tokens, then one (RowTileEntry): each
// unpacked super-block serves up to 16 tokens, and short prompts keep most of that reuse.
// Measured against 2 x 8, 4 x 4, 2 x 4, 1 x 8 and 1 x 12 tiles (docs/adr/0008, addendum).

template <bool kFifthBit>
constexpr auto kScaleMinTile =
    RowTileEntry<ScaleMinTile<kFifthBit, 1, 16>, ScaleMinTile<kFifthBit, 1, 8>,
                 ScaleMinTile<kFifthBit, 1, 4>, ScaleMinTile<kFifthBit, 1, 1>>;
constexpr auto kQ6_KTile =
    RowTileEntry<Q6_KTile<1, 16>, Q6_KTile<1, 8>, Q6_KTile<1, 4>, Q6_KTile<1, 1>>;

constexpr TypeKernels kAvx512Q4_K = {DType::kQ4_K,
                                     DType::kQ8_K,
                                     "avx512",
                                     tensor::QuantizeRowQ4_K,
                                     tensor::DequantizeRowQ4_K,
                                     ActQ8_KAvx2,
                                     Q4_KEntry::VecDot,
                                     Q4_KEntry::VecDotRows,
                                     kScaleMinTile<false>};
constexpr TypeKernels kAvx512Q5_K = {DType::kQ5_K,
                                     DType::kQ8_K,
                                     "avx512",
                                     tensor::QuantizeRowQ5_K,
                                     tensor::DequantizeRowQ5_K,
                                     ActQ8_KAvx2,
                                     Q5_KEntry::VecDot,
                                     Q5_KEntry::VecDotRows,
                                     kScaleMinTile<true>};
constexpr TypeKernels kAvx512Q6_K = {DType::kQ6_K,
                                     DType::kQ8_K,
                                     "avx512",
                                     tensor::QuantizeRowQ6_K,
                                     tensor::DequantizeRowQ6_K,
                                     ActQ8_KAvx2,
                                     Q6_KEntry::VecDot,
                                     Q6_KEntry::VecDotRows,
                                     kQ6_KTile};

}  // namespace
}  // namespace tessera::kernels::simd

#pragma GCC pop_options

// Plain x86-64 code from here: the dispatcher calls this on any CPU.
namespace tessera::kernels::simd {

const TypeKernels* Avx512KQuantKernels(DType type) {
  switch (type) {
    case DType::kQ4_K:
      return &kAvx512Q4_K;
    case DType::kQ5_K:
      return &kAvx512Q5_K;
    case DType::kQ6_K:
      return &kAvx512Q6_K;
    default:
      return nullptr;
  }
}

}  // namespace tessera::kernels::simd

#else  // not x86-64 with GCC/Clang

namespace tessera::kernels::simd {
const TypeKernels* Avx512KQuantKernels(DType) { return nullptr; }
}  // namespace tessera::kernels::simd

#endif
