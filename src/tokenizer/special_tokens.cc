#include "tokenizer/special_tokens.h"

#include <utility>

namespace tessera::tokenizer {
namespace {

// isspace() in the C locale, without its undefined behaviour for negative chars.
bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Appends to `out` the split of raw fragment `raw` around every occurrence of `token_text`.
void SplitFragment(std::string_view text, const Fragment& raw, std::int32_t token,
                   std::string_view token_text, TokenAttrs attrs, std::vector<Fragment>* out) {
  std::size_t base = raw.offset;
  std::size_t length = raw.length;
  while (length > 0) {
    const std::size_t match = text.substr(0, base + length).find(token_text, base);
    if (match == std::string_view::npos) break;
    std::size_t left_length = match - base;
    if (attrs & kAttrLstrip) {
      while (left_length > 0 && IsAsciiSpace(text[base + left_length - 1])) --left_length;
    }
    if (left_length > 0) out->push_back({Vocab::kNoToken, base, left_length});
    out->push_back({token, match, token_text.size()});
    std::size_t right = match + token_text.size();
    std::size_t right_length = base + length - right;
    if (attrs & kAttrRstrip) {
      while (right_length > 0 && IsAsciiSpace(text[right])) {
        ++right;
        --right_length;
      }
    }
    base = right;
    length = right_length;
  }
  if (length > 0) out->push_back({Vocab::kNoToken, base, length});
}

}  // namespace

std::vector<Fragment> PartitionSpecialTokens(const Vocab& vocab, std::string_view text,
                                             bool parse_special) {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({Vocab::kNoToken, 0, text.size()});
  std::vector<Fragment> next;
  for (std::int32_t id : vocab.special_tokens()) {
    const TokenAttrs attrs = vocab.attrs(id);
    if (!parse_special && (attrs & (kAttrControl | kAttrUnknown))) continue;
    const std::string& token_text = vocab.text(id);
    bool found = false;
    for (const Fragment& f : fragments) {
      if (!f.is_token() &&
          text.substr(f.offset, f.length).find(token_text) != std::string_view::npos) {
        found = true;
        break;
      }
    }
    if (!found) continue;
    next.clear();
    for (const Fragment& f : fragments) {
      if (f.is_token()) {
        next.push_back(f);
      } else {
        SplitFragment(text, f, id, token_text, attrs, &next);
      }
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace tessera::tokenizer
