#include "package/safe_regex.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "base/utf8.h"

namespace tessera::package {
namespace {

using Ranges = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

constexpr std::uint32_t kMaxCodePoint = 0x10FFFF;
constexpr std::uint32_t kNoCodePoint = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t kInfinite = std::numeric_limits<std::uint32_t>::max();

Ranges Normalize(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (const auto& [lo, hi] : r) {
    if (!out.empty() && lo <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, hi);
    } else {
      out.emplace_back(lo, hi);
    }
  }
  return out;
}

Ranges Complement(const Ranges& normalized) {
  Ranges out;
  std::uint32_t next = 0;
  for (const auto& [lo, hi] : normalized) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
  return out;
}

Ranges Digits() { return {{'0', '9'}}; }
Ranges WordChars() { return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; }
// ECMA-262 WhiteSpace and LineTerminator.
Ranges Spaces() {
  return {{0x09, 0x0D},     {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
          {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
}
Ranges Dot() { return Complement({{0x0A, 0x0A}, {0x0D, 0x0D}, {0x2028, 0x2029}}); }

// \d \D \w \W \s \S, or nullopt.
std::optional<Ranges> ClassEscape(char c) {
  constexpr std::pair<char, Ranges (*)()> kSets[] = {
      {'d', Digits}, {'w', WordChars}, {'s', Spaces}};
  for (const auto& [letter, set] : kSets) {
    if (c == letter) return set();
    if (c == letter - 'a' + 'A') return Complement(set());
  }
  return std::nullopt;
}

constexpr std::pair<char, std::uint32_t> kControlEscapes[] = {
    {'t', '\t'}, {'n', '\n'}, {'v', '\v'}, {'f', '\f'}, {'r', '\r'}};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSyntaxChar(char c) {
  return std::string_view("^$\\.*+?()[]{}|/-").find(c) != std::string_view::npos;
}

}  // namespace

// Parses a pattern into a small tree, then emits the NFA program from it (a tree, because a
// counted repeat emits its operand several times).
class RegexCompiler {
 public:
  explicit RegexCompiler(std::string_view pattern) : p_(pattern) {}

  Result<SafeRegex> Run() {
    if (p_.size() > kMaxPatternBytes) {
      return Error(StatusCode::kResourceExhausted, "is " + std::to_string(p_.size()) +
                                                       " bytes, more than " +
                                                       std::to_string(kMaxPatternBytes));
    }
    Status utf8 = base::ValidateUtf8(p_);
    if (!utf8.ok()) return Error(StatusCode::kInvalidUtf8, "is not valid UTF-8");
    TS_ASSIGN_OR_RETURN(const std::uint32_t root, ParseAlternation(0));
    if (pos_ < p_.size()) return ErrorAt(StatusCode::kMalformed, "unbalanced \")\"", pos_);
    if (!Emit(root) || re_.program_.size() >= kMaxRegexProgram) {
      return Error(StatusCode::kResourceExhausted,
                   "compiles to more than " + std::to_string(kMaxRegexProgram) + " instructions");
    }
    re_.program_.push_back({SafeRegex::Op::kMatch, 0, 0});
    return std::move(re_);
  }

 private:
  enum class Kind : std::uint8_t { kEmpty, kClass, kAssert, kConcat, kAlternation, kRepeat };
  struct Node {
    Kind kind = Kind::kEmpty;
    SafeRegex::Op assertion = SafeRegex::Op::kBegin;  // kAssert
    std::uint32_t cls = 0;                            // kClass: index into classes_
    std::vector<std::uint32_t> kids;                  // kConcat, kAlternation; kRepeat: one
    std::uint32_t min = 0;                            // kRepeat
    std::uint32_t max = 0;                            // kRepeat; kInfinite for no bound
  };
  // One escape or class member: a code point, a set, or (outside classes) a \b / \B assertion.
  struct Atom {
    std::uint32_t cp = kNoCodePoint;
    Ranges set;
    bool is_assertion = false;
    SafeRegex::Op assertion = SafeRegex::Op::kWordBoundary;
  };

  Status Error(StatusCode code, const std::string& problem) const {
    return Status(code, "regex \"" + std::string(p_) + "\": " + problem);
  }
  Status ErrorAt(StatusCode code, const std::string& problem, std::size_t at) const {
    return Error(code, problem + " at " + std::to_string(at));
  }

  std::uint32_t Add(Node node) {
    nodes_.push_back(std::move(node));
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }
  std::uint32_t AddClass(Ranges ranges) {
    re_.classes_.push_back(Normalize(std::move(ranges)));
    Node n;
    n.kind = Kind::kClass;
    n.cls = static_cast<std::uint32_t>(re_.classes_.size() - 1);
    return Add(std::move(n));
  }
  bool AtEnd() const { return pos_ >= p_.size(); }
  char Peek() const { return p_[pos_]; }

  Result<std::uint32_t> ParseAlternation(std::size_t depth) {
    Node alt;
    alt.kind = Kind::kAlternation;
    while (true) {
      TS_ASSIGN_OR_RETURN(const std::uint32_t seq, ParseSequence(depth));
      alt.kids.push_back(seq);
      if (AtEnd() || Peek() != '|') break;
      ++pos_;
    }
    if (alt.kids.size() == 1) return alt.kids[0];
    return Add(std::move(alt));
  }

  Result<std::uint32_t> ParseSequence(std::size_t depth) {
    Node seq;
    seq.kind = Kind::kConcat;
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      const std::size_t atom_at = pos_;
      TS_ASSIGN_OR_RETURN(std::uint32_t item, ParseAtom(depth));
      if (!AtEnd() && IsQuantifierStart()) {
        if (nodes_[item].kind == Kind::kAssert) {
          return ErrorAt(StatusCode::kMalformed, "an assertion cannot be repeated", atom_at);
        }
        Node rep;
        rep.kind = Kind::kRepeat;
        rep.kids = {item};
        TS_RETURN_IF_ERROR(ParseQuantifier(&rep.min, &rep.max));
        if (!AtEnd() && Peek() == '?') ++pos_;  // lazy: same yes/no answer
        if (!AtEnd() && IsQuantifierStart()) {
          return ErrorAt(StatusCode::kMalformed, "a quantifier has nothing to repeat", pos_);
        }
        item = Add(std::move(rep));
      }
      seq.kids.push_back(item);
    }
    if (seq.kids.size() == 1) return seq.kids[0];
    if (seq.kids.empty()) return Add(Node());
    return Add(std::move(seq));
  }

  bool IsQuantifierStart() const {
    const char c = Peek();
    return c == '*' || c == '+' || c == '?' || c == '{';
  }

  // Reads up to 10 digits; false if there are none.
  bool ReadCount(std::uint64_t* value) {
    const std::size_t start = pos_;
    *value = 0;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9' && pos_ - start < 10) {
      *value = *value * 10 + static_cast<std::uint64_t>(Peek() - '0');
      ++pos_;
    }
    return pos_ > start;
  }

  Status ParseQuantifier(std::uint32_t* min, std::uint32_t* max) {
    const std::size_t at = pos_;
    const char c = p_[pos_++];
    if (c == '*') *min = 0, *max = kInfinite;
    if (c == '+') *min = 1, *max = kInfinite;
    if (c == '?') *min = 0, *max = 1;
    if (c != '{') return Status::Ok();
    const Status bad = ErrorAt(StatusCode::kMalformed,
                               "\"{\" does not start a quantifier {n}, {n,} or {n,m} (write \\{ "
                               "for a literal brace)",
                               at);
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    if (!ReadCount(&lo)) return bad;
    hi = lo;
    if (!AtEnd() && Peek() == ',') {
      ++pos_;
      if (!ReadCount(&hi)) hi = kInfinite;
    }
    if (AtEnd() || Peek() != '}') return bad;
    ++pos_;
    if (lo > kMaxRegexRepeat || (hi != kInfinite && hi > kMaxRegexRepeat)) {
      return ErrorAt(StatusCode::kResourceExhausted,
                     "a repeat count is above " + std::to_string(kMaxRegexRepeat), at);
    }
    if (lo > hi) return ErrorAt(StatusCode::kMalformed, "quantifier {n,m} has n > m", at);
    *min = static_cast<std::uint32_t>(lo);
    *max = static_cast<std::uint32_t>(hi);
    return Status::Ok();
  }

  Result<std::uint32_t> ParseAtom(std::size_t depth) {
    const std::size_t at = pos_;
    const char c = Peek();
    if (c == '(') return ParseGroup(depth);
    if (c == '[') return ParseClass();
    if (c == '*' || c == '+' || c == '?' || c == '{') {
      return ErrorAt(StatusCode::kMalformed,
                     std::string("\"") + c + "\" has nothing to repeat (escape it for a literal)",
                     at);
    }
    if (c == '.' || c == '^' || c == '$') {
      ++pos_;
      if (c == '.') return AddClass(Dot());
      Node n;
      n.kind = Kind::kAssert;
      n.assertion = c == '^' ? SafeRegex::Op::kBegin : SafeRegex::Op::kEnd;
      return Add(std::move(n));
    }
    if (c == '\\') {
      TS_ASSIGN_OR_RETURN(Atom a, ParseEscape(/*in_class=*/false));
      if (a.is_assertion) {
        Node n;
        n.kind = Kind::kAssert;
        n.assertion = a.assertion;
        return Add(std::move(n));
      }
      if (a.cp != kNoCodePoint) return AddClass({{a.cp, a.cp}});
      return AddClass(std::move(a.set));
    }
    const std::uint32_t cp = SafeRegex::DecodeAt(p_, &pos_);
    return AddClass({{cp, cp}});
  }

  Result<std::uint32_t> ParseGroup(std::size_t depth) {
    const std::size_t at = pos_++;
    if (depth + 1 > kMaxRegexNesting) {
      return ErrorAt(StatusCode::kResourceExhausted,
                     "groups nest deeper than " + std::to_string(kMaxRegexNesting), at);
    }
    if (!AtEnd() && Peek() == '?') {
      const std::string_view rest = p_.substr(pos_);
      if (rest.starts_with("?:")) {
        pos_ += 2;
      } else if (rest.starts_with("?=") || rest.starts_with("?!") || rest.starts_with("?<=") ||
                 rest.starts_with("?<!")) {
        return ErrorAt(StatusCode::kUnsupported, "lookaround is not supported", at);
      } else if (rest.starts_with("?<")) {
        return ErrorAt(StatusCode::kUnsupported, "named groups are not supported", at);
      } else {
        return ErrorAt(StatusCode::kMalformed, "\"(?\" must be followed by \":\"", at);
      }
    }
    TS_ASSIGN_OR_RETURN(const std::uint32_t inner, ParseAlternation(depth + 1));
    if (AtEnd() || Peek() != ')') return ErrorAt(StatusCode::kMalformed, "unbalanced \"(\"", at);
    ++pos_;
    return inner;
  }

  Result<std::uint32_t> ParseClass() {
    const std::size_t at = pos_++;
    const bool negate = !AtEnd() && Peek() == '^';
    if (negate) ++pos_;
    Ranges ranges;
    while (true) {
      if (AtEnd()) return ErrorAt(StatusCode::kMalformed, "unterminated \"[\"", at);
      if (Peek() == ']') break;
      const std::size_t member_at = pos_;
      TS_ASSIGN_OR_RETURN(Atom lo, ParseClassAtom());
      const bool dash = pos_ + 1 < p_.size() && Peek() == '-' && p_[pos_ + 1] != ']';
      if (!dash) {
        if (lo.cp != kNoCodePoint) lo.set = {{lo.cp, lo.cp}};
        ranges.insert(ranges.end(), lo.set.begin(), lo.set.end());
        continue;
      }
      ++pos_;
      TS_ASSIGN_OR_RETURN(Atom hi, ParseClassAtom());
      if (lo.cp == kNoCodePoint || hi.cp == kNoCodePoint) {
        return ErrorAt(StatusCode::kMalformed, "a class escape cannot bound a range", member_at);
      }
      if (lo.cp > hi.cp) return ErrorAt(StatusCode::kMalformed, "range out of order", member_at);
      ranges.emplace_back(lo.cp, hi.cp);
    }
    ++pos_;  // ']'
    Ranges normalized = Normalize(std::move(ranges));
    return AddClass(negate ? Complement(normalized) : std::move(normalized));
  }

  Result<Atom> ParseClassAtom() {
    if (Peek() == '\\') return ParseEscape(/*in_class=*/true);
    Atom a;
    a.cp = SafeRegex::DecodeAt(p_, &pos_);
    return a;
  }

  // At a backslash.
  Result<Atom> ParseEscape(bool in_class) {
    const std::size_t at = pos_++;
    if (AtEnd()) return ErrorAt(StatusCode::kMalformed, "the pattern ends with \"\\\"", at);
    const char c = p_[pos_++];
    Atom a;
    if (std::optional<Ranges> set = ClassEscape(c)) {
      a.set = std::move(*set);
      return a;
    }
    for (const auto& [letter, cp] : kControlEscapes) {
      if (c == letter) {
        a.cp = cp;
        return a;
      }
    }
    if (c == 'b' || c == 'B') {
      if (in_class && c == 'b') {
        a.cp = 0x08;
        return a;
      }
      if (in_class) return ErrorAt(StatusCode::kUnsupported, "\\B inside a class", at);
      a.is_assertion = true;
      a.assertion = c == 'b' ? SafeRegex::Op::kWordBoundary : SafeRegex::Op::kNotWordBoundary;
      return a;
    }
    if (c == '0' && (AtEnd() || Peek() < '0' || Peek() > '9')) {
      a.cp = 0;
      return a;
    }
    if (c >= '0' && c <= '9') {
      return ErrorAt(StatusCode::kUnsupported, "backreferences and octal escapes", at);
    }
    if (c == 'x' || c == 'u') {
      if (c == 'u' && !AtEnd() && Peek() == '{') {
        return ErrorAt(StatusCode::kUnsupported, "\\u{...} is not supported", at);
      }
      TS_ASSIGN_OR_RETURN(a.cp, ReadHex(c == 'x' ? 2 : 4, at));
      if (c == 'u' && a.cp >= 0xD800 && a.cp <= 0xDBFF && p_.substr(pos_).starts_with("\\u")) {
        const std::size_t saved = pos_;
        pos_ += 2;
        Result<std::uint32_t> low = ReadHex(4, saved);
        if (low.ok() && *low >= 0xDC00 && *low <= 0xDFFF) {
          a.cp = 0x10000 + ((a.cp - 0xD800) << 10) + (*low - 0xDC00);
        } else {
          pos_ = saved;
        }
      }
      return a;
    }
    if (IsSyntaxChar(c)) {
      a.cp = static_cast<unsigned char>(c);
      return a;
    }
    return ErrorAt(StatusCode::kUnsupported, std::string("escape \"\\") + c + "\" is not supported",
                   at);
  }

  Result<std::uint32_t> ReadHex(std::size_t digits, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < digits; ++k) {
      const int h = AtEnd() ? -1 : HexValue(Peek());
      if (h < 0) return ErrorAt(StatusCode::kMalformed, "bad hexadecimal escape", at);
      v = v * 16 + static_cast<std::uint32_t>(h);
      ++pos_;
    }
    return v;
  }

