// tokenizer.model (SentencePiece) -> GgufVocab "llama" (tokenizer_convert.h).
#include "convert/tokenizer_convert.h"

namespace tessera::convert {
namespace {

constexpr std::int32_t kSpmBpe = 2;
constexpr std::int32_t kSpmChar = 4;
constexpr std::int32_t kPieceNormal = 1;

// Bytes of the UTF-8 sequence starting with `lead` (1 for invalid leads: the engine's tokenizer
// validates text, not this check).
std::size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xe) return 3;
  if ((lead >> 3) == 0x1e) return 4;
  return 1;
}

// tokenizer_config.json "added_tokens_decoder": {"<id>": {"content": ..., "special": bool}}.
Status ApplyAddedTokensDecoder(const Json& tc, std::int32_t n_vocab, GgufVocab* v) {
  if (!tc.is_object()) return Status::Ok();
  auto it = tc.find("added_tokens_decoder");
  if (it == tc.end() || it->is_null()) return Status::Ok();
  const std::string what = "convert: tokenizer_config.json: added_tokens_decoder";
  if (!it->is_object()) return Malformed(what + " is not an object");
  for (auto e = it->begin(); e != it->end(); ++e) {
    const std::string& key = e.key();
    std::int64_t id = -1;
    if (!key.empty() && key.size() <= 9 &&
        key.find_first_not_of("0123456789") == std::string::npos) {
      id = 0;
      for (char c : key) id = id * 10 + (c - '0');
    }
    if (id < 0) return Malformed(what + " key \"" + key + "\" is not a token id");
    if (id >= n_vocab) {
      return Status(
          StatusCode::kIncompatible,
          what + " id " + key + " is outside config.json vocab_size " + std::to_string(n_vocab));
    }
    TS_ASSIGN_OR_RETURN(std::optional<std::string> content, GetString(*e, "content", what));
    TS_ASSIGN_OR_RETURN(std::optional<bool> special, GetBool(*e, "special", what));
    if (!content.has_value()) return Malformed(what + "[\"" + key + "\"] has no content");
    const auto i = static_cast<std::size_t>(id);
    if (special.value_or(false) || LooksSpecial(*content)) {
      v->types[i] = TokenType::kControl;
      v->tokens[i] = *content;
    } else {
      v->types[i] = TokenType::kUserDefined;
      v->tokens[i] = PreNormalizeUserDefined(*content);
    }
    v->scores[i] = -1000.0f;
  }
  return Status::Ok();
}

}  // namespace

Result<GgufVocab> SpmToGgufVocab(const SpmModel& spm, const HfConfig& config,
                                 const Json& tokenizer_config) {
  const std::string what = "convert: tokenizer.model";
  if (spm.model_type == kSpmChar) {
    // A CHAR model splits text into characters; the engine's merge-by-score algorithm does the
    // same exactly when no normal piece is longer than one character (nothing can merge).
    for (const SpmPiece& p : spm.pieces) {
      if (p.type == kPieceNormal && !p.piece.empty() &&
          Utf8Length(static_cast<unsigned char>(p.piece[0])) != p.piece.size()) {
        return Unsupported(what + ": CHAR model piece \"" + p.piece +
                           "\" is longer than one character");
      }
    }
  } else if (spm.model_type != kSpmBpe) {
    static constexpr const char* kNames[] = {"?", "UNIGRAM", "BPE", "WORD", "CHAR"};
    const char* name = spm.model_type >= 1 && spm.model_type <= 4 ? kNames[spm.model_type] : "?";
    return Unsupported(
        what + ": trainer_spec.model_type is " + name + " (" + std::to_string(spm.model_type) +
        "); only BPE and CHAR SentencePiece models convert exactly to the llama tokenizer");
  }
  if (spm.normalizer_name != "identity") {
    return Unsupported(what + ": normalizer_spec.name is \"" + spm.normalizer_name +
                       "\"; only \"identity\" is supported (the engine does not normalize text)");
  }
  if (spm.remove_extra_whitespaces) {
    return Unsupported(what +
                       ": normalizer_spec.remove_extra_whitespaces is true; the engine "
                       "does not collapse whitespace");
  }
  if (spm.pieces.empty()) return Malformed(what + ": the model has no pieces");
  GgufVocab v;
  v.model = "llama";
  v.pre = "default";
  v.tokens.reserve(spm.pieces.size());
  for (const SpmPiece& p : spm.pieces) {
    v.tokens.push_back(p.piece);
    v.scores.push_back(p.score);
    v.types.push_back(static_cast<TokenType>(p.type));
  }
  TS_RETURN_IF_ERROR(PadVocab(&v, config.llama.n_vocab, "tokenizer.model"));
  TS_RETURN_IF_ERROR(ApplyAddedTokensDecoder(tokenizer_config, config.llama.n_vocab, &v));
  const auto n = static_cast<std::int32_t>(v.tokens.size());
  auto id_or_none = [n](std::int32_t id) -> std::optional<std::int32_t> {
    if (id < 0 || id >= n) return std::nullopt;
    return id;
  };
  v.bos_id = id_or_none(spm.bos_id);
  v.eos_id = id_or_none(spm.eos_id);
  v.unk_id = id_or_none(spm.unk_id);
  v.pad_id = id_or_none(spm.pad_id);
  v.add_bos = true;
  v.add_space_prefix = spm.add_dummy_prefix;
  TS_RETURN_IF_ERROR(ApplyTokenizerConfig(tokenizer_config, config, &v));
  return v;
}

}  // namespace tessera::convert
