#include "base/printable.h"

#include <cstdio>

#include "base/utf8.h"

namespace tessera::base {
namespace {

// Code points above U+007F that change how a terminal shows what follows them.
bool IsInvisibleControl(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) ||      // C1 controls (CSI, OSC, NEL, …)
         cp == 0x061C ||                    // Arabic letter mark
         cp == 0x200E || cp == 0x200F ||    // left-to-right and right-to-left marks
         (cp >= 0x2028 && cp <= 0x202E) ||  // separators, embeddings, overrides
         (cp >= 0x2066 && cp <= 0x2069);    // isolates
}

void AppendHexByte(std::string& out, unsigned char byte) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02X", byte);
  out += buf;
}

std::string Escape(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp;
    const std::size_t len = DecodeUtf8(text, i, &cp);
    if (len == 0) {
      AppendHexByte(out, static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (cp == '\n') {
      out += keep_newlines ? "\n" : "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x20 || cp == 0x7F) {
      AppendHexByte(out, static_cast<unsigned char>(cp));
    } else if (IsInvisibleControl(cp)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace

std::string Printable(std::string_view text) { return Escape(text, false); }

std::string PrintableLines(std::string_view text) { return Escape(text, true); }

bool IsPrintable(std::string_view text) { return Printable(text) == text; }

}  // namespace tessera::base
