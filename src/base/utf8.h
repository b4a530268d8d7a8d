// UTF-8 helpers shared by the tokenizer, the engine and the CLI.
#ifndef TESSERA_BASE_UTF8_H_
#define TESSERA_BASE_UTF8_H_

#include <cstddef>
#include <string_view>

#include "tessera/status.h"

namespace tessera::base {

// OK if `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF);
// otherwise kInvalidUtf8 naming the byte offset of the first bad sequence.
Status ValidateUtf8(std::string_view text);

// Decodes the well-formed sequence at `at` (< text.size()) into *cp and returns its length
// (1..4), or returns 0 when the bytes there are not one (stray, truncated, overlong, surrogate,
// above U+10FFFF).
std::size_t DecodeUtf8(std::string_view text, std::size_t at, char32_t* cp);

// Length in bytes of the UTF-8 sequence that starts with `lead` (1..4); 1 for a stray byte.
std::size_t Utf8SequenceLength(unsigned char lead);

}  // namespace tessera::base

#endif  // TESSERA_BASE_UTF8_H_
