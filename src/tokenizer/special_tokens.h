// Splitting input text around special tokens before an algorithm sees it, as llama.cpp does
// (tokenizer_st_partition in llama-vocab.cpp): the vocabulary's control, user-defined and unknown
// tokens are searched for in the text, longest text first, and each occurrence becomes its own
// fragment holding that token id. Control and unknown tokens are only searched for when
// parse_special is on; user-defined tokens always are. A token with the lstrip (rstrip) attribute
// also swallows the ASCII whitespace on its left (right).
//
// Used by every tokenizer algorithm (SentencePiece-style now, byte-level BPE later).
// Thread safety: a pure function of its arguments.
#ifndef TESSERA_TOKENIZER_SPECIAL_TOKENS_H_
#define TESSERA_TOKENIZER_SPECIAL_TOKENS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace tessera::tokenizer {

// One piece of the partitioned text: either raw text [offset, offset + length) of the input,
// or a special token (token != Vocab::kNoToken; offset/length then locate its match).
struct Fragment {
  std::int32_t token = Vocab::kNoToken;
  std::size_t offset = 0;  // bytes into the input text
  std::size_t length = 0;  // bytes
  bool is_token() const { return token != Vocab::kNoToken; }
};

// Fragments of `text` in order. Empty text yields no fragments; raw fragments are never empty.
std::vector<Fragment> PartitionSpecialTokens(const Vocab& vocab, std::string_view text,
                                             bool parse_special);

}  // namespace tessera::tokenizer

#endif  // TESSERA_TOKENIZER_SPECIAL_TOKENS_H_
