#include "package/semver.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>

namespace tessera::package {
namespace {

constexpr std::uint64_t kMaxPart = std::numeric_limits<std::uint64_t>::max();
constexpr std::size_t kMaxQuotedBytes = 64;

// The text in double quotes for a message: bytes outside printable ASCII as \xNN, cut after
// kMaxQuotedBytes bytes.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  const std::size_t n = std::min(text.size(), kMaxQuotedBytes);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (n < text.size()) out += "...";
  out.push_back('"');
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsIdentifierChar(char c) {
  return IsDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// Splits on '.'; "a..b" gives an empty piece.
std::vector<std::string_view> SplitDots(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

// A problem with a version, without the "package: version ..." prefix, or nullopt.
using Problem = std::optional<std::string>;

Problem ParseNumericPart(std::string_view name, std::string_view s, std::uint64_t* value) {
  if (s.empty()) return std::string(name) + " part is empty";
  if (!AllDigits(s)) return std::string(name) + " part " + Quote(s) + " is not a number";
  if (s.size() > 1 && s[0] == '0') {
    return std::string(name) + " part " + Quote(s) + " has a leading zero";
  }
  std::uint64_t v = 0;
  for (char c : s) {
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (kMaxPart - d) / 10) {
      return std::string(name) + " part " + Quote(s) + " exceeds " + std::to_string(kMaxPart);
    }
    v = v * 10 + d;
  }
  *value = v;
  return std::nullopt;
}

// Checks the dot-separated identifiers of a pre-release (`numeric_rules`) or build metadata.
Problem CheckIdentifiers(std::string_view what, std::string_view s, bool numeric_rules) {
  for (std::string_view id : SplitDots(s)) {
    if (id.empty()) return std::string(what) + " " + Quote(s) + " has an empty identifier";
    for (char c : id) {
      if (!IsIdentifierChar(c)) {
        return std::string(what) + " identifier " + Quote(id) + " has the character " +
               Quote(std::string_view(&c, 1)) + " outside [0-9A-Za-z-]";
      }
    }
    if (numeric_rules && id.size() > 1 && id[0] == '0' && AllDigits(id)) {
      return std::string(what) + " identifier " + Quote(id) + " has a leading zero";
    }
  }
  return std::nullopt;
}

// Orders two pre-release identifiers (SemVer 2.0.0 section 11.4).
std::weak_ordering CompareIdentifiers(std::string_view a, std::string_view b) {
  const bool a_num = AllDigits(a);
  const bool b_num = AllDigits(b);
  if (a_num && b_num) {
    // No leading zeros, so the longer number is the larger one.
    if (a.size() != b.size()) return a.size() <=> b.size();
    return a.compare(b) <=> 0;
  }
  if (a_num != b_num) return a_num ? std::weak_ordering::less : std::weak_ordering::greater;
  return a.compare(b) <=> 0;
}

std::weak_ordering ComparePreRelease(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) {
    // A release ranks above its pre-releases.
    if (a.empty() == b.empty()) return std::weak_ordering::equivalent;
    return a.empty() ? std::weak_ordering::greater : std::weak_ordering::less;
  }
  const std::vector<std::string_view> ids_a = SplitDots(a);
  const std::vector<std::string_view> ids_b = SplitDots(b);
  const std::size_t n = std::min(ids_a.size(), ids_b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::weak_ordering c = CompareIdentifiers(ids_a[i], ids_b[i]);
    if (c != 0) return c;
  }
  return ids_a.size() <=> ids_b.size();
}

}  // namespace

Result<Version> Version::ParseBare(std::string_view text) {
  if (text.empty()) return Malformed("is empty");
  if (text.size() > kMaxVersionBytes) {
    return Malformed("is " + std::to_string(text.size()) + " bytes, longer than the limit of " +
                     std::to_string(kMaxVersionBytes));
  }
  std::string_view rest = text;
  std::optional<std::string_view> build;
  std::optional<std::string_view> pre;
  if (const std::size_t plus = rest.find('+'); plus != std::string_view::npos) {
    build = rest.substr(plus + 1);
    rest = rest.substr(0, plus);
  }
  if (const std::size_t dash = rest.find('-'); dash != std::string_view::npos) {
    pre = rest.substr(dash + 1);
    rest = rest.substr(0, dash);
  }
  const std::vector<std::string_view> core = SplitDots(rest);
  if (core.size() != 3) {
    return Malformed("has " + std::to_string(core.size()) +
                     (core.size() == 1 ? " part" : " parts") + " in major.minor.patch, expected 3");
  }
  Version v;
  if (Problem p = ParseNumericPart("major", core[0], &v.major_)) return Malformed(*p);
  if (Problem p = ParseNumericPart("minor", core[1], &v.minor_)) return Malformed(*p);
  if (Problem p = ParseNumericPart("patch", core[2], &v.patch_)) return Malformed(*p);
  if (pre.has_value()) {
    if (Problem p = CheckIdentifiers("pre-release", *pre, /*numeric_rules=*/true)) {
      return Malformed(*p);
    }
    v.pre_release_ = std::string(*pre);
  }
  if (build.has_value()) {
    if (Problem p = CheckIdentifiers("build metadata", *build, /*numeric_rules=*/false)) {
      return Malformed(*p);
    }
    v.build_ = std::string(*build);
  }
  return v;
}

Result<Version> Version::Parse(std::string_view text) {
  Result<Version> v = ParseBare(text);
  if (!v.ok()) return Malformed("package: version " + Quote(text) + ": " + v.status().message());
  return v;
}

std::string Version::ToString() const {
  std::string out =
      std::to_string(major_) + "." + std::to_string(minor_) + "." + std::to_string(patch_);
  if (!pre_release_.empty()) out += "-" + pre_release_;
  if (!build_.empty()) out += "+" + build_;
  return out;
}

std::weak_ordering operator<=>(const Version& a, const Version& b) {
  if (a.major_ != b.major_) return a.major_ <=> b.major_;
  if (a.minor_ != b.minor_) return a.minor_ <=> b.minor_;
  if (a.patch_ != b.patch_) return a.patch_ <=> b.patch_;
  return ComparePreRelease(a.pre_release_, b.pre_release_);
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitAlternatives(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t bar = s.find("||", start);
    if (bar == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, bar - start));
    start = bar + 2;
  }
}

