#include "tokenizer/byte_level.h"

#include <array>

#include "base/utf8.h"

namespace tessera::tokenizer {
namespace {

constexpr bool IsSelfMapped(int byte) {
  return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

// Code points of the alphabet end at U+0100 + 68 - 1.
constexpr std::uint32_t kAlphabetEnd = 0x144;

struct Tables {
  std::array<std::uint16_t, 256> codepoint{};        // byte -> code point
  std::array<std::int16_t, kAlphabetEnd> byte{};     // code point -> byte, -1 if none
};

constexpr Tables MakeTables() {
  Tables t;
  for (auto& b : t.byte) b = -1;
  std::uint16_t next = 0x100;
  for (int b = 0; b < 256; ++b) {
    const std::uint16_t cp = IsSelfMapped(b) ? static_cast<std::uint16_t>(b) : next++;
    t.codepoint[b] = cp;
    t.byte[cp] = static_cast<std::int16_t>(b);
  }
  return t;
}

constexpr Tables kTables = MakeTables();
static_assert(kTables.codepoint[' '] == 0x120 && kTables.codepoint['\n'] == 0x10A);
static_assert(kTables.codepoint[0xAD] == kAlphabetEnd - 1);

}  // namespace

std::uint32_t ByteToCodepoint(std::uint8_t byte) { return kTables.codepoint[byte]; }

int CodepointToByte(std::uint32_t codepoint) {
  return codepoint < kAlphabetEnd ? kTables.byte[codepoint] : -1;
}

void AppendByteLevel(std::string_view bytes, std::string* out) {
  for (char c : bytes) {
    const std::uint32_t cp = kTables.codepoint[static_cast<std::uint8_t>(c)];
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else {  // U+0080..U+07FF: two UTF-8 bytes
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
}

bool AppendBytesFromByteLevel(std::string_view text, std::string* out) {
  bool all_mapped = true;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t len = base::Utf8SequenceLength(lead);
    if (len > text.size() - i) len = text.size() - i;
    int byte = -1;
    if (len == 1) {
      byte = CodepointToByte(lead);
    } else if (len == 2) {
      const auto cont = static_cast<unsigned char>(text[i + 1]);
      if ((cont & 0xC0) == 0x80) {
        byte = CodepointToByte((static_cast<std::uint32_t>(lead & 0x1F) << 6) | (cont & 0x3F));
      }
    }
    if (byte >= 0) {
      out->push_back(static_cast<char>(byte));
    } else {
      out->append(text.substr(i, len));
      all_mapped = false;
    }
    i += len;
  }
  return all_mapped;
}

}  // namespace tessera::tokenizer
