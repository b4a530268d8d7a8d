// AVX-512 kernel tables (F/BW/VL/DQ, plus the BF16 sub-table) for F32, F16 and BF16, and the
// dispatch of every type's AVX-512 table (simd_tables.h); Q8_0, Q4_0 and Q5_0 with VNNI live in
// vnni_kernels_avx512.cc.
//
// Numerics are those of kernels_avx2.cc (act_from_float gives the reference's bytes for inputs
// without NaN; dots accumulate per-block or per-element results in float lanes with FMA), with:
//   * BF16 "avx512_bf16": vdpbf16ps multiplies bf16 pairs exactly and adds them into float
//     lanes; it treats bf16 subnormal inputs as zero and flushes subnormal results (DAZ/FTZ),
//     so values below 2^-126 in magnitude do not contribute. The plain "avx512" BF16 table
//     widens to float and has no such limit.
// vec_dot and vec_dot_rows of one table are bit-identical (one template over the row count).
//
// The ISA pragmas follow every #include; the file is compiled with -ffp-contract=off.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/simd_bits.h"
#include "kernels/simd_entry.h"
#include "kernels/simd_tables.h"
#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quantize.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")

namespace tessera::kernels::simd {
namespace {

using tensor::BlockQ8_0;
using tensor::kQK8_0;

constexpr std::int64_t kQ8Bytes = sizeof(BlockQ8_0);  // 34
constexpr int kMaxRows = 4;                           // rows per vec_dot_rows step
constexpr int kFloatTileRows = 4;  // vec_dot_tile shapes: rows x tokens per register tile
constexpr int kFloatTileTokens = 2;

// GCC 12's unmasked forms of several AVX-512 intrinsics start from an "undefined" register
// that -Wuninitialized reports (GCC bug 105593); the zero-masked forms with a full mask are the
// same instructions without that report, so this file uses them.
constexpr __mmask16 kAll16 = 0xFFFF;

// Mask of the first `rem` (0..16) lanes.
inline __mmask16 Mask16(std::int64_t rem) {
  return static_cast<__mmask16>((1u << static_cast<unsigned>(rem)) - 1u);
}

// ---- Float types: 16 lanes; per row two accumulators over 32-element steps, one 16-element
// step, a masked tail, then acc0 + acc1 and a horizontal sum.

struct F32Load {
  static constexpr int kBytes = 4;
  static __m512 Load(const std::uint8_t* p) { return _mm512_loadu_ps(p); }
  static __m512 LoadTail(const std::uint8_t* p, std::int64_t rem) {
    return _mm512_maskz_loadu_ps(Mask16(rem), p);
  }
};
struct F16Load {
  static constexpr int kBytes = 2;
  static __m512 Load(const std::uint8_t* p) {
    return _mm512_maskz_cvtph_ps(kAll16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 LoadTail(const std::uint8_t* p, std::int64_t rem) {
    return _mm512_maskz_cvtph_ps(kAll16, _mm256_maskz_loadu_epi16(Mask16(rem), p));
  }
};
struct Bf16Load {
  static constexpr int kBytes = 2;
  static __m512 Widen(__m256i h) {
    return _mm512_castsi512_ps(
        _mm512_maskz_slli_epi32(kAll16, _mm512_maskz_cvtepu16_epi32(kAll16, h), 16));
  }
  static __m512 Load(const std::uint8_t* p) {
    return Widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 LoadTail(const std::uint8_t* p, std::int64_t rem) {
    return Widen(_mm256_maskz_loadu_epi16(Mask16(rem), p));
  }
};

// R weight rows x T activation rows; every weight and activation vector is loaded (and
// widened) once per step and reused from registers. The rows kernels below are its tiles of
// one token, so vec_dot, vec_dot_rows and vec_dot_tile are bit-identical.
template <typename L, int R, int T>
void FloatTile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes, const std::uint8_t* x,
               std::size_t x_stride, float* y, std::size_t y_stride) {
  __m512 acc0[R][T];
  __m512 acc1[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc0[r][t] = acc1[r][t] = _mm512_setzero_ps();
  }
  std::int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 x0[T];
    __m512 x1[T];
    for (int t = 0; t < T; ++t) {
      x0[t] = L::Load(x + t * x_stride + i * L::kBytes);
      x1[t] = L::Load(x + t * x_stride + (i + 16) * L::kBytes);
    }
    for (int r = 0; r < R; ++r) {
      const __m512 w0 = L::Load(w + r * row_bytes + i * L::kBytes);
      const __m512 w1 = L::Load(w + r * row_bytes + (i + 16) * L::kBytes);
      for (int t = 0; t < T; ++t) {
        acc0[r][t] = _mm512_fmadd_ps(w0, x0[t], acc0[r][t]);
        acc1[r][t] = _mm512_fmadd_ps(w1, x1[t], acc1[r][t]);
      }
    }
  }
  if (i + 16 <= n) {
    for (int r = 0; r < R; ++r) {
      const __m512 w0 = L::Load(w + r * row_bytes + i * L::kBytes);
      for (int t = 0; t < T; ++t) {
        acc0[r][t] = _mm512_fmadd_ps(w0, L::Load(x + t * x_stride + i * L::kBytes), acc0[r][t]);
      }
    }
    i += 16;
  }
  if (i < n) {
    for (int r = 0; r < R; ++r) {
      const __m512 w0 = L::LoadTail(w + r * row_bytes + i * L::kBytes, n - i);
      for (int t = 0; t < T; ++t) {
        acc1[r][t] =
            _mm512_fmadd_ps(w0, L::LoadTail(x + t * x_stride + i * L::kBytes, n - i), acc1[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      y[t * y_stride + r] = HorizontalSum512(_mm512_add_ps(acc0[r][t], acc1[r][t]));
    }
  }
}

// R rows against one activation: the tile of one token (vec_dot, vec_dot_rows).
template <typename L, int R>
void FloatDotRows(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                  const std::uint8_t* x, float* y) {
  FloatTile<L, R, 1>(n, w, row_bytes, x, 0, y, 0);
}

// ---- Activation conversions (same results as kernels_avx2.cc, 16 lanes).

inline __m512 RoundHalfAway(__m512 v) {
  const __m512 t = _mm512_maskz_roundscale_ps(kAll16, v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, t));
  const __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 one = _mm512_or_ps(_mm512_and_ps(v, _mm512_set1_ps(-0.0f)), _mm512_set1_ps(1.0f));
  return _mm512_mask_add_ps(t, up, t, one);
}

// As kernels_avx2.cc: NaN -> 0, then clamp to [-128, 127] (the reference's saturation).
inline __m512 ClampQ8(__m512 v) {
  const __mmask16 ordered = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
  return _mm512_maskz_min_ps(kAll16, _mm512_maskz_max_ps(ordered, v, _mm512_set1_ps(-128.0f)),
                             _mm512_set1_ps(127.0f));
}

void ActQ8_0(const float* x, void* y, std::int64_t n) {
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    std::uint8_t* block = out + b * kQ8Bytes;
    const __m512 v0 = _mm512_loadu_ps(xb);
    const __m512 v1 = _mm512_loadu_ps(xb + 16);
    const __m512 m16 = _mm512_maskz_max_ps(kAll16, _mm512_abs_ps(v0), _mm512_abs_ps(v1));
    const __m256 m8 = _mm256_max_ps(_mm512_maskz_extractf32x8_ps(0xFF, m16, 0),
                                    _mm512_maskz_extractf32x8_ps(0xFF, m16, 1));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const std::uint16_t dh = tensor::FloatToHalf(d);
    std::memcpy(block, &dh, sizeof(dh));
    const __m512 idv = _mm512_set1_ps(id);
    const __m512i q0 =
        _mm512_maskz_cvtps_epi32(kAll16, RoundHalfAway(ClampQ8(_mm512_mul_ps(v0, idv))));
    const __m512i q1 =
        _mm512_maskz_cvtps_epi32(kAll16, RoundHalfAway(ClampQ8(_mm512_mul_ps(v1, idv))));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(block + 2),
                     _mm512_maskz_cvtsepi32_epi8(kAll16, q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(block + 18),
                     _mm512_maskz_cvtsepi32_epi8(kAll16, q1));
  }
}

void ActF16(const float* x, void* y, std::int64_t n) {
  auto* out = static_cast<std::uint8_t*>(y);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h =
        _mm512_maskz_cvtps_ph(kAll16, _mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i), h);
  }
  if (i < n) {
    const __mmask16 m = Mask16(n - i);
    const __m256i h =
        _mm512_maskz_cvtps_ph(kAll16, _mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_mask_storeu_epi16(out + 2 * i, m, h);
  }
}

inline __m256i Bf16FromFloat(__m512 v) {
  const __m512i bits = _mm512_castps_si512(v);
  const __m512i lsb =
      _mm512_and_si512(_mm512_maskz_srli_epi32(kAll16, bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_maskz_srli_epi32(
      kAll16, _mm512_add_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(0x7FFF)), lsb), 16);
  const __m512i quiet =
      _mm512_or_si512(_mm512_maskz_srli_epi32(kAll16, bits, 16), _mm512_set1_epi32(0x40));
  const __mmask16 is_nan = _mm512_cmpgt_epi32_mask(
      _mm512_and_si512(bits, _mm512_set1_epi32(0x7FFFFFFF)), _mm512_set1_epi32(0x7F800000));
  return _mm512_maskz_cvtepi32_epi16(kAll16, _mm512_mask_blend_epi32(is_nan, rounded, quiet));
}

void ActBf16(const float* x, void* y, std::int64_t n) {
  auto* out = static_cast<std::uint8_t*>(y);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i),
                        Bf16FromFloat(_mm512_loadu_ps(x + i)));
  }
  if (i < n) {
    const __mmask16 m = Mask16(n - i);
    _mm256_mask_storeu_epi16(out + 2 * i, m, Bf16FromFloat(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

}  // namespace
}  // namespace tessera::kernels::simd

#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")

namespace tessera::kernels::simd {
namespace {

// ---- BF16 x BF16 with vdpbf16ps: 32 pairs per instruction into 16 float lanes. Steps of 64
// elements (two accumulators), one of 32, then a masked tail.
inline __m512bh AsBf16(__m512i v) { return reinterpret_cast<__m512bh&>(v); }

template <int R>
void Bf16DotRowsDp(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                   const std::uint8_t* x, float* y) {
  __m512 acc0[R];
  __m512 acc1[R];
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  std::int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i x0 = _mm512_loadu_si512(x + 2 * i);
    const __m512i x1 = _mm512_loadu_si512(x + 2 * (i + 32));
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wr = w + r * row_bytes;
      acc0[r] = _mm512_dpbf16_ps(acc0[r], AsBf16(_mm512_loadu_si512(wr + 2 * i)), AsBf16(x0));
      acc1[r] =
          _mm512_dpbf16_ps(acc1[r], AsBf16(_mm512_loadu_si512(wr + 2 * (i + 32))), AsBf16(x1));
    }
  }
  if (i + 32 <= n) {
    const __m512i x0 = _mm512_loadu_si512(x + 2 * i);
    for (int r = 0; r < R; ++r) {
      acc0[r] = _mm512_dpbf16_ps(acc0[r], AsBf16(_mm512_loadu_si512(w + r * row_bytes + 2 * i)),
                                 AsBf16(x0));
    }
    i += 32;
  }
  if (i < n) {
    const auto m = static_cast<__mmask32>((std::uint64_t{1} << (n - i)) - 1u);
    const __m512i x0 = _mm512_maskz_loadu_epi16(m, x + 2 * i);
    for (int r = 0; r < R; ++r) {
      acc1[r] = _mm512_dpbf16_ps(
          acc1[r], AsBf16(_mm512_maskz_loadu_epi16(m, w + r * row_bytes + 2 * i)), AsBf16(x0));
    }
  }
  for (int r = 0; r < R; ++r) y[r] = HorizontalSum512(_mm512_add_ps(acc0[r], acc1[r]));
}

using F32Entry = RowsEntry<kMaxRows, FloatDotRows<F32Load, 1>, FloatDotRows<F32Load, kMaxRows>>;
using F16Entry = RowsEntry<kMaxRows, FloatDotRows<F16Load, 1>, FloatDotRows<F16Load, kMaxRows>>;
using Bf16Entry = RowsEntry<kMaxRows, FloatDotRows<Bf16Load, 1>, FloatDotRows<Bf16Load, kMaxRows>>;
using Bf16DpEntry = RowsEntry<kMaxRows, Bf16DotRowsDp<1>, Bf16DotRowsDp<kMaxRows>>;

// Tile shapes (rows x tokens), chosen with bench/kernels_bench.cc's BM_MatMul.
template <typename L>
constexpr auto kFloatTile =
    TileEntry<kFloatTileRows, kFloatTileTokens, FloatTile<L, kFloatTileRows, kFloatTileTokens>,
              FloatTile<L, kFloatTileRows, 1>, FloatTile<L, 1, kFloatTileTokens>,
              FloatTile<L, 1, 1>>;
constexpr TypeKernels kAvx512F32 = {DType::kF32,
                                    DType::kF32,
                                    "avx512",
                                    tensor::QuantizeRowF32,
                                    tensor::DequantizeRowF32,
                                    tensor::QuantizeRowF32,
                                    F32Entry::VecDot,
                                    F32Entry::VecDotRows,
                                    kFloatTile<F32Load>};
constexpr TypeKernels kAvx512F16 = {DType::kF16,
                                    DType::kF16,
                                    "avx512",
                                    ActF16,
                                    tensor::DequantizeRowF16,
                                    ActF16,
                                    F16Entry::VecDot,
                                    F16Entry::VecDotRows,
                                    kFloatTile<F16Load>};
constexpr TypeKernels kAvx512Bf16 = {
    DType::kBF16,      DType::kBF16,         "avx512", ActBf16, tensor::DequantizeRowBf16, ActBf16,
    Bf16Entry::VecDot, Bf16Entry::VecDotRows};
constexpr TypeKernels kAvx512Bf16Dp = {
    DType::kBF16, DType::kBF16,        "avx512_bf16",          ActBf16, tensor::DequantizeRowBf16,
    ActBf16,      Bf16DpEntry::VecDot, Bf16DpEntry::VecDotRows};
}  // namespace
}  // namespace tessera::kernels::simd

