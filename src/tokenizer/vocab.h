// Vocab: the token table of a tokenizer, read from the "tokenizer.ggml.*" metadata of a GGUF
// file, with the same defaults and fix-ups llama.cpp applies (llama-vocab.cpp, load()).
//
// Keys read:
//   tokenizer.ggml.model            string: "llama" (SentencePiece-style), "gpt2", ... (required)
//   tokenizer.ggml.tokens           [string] token texts, id = index (required)
//   tokenizer.ggml.scores           [f32 or i32] merge scores (0 when absent)
//   tokenizer.ggml.token_type       [i32] TokenType per token (normal when absent)
//   tokenizer.ggml.{bos,eos,eot,eom,unknown,seperator,padding,mask}_token_id   integer ids
//   tokenizer.ggml.fim_{pre,suf,mid,pad,rep,sep}_token_id (and the older prefix/suffix/middle)
//   tokenizer.ggml.add_bos_token / add_eos_token / add_space_prefix   bools
//   general.name                    used like llama.cpp for per-model token attributes (phi-3)
//
// Defaults for "llama": bos 1, eos 2, unk 0, no pad; add_bos true, add_eos false,
// add_space_prefix true. For "gpt2": bos 11, eos 11, no unk; add_bos, add_eos and
// add_space_prefix false. A default id outside the vocabulary is disabled (kNoToken).
//
// What llama.cpp tolerates with a warning is tolerated here with a warning (warnings()): an
// explicit special id outside the vocabulary (converters write 0xFFFFFFFF or -1 for "none") is
// ignored and the default stays; score and type arrays longer than the token list have their
// tail ignored; a "llama" vocabulary without scores or types gets 0 and normal. Both spellings
// of the separator key are read ("seperator", which llama.cpp writes, and "separator").
// Everything else stays an error: a key of the wrong type, arrays shorter than the token list.
//
// Token attributes are bit flags derived from the GGUF token type, then adjusted as llama.cpp
// does: tokens whose text marks an end of generation ("</s>", "<|end|>", "<|endoftext|>", ...) or
// a fill-in-the-middle role become control tokens, and models named "phi-3"/"phi3" get
// right-strip on their special tokens.
//
// Ownership: Vocab owns copies of all strings (it does not borrow from the gguf::File).
// Thread safety: immutable after FromGguf(); concurrent reads are safe. Copying copies the
// whole table (tens of thousands of strings): move it instead.
#ifndef TESSERA_TOKENIZER_VOCAB_H_
#define TESSERA_TOKENIZER_VOCAB_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gguf/keys.h"
#include "gguf/reader.h"
#include "tessera/status.h"

namespace tessera::tokenizer {

// The token type stored in "tokenizer.ggml.token_type" (values fixed by the GGUF convention).
using TokenType = gguf::keys::TokenType;

// Token attribute bits (a token may carry several, e.g. user-defined and control).
using TokenAttrs = std::uint32_t;
inline constexpr TokenAttrs kAttrUndefined = 0;
inline constexpr TokenAttrs kAttrUnknown = 1u << 0;
inline constexpr TokenAttrs kAttrUnused = 1u << 1;
inline constexpr TokenAttrs kAttrNormal = 1u << 2;
inline constexpr TokenAttrs kAttrControl = 1u << 3;
inline constexpr TokenAttrs kAttrUserDefined = 1u << 4;
inline constexpr TokenAttrs kAttrByte = 1u << 5;
inline constexpr TokenAttrs kAttrLstrip = 1u << 7;  // strip whitespace left of the token text
inline constexpr TokenAttrs kAttrRstrip = 1u << 8;  // strip whitespace right of the token text

class Vocab {
 public:
  static constexpr std::int32_t kNoToken = -1;
  // Upper bound on the number of tokens (the largest real vocabularies have ~260k).
  static constexpr std::size_t kMaxTokens = std::size_t{1} << 22;

  // Errors: kNotFound (tokenizer.ggml.model or .tokens missing; scores/token_type missing for
  // "llama"), kTypeMismatch (a key of the wrong type), kMalformed (a score or type array
  // shorter than the tokens, empty vocabulary, a byte token whose text is not "<0xHH>"),
  // kDuplicate (two tokens with the same text), kOutOfRange (too many tokens).
  static Result<Vocab> FromGguf(const gguf::File& file);

