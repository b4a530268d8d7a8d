// Semantic versions (SemVer 2.0.0, https://semver.org) and version ranges, as used by package
// manifests: a package's own version, the runtime range it needs, and the versions or ranges of
// its dependencies.
//
// Version syntax (strict; anything else is kMalformed naming the string and the problem):
//   version     ::= core [ "-" pre-release ] [ "+" build ]
//   core        ::= numeric "." numeric "." numeric
//   pre-release ::= pre-id ( "." pre-id )*
//   build       ::= build-id ( "." build-id )*
//   numeric     ::= "0" | [1-9][0-9]*          (no leading zeros; must fit in 64 bits)
//   pre-id      ::= numeric | [0-9A-Za-z-]* with at least one non-digit
//   build-id    ::= [0-9A-Za-z-]+              (leading zeros allowed: build ids are not numbers)
// No leading "v", no whitespace, no empty identifiers, at most kMaxVersionBytes bytes in all.
//
// Precedence (SemVer 2.0.0 section 11): major, minor, patch compared numerically; a version with
// a pre-release has lower precedence than the same core without; pre-releases compare identifier
// by identifier: numeric ones numerically (exactly, at any length), alphanumeric ones by ASCII
// byte order, numeric below alphanumeric, and a shorter list below a longer one that it
// prefixes. Build metadata is ignored. Hence Version has a weak ordering: `<=>` orders by
// precedence and 1.0.0+a and 1.0.0+b are equivalent, while `==` compares every field, so
// 1.0.0+a != 1.0.0+b.
//   1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta < 1.0.0-beta.2 < 1.0.0-beta.11
//   < 1.0.0-rc.1 < 1.0.0 < 2.0.0 < 2.1.0 < 2.1.1
//
// Range syntax (a subset of npm's, without partial versions, "x" wildcards or hyphen ranges):
//   range      ::= set ( spaces? "||" spaces? set )*
//   set        ::= "*" | comparator ( spaces comparator )*
//   comparator ::= [ "=" | ">" | ">=" | "<" | "<=" | "^" | "~" ] version-without-build
//   spaces     ::= one or more " "
// Leading and trailing spaces are ignored; no space between an operator and its version; at
// most kMaxRangeBytes bytes. The comparators of a set are ANDed; the sets are ORed. Build
// metadata in a range is refused (it has no precedence, so it could never be meant). "*" stands
// alone in its set and means any release. A bare version means "=". "^" and "~" expand to
// two comparators:
//   ^1.2.3 -> >=1.2.3 <2.0.0-0       ^0.2.3 -> >=0.2.3 <0.3.0-0    ^0.0.3 -> >=0.0.3 <0.0.4-0
//   ~1.2.3 -> >=1.2.3 <1.3.0-0       ~0.2.3 -> >=0.2.3 <0.3.0-0
// ("^" allows changes that do not modify the left-most non-zero part; "~" allows patch
// changes.) The upper bound X.Y.Z-0 is the lowest version of X.Y.Z, so no pre-release of the
// next breaking version matches. A part that is already 2^64-1 carries into the part before it
// (~1.18446744073709551615.0 -> <2.0.0-0); when nothing is left to carry into, there is no upper
// bound. "=" is precedence equality: =1.2.3 matches 1.2.3+build.
//
// Pre-releases and ranges (as npm, without its includePrerelease option): a version with a
// pre-release satisfies a set only if the set's comparators hold AND at least one comparator of
// the set names a pre-release with the same major.minor.patch. So ">=1.2.3-beta.1" admits
// 1.2.3-beta.2 and 1.2.3 and 1.3.0, but not 1.3.0-alpha; "^1.2.3" and "*" admit no pre-release.
// A user opts into a pre-release by naming one, and only for that release.
//
// Thread safety: Version and VersionRange are immutable values; distinct and const objects may be
// used from any thread. Cost: a Version holds two short strings; a range a vector of comparators.
#ifndef TESSERA_PACKAGE_SEMVER_H_
#define TESSERA_PACKAGE_SEMVER_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"

namespace tessera::package {

inline constexpr std::size_t kMaxVersionBytes = 256;
inline constexpr std::size_t kMaxRangeBytes = 1024;

class Version {
 public:
  // 0.0.0.
  Version() = default;
  // A release version without pre-release or build metadata.
  Version(std::uint64_t major, std::uint64_t minor, std::uint64_t patch)
      : major_(major), minor_(minor), patch_(patch) {}

  // Parses the strict syntax above. kMalformed: `package: version "01.2.3": major part "01" has
  // a leading zero`.
  static Result<Version> Parse(std::string_view text);

  std::uint64_t major() const { return major_; }
  std::uint64_t minor() const { return minor_; }
  std::uint64_t patch() const { return patch_; }
  // Dot-separated identifiers without the "-" / "+"; empty when absent.
  const std::string& pre_release() const { return pre_release_; }
  const std::string& build() const { return build_; }
  bool is_pre_release() const { return !pre_release_.empty(); }

  // The canonical text; Parse(v.ToString()) == v.
  std::string ToString() const;

  // Precedence order (build metadata ignored): see the header comment.
  friend std::weak_ordering operator<=>(const Version& a, const Version& b);
  // Identity: every field, build metadata included.
  friend bool operator==(const Version& a, const Version& b) = default;

 private:
  friend class VersionRange;
  // Parse without the message prefix: the error message is the bare problem.
  static Result<Version> ParseBare(std::string_view text);

  std::uint64_t major_ = 0;
  std::uint64_t minor_ = 0;
  std::uint64_t patch_ = 0;
  std::string pre_release_;
  std::string build_;
};

class VersionRange {
 public:
  enum class Op : std::uint8_t { kEq, kGt, kGe, kLt, kLe };
  struct Comparator {
    Op op = Op::kEq;
    Version version;
  };

  // Parses the range syntax above. kMalformed names the range and the offending part:
  // `package: version range ">=1.2 <2.0.0": comparator ">=1.2": version "1.2": has 2 parts in
  // major.minor.patch, expected 3`.
  static Result<VersionRange> Parse(std::string_view text);

  // True if `version` satisfies some set (pre-release rule above).
  bool Matches(const Version& version) const;

  // The range as written (trimmed).
  const std::string& text() const { return text_; }
  // The expanded form: sets of plain comparators, e.g. ">=1.2.3 <2.0.0-0 || =3.0.0"; "*" for
  // an empty set.
  std::string ToString() const;

 private:
  using Set = std::vector<Comparator>;  // ANDed; empty means "*"

  std::string text_;
  std::vector<Set> sets_;  // ORed; never empty
};

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_SEMVER_H_
