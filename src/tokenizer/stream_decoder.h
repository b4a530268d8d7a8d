// StreamDecoder: turns generated token ids into text one token at a time, holding back the bytes
// of a UTF-8 character that byte tokens have only partly delivered, so that every string it
// returns can be shown or sent on its own.
//
// Guarantee: the concatenation of all Push() results followed by Flush() equals the
// concatenation of the tokens' pieces (Tokenizer::TokenToPiece), byte for byte. Bytes that can
// never become a valid character (a stray continuation byte, an impossible lead byte) are passed
// through at once, not held; only a valid-so-far incomplete sequence at the end is held back.
// No leading space is removed: the stream is meant for tokens generated after a prompt.
//
// Ownership: borrows the Tokenizer, which must outlive the decoder. Thread safety: one decoder
// per stream; not safe for concurrent use.
#ifndef TESSERA_TOKENIZER_STREAM_DECODER_H_
#define TESSERA_TOKENIZER_STREAM_DECODER_H_

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace tessera::tokenizer {

class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(&tokenizer) {}

  // Appends the piece of `id` (empty for ids outside the vocabulary) and returns the text that
  // is now complete; may be empty.
  std::string Push(std::int32_t id);
  // Returns whatever is held back (an incomplete sequence at the end of the stream) and resets.
  std::string Flush();

 private:
  const Tokenizer* tokenizer_;
  std::string pending_;  // bytes of an incomplete UTF-8 sequence, at most 3
};

}  // namespace tessera::tokenizer

#endif  // TESSERA_TOKENIZER_STREAM_DECODER_H_
