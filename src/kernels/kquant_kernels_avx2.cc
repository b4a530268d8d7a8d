// AVX2 + FMA + F16C dot products of the K-quants Q4_K, Q5_K and Q6_K with a Q8_K activation
// (layouts in tensor/blocks.h, scalar twins in reference_kquant_kernels.cc); used by the AVX2
// and AVX-512 variants (simd_tables.h).
//
// Inside a 256-element super-block everything is exact int32 arithmetic, as in the reference:
//   Q4_K / Q5_K  maddubs(q (u8, 0..31), x (s8)) pair sums, times the sub-block's 6-bit scale by
//                madd -> int32 lanes; the mins part sum(mn[sub] * bsum) by one madd over the
//                Q8_K bsums; lanes += d_w d_x * isum - dmin_w d_x * msum (float, FMA).
//   Q6_K         maddubs(q (u8, 0..63), x) times the signed sub-block scale by madd; the -32
//                offset as -32 * sum(scale[sub] * bsum[sub]) by one madd over the bsums.
// Only the float accumulation differs from the reference (8 lanes with FMA instead of one float
// per super-block). The activation conversion is the reference QuantizeRowQ8_K's (bytes equal by
// construction; ActQ8_K below gives the same bytes, vectorized). Each weight super-block is
// unpacked (levels, scales) once and then dotted with one activation (vec_dot, vec_dot_rows) or
// four (vec_dot_tile, prefill); all three run the same per-pair sequence, so their results are
// bit-identical.
#include <cstddef>
#include <cstdint>
#include <cstring>

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

// ---- Activation conversion to Q8_K, byte for byte tensor::QuantizeRowQ8_K: the element of
// largest magnitude (the first one on ties, NaN never), iscale = -127 / that element, quants
// nearbyint(iscale * x) (ties to even; NaN -> 0) clamped to [-128, 127], the 16 sums of 16
// quants, d = 1 / iscale.

inline float HorizontalMax(__m256 v) {
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  return _mm_cvtss_f32(m4);
}

inline std::int32_t HorizontalSumI32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

void ActQ8_K(const float* x, void* y, std::int64_t n) {
  auto* out = static_cast<std::uint8_t*>(y);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    std::uint8_t* block = out + b * kQ8_KBytes;
    __m256 am = _mm256_setzero_ps();
    // vmaxps returns its second operand when either is NaN: NaN never becomes the maximum.
    for (int i = 0; i < kQK_K; i += 8) {
      am = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(xb + i)), am);
    }
    const float amax = HorizontalMax(am);
    std::memset(block, 0, kQ8_KBytes);
    if (amax == 0.0f) continue;
    float max = 0.0f;
    const __m256 amax_v = _mm256_set1_ps(amax);
    for (int i = 0; i < kQK_K; i += 8) {
      const int hits = _mm256_movemask_ps(
          _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(xb + i)), amax_v, _CMP_EQ_OQ));
      if (hits != 0) {
        max = xb[i + __builtin_ctz(static_cast<unsigned>(hits))];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 is = _mm256_set1_ps(iscale);
    const __m256 lo = _mm256_set1_ps(-128.0f);
    const __m256 hi = _mm256_set1_ps(127.0f);
    auto* qs = block + offsetof(BlockQ8_K, qs);
    for (int i = 0; i < kQK_K; i += 32) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        const __m256 p = _mm256_mul_ps(is, _mm256_loadu_ps(xb + i + 8 * k));
        __m256 r = _mm256_round_ps(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        r = _mm256_and_ps(r, _mm256_cmp_ps(p, p, _CMP_ORD_Q));  // NaN -> 0
        q[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(r, lo), hi));
      }
      // Sums of elements i .. i + 15 and i + 16 .. i + 31.
      for (int h = 0; h < 2; ++h) {
        const auto sum =
            static_cast<std::int16_t>(HorizontalSumI32(_mm256_add_epi32(q[2 * h], q[2 * h + 1])));
        std::memcpy(block + offsetof(BlockQ8_K, bsums) + 2 * (i / 16 + h), &sum, 2);
      }
      const __m256i p16 =
          _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      const __m256i ordered =
          _mm256_permutevar8x32_epi32(p16, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + i), ordered);
    }
    const float d = 1 / iscale;
    std::memcpy(block + offsetof(BlockQ8_K, d), &d, sizeof(d));
  }
}

// A Q4_K / Q5_K super-block unpacked once for any number of activations: the 256 levels
// (0..31) as eight vectors of 32 u8 (elements 64 g .. 64 g + 31 in lo[g], the next 32 in
// hi[g]), the sub-block scales and mins as int16 (lanes 0..7 scales, 8..15 mins), d and dmin.
struct ScaleMinUnpacked {
  __m256i lo[4];
  __m256i hi[4];
  __m256i sc_mn;
  alignas(32) std::int16_t sc[16];
  float d;
  float dmin;
};

