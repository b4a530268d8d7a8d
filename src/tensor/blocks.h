// Quantized block layouts, bit-compatible with ggml's (and so with GGUF files of llama.cpp).
//
// A row of n elements of a blocked type is n / block_size consecutive blocks with no padding;
// blocks are byte-aligned only, so rows inside a mapped file are read byte-wise (memcpy), never
// by casting to these structs; the structs document the layout and pin it with static_asserts.
// Scales named d / m / dmin are IEEE halves stored as raw bits (fp16.h) unless noted.
//
// 32-element blocks ("legacy" quants):
//   Q8_0 (34 bytes): value[j] = qs[j] * d.
//   Q8_1 (36 bytes): as Q8_0, plus s = d * sum(qs) (f16); the activation type of Q4_1 / Q5_1.
//   Q4_0 (18 bytes): qs[j] holds element j in its low nibble and element j + 16 in its high
//        nibble (j < 16); value = (nibble - 8) * d.
//   Q4_1 (20 bytes): nibbles as Q4_0; value = nibble * d + m.
//   Q5_0 (22 bytes): 5-bit q = nibble (as Q4_0) | bit << 4, where bit j of the little-endian
//        32-bit word qh is the fifth bit of element j; value = (q - 16) * d.
//   Q5_1 (24 bytes): q as Q5_0; value = q * d + m.
//
// 256-element super-blocks ("K-quants", QK_K = 256):
//   Q4_K (144 bytes): 8 sub-blocks of 32. scales[12] packs 8 six-bit scales sc[j] and 8 six-bit
//        mins mn[j]: for j < 4, sc[j] = scales[j] & 63, mn[j] = scales[j + 4] & 63; for j >= 4,
//        sc[j] = (scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4,
//        mn[j] = (scales[j + 4] >> 4) | (scales[j] >> 6) << 4.
//        Element 64 * g + l (g < 4, l < 32) is the low nibble of qs[32 * g + l] (sub-block 2g),
//        element 64 * g + 32 + l its high nibble (sub-block 2g + 1).
//        value = d * sc[sub] * q - dmin * mn[sub].
//   Q5_K (176 bytes): as Q4_K with a fifth bit: bit 2g of qh[l] belongs to element 64g + l, bit
//        2g + 1 to element 64g + 32 + l; value = d * sc[sub] * q - dmin * mn[sub], q in [0, 31].
//   Q6_K (210 bytes, d LAST): 16 sub-blocks of 16 with int8 scales. For half h < 2 (128
//        elements; ql advances 64, qh 32 and scales 8 per half) and l < 32, with base = 128 h:
//          element base + l      low nibble of ql[l],      bits 0-1 of qh[l]
//          element base + 32 + l low nibble of ql[32 + l], bits 2-3 of qh[l]
//          element base + 64 + l high nibble of ql[l],     bits 4-5 of qh[l]
//          element base + 96 + l high nibble of ql[32 + l], bits 6-7 of qh[l]
//        q = nibble | two bits << 4 (0..63); value = d * scales[element / 16] * (q - 32).
//   Q8_K (292 bytes, d is a FLOAT): value = qs[j] * d; bsums[k] = sum of qs[16k .. 16k + 15].
//        The activation type of every K-quant (and of IQ4_XS).
//   Q2_K (84 bytes: scales[16], qs[64], d, dmin): 16 sub-blocks of 16; scales[s] holds the
//        sub-block's 4-bit scale (low nibble) and 4-bit min (high nibble). For half h < 2
//        (qs advances 32 per half), k < 4 and l < 32, element 128 h + 32 k + l is bits 2k..2k+1
//        of qs[32 h + l], in sub-block 8 h + 2 k + l / 16.
//        value = d * (scales[s] & 15) * q - dmin * (scales[s] >> 4), q in [0, 3].
//   Q3_K (110 bytes: hmask[32], qs[64], scales[12], d): 16 sub-blocks of 16, elements placed
//        as Q2_K; the third bit of element e is bit e / 32 of hmask[e % 32]. The 16 six-bit
//        scales: low 4 bits of scale s are the low nibble of scales[s] (s < 8) or the high
//        nibble of scales[s - 8] (s >= 8); its high 2 bits are bits 2 (s / 4) .. +1 of
//        scales[8 + s % 4]. value = d * (scale - 32) * (q - (third bit ? 0 : 4)), q in [0, 3].
//
// Non-linear 4-bit types (a 16-entry code book of int8 levels, kIq4Levels):
//   IQ4_NL (18 bytes, 32 elements): d, then nibbles placed as Q4_0;
//        value = d * kIq4Levels[nibble]. Its activation type is Q8_0.
//   IQ4_XS (136 bytes, 256 elements: d, scales_h (u16), scales_l[4], qs[128]): 8 sub-blocks of
//        32 with 6-bit scales: low 4 bits from nibble s % 2 of scales_l[s / 2], high 2 bits from
//        bits 2s..2s+1 of scales_h; sub-block s's nibbles are qs[16 s .. 16 s + 15] placed as
//        Q4_0. value = d * (scale - 32) * kIq4Levels[nibble]. Its activation type is Q8_K.
//
// Thread safety: plain data.
#ifndef TESSERA_TENSOR_BLOCKS_H_
#define TESSERA_TENSOR_BLOCKS_H_

#include <cstddef>
#include <cstdint>