#pragma GCC pop_options

// Plain x86-64 code from here: the dispatcher calls this on any CPU.
namespace tessera::kernels::simd {

// The AVX-512 Q8_0 activation conversion for the VNNI tables of other files (its body needs
// AVX-512 F/BW/VL/DQ: only call it through a table the dispatcher chose).
void ActQ8_0Avx512(const float* x, void* y, std::int64_t n) { ActQ8_0(x, y, n); }

const TypeKernels* Avx512Kernels(DType type, bool use_vnni, bool use_bf16) {
  switch (type) {
    case DType::kF32:
      return &kAvx512F32;
    case DType::kF16:
      return &kAvx512F16;
    case DType::kBF16:
      return use_bf16 ? &kAvx512Bf16Dp : &kAvx512Bf16;
    case DType::kQ8_0:
    case DType::kQ4_0:
    case DType::kQ5_0:
      return use_vnni ? Avx512VnniKernels(type) : Avx2Kernels(type);
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return Avx512KQuantKernels(type);
    default:
      return Avx2Kernels(type);
  }
}

}  // namespace tessera::kernels::simd

#else  // not x86-64 with GCC/Clang

namespace tessera::kernels::simd {
const TypeKernels* Avx512Kernels(DType, bool, bool) { return nullptr; }
void ActQ8_0Avx512(const float*, void*, std::int64_t) {}
}  // namespace tessera::kernels::simd

#endif