// Pieces separated by runs of spaces; `s` is trimmed and not empty.
std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t end = std::min(s.find(' ', i), s.size());
    tokens.push_back(s.substr(i, end - i));
    i = end;
    while (i < s.size() && s[i] == ' ') ++i;
  }
  return tokens;
}

// X.Y.Z-0 where X.Y.Z is `v` with the part at `level` (0 major, 1 minor, 2 patch) incremented and
// the parts after it zeroed, carrying past parts that are already at the maximum; nullopt when
// every part up to `level` is at the maximum.
std::optional<Version> LowestOfNext(const Version& v, int level) {
  std::uint64_t parts[3] = {v.major(), v.minor(), v.patch()};
  int i = level;
  while (i >= 0 && parts[i] == kMaxPart) --i;
  if (i < 0) return std::nullopt;
  ++parts[i];
  for (int j = i + 1; j < 3; ++j) parts[j] = 0;
  return Version::Parse(Version(parts[0], parts[1], parts[2]).ToString() + "-0").value();
}

std::string_view OpText(VersionRange::Op op) {
  switch (op) {
    case VersionRange::Op::kEq:
      return "=";
    case VersionRange::Op::kGt:
      return ">";
    case VersionRange::Op::kGe:
      return ">=";
    case VersionRange::Op::kLt:
      return "<";
    case VersionRange::Op::kLe:
      return "<=";
  }
  return "?";
}

