#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "base/check.h"
#include "gguf/keys.h"
#include "tokenizer/pre_tokenizer.h"

namespace tessera::tokenizer {
namespace {

namespace keys = gguf::keys;
constexpr std::string_view kKeyModel = keys::kTokenizerModel;
constexpr std::string_view kKeyTokens = keys::kTokenizerTokens;
constexpr std::string_view kKeyScores = keys::kTokenizerScores;
constexpr std::string_view kKeyTokenType = keys::kTokenizerTokenType;
constexpr std::string_view kKeyAddBos = keys::kTokenizerAddBos;
constexpr std::string_view kKeyAddEos = keys::kTokenizerAddEos;
constexpr std::string_view kKeyAddSpacePrefix = keys::kTokenizerAddSpacePrefix;
constexpr std::string_view kKeyName = keys::kGeneralName;

// Texts llama.cpp treats as end-of-turn / end-of-generation markers, and fill-in-the-middle
// roles (llama-vocab.cpp, "auto-detect special tokens by text").
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]", "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
    "<end_of_utterance>"};
constexpr std::string_view kEomTexts[] = {"<|eom_id|>"};
constexpr std::string_view kFimPreTexts[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>",
    "<PRE>", "\xE2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>"};
constexpr std::string_view kFimSufTexts[] = {
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81hole\xEF\xBD\x9C>",
    "<SUF>", "\xE2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>"};
constexpr std::string_view kFimMidTexts[] = {
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>",
    "<MID>", "\xE2\x96\x81<MID>", "<|code_middle|>", "<|middle|>"};
constexpr std::string_view kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
                                             "[PAD]"};
constexpr std::string_view kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                             "<REPO>", "<reponame>"};
constexpr std::string_view kFimSepTexts[] = {"<|file_sep|>"};
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", "[e~["};

template <std::size_t N>
bool IsOneOf(std::string_view text, const std::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), text) != std::end(list);
}

TokenAttrs AttrsFromType(TokenType type) {
  switch (type) {
    case TokenType::kNormal: return kAttrNormal;
    case TokenType::kUnknown: return kAttrUnknown;
    case TokenType::kControl: return kAttrControl;
    case TokenType::kUserDefined: return kAttrUserDefined;
    case TokenType::kUnused: return kAttrUnused;
    case TokenType::kByte: return kAttrByte;
    case TokenType::kUndefined: return kAttrUndefined;
  }
  return kAttrUndefined;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0xHH>" -> HH, else -1.
int ParseByteToken(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  const int hi = HexDigit(text[3]);
  const int lo = HexDigit(text[4]);
  if (hi < 0 || lo < 0) return -1;
  return hi * 16 + lo;
}

// The array under `key`, checked to hold at least `n` elements (nullptr and OK when absent).
// Entries past `n` are ignored with a warning, as llama.cpp ignores them.
Result<const gguf::Array*> GetParallelArray(const gguf::File& file, std::string_view key,
                                            std::size_t n, std::vector<std::string>* warnings) {
  if (file.Find(key) == nullptr) return static_cast<const gguf::Array*>(nullptr);
  auto array = file.GetArray(key);
  if (!array.ok()) return array.status().WithContext("tokenizer");
  const gguf::Array* a = array.value();
  if (a->items.size() < n) {
    return Status(StatusCode::kMalformed,
                  "tokenizer: " + std::string(key) + " has " + std::to_string(a->items.size()) +
                      " entries, " + std::string(kKeyTokens) + " has " + std::to_string(n));
  }
  if (a->items.size() > n) {
    warnings->push_back("tokenizer: " + std::string(key) + " has " +
                        std::to_string(a->items.size()) + " entries for " + std::to_string(n) +
                        " tokens; the last " + std::to_string(a->items.size() - n) +
                        " are ignored");
  }
  return a;
}

// Optional bool key: `*out` is left unchanged if the key is absent.
Status ReadOptionalBool(const gguf::File& file, std::string_view key, bool* out) {
  if (file.Find(key) == nullptr) return Status::Ok();
  auto v = file.GetBool(key);
  if (!v.ok()) return v.status().WithContext("tokenizer");
  *out = v.value();
  return Status::Ok();
}

}  // namespace

