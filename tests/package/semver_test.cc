#include "package/semver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace tessera::package {
namespace {

Version V(std::string_view text) {
  Result<Version> v = Version::Parse(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status().ToString();
  return v.ok() ? *v : Version();
}

VersionRange R(std::string_view text) {
  Result<VersionRange> r = VersionRange::Parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : *VersionRange::Parse("*");
}

TEST(VersionTest, ParsesValidVersionsAndPrintsThemBack) {
  for (const char* text :
       {"0.0.0", "1.2.3", "10.20.30", "1.1.2-prerelease+meta", "1.0.0-alpha", "1.0.0-alpha.1",
        "1.0.0-0", "1.0.0-0A.is.legal", "1.0.0--1", "1.0.0-x-y-z.--", "1.0.0+001",
        "1.0.0+20130313144700", "2.0.0+build.1848", "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
        "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay",
        "18446744073709551615.18446744073709551615.18446744073709551615"}) {
    Result<Version> v = Version::Parse(text);
    ASSERT_TRUE(v.ok()) << text << ": " << v.status().ToString();
    EXPECT_EQ(v->ToString(), text);
    EXPECT_EQ(*Version::Parse(v->ToString()), *v);
  }
}

TEST(VersionTest, ExposesItsParts) {
  Version v = V("1.22.333-rc.1+build.5");
  EXPECT_EQ(v.major(), 1u);
  EXPECT_EQ(v.minor(), 22u);
  EXPECT_EQ(v.patch(), 333u);
  EXPECT_EQ(v.pre_release(), "rc.1");
  EXPECT_EQ(v.build(), "build.5");
  EXPECT_TRUE(v.is_pre_release());
  EXPECT_FALSE(V("1.0.0+build").is_pre_release());
  EXPECT_EQ(Version(4, 5, 6).ToString(), "4.5.6");
  EXPECT_EQ(V("18446744073709551615.0.0").major(), 18446744073709551615ull);
}

struct BadVersion {
  std::string text;
  std::string problem;  // expected in the message
};

TEST(VersionTest, RefusesInvalidStringsNamingTheStringAndTheProblem) {
  const std::vector<BadVersion> cases = {
      {"", "is empty"},
      {"1", "has 1 part in major.minor.patch, expected 3"},
      {"1.2", "has 2 parts in major.minor.patch, expected 3"},
      {"1.2.3.4", "has 4 parts"},
      {"-1.2.3", "has 1 part"},
      {"01.2.3", "major part \"01\" has a leading zero"},
      {"1.02.3", "minor part \"02\" has a leading zero"},
      {"1.2.03", "patch part \"03\" has a leading zero"},
      {"00.0.0", "major part \"00\" has a leading zero"},
      {"v1.2.3", "major part \"v1\" is not a number"},
      {" 1.2.3", "major part \" 1\" is not a number"},
      {"1.2.3 ", "patch part \"3 \" is not a number"},
      {"1.2.3\n", "patch part \"3\\x0a\" is not a number"},
      {"1..3", "minor part is empty"},
      {"1.2.", "patch part is empty"},
      {"1.2.x", "patch part \"x\" is not a number"},
      {"1.2.-3", "patch part is empty"},
      {"18446744073709551616.0.0",
       "major part \"18446744073709551616\" exceeds 18446744073709551615"},
      {"1.99999999999999999999.0", "minor part \"99999999999999999999\" exceeds"},
      {"1.2.3-", "pre-release \"\" has an empty identifier"},
      {"1.2.3-alpha..1", "pre-release \"alpha..1\" has an empty identifier"},
      {"1.2.3-alpha.", "has an empty identifier"},
      {"1.2.3-+b", "pre-release \"\" has an empty identifier"},
      {"1.2.3-01", "pre-release identifier \"01\" has a leading zero"},
      {"1.2.3-alpha.00", "pre-release identifier \"00\" has a leading zero"},
      {"1.2.3-alpha_1", "pre-release identifier \"alpha_1\" has the character \"_\" outside"},
      {"1.2.3-\xc3\xa9", "has the character \"\\xc3\" outside [0-9A-Za-z-]"},
      {"1.2.3-a b", "has the character \" \""},
      {"1.2.3+", "build metadata \"\" has an empty identifier"},
      {"1.2.3+a..b", "build metadata \"a..b\" has an empty identifier"},
      {"1.2.3+a+b", "build metadata identifier \"a+b\" has the character \"+\""},
      {"1.2.3-alpha+", "build metadata \"\" has an empty identifier"},
      {"1.2.3+build_1", "has the character \"_\""},
      {std::string(300, '1'), "is 300 bytes, longer than the limit of 256"},
  };
  for (const BadVersion& c : cases) {
    Result<Version> v = Version::Parse(c.text);
    ASSERT_FALSE(v.ok()) << c.text;
    EXPECT_EQ(v.status().code(), StatusCode::kMalformed) << c.text;
    const std::string& message = v.status().message();
    EXPECT_EQ(message.rfind("package: version \"", 0), 0u) << message;
    EXPECT_NE(message.find(c.problem), std::string::npos)
        << "text: " << c.text << "\nmessage: " << message << "\nexpected: " << c.problem;
  }
  // The string itself is named (cut after 64 bytes).
  EXPECT_NE(Version::Parse("01.2.3").status().message().find("\"01.2.3\""), std::string::npos);
  EXPECT_NE(Version::Parse(std::string(300, '1')).status().message().find("...\""),
            std::string::npos);
}

TEST(VersionTest, PrecedenceFollowsTheSemverOrgExample) {
  const std::vector<std::string> chain = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                          "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                                          "1.0.0-rc.1",  "1.0.0",         "2.0.0",
                                          "2.1.0",       "2.1.1"};
  for (std::size_t i = 0; i < chain.size(); ++i) {
    for (std::size_t j = 0; j < chain.size(); ++j) {
      const Version a = V(chain[i]);
      const Version b = V(chain[j]);
      EXPECT_EQ(a < b, i < j) << chain[i] << " vs " << chain[j];
      EXPECT_EQ(a > b, i > j) << chain[i] << " vs " << chain[j];
      EXPECT_EQ(a == b, i == j) << chain[i] << " vs " << chain[j];
    }
  }
  // Sorting any shuffle gives the chain back.
  std::vector<Version> versions;
  for (const std::string& s : chain) versions.push_back(V(s));
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::vector<Version> shuffled = versions;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    std::sort(shuffled.begin(), shuffled.end());
    EXPECT_EQ(shuffled, versions);
  }
}

