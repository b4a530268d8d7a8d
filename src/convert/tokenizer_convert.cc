#include "convert/tokenizer_convert.h"

#include "base/mapped_file.h"
#include "convert/checkpoint.h"

namespace tessera::convert {
namespace {

// A special token of tokenizer_config.json: "<s>" or {"content": "<s>", ...}; "" when absent.
Result<std::string> SpecialText(const Json& tc, const char* key) {
  auto it = tc.find(key);
  if (it == tc.end() || it->is_null()) return std::string();
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    TS_ASSIGN_OR_RETURN(std::optional<std::string> content,
                        GetString(*it, "content", "convert: tokenizer_config.json"));
    return content.value_or("");
  }
  return Status(StatusCode::kTypeMismatch, "convert: tokenizer_config.json: \"" + std::string(key) +
                                               "\" is " + JsonTypeName(*it) +
                                               ", expected a string or an object");
}

bool StartsEnds(const std::string& s, std::string_view a, std::string_view b) {
  return s.size() >= a.size() + b.size() && s.compare(0, a.size(), a) == 0 &&
         s.compare(s.size() - b.size(), b.size(), b) == 0;
}

}  // namespace

// Builds a new string (std::string::replace trips GCC 12's -Wrestrict false positive at -O3).
std::string PreNormalizeUserDefined(const std::string& text) {
  constexpr std::string_view kLowLine = "\xe2\x96\x81";  // U+2581
  std::string out;
  out.reserve(text.size());
  std::size_t p = 0;
  for (std::size_t q = text.find(kLowLine); q != std::string::npos; q = text.find(kLowLine, p)) {
    out.append(text, p, q - p);
    out.push_back(' ');
    p = q + kLowLine.size();
  }
  out.append(text, p, std::string::npos);
  return out;
}

bool LooksSpecial(const std::string& text) {
  return text == "<pad>" || text == "<mask>" || StartsEnds(text, "<|", "|>") ||
         StartsEnds(text, "<\xef\xbd\x9c", "\xef\xbd\x9c>") || StartsEnds(text, "<unused", ">");
}

Status ApplyTokenizerConfig(const Json& tc, const HfConfig& config, GgufVocab* v) {
  const auto n = static_cast<std::int32_t>(v->tokens.size());
  auto from_config = [n](const std::optional<std::int32_t>& id) -> std::optional<std::int32_t> {
    if (!id.has_value() || *id >= n) return std::nullopt;
    return id;
  };
  // config.json ids first; tokenizer_config.json texts override them.
  if (auto id = from_config(config.bos_id)) v->bos_id = id;
  if (auto id = from_config(config.eos_id)) v->eos_id = id;
  if (!tc.is_object()) return Status::Ok();
  for (const char* key : {"bos_token", "eos_token"}) {
    TS_ASSIGN_OR_RETURN(std::string text, SpecialText(tc, key));
    if (text.empty()) continue;
    const std::int32_t id = v->Find(text);
    if (id < 0) {
      return NotFound("convert: tokenizer_config.json: " + std::string(key) + " \"" + text +
                      "\" is not in the vocabulary");
    }
    (std::string_view(key) == "bos_token" ? v->bos_id : v->eos_id) = id;
  }
  const std::string what = "convert: tokenizer_config.json";
  TS_ASSIGN_OR_RETURN(std::optional<bool> add_bos, GetBool(tc, "add_bos_token", what));
  if (add_bos.has_value()) v->add_bos = add_bos;
  TS_ASSIGN_OR_RETURN(std::optional<bool> add_eos, GetBool(tc, "add_eos_token", what));
  if (add_eos.has_value()) v->add_eos = add_eos;
  return Status::Ok();
}

Result<GgufVocab> ConvertTokenizer(const std::string& dir, const HfConfig& config) {
  const std::string spm_path = JoinPath(dir, "tokenizer.model");
  const std::string json_path = JoinPath(dir, "tokenizer.json");
  const std::string tc_path = JoinPath(dir, "tokenizer_config.json");
  Json tc;  // null when absent
  if (FileExists(tc_path)) {
    TS_ASSIGN_OR_RETURN(tc, ReadJsonFile(tc_path));
  }
  const bool is_llama = config.arch->name == "llama";
  const bool has_spm = FileExists(spm_path);
  const bool has_json = FileExists(json_path);
  Result<GgufVocab> vocab = Status(StatusCode::kUnsupported, "convert: \"" + dir +
                                                                 "\" has no tokenizer.model or "
                                                                 "tokenizer.json");
  if (has_spm && (is_llama || !has_json)) {
    if (FileExists(JoinPath(dir, "added_tokens.json"))) {
      return Unsupported(
          "convert: added_tokens.json is not supported; list added tokens in "
          "tokenizer_config.json added_tokens_decoder");
    }
    TS_ASSIGN_OR_RETURN(base::MappedFile file, base::MappedFile::Open(spm_path));
    TS_ASSIGN_OR_RETURN(SpmModel spm, ParseSpmModel(file.bytes(), "tokenizer.model"));
    vocab = SpmToGgufVocab(spm, config, tc);
  } else if (has_json) {
    TS_ASSIGN_OR_RETURN(Json tj, ReadJsonFile(json_path));
    vocab = TokenizerJsonToGgufVocab(tj, config, tc);
  }
  if (!vocab.ok()) return vocab.status();
  TS_RETURN_IF_ERROR(CheckVocabLoads(vocab.value()));
  return vocab;
}

}  // namespace tessera::convert