  Vocab(Vocab&&) noexcept = default;
  Vocab& operator=(Vocab&&) noexcept = default;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  const std::string& model() const { return model_; }       // tokenizer.ggml.model
  const std::string& name() const { return name_; }         // general.name, may be empty
  std::int32_t size() const { return static_cast<std::int32_t>(texts_.size()); }
  bool Contains(std::int32_t id) const { return id >= 0 && id < size(); }

  // Per-token data; `id` must satisfy Contains(id) (checked).
  const std::string& text(std::int32_t id) const;
  float score(std::int32_t id) const;
  TokenType type(std::int32_t id) const;
  TokenAttrs attrs(std::int32_t id) const;
  bool HasAttr(std::int32_t id, TokenAttrs bits) const { return (attrs(id) & bits) != 0; }
  // For a byte token ("<0x0A>"), its byte value; otherwise -1.
  int ByteValue(std::int32_t id) const;

  // The id whose text is exactly `text`, or kNoToken. No allocation.
  std::int32_t Find(std::string_view text) const;
  // The byte-fallback token for `byte`: "<0xHH>" (uppercase hex), else the one-byte text, else
  // kNoToken.
  std::int32_t ByteToToken(std::uint8_t byte) const { return byte_tokens_[byte]; }

  // Special ids; kNoToken when the vocabulary has none.
  std::int32_t bos_id() const { return bos_id_; }
  std::int32_t eos_id() const { return eos_id_; }
  std::int32_t unk_id() const { return unk_id_; }
  std::int32_t pad_id() const { return pad_id_; }
  std::int32_t eot_id() const { return eot_id_; }
  std::int32_t eom_id() const { return eom_id_; }
  std::int32_t sep_id() const { return sep_id_; }
  std::int32_t mask_id() const { return mask_id_; }
  std::int32_t fim_pre_id() const { return fim_pre_id_; }
  std::int32_t fim_suf_id() const { return fim_suf_id_; }
  std::int32_t fim_mid_id() const { return fim_mid_id_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }

  // True for eos, eot, eom and the tokens llama.cpp recognizes as end-of-generation by text.
  bool IsEndOfGeneration(std::int32_t id) const;
  const std::vector<std::int32_t>& eog_ids() const { return eog_ids_; }  // ascending

  // What the metadata held that llama.cpp also tolerates with a warning, one sentence each,
  // in the order met (empty for a clean vocabulary).
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Control, user-defined and unknown tokens, longest text first (ties: lower id first): the
  // order in which they are searched for in input text.
  const std::vector<std::int32_t>& special_tokens() const { return special_tokens_; }

 private:
  Vocab() = default;

  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Status ReadTokens(const gguf::File& file);
  Status ReadSpecialIds(const gguf::File& file);
  void DetectSpecialsByText();
  void BuildTables();

  std::string model_;
  std::string name_;
  std::vector<std::string> texts_;
  std::vector<float> scores_;
  std::vector<TokenType> types_;
  std::vector<TokenAttrs> attrs_;
  std::vector<std::int16_t> byte_values_;  // -1 for non-byte tokens
  std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>> ids_;
  std::array<std::int32_t, 256> byte_tokens_{};
  std::vector<std::int32_t> special_tokens_;
  std::vector<std::int32_t> eog_ids_;

  std::int32_t bos_id_ = kNoToken;
  std::int32_t eos_id_ = kNoToken;
  std::int32_t unk_id_ = kNoToken;
  std::int32_t pad_id_ = kNoToken;
  std::int32_t eot_id_ = kNoToken;
  std::int32_t eom_id_ = kNoToken;
  std::int32_t sep_id_ = kNoToken;
  std::int32_t mask_id_ = kNoToken;
  std::int32_t fim_pre_id_ = kNoToken;
  std::int32_t fim_suf_id_ = kNoToken;
  std::int32_t fim_mid_id_ = kNoToken;
  std::int32_t fim_pad_id_ = kNoToken;
  std::int32_t fim_rep_id_ = kNoToken;
  std::int32_t fim_sep_id_ = kNoToken;
  std::vector<std::string> warnings_;
  bool add_bos_ = false;
  bool add_eos_ = false;
  bool add_space_prefix_ = false;
};

}  // namespace tessera::tokenizer

#endif  // TESSERA_TOKENIZER_VOCAB_H_