TEST(VersionTest, ComparesPartsNumericallyAndPreReleaseIdentifiersByKind) {
  EXPECT_LT(V("1.9.0"), V("1.10.0"));
  EXPECT_LT(V("1.0.9"), V("1.0.10"));
  EXPECT_LT(V("9.0.0"), V("10.0.0"));
  EXPECT_LT(V("18446744073709551614.0.0"), V("18446744073709551615.0.0"));
  EXPECT_LT(V("1.0.0-2"), V("1.0.0-10"));  // numeric identifiers numerically
  EXPECT_LT(V("1.0.0-9999"), V("1.0.0-99999999999999999999999"));  // at any length
  EXPECT_LT(V("1.0.0-999"), V("1.0.0-a"));                         // numeric below alphanumeric
  EXPECT_LT(V("1.0.0-Z"), V("1.0.0-a"));                           // ASCII order
  EXPECT_LT(V("1.0.0-a.1"), V("1.0.0-a.1.0"));                     // a prefix ranks lower
  EXPECT_LT(V("1.0.0-0"), V("1.0.0-0.0"));
  EXPECT_LT(V("1.0.0-rc.1"), V("1.0.0"));
  EXPECT_LT(V("1.0.0"), V("1.0.1-alpha"));
}

TEST(VersionTest, BuildMetadataIsIgnoredForPrecedenceButNotForIdentity) {
  const Version a = V("1.0.0+a");
  const Version b = V("1.0.0+b");
  EXPECT_TRUE((a <=> b) == 0);
  EXPECT_FALSE(a < b);
  EXPECT_FALSE(b < a);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, V("1.0.0+a"));
  EXPECT_TRUE((V("1.0.0-rc.1+x") <=> V("1.0.0-rc.1")) == 0);
}

