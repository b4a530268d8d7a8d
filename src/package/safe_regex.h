// SafeRegex: the regular expressions of JSON Schema's `pattern` keyword, matched in time linear
// in the text, because schemas come inside packages from strangers and are later applied to
// model outputs.
//
// A JSON Schema pattern is an ECMA-262 regular expression that matches when it matches anywhere
// in the string (use ^ and $ to anchor it). std::regex backtracks (exponential time on (a+)+$)
// and libstdc++'s matcher recurses once per character, so it is not used. Instead the pattern is
// compiled to a Thompson NFA and simulated over the text's code points: time
// O(code points x program size), memory O(program size), no recursion while matching.
//
// The supported subset of ECMA-262 (everything else is refused by Compile):
//   literals      any code point except the syntax characters ^ $ \ . * + ? ( ) [ { |
//                 (a lone ] or } is a literal, as in ECMA-262)
//   .             any code point except the line terminators \n \r U+2028 U+2029
//   classes       [abc] [a-z] [^...]; [] matches nothing, [^] anything; inside, the class
//                 escapes below and \b (backspace); "-" first or last is a literal
//   class escapes \d \D \w \W \s \S (ECMA-262 sets: \w is [A-Za-z0-9_], \s includes the
//                 Unicode spaces)
//   char escapes  \t \n \v \f \r \0 (not before a digit) \xHH \uHHHH (a surrogate pair written
//                 as two \u escapes is one code point), and a backslash before any of
//                 ^ $ \ . * + ? ( ) [ ] { } | / -
//   groups        ( ) and (?: ) (nothing is captured: the result is only yes or no)
//   alternation   |
//   anchors       ^ $ (start and end of the whole text: no multiline flag), \b \B
//   quantifiers   * + ? {n} {n,} {n,m} with n <= m <= kMaxRegexRepeat, optionally followed by ?
//                 (lazy and greedy give the same yes/no answer)
// Refused with kUnsupported: backreferences (\1, \k<name>), lookaround ((?= (?! (?<= (?<!),
// named groups, \cX, \p{...}, \u{...}, and identity escapes of other characters (\q).
// Refused with kMalformed: syntax errors (unbalanced parentheses, a quantifier with nothing to
// repeat, a lone "{", a range out of order, ...). Refused with kResourceExhausted: a pattern
// longer than kMaxPatternBytes, groups nested deeper than kMaxRegexNesting, or a program of more
// than kMaxRegexProgram instructions (a{1000}{1000} would be a million).
//
// Texts are UTF-8; an invalid byte is read as U+FFFD (so it matches "." but no literal).
//
// Thread safety: immutable after Compile; Search may be called from many threads at once.
// Cost of a copy: the program (at most kMaxRegexProgram small instructions).
#ifndef TESSERA_PACKAGE_SAFE_REGEX_H_
#define TESSERA_PACKAGE_SAFE_REGEX_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera/status.h"

namespace tessera::package {

inline constexpr std::size_t kMaxPatternBytes = 1024;
inline constexpr std::size_t kMaxRegexNesting = 32;
inline constexpr std::size_t kMaxRegexProgram = 4096;
inline constexpr std::uint32_t kMaxRegexRepeat = 1000;

class SafeRegex {
 public:
  // Errors name the pattern and the offending position: `regex "a(b": unbalanced "(" at 1`.
  static Result<SafeRegex> Compile(std::string_view pattern);

  // True if the pattern matches some part of `text` (ECMA-262 RegExp.prototype.test).
  bool Search(std::string_view text) const;

  // Number of NFA instructions: the per-code-point cost of Search.
  std::size_t program_size() const { return program_.size(); }

 private:
  friend class RegexCompiler;

  enum class Op : std::uint8_t {
    kClass,            // consume a code point in classes_[arg]; continue at pc + 1
    kSplit,            // continue at both `arg` and `arg2`
    kJump,             // continue at `arg`
    kBegin,            // assert: at the start of the text
    kEnd,              // assert: at the end of the text
    kWordBoundary,     // assert \b
    kNotWordBoundary,  // assert \B
    kMatch,
  };
  struct Inst {
    Op op = Op::kMatch;
    std::uint32_t arg = 0;
    std::uint32_t arg2 = 0;
  };
  // Sorted, disjoint, non-adjacent inclusive code point ranges.
  using Ranges = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

  static bool InClass(const Ranges& ranges, std::uint32_t cp);
  // Decodes the code point at text[*i] and advances *i past it; an invalid sequence is U+FFFD,
  // one byte long.
  static std::uint32_t DecodeAt(std::string_view text, std::size_t* i);

  std::vector<Inst> program_;
  std::vector<Ranges> classes_;
};

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_SAFE_REGEX_H_
