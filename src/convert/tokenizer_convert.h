// Converting a checkpoint's tokenizer files into a GgufVocab.
//
// Which file: llama checkpoints use tokenizer.model (SentencePiece) when present, otherwise
// tokenizer.json; qwen2 checkpoints use tokenizer.json. Neither is kUnsupported "no
// tokenizer.model or tokenizer.json".
//
// tokenizer.model -> tokenizer.ggml.model "llama", pre "default": pieces, scores and types as
// stored. Refused (kUnsupported): a model_type other than BPE or CHAR (the engine's
// SentencePiece algorithm merges by score, which is exact for BPE models, and for CHAR models
// whose normal pieces are single characters; UNIGRAM's Viterbi search is not), a normalizer other
// than "identity" or with remove_extra_whitespaces (the engine does not normalize),
// added_tokens.json. add_space_prefix = normalizer add_dummy_prefix; add_bos_token true unless
// tokenizer_config.json says otherwise; bos/eos from config.json, else the trainer spec; unk and
// pad from the trainer spec (-1: not written). tokenizer_config.json "added_tokens_decoder" entries
// replace their ids as llama.cpp does (special -> control, else user defined with U+2581 turned
// into spaces).
//
// tokenizer.json -> "gpt2": model.type must be "BPE" with byte-level pre-tokenizer and decoder;
// tokens from model.vocab then added_tokens (special, or text like "<|...|>", -> control; other
// added -> user defined; the rest normal); merges as "a b" strings (either JSON form). The
// pre-tokenizer is recognised by its regular expression, compared exactly:
//   ByteLevel(use_regex = true), or Split(GPT-2's expression) + ByteLevel(use_regex = false)
//     -> "gpt-2"
//   Qwen2's and Llama 3's expressions are recognised and refused (the engine has no
//   "qwen2"/"llama-bpe" pre-tokenizer yet); anything else is refused as unknown.
// Also refused: a normalizer, add_prefix_space, byte_fallback, ignore_merges,
// continuing_subword_prefix / end_of_word_suffix. bos/eos from tokenizer_config.json
// ("bos_token": "<s>" or {"content": "<s>"}), else config.json; add_bos_token and add_eos_token
// from tokenizer_config.json when present.
//
// Both: the vocabulary is padded to config.json's vocab_size as llama.cpp does ("[PAD<id>]",
// unused); more tokens than vocab_size is kIncompatible; a token id >= vocab_size likewise.
//
// Thread safety: reentrant.
#ifndef TESSERA_CONVERT_TOKENIZER_CONVERT_H_
#define TESSERA_CONVERT_TOKENIZER_CONVERT_H_

#include <string>

#include "convert/gguf_vocab.h"
#include "convert/hf_config.h"
#include "convert/json_file.h"
#include "convert/spm_model.h"
#include "tessera/status.h"

namespace tessera::convert {

// Reads the tokenizer files of `dir` (see above) and checks that the engine loads the result.
Result<GgufVocab> ConvertTokenizer(const std::string& dir, const HfConfig& config);

// The two converters, exposed for tests. `tokenizer_config` may be null (no file).
Result<GgufVocab> SpmToGgufVocab(const SpmModel& spm, const HfConfig& config,
                                 const Json& tokenizer_config);
Result<GgufVocab> TokenizerJsonToGgufVocab(const Json& tokenizer_json, const HfConfig& config,
                                           const Json& tokenizer_config);

// Applies tokenizer_config.json to `vocab`: bos/eos from "bos_token"/"eos_token" (a string or
// {"content": ...}, looked up in the vocabulary; kNotFound when absent from it), else from
// config.json's ids; "add_bos_token" / "add_eos_token" when present. `tokenizer_config` may be
// null.
Status ApplyTokenizerConfig(const Json& tokenizer_config, const HfConfig& config, GgufVocab* vocab);

// Whether llama.cpp treats an added token's text as special ("<|...|>", "<pad>", ...).
bool LooksSpecial(const std::string& text);

// A user-defined token's text as llama.cpp stores it: U+2581 turned into spaces.
std::string PreNormalizeUserDefined(const std::string& text);

// The tokenizer.ggml.pre name for a Split regular expression, "" when unknown; `refusal`
// receives the reason when the expression is known but not implemented by the engine.
std::string PreTokenizerForRegex(const std::string& regex, std::string* refusal);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_TOKENIZER_CONVERT_H_
