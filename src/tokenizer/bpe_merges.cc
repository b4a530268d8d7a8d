#include "tokenizer/bpe_merges.h"

#include <utility>

#include "gguf/keys.h"

namespace tessera::tokenizer {

Result<BpeMerges> BpeMerges::FromGguf(const gguf::File& file) {
  constexpr std::string_view kKey = gguf::keys::kTokenizerMerges;
  if (file.Find(kKey) == nullptr) {
    return Status(StatusCode::kNotFound, "tokenizer: key " + std::string(kKey) +
                                             " not found (byte-level BPE needs its merges)");
  }
  auto array_or = file.GetArray(kKey);
  if (!array_or.ok()) return array_or.status().WithContext("tokenizer");
  const gguf::Array& array = *array_or.value();
  if (array.element_type != gguf::ValueType::kString) {
    return Status(StatusCode::kTypeMismatch,
                  "tokenizer: " + std::string(kKey) + " holds " +
                      std::string(gguf::ValueTypeName(array.element_type)) +
                      " elements, expected string");
  }
  const std::size_t n = array.items.size();
  if (n > kMaxMerges) {
    return Status(StatusCode::kOutOfRange, "tokenizer: " + std::string(kKey) + " has " +
                                               std::to_string(n) + " entries, limit " +
                                               std::to_string(kMaxMerges));
  }
  BpeMerges merges;
  merges.merges_.reserve(n);  // no reallocation below: the map's views stay valid
  merges.ranks_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const gguf::Value& item = array.items[i];
    if (!item.is_string()) {
      return Status(StatusCode::kTypeMismatch, "tokenizer: " + std::string(kKey) + "[" +
                                                   std::to_string(i) + "] is not a string");
    }
    const std::string& text = merges.merges_.emplace_back(item.string());
    const std::size_t space = text.empty() ? std::string::npos : text.find(' ', 1);
    if (space == std::string::npos || space + 1 >= text.size()) {
      std::string shown = text.substr(0, 64);
      return Status(StatusCode::kMalformed,
                    "tokenizer: " + std::string(kKey) + "[" + std::to_string(i) + "] \"" + shown +
                        "\" is not two tokens separated by a space");
    }
    const std::string_view view(text);
    merges.ranks_.emplace(Pair{view.substr(0, space), view.substr(space + 1)},
                          static_cast<std::int32_t>(i));
  }
  return merges;
}

std::int32_t BpeMerges::Rank(std::string_view left, std::string_view right) const {
  const auto it = ranks_.find(Pair{left, right});
  return it == ranks_.end() ? kNoRank : it->second;
}

}  // namespace tessera::tokenizer
