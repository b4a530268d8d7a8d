// SpmTokenizer: the SentencePiece-style tokenizer of llama.cpp's "llama" vocabularies
// (LLAMA_VOCAB_TYPE_SPM), reproduced token for token.
//
// Encode(text):
//   1. Special tokens are cut out of the text (special_tokens.h).
//   2. Each raw fragment gets a leading space when add_space_prefix is set and it is the first
//      fragment or follows a special token; every ' ' then becomes U+2581 "▁".
//   3. The fragment is split into UTF-8 characters (symbols). Every adjacent pair whose
//      concatenation is a token goes into a max-priority queue keyed by that token's score
//      (ties: leftmost first). The best pair is merged, stale entries are skipped, and the new
//      symbol's pairs with its neighbours are queued, until the queue is empty. O(n log n).
//   4. Each final symbol is its token, or, when its text is not in the vocabulary, one byte
//      token "<0xHH>" per byte (byte fallback; UNK if the vocabulary lacks the byte token).
//   BOS/EOS are added around the result per EncodeOptions::add_bos and the vocabulary flags.
//
// TokenToPiece: normal tokens with "▁" -> " ", byte tokens -> their byte, user-defined tokens
// -> their text verbatim, control/unknown/unused -> "".
//
// Ownership and thread safety: see tokenizer.h. Encode allocates its work buffers per call.
#ifndef TESSERA_TOKENIZER_SPM_TOKENIZER_H_
#define TESSERA_TOKENIZER_SPM_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace tessera::tokenizer {

class SpmTokenizer final : public Tokenizer {
 public:
  explicit SpmTokenizer(Vocab vocab);

  using Tokenizer::Encode;
  Result<std::vector<std::int32_t>> Encode(std::string_view text,
                                           const EncodeOptions& opts) const override;
  std::string TokenToPiece(std::int32_t id) const override;

 private:
  std::vector<std::string> pieces_;  // [n_vocab] TokenToPiece results, computed once
};

}  // namespace tessera::tokenizer

#endif  // TESSERA_TOKENIZER_SPM_TOKENIZER_H_