namespace tessera::tensor {

inline constexpr int kQK8_0 = 32;  // elements per Q8_0 block
inline constexpr int kQK4_0 = 32;  // elements per Q4_0 block
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK_K = 256;  // elements per K-quant super-block
inline constexpr int kKScaleBytes = 12;  // packed 6-bit scales and mins of Q4_K / Q5_K

struct BlockQ8_0 {
  std::uint16_t d;  // f16 scale
  std::int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must match ggml's block_q8_0");
static_assert(offsetof(BlockQ8_0, qs) == 2);

struct BlockQ4_0 {
  std::uint16_t d;  // f16 scale
  std::uint8_t qs[kQK4_0 / 2];  // low nibble: element j, high nibble: element j + 16
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must match ggml's block_q4_0");
static_assert(offsetof(BlockQ4_0, qs) == 2);

struct BlockQ8_1 {
  std::uint16_t d;  // f16 scale
  std::uint16_t s;  // f16, d * sum(qs)
  std::int8_t qs[kQK8_1];
};
static_assert(sizeof(BlockQ8_1) == 36, "Q8_1 block must match ggml's block_q8_1");

struct BlockQ4_1 {
  std::uint16_t d;  // f16 scale
  std::uint16_t m;  // f16 minimum
  std::uint8_t qs[kQK4_1 / 2];
};
static_assert(sizeof(BlockQ4_1) == 20, "Q4_1 block must match ggml's block_q4_1");

struct BlockQ5_0 {
  std::uint16_t d;  // f16 scale
  std::uint8_t qh[4];  // fifth bits, a little-endian 32-bit word
  std::uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22, "Q5_0 block must match ggml's block_q5_0");
static_assert(offsetof(BlockQ5_0, qs) == 6);

struct BlockQ5_1 {
  std::uint16_t d;  // f16 scale
  std::uint16_t m;  // f16 minimum
  std::uint8_t qh[4];
  std::uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24, "Q5_1 block must match ggml's block_q5_1");
static_assert(offsetof(BlockQ5_1, qs) == 8);

struct BlockQ4_K {
  std::uint16_t d;     // f16 super-block scale of the 6-bit scales
  std::uint16_t dmin;  // f16 super-block scale of the 6-bit mins
  std::uint8_t scales[kKScaleBytes];
  std::uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144, "Q4_K block must match ggml's block_q4_K");
static_assert(offsetof(BlockQ4_K, qs) == 16);

struct BlockQ5_K {
  std::uint16_t d;
  std::uint16_t dmin;
  std::uint8_t scales[kKScaleBytes];
  std::uint8_t qh[kQK_K / 8];
  std::uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176, "Q5_K block must match ggml's block_q5_K");
static_assert(offsetof(BlockQ5_K, qh) == 16);
static_assert(offsetof(BlockQ5_K, qs) == 48);

struct BlockQ6_K {
  std::uint8_t ql[kQK_K / 2];  // low 4 bits
  std::uint8_t qh[kQK_K / 4];  // high 2 bits
  std::int8_t scales[kQK_K / 16];
  std::uint16_t d;  // f16 super-block scale, at byte 208
};
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block must match ggml's block_q6_K");
static_assert(offsetof(BlockQ6_K, d) == 208);

struct BlockQ8_K {
  float d;  // float32 scale (not f16)
  std::int8_t qs[kQK_K];
  std::int16_t bsums[kQK_K / 16];  // sums of groups of 16 quants
};
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K block must match ggml's block_q8_K");
static_assert(offsetof(BlockQ8_K, bsums) == 260);

struct BlockQ2_K {
  std::uint8_t scales[kQK_K / 16];  // low nibble: scale, high nibble: min
  std::uint8_t qs[kQK_K / 4];
  std::uint16_t d;     // f16 super-block scale of the scales
  std::uint16_t dmin;  // f16 super-block scale of the mins
};
static_assert(sizeof(BlockQ2_K) == 84, "Q2_K block must match ggml's block_q2_K");
static_assert(offsetof(BlockQ2_K, d) == 80);

struct BlockQ3_K {
  std::uint8_t hmask[kQK_K / 8];  // third bits
  std::uint8_t qs[kQK_K / 4];     // low 2 bits
  std::uint8_t scales[12];        // 16 six-bit scales
  std::uint16_t d;                // f16 super-block scale
};
static_assert(sizeof(BlockQ3_K) == 110, "Q3_K block must match ggml's block_q3_K");
static_assert(offsetof(BlockQ3_K, scales) == 96);

inline constexpr int kQK4_NL = 32;
// The IQ4 code book: level of each nibble value.
inline constexpr std::int8_t kIq4Levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                               1,    13,   25,  38,  53,  69,  89,  113};

struct BlockIQ4_NL {
  std::uint16_t d;  // f16 scale
  std::uint8_t qs[kQK4_NL / 2];
};
static_assert(sizeof(BlockIQ4_NL) == 18, "IQ4_NL block must match ggml's block_iq4_nl");

struct BlockIQ4_XS {
  std::uint16_t d;         // f16 super-block scale
  std::uint16_t scales_h;  // high 2 bits of the 8 sub-block scales
  std::uint8_t scales_l[kQK_K / 64];
  std::uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockIQ4_XS) == 136, "IQ4_XS block must match ggml's block_iq4_xs");
static_assert(offsetof(BlockIQ4_XS, qs) == 8);

}  // namespace tessera::tensor

#endif  // TESSERA_TENSOR_BLOCKS_H_
