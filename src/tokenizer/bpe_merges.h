// BpeMerges: the merge table of a byte-level BPE vocabulary, read from the GGUF key
// "tokenizer.ggml.merges" ([string]). Entry i is "LEFT RIGHT" (split at the first space after
// the first byte, as llama.cpp does, so LEFT may itself be a lone space) and says that the
// adjacent symbols LEFT and RIGHT merge with rank i; lower ranks merge first. When a pair is
// listed twice the first (lowest) rank counts, as in llama.cpp.
//
// Ownership: owns copies of the merge strings; Rank() borrows nothing.
// Thread safety: immutable after FromGguf(); concurrent Rank() calls are safe. Move-only.
#ifndef TESSERA_TOKENIZER_BPE_MERGES_H_
#define TESSERA_TOKENIZER_BPE_MERGES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gguf/reader.h"
#include "tessera/status.h"

namespace tessera::tokenizer {

class BpeMerges {
 public:
  static constexpr std::int32_t kNoRank = -1;
  // Upper bound on the number of merges (real vocabularies have up to ~300k).
  static constexpr std::size_t kMaxMerges = std::size_t{1} << 22;

  // Errors: kNotFound (key missing), kTypeMismatch (not an array of strings), kOutOfRange (more
  // than kMaxMerges entries), kMalformed (an entry without a space separating two non-empty
  // parts, naming its index).
  static Result<BpeMerges> FromGguf(const gguf::File& file);

  BpeMerges(BpeMerges&&) noexcept = default;
  BpeMerges& operator=(BpeMerges&&) noexcept = default;
  BpeMerges(const BpeMerges&) = delete;
  BpeMerges& operator=(const BpeMerges&) = delete;

  // The rank of merging `left` with `right`, or kNoRank. No allocation.
  std::int32_t Rank(std::string_view left, std::string_view right) const;
  std::size_t size() const { return merges_.size(); }

 private:
  BpeMerges() = default;

  struct Pair {
    std::string_view left;
    std::string_view right;
    bool operator==(const Pair&) const = default;
  };
  struct PairHash {
    std::size_t operator()(const Pair& p) const {
      const std::size_t a = std::hash<std::string_view>{}(p.left);
      const std::size_t b = std::hash<std::string_view>{}(p.right);
      return a ^ (b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2));
    }
  };

  std::vector<std::string> merges_;  // "LEFT RIGHT"; reserved up front so views stay valid
  std::unordered_map<Pair, std::int32_t, PairHash> ranks_;  // views into merges_
};

}  // namespace tessera::tokenizer

#endif  // TESSERA_TOKENIZER_BPE_MERGES_H_
