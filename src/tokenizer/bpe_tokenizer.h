// BpeTokenizer: the byte-level BPE tokenizer of llama.cpp's "gpt2" vocabularies
// (LLAMA_VOCAB_TYPE_BPE), reproduced token for token for the pre-tokenizers in pre_tokenizer.h.
//
// Encode(text):
//   1. Special tokens are cut out of the text (special_tokens.h).
//   2. Each raw fragment is split into words by the vocabulary's pre-tokenizer
//      (tokenizer.ggml.pre).
//   3. Each word's bytes are written in the byte-level alphabet (byte_level.h) and split into
//      its characters (symbols). Every adjacent pair listed in the merges goes into a
//      min-priority queue keyed by its merge rank (ties: leftmost first). The best pair is
//      merged, stale entries are skipped, and the new symbol's pairs with its neighbours are
//      queued, until the queue is empty. O(n log n) per word.
//      With ignore_merges (the Llama 3 group, pre_tokenizer.h), a word that is itself a token
//      is that token and skips the merges.
//   4. Each final symbol is its token. A symbol that is not a token (possible only when the
//      merges produce text the vocabulary lacks, or a byte's character is missing) becomes one
//      token per character, else UNK if UNK is not a control token; otherwise Encode fails with
//      kNotFound naming the byte (llama.cpp silently drops such bytes; StarCoder's UNK is
//      <|endoftext|>, which would end the text).
//   BOS/EOS are added around the result per EncodeOptions::add_bos and the vocabulary flags
//   (for "gpt2" vocabularies both default to false unless the file sets
//   tokenizer.ggml.add_bos_token / add_eos_token, as in llama.cpp).
//
// TokenToPiece: normal tokens -> the bytes their byte-level text stands for (a character
// outside the alphabet is kept as its UTF-8); user-defined tokens -> their text verbatim;
// control, unknown, unused, byte and undefined tokens -> "" (as llama.cpp's token_to_piece with
// special = false).
//
// Decode (tokenizer.h) concatenates the pieces, so Decode(Encode(s)) == s for every valid s.
// llama.cpp's llama_detokenize additionally applies Hugging Face's lossy
// clean_up_tokenization_spaces to "gpt-2", "starcoder" and "falcon" vocabularies (" ," -> ",",
// " 's" -> "'s", ...); we do not, since generated text is streamed piece by piece anyway.
//
// Ownership and thread safety: see tokenizer.h. Encode allocates its work buffers per call and
// may be called concurrently.
#ifndef TESSERA_TOKENIZER_BPE_TOKENIZER_H_
#define TESSERA_TOKENIZER_BPE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/reader.h"
#include "tessera/status.h"
#include "tokenizer/bpe_merges.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace tessera::tokenizer {

class BpeTokenizer final : public Tokenizer {
 public:
  // Reads tokenizer.ggml.pre (a missing key means "default", as in llama.cpp) and
  // tokenizer.ggml.merges from `file`. Errors: kUnsupported (unknown pre-tokenizer, naming it),
  // kTypeMismatch (pre is not a string), and the errors of BpeMerges::FromGguf.
  static Result<std::unique_ptr<BpeTokenizer>> Create(Vocab vocab, const gguf::File& file);

  using Tokenizer::Encode;
  Result<std::vector<std::int32_t>> Encode(std::string_view text,
                                           const EncodeOptions& opts) const override;
  std::string TokenToPiece(std::int32_t id) const override;

  const PreTokenizer& pre_tokenizer() const { return pre_; }
  const BpeMerges& merges() const { return merges_; }

 private:
  BpeTokenizer(Vocab vocab, PreTokenizer pre, BpeMerges merges);

  PreTokenizer pre_;
  BpeMerges merges_;
  std::vector<std::string> pieces_;  // [n_vocab] TokenToPiece results, computed once
};

}  // namespace tessera::tokenizer

#endif  // TESSERA_TOKENIZER_BPE_TOKENIZER_H_
