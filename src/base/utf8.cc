#include "base/utf8.h"

#include <string>

namespace tessera::base {

std::size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

std::size_t DecodeUtf8(std::string_view text, std::size_t at, char32_t* cp) {
  const unsigned char c = static_cast<unsigned char>(text[at]);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  std::size_t len;
  char32_t value;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    value = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    value = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    value = c & 0x07;
  } else {
    return 0;
  }
  if (at + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char cc = static_cast<unsigned char>(text[at + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    value = (value << 6) | (cc & 0x3F);
  }
  if ((len == 3 && value < 0x800) || (len == 4 && (value < 0x10000 || value > 0x10FFFF)) ||
      (value >= 0xD800 && value <= 0xDFFF)) {
    return 0;
  }
  *cp = value;
  return len;
}

Status ValidateUtf8(std::string_view text) {
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    char32_t cp;
    const std::size_t len = DecodeUtf8(text, i, &cp);
    if (len == 0) {
      return Status(StatusCode::kInvalidUtf8,
                    "invalid UTF-8 at byte " + std::to_string(i) + " of " + std::to_string(n));
    }
    i += len;
  }
  return Status::Ok();
}

}  // namespace tessera::base
