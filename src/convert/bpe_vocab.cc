// tokenizer.json (Hugging Face tokenizers, byte-level BPE) -> GgufVocab "gpt2"
// (tokenizer_convert.h).
#include <map>

#include "convert/tokenizer_convert.h"

namespace tessera::convert {
namespace {

const std::string kWhat = "convert: tokenizer.json";

// GPT-2's expression, as Hugging Face's ByteLevel pre-tokenizer and llama.cpp's "gpt-2" use it.
constexpr std::string_view kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
// Qwen2's (llama.cpp "qwen2"; Qwen2, Qwen2.5 and Qwen3 ship it) and Llama 3's ("llama-bpe").
constexpr std::string_view kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
    "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
    "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

std::string TypeOf(const Json& j) {
  if (!j.is_object()) return "";
  auto it = j.find("type");
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

Status CheckByteLevel(const Json& bl, bool want_regex, const std::string& where) {
  TS_ASSIGN_OR_RETURN(std::optional<bool> prefix, GetBool(bl, "add_prefix_space", where));
  if (prefix.value_or(false)) {
    return Unsupported(where + ": ByteLevel add_prefix_space is true; not supported");
  }
  TS_ASSIGN_OR_RETURN(std::optional<bool> use_regex, GetBool(bl, "use_regex", where));
  if (use_regex.value_or(true) != want_regex) {
    return Unsupported(where + ": ByteLevel use_regex is " +
                       (use_regex.value_or(true) ? "true" : "false") + " where " +
                       (want_regex ? "true" : "false") + " is expected");
  }
  return Status::Ok();
}

// The tokenizer.ggml.pre name of the pre_tokenizer section.
Result<std::string> DetectPre(const Json& tj) {
  const std::string where = kWhat + ": pre_tokenizer";
  auto it = tj.find("pre_tokenizer");
  if (it == tj.end() || it->is_null()) {
    return Unsupported(where + " is absent; only byte-level pre-tokenizers are supported");
  }
  const Json& pre = *it;
  const std::string type = TypeOf(pre);
  if (type == "ByteLevel") {
    TS_RETURN_IF_ERROR(CheckByteLevel(pre, true, where));
    return std::string("gpt-2");
  }
  if (type != "Sequence") {
    return Unsupported(where + " type \"" + type + "\" is not supported");
  }
  auto list = pre.find("pretokenizers");
  if (list == pre.end() || !list->is_array() || list->size() != 2 ||
      TypeOf((*list)[0]) != "Split" || TypeOf((*list)[1]) != "ByteLevel") {
    return Unsupported(where + " Sequence is not [Split, ByteLevel]; not supported");
  }
  const Json& split = (*list)[0];
  TS_RETURN_IF_ERROR(CheckByteLevel((*list)[1], false, where));
  TS_ASSIGN_OR_RETURN(std::optional<std::string> behavior, GetString(split, "behavior", where));
  TS_ASSIGN_OR_RETURN(std::optional<bool> invert, GetBool(split, "invert", where));
  if (behavior.value_or("") != "Isolated" || invert.value_or(false)) {
    return Unsupported(where + ": Split behavior \"" + behavior.value_or("") + "\" (invert " +
                       (invert.value_or(false) ? "true" : "false") +
                       ") is not supported; only Isolated, not inverted");
  }
  auto pattern = split.find("pattern");
  if (pattern == split.end() || !pattern->is_object() || !pattern->contains("Regex") ||
      !(*pattern)["Regex"].is_string()) {
    return Unsupported(where + ": Split has no {\"Regex\": ...} pattern");
  }
  const std::string regex = (*pattern)["Regex"].get<std::string>();
  std::string refusal;
  std::string name = PreTokenizerForRegex(regex, &refusal);
  if (!refusal.empty()) return Unsupported(where + ": " + refusal);
  if (name.empty()) {
    return Unsupported(where + ": unknown Split regex \"" + regex +
                       "\" (known: GPT-2's, Qwen2's, Llama 3's); the engine would split text "
                       "differently");
  }
  return name;
}

// `pre` is the detected tokenizer.ggml.pre: ignore_merges must be what llama.cpp ties to it
// (true for the Llama 3 group, false otherwise), or the engine would merge differently.
Status CheckModelOptions(const Json& m, const std::string& pre) {
  const std::string where = kWhat + ": model";
  TS_ASSIGN_OR_RETURN(std::optional<bool> byte_fallback, GetBool(m, "byte_fallback", where));
  if (byte_fallback.value_or(false)) return Unsupported(where + ": byte_fallback is true");
  TS_ASSIGN_OR_RETURN(std::optional<bool> ignore_merges, GetBool(m, "ignore_merges", where));
  const bool want_ignore = pre == "llama-bpe";
  if (ignore_merges.value_or(false) != want_ignore) {
    return Unsupported(where + ": ignore_merges is " +
                       (ignore_merges.value_or(false) ? "true" : "false") + " with the \"" + pre +
                       "\" pre-tokenizer, which " + (want_ignore ? "ignores" : "applies") +
                       " merges for whole-word tokens in llama.cpp");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    TS_ASSIGN_OR_RETURN(std::optional<std::string> v, GetString(m, key, where));
    if (v.has_value() && !v->empty()) {
      return Unsupported(where + ": " + key + " \"" + *v + "\" is not supported");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string PreTokenizerForRegex(const std::string& regex, std::string* refusal) {
  refusal->clear();
  if (regex == kGpt2Regex) return "gpt-2";
  if (regex == kQwen2Regex) return "qwen2";
  if (regex == kLlama3Regex) return "llama-bpe";
  return "";
}

Result<GgufVocab> TokenizerJsonToGgufVocab(const Json& tj, const HfConfig& config,
                                           const Json& tokenizer_config) {
  if (!tj.is_object()) return Malformed(kWhat + " is not an object");
  auto model_it = tj.find("model");
  if (model_it == tj.end() || !model_it->is_object()) {
    return Malformed(kWhat + " has no \"model\" object");
  }
  const Json& m = *model_it;
  if (TypeOf(m) != "BPE") {
    return Unsupported(kWhat + ": model.type \"" + TypeOf(m) + "\" is not supported (only BPE)");
  }
  if (auto n = tj.find("normalizer"); n != tj.end() && !n->is_null()) {
    return Unsupported(kWhat + ": normalizer \"" + TypeOf(*n) +
                       "\" is not supported (the engine does not normalize byte-level BPE input)");
  }
  TS_ASSIGN_OR_RETURN(std::string pre, DetectPre(tj));
  TS_RETURN_IF_ERROR(CheckModelOptions(m, pre));
  if (auto d = tj.find("decoder"); d == tj.end() || TypeOf(*d) != "ByteLevel") {
    return Unsupported(kWhat + ": decoder is not ByteLevel; only byte-level BPE is supported");
  }

  const std::int32_t n_vocab = config.llama.n_vocab;
  std::map<std::int64_t, std::pair<std::string, TokenType>> by_id;
  auto place = [&](std::int64_t id, const std::string& text, TokenType type,
                   bool replace) -> Status {
    if (id < 0 || id >= n_vocab) {
      return Status(StatusCode::kIncompatible,
                    kWhat + ": token \"" + text + "\" has id " + std::to_string(id) +
                        ", outside config.json vocab_size " + std::to_string(n_vocab));
    }
    auto [it, inserted] = by_id.emplace(id, std::make_pair(text, type));
    if (!inserted) {
      if (!replace) {
        return Malformed(kWhat + ": tokens \"" + it->second.first + "\" and \"" + text +
                         "\" share id " + std::to_string(id));
      }
      it->second = {text, type};
    }
    return Status::Ok();
  };
  auto vocab_it = m.find("vocab");
  if (vocab_it == m.end() || !vocab_it->is_object()) {
    return Malformed(kWhat + ": model.vocab is not an object");
  }
  for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
    if (!it->is_number_integer()) {
      return Malformed(kWhat + ": model.vocab[\"" + it.key() + "\"] is not an integer id");
    }
    TS_RETURN_IF_ERROR(place(it->get<std::int64_t>(), it.key(), TokenType::kNormal, false));
  }
  if (auto added = tj.find("added_tokens"); added != tj.end() && !added->is_null()) {
    if (!added->is_array()) return Malformed(kWhat + ": added_tokens is not an array");
    for (const Json& a : *added) {
      const std::string where = kWhat + ": added_tokens";
      TS_ASSIGN_OR_RETURN(std::int64_t id, RequireInt(a, "id", where));
      TS_ASSIGN_OR_RETURN(std::optional<std::string> content, GetString(a, "content", where));
      TS_ASSIGN_OR_RETURN(std::optional<bool> special, GetBool(a, "special", where));
      if (!content.has_value()) return Malformed(where + ": an entry has no content");
      const bool control = special.value_or(false) || LooksSpecial(*content);
      TS_RETURN_IF_ERROR(place(id, control ? *content : PreNormalizeUserDefined(*content),
                               control ? TokenType::kControl : TokenType::kUserDefined, true));
    }
  }
  GgufVocab v;
  v.model = "gpt2";
  v.pre = pre;
  for (const auto& [id, entry] : by_id) {
    // Gaps become "[PAD<id>]" tokens of type unused, as llama.cpp's get_vocab_base().
    TS_RETURN_IF_ERROR(PadVocab(&v, static_cast<std::int32_t>(id), "tokenizer.json"));
    v.tokens.push_back(entry.first);
    v.types.push_back(entry.second);
  }
  TS_RETURN_IF_ERROR(PadVocab(&v, n_vocab, "tokenizer.json"));

  auto merges = m.find("merges");
  if (merges != m.end() && !merges->is_null()) {
    if (!merges->is_array()) return Malformed(kWhat + ": model.merges is not an array");
    v.merges.reserve(merges->size());
    for (const Json& mg : *merges) {
      if (mg.is_string()) {
        v.merges.push_back(mg.get<std::string>());
      } else if (mg.is_array() && mg.size() == 2 && mg[0].is_string() && mg[1].is_string()) {
        v.merges.push_back(mg[0].get<std::string>() + " " + mg[1].get<std::string>());
      } else {
        return Malformed(kWhat + ": model.merges[" + std::to_string(v.merges.size()) +
                         "] is neither \"a b\" nor [\"a\", \"b\"]");
      }
    }
  }
  TS_RETURN_IF_ERROR(ApplyTokenizerConfig(tokenizer_config, config, &v));
  return v;
}

}  // namespace tessera::convert