template <bool kFifthBit>
inline void UnpackScaleMin(const std::uint8_t* wb, ScaleMinUnpacked* u) {
  const std::uint8_t* qs = wb + (kFifthBit ? offsetof(BlockQ5_K, qs) : offsetof(BlockQ4_K, qs));
  u->sc_mn = UnpackScalesMins(wb + offsetof(BlockQ4_K, scales));
  _mm256_store_si256(reinterpret_cast<__m256i*>(u->sc), u->sc_mn);
  u->d = LoadHalfF16c(wb + offsetof(BlockQ4_K, d));
  u->dmin = LoadHalfF16c(wb + offsetof(BlockQ4_K, dmin));
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  __m256i qh = _mm256_setzero_si256();
  if (kFifthBit) qh = Load32(wb + offsetof(BlockQ5_K, qh));
  for (int g = 0; g < 4; ++g) {
    const __m256i q = Load32(qs + 32 * g);
    __m256i lo = _mm256_and_si256(q, low4);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
    if (kFifthBit) {
      const __m256i bit_lo = _mm256_set1_epi8(static_cast<char>(1 << (2 * g)));
      const __m256i bit_hi = _mm256_set1_epi8(static_cast<char>(1 << (2 * g + 1)));
      const __m256i sixteen = _mm256_set1_epi8(16);
      lo = _mm256_or_si256(
          lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit_lo), bit_lo), sixteen));
      hi = _mm256_or_si256(
          hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit_hi), bit_hi), sixteen));
    }
    u->lo[g] = lo;
    u->hi[g] = hi;
  }
}

// acc += d_w d_x * sum(sc * q * x) - dmin_w d_x * sum(mn * x) over one super-block, the sums as
// exact int32 lanes (msum: lanes 4..7 zero).
inline __m256 ScaleMinAccumulate(const ScaleMinUnpacked& u, const std::uint8_t* xb, __m256 acc) {
  const float dx = tensor::LoadF32At(xb + offsetof(BlockQ8_K, d));
  const __m128i x_subs = SubBlockSums(xb + offsetof(BlockQ8_K, bsums));
  const __m256i msum =
      _mm256_zextsi128_si256(_mm_madd_epi16(x_subs, _mm256_extracti128_si256(u.sc_mn, 1)));
  __m256i isum = _mm256_setzero_si256();
  for (int g = 0; g < 4; ++g) {
    const std::uint8_t* x = xb + offsetof(BlockQ8_K, qs) + 64 * g;
    const __m256i p_lo = _mm256_maddubs_epi16(u.lo[g], Load32(x));
    const __m256i p_hi = _mm256_maddubs_epi16(u.hi[g], Load32(x + 32));
    isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_lo, _mm256_set1_epi16(u.sc[2 * g])));
    isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_hi, _mm256_set1_epi16(u.sc[2 * g + 1])));
  }
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(u.d * dx), acc);
  return _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(u.dmin * dx), acc);
}

// R rows x T tokens; each super-block of a row is unpacked once for the T tokens.
template <bool kFifthBit, int R, int T>
void ScaleMinTile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                  const std::uint8_t* x, std::size_t x_stride, float* y, std::size_t y_stride) {
  constexpr std::int64_t kWBytes = kFifthBit ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
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
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = HorizontalSum8(acc[r][t]);
  }
}

template <bool kFifthBit, int R>
void ScaleMinDotRows(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                     const std::uint8_t* x, float* y) {
  ScaleMinTile<kFifthBit, R, 1>(n, w, row_bytes, x, 0, y, 0);
}

// A Q6_K super-block unpacked: the 256 levels (0..63) as eight vectors of 32 u8 (q[4 h + k]:
// elements 128 h + 32 k .. + 31), the 16 signed sub-block scales as int16, d.
struct Q6Unpacked {
  __m256i q[8];
  __m256i sc16;
  const std::int8_t* scales;
  float d;
};

inline void UnpackQ6(const std::uint8_t* wb, Q6Unpacked* u) {
  u->scales = reinterpret_cast<const std::int8_t*>(wb + offsetof(BlockQ6_K, scales));
  u->sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(u->scales)));
  u->d = LoadHalfF16c(wb + offsetof(BlockQ6_K, d));
  for (int h = 0; h < 2; ++h) {
    UnpackQ6Half(wb + offsetof(BlockQ6_K, ql) + 64 * h, wb + offsetof(BlockQ6_K, qh) + 32 * h,
                 u->q + 4 * h);
  }
}

