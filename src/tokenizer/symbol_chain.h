// The symbol chain both merge-based tokenizers (SentencePiece-style and byte-level BPE) work on:
// the text split into UTF-8 characters, linked as a doubly linked list in a vector, so that a
// merge only grows the left symbol and unlinks the right one.
//
// Internal to the tokenizer layer. Thread safety: plain data, owned by one encoding session.
#ifndef TESSERA_TOKENIZER_SYMBOL_CHAIN_H_
#define TESSERA_TOKENIZER_SYMBOL_CHAIN_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/utf8.h"

namespace tessera::tokenizer {

struct Symbol {
  std::int32_t prev;    // index of the left neighbour, -1 for the first
  std::int32_t next;    // index of the right neighbour, -1 for the last
  std::uint32_t start;  // byte offset into the text
  std::uint32_t n;      // bytes; 0 once merged into its left neighbour
};

// Replaces `symbols` by one symbol per UTF-8 character of `text` (a truncated sequence at the
// end becomes one short symbol). `text` must be shorter than 2^32 bytes.
inline void SplitIntoSymbols(std::string_view text, std::vector<Symbol>& symbols) {
  symbols.clear();
  const auto size = static_cast<std::uint32_t>(text.size());
  for (std::uint32_t offset = 0; offset < size;) {
    const auto len = static_cast<std::uint32_t>(std::min<std::size_t>(
        base::Utf8SequenceLength(static_cast<unsigned char>(text[offset])), size - offset));
    const auto index = static_cast<std::int32_t>(symbols.size());
    symbols.push_back({index - 1, offset + len == size ? -1 : index + 1, offset, len});
    offset += len;
  }
}

}  // namespace tessera::tokenizer

#endif  // TESSERA_TOKENIZER_SYMBOL_CHAIN_H_
