// Metadata key names, spelled exactly as llama.cpp writes and reads them in GGUF files.
//
// Per-architecture keys are stored under the architecture's name: "llama.context_length",
// "qwen2.attention.head_count", ... Build them with ArchKey(arch, kContextLength).
//
// Thread safety: constants and a pure function.
#ifndef TESSERA_GGUF_KEYS_H_
#define TESSERA_GGUF_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::gguf::keys {

// general.*
inline constexpr std::string_view kGeneralArchitecture = "general.architecture";  // string
inline constexpr std::string_view kGeneralName = "general.name";                  // string
inline constexpr std::string_view kGeneralAlignment = "general.alignment";  // u32, power of two
inline constexpr std::string_view kGeneralQuantizationVersion =
    "general.quantization_version";                                                     // u32
inline constexpr std::string_view kGeneralFileType = "general.file_type";               // u32
inline constexpr std::string_view kGeneralLicense = "general.license";                  // string
inline constexpr std::string_view kGeneralDescription = "general.description";          // string
inline constexpr std::string_view kGeneralBaseModelCount = "general.base_model.count";  // u32
inline constexpr std::string_view kGeneralType = "general.type";  // string: "model", "adapter"

// Adapters (LoRA files written by convert_lora_to_gguf.py).
inline constexpr std::string_view kAdapterType = "adapter.type";             // string: "lora"
inline constexpr std::string_view kAdapterLoraAlpha = "adapter.lora.alpha";  // f32

// Per-architecture suffixes: ArchKey(arch, suffix) -> "<arch><suffix>".
inline constexpr std::string_view kVocabSize = ".vocab_size";
inline constexpr std::string_view kContextLength = ".context_length";
inline constexpr std::string_view kEmbeddingLength = ".embedding_length";
inline constexpr std::string_view kBlockCount = ".block_count";
inline constexpr std::string_view kFeedForwardLength = ".feed_forward_length";
inline constexpr std::string_view kHeadCount = ".attention.head_count";
inline constexpr std::string_view kHeadCountKv = ".attention.head_count_kv";
inline constexpr std::string_view kKeyLength = ".attention.key_length";
inline constexpr std::string_view kValueLength = ".attention.value_length";
inline constexpr std::string_view kLayerNormEpsilon = ".attention.layer_norm_epsilon";
inline constexpr std::string_view kLayerNormRmsEpsilon = ".attention.layer_norm_rms_epsilon";
inline constexpr std::string_view kRopeDimensionCount = ".rope.dimension_count";
inline constexpr std::string_view kRopeFreqBase = ".rope.freq_base";
inline constexpr std::string_view kRopeFreqBaseSwa = ".rope.freq_base_swa";
inline constexpr std::string_view kSlidingWindow = ".attention.sliding_window";
inline constexpr std::string_view kSlidingWindowPattern = ".attention.sliding_window_pattern";
inline constexpr std::string_view kFinalLogitSoftcapping = ".final_logit_softcapping";
inline constexpr std::string_view kRopeScalingType = ".rope.scaling.type";
inline constexpr std::string_view kRopeScalingFactor = ".rope.scaling.factor";
inline constexpr std::string_view kRopeScalingOriginalContextLength =
    ".rope.scaling.original_context_length";

// "<arch><suffix>", e.g. ArchKey("llama", kBlockCount) == "llama.block_count".
inline std::string ArchKey(std::string_view arch, std::string_view suffix) {
  std::string key;
  key.reserve(arch.size() + suffix.size());
  key.append(arch);
  key.append(suffix);
  return key;
}

// tokenizer.ggml.*
inline constexpr std::string_view kTokenizerModel = "tokenizer.ggml.model";    // "llama", "gpt2"
inline constexpr std::string_view kTokenizerPre = "tokenizer.ggml.pre";        // string
inline constexpr std::string_view kTokenizerTokens = "tokenizer.ggml.tokens";  // [string]
inline constexpr std::string_view kTokenizerScores = "tokenizer.ggml.scores";  // [f32]
inline constexpr std::string_view kTokenizerTokenType = "tokenizer.ggml.token_type";  // [i32]
inline constexpr std::string_view kTokenizerMerges = "tokenizer.ggml.merges";         // [string]
inline constexpr std::string_view kTokenizerBosId = "tokenizer.ggml.bos_token_id";    // u32
inline constexpr std::string_view kTokenizerEosId = "tokenizer.ggml.eos_token_id";    // u32
inline constexpr std::string_view kTokenizerUnknownId = "tokenizer.ggml.unknown_token_id";  // u32
inline constexpr std::string_view kTokenizerPaddingId = "tokenizer.ggml.padding_token_id";  // u32
// llama.cpp's spelling, which its converters write; "separator" is read as well.
inline constexpr std::string_view kTokenizerSeparatorId = "tokenizer.ggml.seperator_token_id";
inline constexpr std::string_view kTokenizerSeparatorIdAlt = "tokenizer.ggml.separator_token_id";
inline constexpr std::string_view kTokenizerMaskId = "tokenizer.ggml.mask_token_id";  // u32
inline constexpr std::string_view kTokenizerEomId = "tokenizer.ggml.eom_token_id";    // u32
inline constexpr std::string_view kTokenizerFimPreId = "tokenizer.ggml.fim_pre_token_id";
inline constexpr std::string_view kTokenizerFimSufId = "tokenizer.ggml.fim_suf_token_id";
inline constexpr std::string_view kTokenizerFimMidId = "tokenizer.ggml.fim_mid_token_id";
inline constexpr std::string_view kTokenizerFimPadId = "tokenizer.ggml.fim_pad_token_id";
inline constexpr std::string_view kTokenizerFimRepId = "tokenizer.ggml.fim_rep_token_id";
inline constexpr std::string_view kTokenizerFimSepId = "tokenizer.ggml.fim_sep_token_id";
// Older names of the fill-in-the-middle ids, still read by llama.cpp.
inline constexpr std::string_view kTokenizerPrefixId = "tokenizer.ggml.prefix_token_id";
inline constexpr std::string_view kTokenizerSuffixId = "tokenizer.ggml.suffix_token_id";
inline constexpr std::string_view kTokenizerMiddleId = "tokenizer.ggml.middle_token_id";
inline constexpr std::string_view kTokenizerEotId = "tokenizer.ggml.eot_token_id";    // u32
inline constexpr std::string_view kTokenizerAddBos = "tokenizer.ggml.add_bos_token";  // bool
inline constexpr std::string_view kTokenizerAddEos = "tokenizer.ggml.add_eos_token";  // bool
inline constexpr std::string_view kTokenizerAddSpacePrefix =
    "tokenizer.ggml.add_space_prefix";                                                 // bool
inline constexpr std::string_view kTokenizerChatTemplate = "tokenizer.chat_template";  // string

// Values of tokenizer.ggml.token_type, as llama.cpp numbers them.
enum class TokenType : std::int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

}  // namespace tessera::gguf::keys

#endif  // TESSERA_GGUF_KEYS_H_
