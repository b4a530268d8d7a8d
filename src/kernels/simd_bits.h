// Internal: small x86 helpers shared by the SIMD kernel files: horizontal sums, f16 scale
// loads, the unpacking of 4- and 5-bit quants and of the K-quants' scales.
//
// Each function carries the smallest target attribute it needs (avx, f16c or avx2), so it can
// be inlined into kernels compiled for that set or any superset (AVX2, AVX-512) while the
// header stays includable from generic code. Only call them from functions that themselves
// require those instructions.
#ifndef TESSERA_KERNELS_SIMD_BITS_H_
#define TESSERA_KERNELS_SIMD_BITS_H_

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

namespace tessera::kernels::simd {

// The sum of the 8 float lanes of v (pairs of halves, then pairs, then the last two).
__attribute__((target("avx"), always_inline)) inline float HorizontalSum8(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  const __m128 s1 = _mm_add_ss(s2, _mm_movehdup_ps(s2));
  return _mm_cvtss_f32(s1);
}

// The sum of the 16 float lanes of v: the two 256-bit halves added, then HorizontalSum8 (the
// zero-masked extracts avoid GCC 12's -Wuninitialized report on the unmasked ones).
__attribute__((target("avx,avx512f,avx512dq"), always_inline)) inline float HorizontalSum512(
    __m512 v) {
  return HorizontalSum8(_mm256_add_ps(_mm512_maskz_extractf32x8_ps(0xFF, v, 0),
                                      _mm512_maskz_extractf32x8_ps(0xFF, v, 1)));
}

// The f16 at p (any alignment) as a float.
__attribute__((target("f16c"), always_inline)) inline float LoadHalfF16c(const std::uint8_t* p) {
  std::uint16_t h;
  std::memcpy(&h, p, sizeof(h));
  return _cvtsh_ss(h);
}

// The f16 at p widened to float in all 8 lanes (vpbroadcastw + vcvtph2ps: no scalar round trip).
__attribute__((target("avx2,f16c"), always_inline)) inline __m256 BroadcastHalf8(
    const std::uint8_t* p) {
  std::uint16_t h;
  std::memcpy(&h, p, sizeof(h));
  return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(h)));
}

// The 32 nibbles of qs (16 bytes) as bytes in element order: low nibbles are elements 0..15,
// high nibbles 16..31 (ggml's Q4_0/Q4_1/Q5_0/Q5_1 order).
__attribute__((target("avx2"), always_inline)) inline __m256i ExpandNibbles32(
    const std::uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// ExpandNibbles32 in three instructions with AVX-512 BW/VL: the 16 bytes broadcast to both
// halves, the high half shifted right by 4 (per-lane variable shift), then masked.
__attribute__((target("avx2,avx512f,avx512bw,avx512vl"), always_inline)) inline __m256i
ExpandNibbles32Bw(const std::uint8_t* qs) {
  const __m256i both =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  const __m256i shifts = _mm256_setr_epi16(0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4);
  return _mm256_and_si256(_mm256_srlv_epi16(both, shifts), _mm256_set1_epi8(0x0F));
}

// 0x10 in byte i where bit i of the little-endian 32-bit word at qh is set, else 0 (the fifth
// bit of element i of a Q5_0/Q5_1 block).
__attribute__((target("avx2"), always_inline)) inline __m256i FifthBits32(const std::uint8_t* qh) {
  std::uint32_t word;
  std::memcpy(&word, qh, sizeof(word));
  // Byte i takes byte i / 8 of the word (the shuffle works within 128-bit halves, and every
  // 4-byte group of the broadcast holds the whole word).
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(word)),
                          _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                             0x0202020202020202, 0x0303030303030303));
  // Byte i ORed with every bit but i % 8 is all ones exactly when bit i % 8 is set.
  const __m256i others = _mm256_set1_epi64x(0x7FBFDFEFF7FBFDFE);
  const __m256i set = _mm256_cmpeq_epi8(_mm256_or_si256(spread, others), _mm256_set1_epi8(-1));
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// The 8 six-bit scales and 8 mins of a Q4_K / Q5_K super-block (12 packed bytes) as int16:
// lanes 0..7 the scales, 8..15 the mins. With the bytes read as little-endian words s0, s1, s2:
// scales 0..3 = s0 & 0x3F.., mins 0..3 = s1 & 0x3F.., scales 4..7 = low nibbles of s2 | the top
// two bits of s0's bytes << 4, mins 4..7 = high nibbles of s2 | the top two bits of s1's << 4
// (the same unpacking as tensor::ScaleMinK4, four sub-blocks at a time).
__attribute__((target("avx2"), always_inline)) inline __m256i UnpackScalesMins(
    const std::uint8_t* packed) {
  std::uint32_t s[3];
  std::memcpy(s, packed, sizeof(s));
  const std::uint32_t k6 = 0x3F3F3F3Fu, k4 = 0x0F0F0F0Fu, k2 = 0x03030303u;
  const std::uint32_t sc_lo = s[0] & k6;
  const std::uint32_t sc_hi = (s[2] & k4) | (((s[0] >> 6) & k2) << 4);
  const std::uint32_t mn_lo = s[1] & k6;
  const std::uint32_t mn_hi = ((s[2] >> 4) & k4) | (((s[1] >> 6) & k2) << 4);
  const __m128i bytes = _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi),
                                       static_cast<int>(mn_lo), static_cast<int>(mn_hi));
  return _mm256_cvtepu8_epi16(bytes);
}

// Per-sub-block sums of a Q8_K super-block's quants (8 x int16, each |sum| <= 32 * 128), from
// its 16 bsums (the 32 bytes at `bsums`).
__attribute__((target("avx2"), always_inline)) inline __m128i SubBlockSums(
    const std::uint8_t* bsums) {
  const __m256i pairs = _mm256_madd_epi16(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums)), _mm256_set1_epi16(1));
  return _mm_packs_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
}

// The levels (0..63) of one half of a Q6_K super-block, elements 128 h .. 128 h + 127, from its
// 64 low-bit bytes `ql` and 32 high-bit bytes `qh`: q[k] holds elements 128 h + 32 k .. + 31.
__attribute__((target("avx2"), always_inline)) inline void UnpackQ6Half(const std::uint8_t* ql,
                                                                        const std::uint8_t* qh,
                                                                        __m256i q[4]) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i two_bits = _mm256_set1_epi8(0x30);
  const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
  const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
  q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4),
                         _mm256_and_si256(_mm256_slli_epi16(h, 4), two_bits));
  q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                         _mm256_and_si256(_mm256_slli_epi16(h, 2), two_bits));
  q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                         _mm256_and_si256(h, two_bits));
  q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                         _mm256_and_si256(_mm256_srli_epi16(h, 2), two_bits));
}

}  // namespace tessera::kernels::simd

#endif  // x86-64 with GCC/Clang

#endif  // TESSERA_KERNELS_SIMD_BITS_H_
