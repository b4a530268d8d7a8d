#include "block_decoder.h"

#include <cmath>
#include <cstring>
#include <string>

namespace tessera::model::testing {
namespace {

// IEEE binary16 to double, by its fields.
double Half(const std::uint8_t* p) {
  const unsigned bits = static_cast<unsigned>(p[0]) | (static_cast<unsigned>(p[1]) << 8);
  const int sign = (bits >> 15) ? -1 : 1;
  const int exponent = (bits >> 10) & 0x1F;
  const int mantissa = bits & 0x3FF;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);  // zero and subnormals
  if (exponent == 31) return mantissa ? NAN : sign * INFINITY;
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

double F32(const std::uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

double Bf16(const std::uint8_t* p) {
  const std::uint8_t bytes[4] = {0, 0, p[0], p[1]};
  return F32(bytes);
}

// Q4_K / Q5_K: the 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes: sub-blocks
// 0-3 keep theirs in the low 6 bits of bytes j and j + 4; sub-blocks 4-7 take 4 low bits from
// byte j + 4 (scale: low nibble, min: high nibble) and 2 high bits from the top of bytes j - 4
// (scale) and j (min).
void ScaleMin(const std::uint8_t* s, int j, int* scale, int* min) {
  if (j < 4) {
    *scale = s[j] & 63;
    *min = s[j + 4] & 63;
  } else {
    *scale = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// IQ4_NL / IQ4_XS levels (the code book of the format).
constexpr int kCodeBook[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                               1,    13,   25,  38,  53,  69,  89,  113};

struct Layout {
  int elements;  // per block
  int bytes;     // per block
};

bool LayoutOf(std::uint32_t type, Layout* l) {
  switch (type) {
    case 0:
      *l = {1, 4};
      return true;
    case 1:
      *l = {1, 2};
      return true;
    case 30:
      *l = {1, 2};
      return true;
    case 2:
      *l = {32, 2 + 16};
      return true;  // d, 32 nibbles
    case 3:
      *l = {32, 2 + 2 + 16};
      return true;  // d, m, 32 nibbles
    case 6:
      *l = {32, 2 + 4 + 16};
      return true;  // d, 32 high bits, 32 nibbles
    case 7:
      *l = {32, 2 + 2 + 4 + 16};
      return true;  // d, m, high bits, nibbles
    case 8:
      *l = {32, 2 + 32};
      return true;  // d, 32 int8
    case 12:
      *l = {256, 2 + 2 + 12 + 128};
      return true;  // d, dmin, scales, nibbles
    case 13:
      *l = {256, 2 + 2 + 12 + 32 + 128};
      return true;  // + 256 high bits
    case 14:
      *l = {256, 128 + 64 + 16 + 2};
      return true;  // low 4, high 2, int8 scales, d
    case 10:
      *l = {256, 16 + 64 + 2 + 2};
      return true;  // scale|min nibbles, 2 bits, d, dmin
    case 11:
      *l = {256, 32 + 64 + 12 + 2};
      return true;  // third bits, 2 bits, scales, d
    case 20:
      *l = {32, 2 + 16};
      return true;  // d, code-book nibbles
    case 23:
      *l = {256, 2 + 2 + 4 + 128};
      return true;  // d, scale highs, scale lows, nibbles
    default:
      return false;
  }
}

void DecodeBlock(std::uint32_t type, const std::uint8_t* b, double* y) {
  switch (type) {
    case 0:
      y[0] = F32(b);
      return;
    case 1:
      y[0] = Half(b);
      return;
    case 30:
      y[0] = Bf16(b);
      return;
    case 2: {
      const double d = Half(b);
      for (int i = 0; i < 16; ++i) {
        y[i] = d * ((b[2 + i] & 0x0F) - 8);
        y[i + 16] = d * ((b[2 + i] >> 4) - 8);
      }
      return;
    }
    case 3: {
      const double d = Half(b), m = Half(b + 2);
      for (int i = 0; i < 16; ++i) {
        y[i] = d * (b[4 + i] & 0x0F) + m;
        y[i + 16] = d * (b[4 + i] >> 4) + m;
      }
      return;
    }
    case 6:
    case 7: {
      const bool has_min = type == 7;
      const double d = Half(b), m = has_min ? Half(b + 2) : 0.0;
      const std::uint8_t* high = b + (has_min ? 4 : 2);
      const std::uint8_t* q = high + 4;
      std::uint32_t h = 0;
      for (int k = 0; k < 4; ++k) h |= static_cast<std::uint32_t>(high[k]) << (8 * k);
      const int offset = has_min ? 0 : 16;
      for (int i = 0; i < 16; ++i) {
        const int lo = (q[i] & 0x0F) | (((h >> i) & 1) << 4);       // element i: bit i
        const int hi = (q[i] >> 4) | (((h >> (i + 16)) & 1) << 4);  // element i + 16: bit i + 16
        y[i] = d * (lo - offset) + m;
        y[i + 16] = d * (hi - offset) + m;
      }
      return;
    }
    case 8: {
      const double d = Half(b);
      for (int i = 0; i < 32; ++i) y[i] = d * static_cast<std::int8_t>(b[2 + i]);
      return;
    }
    case 12:
    case 13: {
      const bool five = type == 13;
      const double d = Half(b), dmin = Half(b + 2);
      const std::uint8_t* scales = b + 4;
      const std::uint8_t* high = b + 16;  // Q5_K only
      const std::uint8_t* q = b + 16 + (five ? 32 : 0);
      // Four chunks of 64: 32 bytes each; low nibbles are sub-block 2c, high nibbles 2c + 1.
      for (int c = 0; c < 4; ++c) {
        for (int half = 0; half < 2; ++half) {
          int sc, mn;
          ScaleMin(scales, 2 * c + half, &sc, &mn);
          for (int i = 0; i < 32; ++i) {
            int v = half == 0 ? (q[32 * c + i] & 0x0F) : (q[32 * c + i] >> 4);
            if (five && ((high[i] >> (2 * c + half)) & 1)) v += 16;
            y[64 * c + 32 * half + i] = d * sc * v - dmin * mn;
          }
        }
      }
      return;
    }
    case 14: {
      const std::uint8_t* low = b;
      const std::uint8_t* high = b + 128;
      const auto* scales = reinterpret_cast<const std::int8_t*>(b + 192);
      const double d = Half(b + 208);
      // Two halves of 128; in each, element 32 * k + i (k = 0..3, i = 0..31) takes its low 4
      // bits from low[64h + i + 32 (k & 1)] (low nibble for k < 2, high for k >= 2) and its high
      // 2 bits from high[32h + i] at bit 2k; its scale is scales[8h + 2k + i / 16].
      for (int h = 0; h < 2; ++h) {
        for (int k = 0; k < 4; ++k) {
          for (int i = 0; i < 32; ++i) {
            const std::uint8_t l = low[64 * h + i + 32 * (k & 1)];
            const int lo4 = k < 2 ? (l & 0x0F) : (l >> 4);
            const int hi2 = (high[32 * h + i] >> (2 * k)) & 3;
            const int q = (lo4 | (hi2 << 4)) - 32;
            y[128 * h + 32 * k + i] = d * scales[8 * h + 2 * k + i / 16] * q;
          }
        }
      }
      return;
    }
    case 10:
    case 11: {
      // 16 sub-blocks of 16. Element 128 h + 32 k + 16 g + i: two bits at 2k of byte
      // 32 h + 16 g + i of the quants; its sub-block is 8 h + 2 k + g.
      const bool three = type == 11;
      const std::uint8_t* q = b + (three ? 32 : 16);
      for (int h = 0; h < 2; ++h) {
        for (int k = 0; k < 4; ++k) {
          for (int g = 0; g < 2; ++g) {
            const int s = 8 * h + 2 * k + g;
            for (int i = 0; i < 16; ++i) {
              const int e = 128 * h + 32 * k + 16 * g + i;
              int v = (q[32 * h + 16 * g + i] >> (2 * k)) & 3;
              if (three) {
                // Third bit: bit e / 32 of byte e % 32 of the first 32 bytes; clear means -4.
                if (((b[e % 32] >> (e / 32)) & 1) == 0) v -= 4;
                // Six-bit scale s: low nibble of scale byte s (s < 8) or high nibble of byte
                // s - 8; two high bits at 2 (s / 4) of scale byte 8 + s % 4.
                const std::uint8_t* sc = b + 96;
                const int lo = s < 8 ? (sc[s] & 0x0F) : (sc[s - 8] >> 4);
                const int hi = (sc[8 + s % 4] >> (2 * (s / 4))) & 3;
                y[e] = Half(b + 108) * ((lo | (hi << 4)) - 32) * v;
              } else {
                const double d = Half(b + 80), dmin = Half(b + 82);
                y[e] = d * (b[s] & 0x0F) * v - dmin * (b[s] >> 4);
              }
            }
          }
        }
      }
      return;
    }
    case 20: {
      const double d = Half(b);
      for (int i = 0; i < 16; ++i) {
        y[i] = d * kCodeBook[b[2 + i] & 0x0F];
        y[i + 16] = d * kCodeBook[b[2 + i] >> 4];
      }
      return;
    }
    case 23: {
      const double d = Half(b);
      const unsigned high = static_cast<unsigned>(b[2]) | (static_cast<unsigned>(b[3]) << 8);
      for (int s = 0; s < 8; ++s) {
        const int low = (b[4 + s / 2] >> (4 * (s % 2))) & 0x0F;
        const int scale = (low | (((high >> (2 * s)) & 3) << 4)) - 32;
        const std::uint8_t* q = b + 8 + 16 * s;
        for (int i = 0; i < 16; ++i) {
          y[32 * s + i] = d * scale * kCodeBook[q[i] & 0x0F];
          y[32 * s + i + 16] = d * scale * kCodeBook[q[i] >> 4];
        }
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace

Result<std::vector<double>> DecodeBlocks(std::uint32_t ggml_type,
                                         std::span<const std::uint8_t> data, std::int64_t n) {
  Layout l;
  if (!LayoutOf(ggml_type, &l)) {
    return Status(StatusCode::kUnsupported,
                  "block decoder: ggml type " + std::to_string(ggml_type) + " is not decoded");
  }
  if (n < 0 || n % l.elements != 0) {
    return Status(StatusCode::kOutOfRange, "block decoder: " + std::to_string(n) +
                                               " elements is not a whole number of blocks");
  }
  const std::int64_t blocks = n / l.elements;
  if (static_cast<std::int64_t>(data.size()) < blocks * l.bytes) {
    return Status(StatusCode::kOutOfRange, "block decoder: data too short");
  }
  std::vector<double> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < blocks; ++i) {
    DecodeBlock(ggml_type, data.data() + i * l.bytes, out.data() + i * l.elements);
  }
  return out;
}

}  // namespace tessera::model::testing