TEST(VersionRangeTest, ExpandsOperatorsAsDocumented) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"*", "*"},
      {"1.2.3", "=1.2.3"},
      {"=1.2.3", "=1.2.3"},
      {">1.2.3", ">1.2.3"},
      {"  >=1.0.0    <2.0.0  ", ">=1.0.0 <2.0.0"},
      {"<=1.0.0||>=3.0.0-rc.1", "<=1.0.0 || >=3.0.0-rc.1"},
      {"^1.2.3", ">=1.2.3 <2.0.0-0"},
      {"^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"},
      {"^0.2.3", ">=0.2.3 <0.3.0-0"},
      {"^0.0.3", ">=0.0.3 <0.0.4-0"},
      {"^0.0.0", ">=0.0.0 <0.0.1-0"},
      {"~1.2.3", ">=1.2.3 <1.3.0-0"},
      {"~0.2.3", ">=0.2.3 <0.3.0-0"},
      {"~0.0.3", ">=0.0.3 <0.1.0-0"},
      {"^1.0.0 || * || ~2.1.0", ">=1.0.0 <2.0.0-0 || * || >=2.1.0 <2.2.0-0"},
      // A part at 2^64-1 carries into the part before it; nothing left to carry: no bound.
      {"~1.18446744073709551615.0", ">=1.18446744073709551615.0 <2.0.0-0"},
      {"^0.0.18446744073709551615", ">=0.0.18446744073709551615 <0.1.0-0"},
      {"^18446744073709551615.0.0", ">=18446744073709551615.0.0"},
  };
  for (const auto& [text, expanded] : cases) {
    EXPECT_EQ(R(text).ToString(), expanded) << text;
  }
  EXPECT_EQ(R("  ^1.2.3 ").text(), "^1.2.3");
}

struct MatchCase {
  std::string range;
  std::string version;
  bool matches;
};

TEST(VersionRangeTest, MatchesVersions) {
  const std::vector<MatchCase> cases = {
      {"*", "0.0.0", true},
      {"*", "99.0.0+build", true},
      {"1.2.3", "1.2.3", true},
      {"=1.2.3", "1.2.3+meta", true},  // "=" is precedence equality
      {"=1.2.3", "1.2.4", false},
      {">1.0.0 <2.0.0", "1.0.0", false},
      {">1.0.0 <2.0.0", "1.5.0", true},
      {">1.0.0 <2.0.0", "2.0.0", false},
      {">=1.0.0 <=2.0.0", "2.0.0", true},
      {"<=1.0.0 || >=3.0.0", "0.5.0", true},
      {"<=1.0.0 || >=3.0.0", "2.0.0", false},
      {"<=1.0.0 || >=3.0.0", "3.0.0", true},
      {"^1.2.3", "1.2.3", true},
      {"^1.2.3", "1.9.9", true},
      {"^1.2.3", "1.2.2", false},
      {"^1.2.3", "2.0.0", false},
      {"^0.2.3", "0.2.9", true},
      {"^0.2.3", "0.3.0", false},
      {"^0.0.3", "0.0.3", true},
      {"^0.0.3", "0.0.4", false},
      {"~1.2.3", "1.2.9", true},
      {"~1.2.3", "1.3.0", false},
      {"~1.2.3", "1.2.2", false},
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(R(c.range).Matches(V(c.version)), c.matches) << c.range << " vs " << c.version;
  }
}

