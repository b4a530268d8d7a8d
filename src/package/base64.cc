#include "package/base64.h"

#include <cstddef>

namespace tessera::package {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of an alphabet character, or -1.
int SextetOf(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// A character for a message: 'c' when printable ASCII, else its hex byte.
std::string Printable(char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  std::string out;
  if (u >= 0x21 && u <= 0x7e) {
    out.push_back('\'');
    out.push_back(c);
    out.push_back('\'');
  } else {
    out = "0x";
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 15]);
  }
  return out;
}

}  // namespace

std::string Base64Encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) |
                            std::uint32_t{bytes[i + 2]};
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out += "=";
  }
  return out;
}

Result<std::vector<std::uint8_t>> Base64Decode(std::string_view text, std::string_view what) {
  auto fail = [&](const std::string& problem) {
    return Malformed("package: " + std::string(what) + ": " + problem);
  };
  if (text.size() % 4 != 0) {
    return fail("base64 length " + std::to_string(text.size()) +
                " is not a multiple of 4 (padding is required)");
  }
  // Padding: at most two "=", only at the end.
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  const std::size_t data_chars = text.size() - padding;
  for (std::size_t i = 0; i < data_chars; ++i) {
    if (SextetOf(text[i]) >= 0) continue;
    if (text[i] == '=') return fail("base64 padding '=' at offset " + std::to_string(i));
    return fail("character " + Printable(text[i]) + " at offset " + std::to_string(i) +
                " is not in the base64 alphabet");
  }

  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3 - padding);
  std::size_t i = 0;
  for (; i + 4 <= data_chars; i += 4) {
    const std::uint32_t v = (static_cast<std::uint32_t>(SextetOf(text[i])) << 18) |
                            (static_cast<std::uint32_t>(SextetOf(text[i + 1])) << 12) |
                            (static_cast<std::uint32_t>(SextetOf(text[i + 2])) << 6) |
                            static_cast<std::uint32_t>(SextetOf(text[i + 3]));
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
  }
  if (padding == 0) return out;
  // The last group: 2 characters and "==" (one byte) or 3 characters and "=" (two bytes).
  std::uint32_t v = 0;
  const std::size_t chars = 4 - padding;
  for (std::size_t k = 0; k < chars; ++k) {
    v |= static_cast<std::uint32_t>(SextetOf(text[i + k])) << (18 - 6 * k);
  }
  const std::uint32_t leftover_mask = padding == 2 ? 0xffffu : 0xffu;
  if ((v & leftover_mask) != 0) {
    return fail("base64 character at offset " + std::to_string(i + chars - 1) +
                " has non-zero bits beyond the data (not the canonical encoding)");
  }
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  if (padding == 1) out.push_back(static_cast<std::uint8_t>(v >> 8));
  return out;
}

}  // namespace tessera::package
