#include "convert/gguf_vocab.h"

#include "gguf/reader.h"
#include "tokenizer/tokenizer.h"

namespace tessera::convert {

namespace keys = gguf::keys;
using gguf::Value;

std::int32_t GgufVocab::Find(const std::string& text) const {
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == text) return static_cast<std::int32_t>(i);
  }
  return -1;
}

Status PadVocab(GgufVocab* vocab, std::int32_t n_vocab, const std::string& source) {
  const auto n = static_cast<std::size_t>(n_vocab);
  if (vocab->tokens.size() > n) {
    return Status(StatusCode::kIncompatible,
                  "convert: " + source + " has " + std::to_string(vocab->tokens.size()) +
                      " tokens, more than config.json vocab_size " + std::to_string(n_vocab));
  }
  const bool with_scores = !vocab->scores.empty();
  for (std::size_t i = vocab->tokens.size(); i < n; ++i) {
    vocab->tokens.push_back("[PAD" + std::to_string(i) + "]");
    vocab->types.push_back(TokenType::kUnused);
    if (with_scores) vocab->scores.push_back(-10000.0f);
  }
  return Status::Ok();
}

Status AddVocabToWriter(const GgufVocab& v, gguf::Writer* w) {
  auto key = [](std::string_view k) { return std::string(k); };
  TS_RETURN_IF_ERROR(w->AddKeyValue(key(keys::kTokenizerModel), Value::String(v.model)));
  if (!v.pre.empty()) {
    TS_RETURN_IF_ERROR(w->AddKeyValue(key(keys::kTokenizerPre), Value::String(v.pre)));
  }
  TS_RETURN_IF_ERROR(w->AddKeyValue(key(keys::kTokenizerTokens), Value::StringArray(v.tokens)));
  if (!v.scores.empty()) {
    TS_RETURN_IF_ERROR(w->AddKeyValue(key(keys::kTokenizerScores), Value::F32Array(v.scores)));
  }
  std::vector<std::int32_t> types;
  types.reserve(v.types.size());
  for (TokenType t : v.types) types.push_back(static_cast<std::int32_t>(t));
  TS_RETURN_IF_ERROR(w->AddKeyValue(key(keys::kTokenizerTokenType), Value::I32Array(types)));
  if (!v.merges.empty()) {
    TS_RETURN_IF_ERROR(w->AddKeyValue(key(keys::kTokenizerMerges), Value::StringArray(v.merges)));
  }
  auto add_id = [&](std::string_view k, const std::optional<std::int32_t>& id) -> Status {
    if (!id.has_value() || *id < 0) return Status::Ok();
    return w->AddKeyValue(key(k), Value::U32(static_cast<std::uint32_t>(*id)));
  };
  TS_RETURN_IF_ERROR(add_id(keys::kTokenizerBosId, v.bos_id));
  TS_RETURN_IF_ERROR(add_id(keys::kTokenizerEosId, v.eos_id));
  TS_RETURN_IF_ERROR(add_id(keys::kTokenizerUnknownId, v.unk_id));
  TS_RETURN_IF_ERROR(add_id(keys::kTokenizerPaddingId, v.pad_id));
  auto add_bool = [&](std::string_view k, const std::optional<bool>& b) -> Status {
    if (!b.has_value()) return Status::Ok();
    return w->AddKeyValue(key(k), Value::Bool(*b));
  };
  TS_RETURN_IF_ERROR(add_bool(keys::kTokenizerAddBos, v.add_bos));
  TS_RETURN_IF_ERROR(add_bool(keys::kTokenizerAddEos, v.add_eos));
  TS_RETURN_IF_ERROR(add_bool(keys::kTokenizerAddSpacePrefix, v.add_space_prefix));
  return Status::Ok();
}

Status CheckVocabLoads(const GgufVocab& vocab) {
  gguf::Writer w;
  TS_RETURN_IF_ERROR(AddVocabToWriter(vocab, &w));
  TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, w.WriteToBuffer());
  Result<gguf::File> file = gguf::File::Parse(bytes);
  if (!file.ok()) return file.status().WithContext("convert: the converted vocabulary");
  auto tok = tokenizer::CreateTokenizer(file.value());
  if (!tok.ok()) return tok.status().WithContext("convert: the converted vocabulary");
  return Status::Ok();
}

}  // namespace tessera::convert
