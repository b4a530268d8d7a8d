// ASCII text helpers shared by the layers that read people's text (policies, requests, trust
// policies, type names): case folding and trimming that leave every non-ASCII byte as it is.
//
// Thread safety: pure functions.
#ifndef TESSERA_BASE_ASCII_H_
#define TESSERA_BASE_ASCII_H_

#include <string>
#include <string_view>

namespace tessera::base {

inline char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `s` with A-Z lower-cased; other bytes (UTF-8 included) unchanged.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

inline bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// `s` without the ASCII white space (space, \t, \n, \v, \f, \r) at its ends.
inline std::string_view TrimAsciiSpace(std::string_view s) {
  const std::size_t a = s.find_first_not_of(" \t\n\v\f\r");
  if (a == std::string_view::npos) return {};
  return s.substr(a, s.find_last_not_of(" \t\n\v\f\r") - a + 1);
}

}  // namespace tessera::base

#endif  // TESSERA_BASE_ASCII_H_
