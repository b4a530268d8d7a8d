// PreTokenizer: splits text into words before byte-level BPE merges them, with the regular
// expressions llama.cpp uses for each "tokenizer.ggml.pre" value (llama-vocab.cpp) and that the
// models' Hugging Face tokenizer.json files specify.
//
// A pre-tokenizer is a list of expressions applied in sequence. The first splits the whole text;
// each following one splits every piece the previous one produced. Splitting a piece keeps
// everything: each match becomes a piece and so does each run of text between matches
// (Hugging Face's "Isolated" behaviour). Each piece is matched on its own, so a lookahead at its
// end sees the end of the subject, not the next piece.
//
// Supported names (others are kUnsupported), grouped as llama.cpp groups them:
//   "gpt-2", "phi-2", "mpt", "olmo"       the GPT-2 expression
//   "starcoder", "refact", "codeshell",   digits one by one, then the GPT-2 expression
//   "smollm", "command-r", "exaone"
//   "falcon"                               punctuation runs, GPT-2, then runs of three ASCII digits
//   "deepseek-coder"                       line breaks, letters, punctuation, CJK runs, digits
//   "deepseek-llm"                         line breaks, cased letters, ASCII and CJK punctuation,
//                                          trailing spaces, CJK runs, digit runs
//   "llama-bpe", "llama3", "llama-v3",     the Llama 3 expression (up to three digits a piece);
//   "falcon3"                              ignore_merges, and BOS added by default
//   "dbrx", "smaug-bpe"                    the Llama 3 expression
//   "qwen2", "deepseek-r1-qwen",           the Llama 3 expression with one digit a piece
//   "stablelm2"
//   "qwen35"                               Qwen2's, with combining marks (\p{M}) inside words
//   "default" (also a missing key)         llama.cpp's fallback list
// where the GPT-2 expression is
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// and the Llama 3 one
//   (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|
//   \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// $ matches only at the end of a piece (PCRE2_DOLLAR_ENDONLY, as in ECMAScript).
// Unicode categories (\p{L}, \p{N}, \p{P}) are matched by PCRE2 with full Unicode support;
// \s is the Unicode White_Space property (as in Oniguruma, which Hugging Face uses, and in
// llama.cpp's tables). See docs/adr/0007-pre-tokenizer-regex.md.
//
// Ownership: a PreTokenizer owns its compiled expressions (compiled once, in Create). Move-only.
// Thread safety: Split is const and may run concurrently from several threads; each call uses
// its own match data.
#ifndef TESSERA_TOKENIZER_PRE_TOKENIZER_H_
#define TESSERA_TOKENIZER_PRE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"

namespace tessera::tokenizer {

// A piece of the split text: bytes [offset, offset + length) of the text given to Split.
struct TextPiece {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

class PreTokenizer {
 public:
  // Compiles the expressions for `name` (the value of tokenizer.ggml.pre).
  // Errors: kUnsupported naming `name` and the supported names; kInternal if PCRE2 rejects one
  // of our expressions (a bug).
  static Result<PreTokenizer> Create(std::string_view name);

  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;
  ~PreTokenizer();

  const std::string& name() const { return name_; }
  // llama.cpp's ignore_merges: BPE takes a word that is itself a token as that token.
  bool ignore_merges() const { return ignore_merges_; }

  // Replaces `*pieces` with the pieces of `text`, in order; they are non-empty and cover `text`
  // exactly. Errors: kOutOfRange (text of 2^32 bytes or more), kInvalidUtf8, kResourceExhausted
  // (PCRE2 ran out of its match limits), kInternal (another PCRE2 failure).
  Status Split(std::string_view text, std::vector<TextPiece>* pieces) const;

 private:
  struct Expressions;  // the compiled PCRE2 codes; defined in pre_tokenizer.cc
  PreTokenizer(std::string name, std::unique_ptr<Expressions> expressions);

  std::string name_;
  std::unique_ptr<Expressions> expressions_;
  bool ignore_merges_ = false;
};

// Whether llama.cpp adds BOS by default for vocabularies with this tokenizer.ggml.pre (the
// Llama 3 group); tokenizer.ggml.add_bos_token overrides it. False for unknown names.
bool PreTokenizerAddsBos(std::string_view name);

}  // namespace tessera::tokenizer

#endif  // TESSERA_TOKENIZER_PRE_TOKENIZER_H_