bool Holds(const VersionRange::Comparator& c, const Version& v) {
  const std::weak_ordering order = v <=> c.version;
  switch (c.op) {
    case VersionRange::Op::kEq:
      return order == 0;
    case VersionRange::Op::kGt:
      return order > 0;
    case VersionRange::Op::kGe:
      return order >= 0;
    case VersionRange::Op::kLt:
      return order < 0;
    case VersionRange::Op::kLe:
      return order <= 0;
  }
  return false;
}

}  // namespace

Result<VersionRange> VersionRange::Parse(std::string_view text) {
  auto fail = [&](const std::string& problem) {
    return Malformed("package: version range " + Quote(text) + ": " + problem);
  };
  if (text.size() > kMaxRangeBytes) {
    return fail("is " + std::to_string(text.size()) + " bytes, longer than the limit of " +
                std::to_string(kMaxRangeBytes));
  }
  const std::string_view trimmed = Trim(text);
  if (trimmed.empty()) return fail("is empty");
  VersionRange range;
  range.text_ = std::string(trimmed);
  for (std::string_view alternative : SplitAlternatives(trimmed)) {
    alternative = Trim(alternative);
    if (alternative.empty()) return fail("has an empty alternative around \"||\"");
    const std::vector<std::string_view> tokens = SplitSpaces(alternative);
    Set set;
    if (tokens.size() == 1 && tokens[0] == "*") {
      range.sets_.push_back(std::move(set));
      continue;
    }
    for (std::string_view token : tokens) {
      if (token == "*") return fail("\"*\" must stand alone between \"||\"");
      // Longest operator first.
      static constexpr std::string_view kOps[] = {">=", "<=", ">", "<", "=", "^", "~"};
      std::string_view op;
      for (std::string_view candidate : kOps) {
        if (token.substr(0, candidate.size()) == candidate) {
          op = candidate;
          break;
        }
      }
      const std::string_view version_text = token.substr(op.size());
      Result<Version> parsed = Version::ParseBare(version_text);
      if (!parsed.ok()) {
        return fail("comparator " + Quote(token) + ": version " + Quote(version_text) + ": " +
                    parsed.status().message());
      }
      Version v = std::move(parsed).value();
      if (!v.build().empty()) {
        return fail("comparator " + Quote(token) +
                    " has build metadata, which ranges cannot use (it has no precedence)");
      }
      if (op == "^" || op == "~") {
        // ^ keeps the left-most non-zero part; ~ keeps major.minor.
        const int level = op == "~" ? 1 : v.major() > 0 ? 0 : v.minor() > 0 ? 1 : 2;
        std::optional<Version> upper = LowestOfNext(v, level);
        set.push_back({Op::kGe, std::move(v)});
        if (upper.has_value()) set.push_back({Op::kLt, std::move(*upper)});
      } else {
        Op kind = Op::kEq;
        if (op == ">=") kind = Op::kGe;
        if (op == "<=") kind = Op::kLe;
        if (op == ">") kind = Op::kGt;
        if (op == "<") kind = Op::kLt;
        set.push_back({kind, std::move(v)});
      }
    }
    range.sets_.push_back(std::move(set));
  }
  return range;
}

bool VersionRange::Matches(const Version& version) const {
  for (const Set& set : sets_) {
    bool holds = true;
    for (const Comparator& c : set) holds = holds && Holds(c, version);
    if (!holds) continue;
    if (!version.is_pre_release()) return true;
    // A pre-release needs a comparator that names a pre-release of the same major.minor.patch.
    for (const Comparator& c : set) {
      const Version& named = c.version;
      if (named.is_pre_release() && named.major() == version.major() &&
          named.minor() == version.minor() && named.patch() == version.patch()) {
        return true;
      }
    }
  }
  return false;
}

std::string VersionRange::ToString() const {
  std::string out;
  for (std::size_t i = 0; i < sets_.size(); ++i) {
    if (i > 0) out += " || ";
    if (sets_[i].empty()) out += "*";
    for (std::size_t j = 0; j < sets_[i].size(); ++j) {
      if (j > 0) out += " ";
      out += OpText(sets_[i][j].op);
      out += sets_[i][j].version.ToString();
    }
  }
  return out;
}

}  // namespace tessera::package