  // Appends the program of node `id`; false once the program outgrows kMaxRegexProgram.
  bool Emit(std::uint32_t id) {
    using Op = SafeRegex::Op;
    std::vector<SafeRegex::Inst>& prog = re_.program_;
    if (prog.size() >= kMaxRegexProgram) return false;
    const Node& n = nodes_[id];
    const auto here = [&prog] { return static_cast<std::uint32_t>(prog.size()); };
    switch (n.kind) {
      case Kind::kEmpty:
        return true;
      case Kind::kClass:
        prog.push_back({Op::kClass, n.cls, 0});
        return true;
      case Kind::kAssert:
        prog.push_back({n.assertion, 0, 0});
        return true;
      case Kind::kConcat:
        for (std::uint32_t kid : n.kids) {
          if (!Emit(kid)) return false;
        }
        return true;
      case Kind::kAlternation: {
        std::vector<std::uint32_t> jumps;
        for (std::size_t k = 0; k + 1 < n.kids.size(); ++k) {
          const std::uint32_t split = here();
          prog.push_back({Op::kSplit, split + 1, 0});
          if (!Emit(n.kids[k])) return false;
          jumps.push_back(here());
          prog.push_back({Op::kJump, 0, 0});
          prog[split].arg2 = here();
        }
        if (!Emit(n.kids.back())) return false;
        for (std::uint32_t j : jumps) prog[j].arg = here();
        return true;
      }
      case Kind::kRepeat: {
        for (std::uint32_t k = 0; k < n.min; ++k) {
          if (!Emit(n.kids[0])) return false;
        }
        if (n.max == kInfinite) {
          const std::uint32_t loop = here();
          prog.push_back({Op::kSplit, loop + 1, 0});
          if (!Emit(n.kids[0])) return false;
          prog.push_back({Op::kJump, loop, 0});
          prog[loop].arg2 = here();
          return true;
        }
        std::vector<std::uint32_t> splits;
        for (std::uint32_t k = n.min; k < n.max; ++k) {
          splits.push_back(here());
          prog.push_back({Op::kSplit, here() + 1, 0});
          if (!Emit(n.kids[0])) return false;
        }
        for (std::uint32_t s : splits) prog[s].arg2 = here();
        return true;
      }
    }
    return false;
  }

  std::string_view p_;
  std::size_t pos_ = 0;
  std::vector<Node> nodes_;
  SafeRegex re_;
};

Result<SafeRegex> SafeRegex::Compile(std::string_view pattern) {
  return RegexCompiler(pattern).Run();
}

}  // namespace tessera::package
