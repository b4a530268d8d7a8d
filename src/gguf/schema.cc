#include "gguf/schema.h"

#include <string>

#include "gguf/keys.h"
#include "gguf/reader.h"

namespace tessera::gguf {
namespace {

// What a well-known key must hold.
enum class Want {
  kU32,          // exactly u32
  kString,       // exactly string
  kBool,         // exactly bool
  kF32,          // exactly f32
  kInteger,      // any integer type
  kStringArray,  // array of string
  kF32Array,     // array of f32
  kI32Array,     // array of i32
};

struct Rule {
  std::string_view key;  // full key, or an architecture suffix when per_arch
  Want want;
};

constexpr Rule kGlobalRules[] = {
    {keys::kGeneralAlignment, Want::kU32},        {keys::kGeneralArchitecture, Want::kString},
    {keys::kGeneralName, Want::kString},          {keys::kTokenizerModel, Want::kString},
    {keys::kTokenizerPre, Want::kString},         {keys::kTokenizerTokens, Want::kStringArray},
    {keys::kTokenizerScores, Want::kF32Array},    {keys::kTokenizerTokenType, Want::kI32Array},
    {keys::kTokenizerMerges, Want::kStringArray}, {keys::kTokenizerBosId, Want::kU32},
    {keys::kTokenizerEosId, Want::kU32},          {keys::kTokenizerUnknownId, Want::kU32},
    {keys::kTokenizerPaddingId, Want::kU32},      {keys::kTokenizerAddBos, Want::kBool},
    {keys::kTokenizerAddEos, Want::kBool},        {keys::kTokenizerAddSpacePrefix, Want::kBool},
};

constexpr Rule kArchRules[] = {
    {keys::kContextLength, Want::kInteger},   {keys::kEmbeddingLength, Want::kInteger},
    {keys::kBlockCount, Want::kInteger},      {keys::kFeedForwardLength, Want::kInteger},
    {keys::kHeadCount, Want::kInteger},       {keys::kHeadCountKv, Want::kInteger},
    {keys::kLayerNormRmsEpsilon, Want::kF32}, {keys::kRopeFreqBase, Want::kF32},
};

std::string_view WantName(Want w) {
  switch (w) {
    case Want::kU32:
      return "u32";
    case Want::kString:
      return "string";
    case Want::kBool:
      return "bool";
    case Want::kF32:
      return "f32";
    case Want::kInteger:
      return "an integer type";
    case Want::kStringArray:
      return "array of string";
    case Want::kF32Array:
      return "array of f32";
    case Want::kI32Array:
      return "array of i32";
  }
  return "?";
}

bool ArrayOf(const Value& v, ValueType element) {
  return v.is_array() && v.array().element_type == element;
}

bool Matches(const Value& v, Want w) {
  switch (w) {
    case Want::kU32:
      return v.type() == ValueType::kU32;
    case Want::kString:
      return v.is_string();
    case Want::kBool:
      return v.type() == ValueType::kBool;
    case Want::kF32:
      return v.type() == ValueType::kF32;
    case Want::kInteger:
      return v.is_integer();
    case Want::kStringArray:
      return ArrayOf(v, ValueType::kString);
    case Want::kF32Array:
      return ArrayOf(v, ValueType::kF32);
    case Want::kI32Array:
      return ArrayOf(v, ValueType::kI32);
  }
  return false;
}

std::string FoundName(const Value& v) {
  std::string name(ValueTypeName(v.type()));
  if (v.is_array()) name += " of " + std::string(ValueTypeName(v.array().element_type));
  return name;
}

Status Check(std::string_view key, const Value& v, Want w) {
  if (Matches(v, w)) return Status::Ok();
  return Status(StatusCode::kTypeMismatch, "gguf: key \"" + std::string(key) + "\" must be " +
                                               std::string(WantName(w)) + ", found " +
                                               FoundName(v));
}

}  // namespace

Status CheckWellKnownTypes(const std::vector<KeyValue>& metadata) {
  const Value* arch = nullptr;
  for (const KeyValue& kv : metadata) {
    if (kv.key == keys::kGeneralArchitecture) arch = &kv.value;
    for (const Rule& rule : kGlobalRules) {
      if (kv.key == rule.key) TS_RETURN_IF_ERROR(Check(kv.key, kv.value, rule.want));
    }
  }
  if (arch == nullptr || !arch->is_string() || arch->string().empty()) return Status::Ok();
  const std::string& prefix = arch->string();
  for (const KeyValue& kv : metadata) {
    std::string_view key = kv.key;
    if (key.size() <= prefix.size() || key.substr(0, prefix.size()) != prefix) continue;
    std::string_view suffix = key.substr(prefix.size());
    for (const Rule& rule : kArchRules) {
      if (suffix == rule.key) TS_RETURN_IF_ERROR(Check(kv.key, kv.value, rule.want));
    }
  }
  return Status::Ok();
}

}  // namespace tessera::gguf