TEST(VersionRangeTest, PreReleasesMatchOnlyWhereASetNamesOneOfTheSameRelease) {
  const std::vector<MatchCase> cases = {
      // No comparator names a pre-release: none matches, though the comparisons hold.
      {"*", "1.0.0-alpha", false},
      {"^1.2.3", "1.3.0-beta", false},
      {"^1.2.3", "2.0.0-alpha", false},
      {">=1.0.0", "1.5.0-rc.1", false},
      {"<2.0.0", "2.0.0-rc.1", false},
      // A comparator names a pre-release of the same major.minor.patch.
      {">=1.2.3-beta.1", "1.2.3-beta.2", true},
      {">=1.2.3-beta.1", "1.2.3-beta.0", false},  // comparison fails
      {">=1.2.3-beta.1", "1.2.3-alpha", false},   // alpha < beta
      {">=1.2.3-beta.1", "1.2.3", true},          // releases are not gated
      {">=1.2.3-beta.1", "1.3.0", true},
      {">=1.2.3-beta.1", "1.3.0-alpha", false},  // another release's pre-release
      {"^1.2.3-beta.2", "1.2.3-beta.4", true},
      {"^1.2.3-beta.2", "1.2.4-beta", false},
      {"<2.0.0-rc.2", "2.0.0-rc.1", true},
      {"=1.0.0-rc.1", "1.0.0-rc.1+build", true},
      // The gate is per set: the second set opens it for 2.0.0 pre-releases only.
      {">=1.0.0 <1.5.0 || >=2.0.0-beta <3.0.0", "2.0.0-beta.1", true},
      {">=1.0.0 <1.5.0 || >=2.0.0-beta <3.0.0", "1.2.0-beta.1", false},
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(R(c.range).Matches(V(c.version)), c.matches) << c.range << " vs " << c.version;
  }
}

struct BadRange {
  std::string text;
  std::string problem;
};

TEST(VersionRangeTest, RefusesInvalidRangesNamingTheRangeAndTheProblem) {
  const std::vector<BadRange> cases = {
      {"", "is empty"},
      {"    ", "is empty"},
      {"||", "has an empty alternative"},
      {"1.0.0 ||", "has an empty alternative"},
      {"|| 1.0.0", "has an empty alternative"},
      {"1.0.0 || || 2.0.0", "has an empty alternative"},
      {"1.0", "comparator \"1.0\": version \"1.0\": has 2 parts in major.minor.patch, expected 3"},
      {">=1.2 <2.0.0", "comparator \">=1.2\": version \"1.2\": has 2 parts"},
      {"1.x.0", "minor part \"x\" is not a number"},
      {"> 1.2.3", "comparator \">\": version \"\": is empty"},
      {">=01.2.3", "major part \"01\" has a leading zero"},
      {"=>1.2.3", "comparator \"=>1.2.3\": version \">1.2.3\""},
      {">>1.2.3", "version \">1.2.3\""},
      {"* 1.0.0", "\"*\" must stand alone"},
      {"1.0.0 *", "\"*\" must stand alone"},
      {"^1.2.3+build", "comparator \"^1.2.3+build\" has build metadata"},
      {"=1.0.0+b", "has build metadata"},
      {"1.2.3 - 2.0.0", "comparator \"-\""},
      {"1.2.3 | 2.0.0", "comparator \"|\""},
      {"1.2.3\t", "\"3\\x09\" is not a number"},
      {"^1.2.3-01", "pre-release identifier \"01\" has a leading zero"},
      {std::string(1100, ' '), "is 1100 bytes, longer than the limit of 1024"},
  };
  for (const BadRange& c : cases) {
    Result<VersionRange> r = VersionRange::Parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kMalformed) << c.text;
    const std::string& message = r.status().message();
    EXPECT_EQ(message.rfind("package: version range \"", 0), 0u) << message;
    EXPECT_NE(message.find(c.problem), std::string::npos)
        << "range: " << c.text << "\nmessage: " << message << "\nexpected: " << c.problem;
  }
}

}  // namespace
}  // namespace tessera::package