Result<Vocab> Vocab::FromGguf(const gguf::File& file) {
  Vocab vocab;
  {
    auto model = file.GetString(kKeyModel);
    if (!model.ok()) {
      if (model.status().code() == StatusCode::kNotFound) {
        return Status(StatusCode::kNotFound,
                      "tokenizer: key " + std::string(kKeyModel) + " not found");
      }
      return model.status().WithContext("tokenizer");
    }
    vocab.model_ = std::string(model.value());
  }
  if (file.Find(kKeyName) != nullptr) {
    auto name = file.GetString(kKeyName);
    if (name.ok()) vocab.name_ = std::string(name.value());
  }
  TS_RETURN_IF_ERROR(vocab.ReadTokens(file));

  const bool is_spm = vocab.model_ == "llama";
  if (is_spm) {
    vocab.bos_id_ = 1;
    vocab.eos_id_ = 2;
    vocab.unk_id_ = 0;
    vocab.add_bos_ = true;
    vocab.add_eos_ = false;
    vocab.add_space_prefix_ = true;
  } else if (vocab.model_ == "gpt2") {
    vocab.bos_id_ = 11;  // llama.cpp's defaults for byte-level BPE (Falcon's ids); no UNK
    vocab.eos_id_ = 11;
    // The Llama 3 group adds BOS unless the file says otherwise (pre_tokenizer.h).
    if (const gguf::Value* pre = file.Find(keys::kTokenizerPre); pre != nullptr && pre->is_string()) {
      vocab.add_bos_ = PreTokenizerAddsBos(pre->string());
    }
  }
  TS_RETURN_IF_ERROR(ReadOptionalBool(file, kKeyAddSpacePrefix, &vocab.add_space_prefix_));
  TS_RETURN_IF_ERROR(vocab.ReadSpecialIds(file));
  TS_RETURN_IF_ERROR(ReadOptionalBool(file, kKeyAddBos, &vocab.add_bos_));
  TS_RETURN_IF_ERROR(ReadOptionalBool(file, kKeyAddEos, &vocab.add_eos_));
  if (vocab.add_bos_ && vocab.bos_id_ == kNoToken) {
    return Status(StatusCode::kNotFound, "tokenizer: " + std::string(kKeyAddBos) +
                                             " is true but the vocabulary has no BOS token");
  }
  if (vocab.add_eos_ && vocab.eos_id_ == kNoToken) {
    return Status(StatusCode::kNotFound, "tokenizer: " + std::string(kKeyAddEos) +
                                             " is true but the vocabulary has no EOS token");
  }
  vocab.DetectSpecialsByText();
  vocab.BuildTables();
  return vocab;
}

