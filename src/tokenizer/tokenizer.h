// Tokenizer: the interface every tokenization algorithm implements (SentencePiece-style in
// spm_tokenizer.h; byte-level BPE in bpe_tokenizer.h), and CreateTokenizer(), which picks the
// algorithm named by the GGUF key "tokenizer.ggml.model".
//
// Token ids are int32_t in [0, n_vocab()). Text is UTF-8 bytes.
//
// Ownership: a Tokenizer owns its Vocab (copied out of the gguf::File, which may be closed
// afterwards). Thread safety: immutable after construction; Encode/Decode/TokenToPiece may be
// called concurrently from several threads.
#ifndef TESSERA_TOKENIZER_TOKENIZER_H_
#define TESSERA_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/reader.h"
#include "tessera/status.h"
#include "tokenizer/vocab.h"

namespace tessera::tokenizer {

struct EncodeOptions {
  // llama.cpp's "add_special": prepend BOS when the vocabulary asks for it
  // (tokenizer.ggml.add_bos_token, default true for "llama") and append EOS when it asks for
  // that (tokenizer.ggml.add_eos_token, default false).
  bool add_bos = true;
  // Match control tokens ("<s>", "</s>", "<|end|>") written in the text. User-defined tokens
  // are matched either way.
  bool parse_special = false;
};

class Tokenizer {
 public:
  virtual ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Text -> ids. Errors: kInvalidUtf8 (naming the byte offset), kOutOfRange (text longer than
  // kMaxInputBytes), kNotFound (a byte with neither a byte token nor an UNK token to stand for
  // it).
  virtual Result<std::vector<std::int32_t>> Encode(std::string_view text,
                                                   const EncodeOptions& opts) const = 0;
  Result<std::vector<std::int32_t>> Encode(std::string_view text) const {
    return Encode(text, EncodeOptions{});
  }

  // The bytes a token stands for: "▁the" -> " the", "<0x0A>" -> "\n", user-defined tokens
  // their text; control, unknown and unused tokens and ids outside the vocabulary "".
  // Byte tokens give single bytes that may be part of a multi-byte UTF-8 character, so pieces
  // concatenate byte-exactly (see StreamDecoder for streaming them as valid UTF-8).
  virtual std::string TokenToPiece(std::int32_t id) const = 0;

  // Ids -> text: the concatenated pieces, as llama.cpp's llama_detokenize with
  // remove_special = false and unparse_special = false. When the vocabulary adds a space prefix,
  // one leading space is removed from the FIRST id's piece; if that first id is BOS (whose
  // piece is empty) nothing is removed, so Decode(Encode(s, add_bos)) == " " + s and
  // Decode(Encode(s, no BOS)) == s. Errors: kOutOfRange for an id outside the vocabulary.
  Result<std::string> Decode(std::span<const std::int32_t> ids) const;

  const Vocab& vocab() const { return vocab_; }
  std::int32_t bos_id() const { return vocab_.bos_id(); }
  std::int32_t eos_id() const { return vocab_.eos_id(); }
  bool IsEndOfGeneration(std::int32_t id) const { return vocab_.IsEndOfGeneration(id); }
  std::int32_t n_vocab() const { return vocab_.size(); }

  // Longest text Encode accepts, in bytes (work buffers use 32-bit offsets).
  static constexpr std::size_t kMaxInputBytes = std::size_t{1} << 28;

 protected:
  explicit Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}
  // The checks every Encode() starts with: kOutOfRange above kMaxInputBytes, kInvalidUtf8.
  static Status CheckInput(std::string_view text);

 private:
  Vocab vocab_;
};

// Builds the tokenizer named by "tokenizer.ggml.model": "llama" -> SentencePiece-style,
// "gpt2" -> byte-level BPE with the pre-tokenizer named by "tokenizer.ggml.pre".
// Errors: kNotFound (key missing), kUnsupported (another model such as "bert", or an unknown
// tokenizer.ggml.pre, naming it), and the errors of Vocab::FromGguf and BpeTokenizer::Create.
Result<std::unique_ptr<Tokenizer>> CreateTokenizer(const gguf::File& file);

}  // namespace tessera::tokenizer

#endif  // TESSERA_TOKENIZER_TOKENIZER_H_
