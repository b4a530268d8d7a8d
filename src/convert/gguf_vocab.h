// GgufVocab: a tokenizer as the "tokenizer.ggml.*" keys of a GGUF state it, built by the
// converters of tokenizer.model (spm_vocab.h) and tokenizer.json (bpe_vocab.h).
//
// Keys written by AddToWriter (llama.cpp's names, gguf/keys.h):
//   tokenizer.ggml.model            "llama" | "gpt2"
//   tokenizer.ggml.pre              string, when set ("default" for llama, "gpt-2", ...)
//   tokenizer.ggml.tokens           [string]
//   tokenizer.ggml.scores           [f32], when non-empty (llama)
//   tokenizer.ggml.token_type       [i32]  (1 normal, 2 unknown, 3 control, 4 user defined,
//                                           5 unused, 6 byte)
//   tokenizer.ggml.merges           [string] "a b", when non-empty (gpt2)
//   tokenizer.ggml.{bos,eos,unknown,padding}_token_id   u32, each when known
//   tokenizer.ggml.add_bos_token / add_eos_token / add_space_prefix   bool, each when set
//
// Thread safety: plain data; the functions are reentrant.
#ifndef TESSERA_CONVERT_GGUF_VOCAB_H_
#define TESSERA_CONVERT_GGUF_VOCAB_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gguf/keys.h"
#include "gguf/writer.h"
#include "tessera/status.h"

namespace tessera::convert {

using TokenType = gguf::keys::TokenType;

struct GgufVocab {
  std::string model;  // "llama" or "gpt2"
  std::string pre;    // empty: key not written
  std::vector<std::string> tokens;
  std::vector<float> scores;        // empty or one per token
  std::vector<TokenType> types;     // one per token
  std::vector<std::string> merges;  // gpt2
  std::optional<std::int32_t> bos_id, eos_id, unk_id, pad_id;
  std::optional<bool> add_bos, add_eos, add_space_prefix;

  // Id of `text`, or -1.
  std::int32_t Find(const std::string& text) const;
};

// Pads `vocab` up to `n_vocab` tokens as llama.cpp's converters do: token i becomes "[PAD<i>]",
// type unused, score -10000 (when scores are kept). Errors: kIncompatible when the vocabulary
// already has more than n_vocab tokens (the checkpoint's embedding could not index them).
Status PadVocab(GgufVocab* vocab, std::int32_t n_vocab, const std::string& source);

// Appends the keys above. Errors of gguf::Writer::AddKeyValue (kDuplicate).
Status AddVocabToWriter(const GgufVocab& vocab, gguf::Writer* writer);

// Checks that the engine's tokenizer accepts the vocabulary exactly as it will be written (a
// metadata-only GGUF is built in memory and loaded with tokenizer::CreateTokenizer). The error
// of the tokenizer is returned with the context "convert: the converted vocabulary".
Status CheckVocabLoads(const GgufVocab& vocab);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_GGUF_VOCAB_H_