Status Vocab::ReadTokens(const gguf::File& file) {
  if (file.Find(kKeyTokens) == nullptr) {
    return Status(StatusCode::kNotFound,
                  "tokenizer: key " + std::string(kKeyTokens) + " not found");
  }
  auto tokens_or = file.GetArray(kKeyTokens);
  if (!tokens_or.ok()) return tokens_or.status().WithContext("tokenizer");
  const gguf::Array& tokens = *tokens_or.value();
  if (tokens.element_type != gguf::ValueType::kString) {
    return Status(StatusCode::kTypeMismatch,
                  "tokenizer: " + std::string(kKeyTokens) + " holds " +
                      std::string(gguf::ValueTypeName(tokens.element_type)) +
                      " elements, expected string");
  }
  const std::size_t n = tokens.items.size();
  if (n == 0) {
    return Status(StatusCode::kMalformed, "tokenizer: " + std::string(kKeyTokens) + " is empty");
  }
  if (n > kMaxTokens) {
    return Status(StatusCode::kOutOfRange, "tokenizer: " + std::string(kKeyTokens) + " has " +
                                               std::to_string(n) + " tokens, limit " +
                                               std::to_string(kMaxTokens));
  }
  TS_ASSIGN_OR_RETURN(const gguf::Array* scores,
                      GetParallelArray(file, kKeyScores, n, &warnings_));
  TS_ASSIGN_OR_RETURN(const gguf::Array* types,
                      GetParallelArray(file, kKeyTokenType, n, &warnings_));
  if (model_ == "llama") {
    // llama.cpp reads such a vocabulary too; its output differs from the model's training.
    for (std::string_view key : {kKeyScores, kKeyTokenType}) {
      if (file.Find(key) == nullptr) {
        warnings_.push_back("tokenizer: " + std::string(key) + " is absent; every token has " +
                            (key == kKeyScores ? "score 0" : "type normal") +
                            ", as in llama.cpp, which may not be how the model was trained");
      }
    }
  }

  texts_.resize(n);
  scores_.assign(n, 0.0f);
  types_.assign(n, TokenType::kNormal);
  attrs_.assign(n, kAttrNormal);
  byte_values_.assign(n, -1);
  ids_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const gguf::Value& item = tokens.items[i];
    if (!item.is_string()) {
      return Status(StatusCode::kTypeMismatch, "tokenizer: " + std::string(kKeyTokens) + "[" +
                                                   std::to_string(i) + "] is not a string");
    }
    std::string text = item.string();
    if (text.empty()) text = "[EMPTY_" + std::to_string(i) + "]";  // as llama.cpp
    const auto id = static_cast<std::int32_t>(i);
    auto [it, inserted] = ids_.emplace(text, id);
    if (!inserted) {
      return Status(StatusCode::kDuplicate, "tokenizer: token text \"" + text + "\" has ids " +
                                                std::to_string(it->second) + " and " +
                                                std::to_string(i));
    }
    texts_[i] = std::move(text);

    if (scores != nullptr) {
      const gguf::Value& s = scores->items[i];
      if (auto f = s.AsF64()) {
        scores_[i] = static_cast<float>(*f);
      } else if (auto k = s.AsI64()) {
        scores_[i] = static_cast<float>(*k);
      } else {
        return Status(StatusCode::kTypeMismatch, "tokenizer: " + std::string(kKeyScores) + "[" +
                                                     std::to_string(i) + "] is " +
                                                     std::string(gguf::ValueTypeName(s.type())) +
                                                     ", expected f32 or i32");
      }
    }
    if (types != nullptr) {
      const gguf::Value& t = types->items[i];
      auto k = t.AsI64();
      if (!k) {
        return Status(StatusCode::kTypeMismatch, "tokenizer: " + std::string(kKeyTokenType) +
                                                     "[" + std::to_string(i) + "] is " +
                                                     std::string(gguf::ValueTypeName(t.type())) +
                                                     ", expected i32");
      }
      // Unknown type numbers count as undefined, as in llama.cpp.
      types_[i] = (*k >= 0 && *k <= 6) ? static_cast<TokenType>(*k) : TokenType::kUndefined;
      attrs_[i] = AttrsFromType(types_[i]);
    }
    if (types_[i] == TokenType::kByte) {
      const int byte = ParseByteToken(texts_[i]);
      if (byte < 0) {
        return Status(StatusCode::kMalformed, "tokenizer: byte token " + std::to_string(i) +
                                                  " has text \"" + texts_[i] +
                                                  "\", expected <0xHH>");
      }
      byte_values_[i] = static_cast<std::int16_t>(byte);
    }
  }
  return Status::Ok();
}

Status Vocab::ReadSpecialIds(const gguf::File& file) {
  // The keys llama.cpp reads, in its order; a later key overrides an earlier one for the same
  // slot (the older fill-in-the-middle names come last, as there).
  const std::pair<std::string_view, std::int32_t*> keys[] = {
      {keys::kTokenizerBosId, &bos_id_},
      {keys::kTokenizerEosId, &eos_id_},
      {keys::kTokenizerEotId, &eot_id_},
      {keys::kTokenizerEomId, &eom_id_},
      {keys::kTokenizerUnknownId, &unk_id_},
      {keys::kTokenizerSeparatorId, &sep_id_},
      {keys::kTokenizerSeparatorIdAlt, &sep_id_},
      {keys::kTokenizerPaddingId, &pad_id_},
      {keys::kTokenizerMaskId, &mask_id_},
      {keys::kTokenizerFimPreId, &fim_pre_id_},
      {keys::kTokenizerFimSufId, &fim_suf_id_},
      {keys::kTokenizerFimMidId, &fim_mid_id_},
      {keys::kTokenizerFimPadId, &fim_pad_id_},
      {keys::kTokenizerFimRepId, &fim_rep_id_},
      {keys::kTokenizerFimSepId, &fim_sep_id_},
      {keys::kTokenizerPrefixId, &fim_pre_id_},
      {keys::kTokenizerSuffixId, &fim_suf_id_},
      {keys::kTokenizerMiddleId, &fim_mid_id_},
  };
  for (const auto& [key, id] : keys) {
    if (*id != kNoToken && !Contains(*id)) *id = kNoToken;  // a default past the end: disabled
    if (file.Find(key) == nullptr) continue;
    const gguf::Value& value = *file.Find(key);
    if (!value.is_integer()) {
      return Status(StatusCode::kTypeMismatch, "tokenizer: " + std::string(key) + " holds " +
                                                   std::string(gguf::ValueTypeName(value.type())) +
                                                   ", expected an integer");
    }
    const std::optional<std::int64_t> v = value.AsI64();
    if (!v.has_value() || *v < 0 || *v >= size()) {
      // llama.cpp warns and keeps the default; converters write 0xFFFFFFFF or -1 for "none".
      const std::string shown = v.has_value() ? std::to_string(*v) : std::to_string(*value.AsU64());
      warnings_.push_back("tokenizer: " + std::string(key) + " = " + shown +
                          " is outside the vocabulary of " + std::to_string(size()) +
                          " tokens; ignored" +
                          (*id == kNoToken ? " (none)" : " (the default " + std::to_string(*id) +
                                                             " stays)"));
      continue;
    }
    *id = static_cast<std::int32_t>(*v);
  }
  return Status::Ok();
}

