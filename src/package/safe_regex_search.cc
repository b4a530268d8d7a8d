// SafeRegex::Search: simulates the compiled NFA over the text, one code point at a time.
#include <algorithm>
#include <limits>

#include "package/safe_regex.h"

namespace tessera::package {
namespace {

constexpr std::uint32_t kNoCodePoint = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t kMaxCodePoint = 0x10FFFF;

bool IsWord(std::uint32_t cp) {
  return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
         cp == '_';
}

}  // namespace

std::uint32_t SafeRegex::DecodeAt(std::string_view text, std::size_t* i) {
  const unsigned char lead = static_cast<unsigned char>(text[*i]);
  if (lead < 0x80) {
    ++*i;
    return lead;
  }
  std::size_t len = 0;
  std::uint32_t cp = 0;
  std::uint32_t min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2, cp = lead & 0x1F, min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3, cp = lead & 0x0F, min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4, cp = lead & 0x07, min = 0x10000;
  }
  if (len == 0 || *i + len > text.size()) {
    ++*i;
    return 0xFFFD;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char c = static_cast<unsigned char>(text[*i + k]);
    if ((c & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    return 0xFFFD;
  }
  *i += len;
  return cp;
}

bool SafeRegex::InClass(const Ranges& ranges, std::uint32_t cp) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), cp,
                             [](std::uint32_t v, const auto& r) { return v < r.first; });
  return it != ranges.begin() && cp <= std::prev(it)->second;
}

bool SafeRegex::Search(std::string_view text) const {
  const std::size_t n = program_.size();
  const bool anchored = program_[0].op == Op::kBegin;
  std::vector<std::uint32_t> pending;  // threads that consumed the previous code point
  std::vector<std::uint32_t> waiting;  // kClass instructions reached at this position
  std::vector<std::uint32_t> stack;
  std::vector<std::size_t> seen(n, 0);  // == generation: already expanded at this position
  std::size_t generation = 0;
  std::uint32_t prev = kNoCodePoint;
  std::size_t i = 0;
  while (true) {
    const bool at_end = i >= text.size();
    std::size_t next_i = i;
    const std::uint32_t cp = at_end ? kNoCodePoint : DecodeAt(text, &next_i);
    ++generation;
    stack.assign(pending.begin(), pending.end());
    if (i == 0 || !anchored) stack.push_back(0);  // unanchored search: a new thread at each start
    waiting.clear();
    const bool boundary = IsWord(prev) != IsWord(cp);
    while (!stack.empty()) {
      const std::uint32_t pc = stack.back();
      stack.pop_back();
      if (seen[pc] == generation) continue;
      seen[pc] = generation;
      const Inst& in = program_[pc];
      switch (in.op) {
        case Op::kMatch:
          return true;
        case Op::kClass:
          waiting.push_back(pc);
          break;
        case Op::kSplit:
          stack.push_back(in.arg2), stack.push_back(in.arg);
          break;
        case Op::kJump:
          stack.push_back(in.arg);
          break;
        case Op::kBegin:
          if (i == 0) stack.push_back(pc + 1);
          break;
        case Op::kEnd:
          if (at_end) stack.push_back(pc + 1);
          break;
        case Op::kWordBoundary:
          if (boundary) stack.push_back(pc + 1);
          break;
        case Op::kNotWordBoundary:
          if (!boundary) stack.push_back(pc + 1);
          break;
      }
    }
    if (at_end) return false;
    pending.clear();
    for (std::uint32_t pc : waiting) {
      if (InClass(classes_[program_[pc].arg], cp)) pending.push_back(pc + 1);
    }
    if (pending.empty() && anchored) return false;
    prev = cp;
    i = next_i;
  }
}

}  // namespace tessera::package