// acc += d_w d_x * sum(scale * (q - 32) * x) over one super-block (exact int32 lanes).
inline __m256 Q6Accumulate(const Q6Unpacked& u, const std::uint8_t* xb, __m256 acc) {
  __m256i isum = _mm256_setzero_si256();
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 4; ++k) {
      const int sub = 8 * h + 2 * k;  // elements 0..15 of the chunk: sub, 16..31: sub + 1
      const __m256i p = _mm256_maddubs_epi16(
          u.q[4 * h + k], Load32(xb + offsetof(BlockQ8_K, qs) + 128 * h + 32 * k));
      const __m256i s =
          _mm256_set_m128i(_mm_set1_epi16(u.scales[sub + 1]), _mm_set1_epi16(u.scales[sub]));
      isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, s));
    }
  }
  // The -32 offset: 32 * sum(scale[sub] * bsum[sub]).
  const __m256i offs = _mm256_madd_epi16(Load32(xb + offsetof(BlockQ8_K, bsums)), u.sc16);
  isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(offs, 5));
  const float dx = tensor::LoadF32At(xb + offsetof(BlockQ8_K, d));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(u.d * dx), acc);
}

template <int R, int T>
void Q6_KTile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes, const std::uint8_t* x,
              std::size_t x_stride, float* y, std::size_t y_stride) {
  constexpr std::int64_t kWBytes = sizeof(BlockQ6_K);
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
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
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = HorizontalSum8(acc[r][t]);
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

// Tiles of 2 rows x 4 tokens: each unpacked super-block serves 4 tokens.
constexpr int kTileRows = 2;
constexpr int kTileTokens = 4;
template <bool kFifthBit>
constexpr auto kScaleMinTile =
    TileEntry<kTileRows, kTileTokens, ScaleMinTile<kFifthBit, kTileRows, kTileTokens>,
              ScaleMinTile<kFifthBit, kTileRows, 1>, ScaleMinTile<kFifthBit, 1, kTileTokens>,
              ScaleMinTile<kFifthBit, 1, 1>>;
constexpr auto kQ6_KTile =
    TileEntry<kTileRows, kTileTokens, Q6_KTile<kTileRows, kTileTokens>, Q6_KTile<kTileRows, 1>,
              Q6_KTile<1, kTileTokens>, Q6_KTile<1, 1>>;

constexpr TypeKernels kAvx2Q4_K = {DType::kQ4_K,
                                   DType::kQ8_K,
                                   "avx2",
                                   tensor::QuantizeRowQ4_K,
                                   tensor::DequantizeRowQ4_K,
                                   ActQ8_K,
                                   Q4_KEntry::VecDot,
                                   Q4_KEntry::VecDotRows,
                                   kScaleMinTile<false>};
constexpr TypeKernels kAvx2Q5_K = {DType::kQ5_K,
                                   DType::kQ8_K,
                                   "avx2",
                                   tensor::QuantizeRowQ5_K,
                                   tensor::DequantizeRowQ5_K,
                                   ActQ8_K,
                                   Q5_KEntry::VecDot,
                                   Q5_KEntry::VecDotRows,
                                   kScaleMinTile<true>};
constexpr TypeKernels kAvx2Q6_K = {DType::kQ6_K,
                                   DType::kQ8_K,
                                   "avx2",
                                   tensor::QuantizeRowQ6_K,
                                   tensor::DequantizeRowQ6_K,
                                   ActQ8_K,
                                   Q6_KEntry::VecDot,
                                   Q6_KEntry::VecDotRows,
                                   kQ6_KTile};

}  // namespace
}  // namespace tessera::kernels::simd

#pragma GCC pop_options

// Plain x86-64 code from here: the dispatcher calls this on any CPU.
namespace tessera::kernels::simd {

// The AVX2 Q8_K activation conversion for the AVX-512 K-quant tables (its body needs AVX2: only
// call it through a table the dispatcher chose).
void ActQ8_KAvx2(const float* x, void* y, std::int64_t n) { ActQ8_K(x, y, n); }

const TypeKernels* Avx2KQuantKernels(DType type) {
  switch (type) {
    case DType::kQ4_K:
      return &kAvx2Q4_K;
    case DType::kQ5_K:
      return &kAvx2Q5_K;
    case DType::kQ6_K:
      return &kAvx2Q6_K;
    default:
      return nullptr;
  }
}

}  // namespace tessera::kernels::simd

#else  // not x86-64 with GCC/Clang

namespace tessera::kernels::simd {
const TypeKernels* Avx2KQuantKernels(DType) { return nullptr; }
void ActQ8_KAvx2(const float*, void*, std::int64_t) {}
}  // namespace tessera::kernels::simd

#endif