void Vocab::DetectSpecialsByText() {
  // Which ids the text lists pick: llama.cpp takes the first it meets in hash order; we take the
  // lowest id so the choice is deterministic (vocabularies hold at most one of each in practice).
  auto detect = [&](std::int32_t* slot, auto& texts) {
    if (*slot != kNoToken) return;
    for (std::int32_t id = 0; id < size(); ++id) {
      if (IsOneOf(texts_[id], texts)) {
        *slot = id;
        attrs_[id] |= kAttrControl;
        return;
      }
    }
  };
  detect(&eot_id_, kEotTexts);
  detect(&eom_id_, kEomTexts);
  detect(&fim_pre_id_, kFimPreTexts);
  detect(&fim_suf_id_, kFimSufTexts);
  detect(&fim_mid_id_, kFimMidTexts);
  detect(&fim_pad_id_, kFimPadTexts);
  detect(&fim_rep_id_, kFimRepTexts);
  detect(&fim_sep_id_, kFimSepTexts);

  // Control tokens named "...unused..." are unused.
  for (std::int32_t id = 0; id < size(); ++id) {
    if ((attrs_[id] & kAttrControl) && texts_[id].find("unused") != std::string::npos) {
      attrs_[id] |= kAttrUnused;
    }
  }

  std::vector<std::int32_t> eog;
  for (std::int32_t id : {fim_pad_id_, fim_rep_id_, fim_sep_id_, eos_id_, eot_id_, eom_id_}) {
    if (id != kNoToken) eog.push_back(id);
  }
  for (std::int32_t id = 0; id < size(); ++id) {
    if (IsOneOf(texts_[id], kEogTexts)) {
      eog.push_back(id);
      attrs_[id] |= kAttrControl;
    }
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  eog_ids_ = std::move(eog);
}

void Vocab::BuildTables() {
  for (std::int32_t id = 0; id < size(); ++id) {
    if (attrs_[id] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) {
      special_tokens_.push_back(id);
    }
  }
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(),
                   [&](std::int32_t a, std::int32_t b) {
                     return texts_[a].size() > texts_[b].size();
                   });

  // Per-model attributes, as llama.cpp sets them by general.name (lowercased).
  std::string lower = name_;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find("phi-3") != std::string::npos || lower.find("phi3") != std::string::npos) {
    for (std::int32_t id : special_tokens_) attrs_[id] |= kAttrRstrip;
    if (std::int32_t id = Find("</s>"); id != kNoToken) attrs_[id] |= kAttrRstrip;
    for (std::string_view text : {"<unk>", "<s>", "<|endoftext|>"}) {
      if (std::int32_t id = Find(text); id != kNoToken) attrs_[id] &= ~kAttrRstrip;
    }
  }

  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const char hex_text[6] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
    std::int32_t id = Find(std::string_view(hex_text, 6));
    if (id == kNoToken) {
      const char raw = static_cast<char>(b);
      id = Find(std::string_view(&raw, 1));
    }
    byte_tokens_[b] = id;
  }
}

const std::string& Vocab::text(std::int32_t id) const {
  TS_CHECK(Contains(id));
  return texts_[id];
}

float Vocab::score(std::int32_t id) const {
  TS_CHECK(Contains(id));
  return scores_[id];
}

TokenType Vocab::type(std::int32_t id) const {
  TS_CHECK(Contains(id));
  return types_[id];
}

TokenAttrs Vocab::attrs(std::int32_t id) const {
  TS_CHECK(Contains(id));
  return attrs_[id];
}

int Vocab::ByteValue(std::int32_t id) const {
  TS_CHECK(Contains(id));
  return byte_values_[id];
}

std::int32_t Vocab::Find(std::string_view text) const {
  auto it = ids_.find(text);
  return it == ids_.end() ? kNoToken : it->second;
}

bool Vocab::IsEndOfGeneration(std::int32_t id) const {
  return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

}  // namespace tessera::tokenizer
