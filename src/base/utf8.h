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

// Length in bytes of the UTF-8 sequence that starts with `lead` (1..4); 1 for a stray byte.
std::size_t Utf8SequenceLength(unsigned char lead);

}  // namespace tessera::base

#endif  // TESSERA_BASE_UTF8_H_
