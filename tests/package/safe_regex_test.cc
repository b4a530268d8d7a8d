#include "package/safe_regex.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

namespace tessera::package {
namespace {

bool Matches(std::string_view pattern, std::string_view text) {
  Result<SafeRegex> re = SafeRegex::Compile(pattern);
  EXPECT_TRUE(re.ok()) << pattern << ": " << re.status().ToString();
  return re.ok() && re->Search(text);
}

TEST(SafeRegexTest, MatchesLikeEcmaScriptTest) {
  // pattern, text, RegExp.prototype.test(text)
  const std::vector<std::tuple<std::string, std::string, bool>> cases = {
      {"b", "abc", true},  // unanchored
      {"^b", "abc", false},
      {"c$", "abc", true},
      {"^abc$", "abcd", false},
      {"", "", true},
      {"^$", "", true},
      {"^$", "a", false},
      {"a|b", "xbx", true},
      {"^(a|bc)+$", "abcbca", true},
      {"^(a|bc)+$", "abcb", false},
      {"^(?:ab)*$", "ababab", true},
      {"^a?b$", "b", true},
      {"^a??b$", "ab", true},  // lazy: same answer
      {"^a+?$", "aaa", true},
      {"^a{3}$", "aaa", true},
      {"^a{3}$", "aaaa", false},
      {"^a{2,}$", "a", false},
      {"^a{2,}$", "aaaaa", true},
      {"^a{1,2}$", "aaa", false},
      {"^a{0}b$", "b", true},
      {"^[0-9a-f]{64}$", std::string(64, 'e'), true},
      {"^[0-9a-f]{64}$", std::string(63, 'e'), false},
      {"^[0-9a-f]{64}$", std::string(64, 'E'), false},
      {"^[^a-c]+$", "xyz", true},
      {"^[^a-c]+$", "xbz", false},
      {"^[-a]+$", "-a-", true},
      {"^[a-]+$", "-a-", true},
      {"^[]$", "", false},  // [] matches nothing
      {"^[^]$", "\n", true},
      {"^[\\]]$", "]", true},
      {"^\\d\\D\\w\\W\\s\\S$", "1a_a\tx", false},
      {"^\\d\\D\\w\\W\\s\\S$", "1ab-\tx", true},
      {"^[\\d.]+$", "1.25", true},
      {"^[\\s]$", "\xe3\x80\x80", true},  // U+3000 is a space
      {"^.$", "\xc3\xa9", true},          // one code point, two bytes
      {"^..$", "\xc3\xa9", false},
      {"^.$", "\xf0\x9f\x98\x80", true},  // U+1F600
      {"^.$", "\n", false},
      {"^\\u00e9$", "\xc3\xa9", true},
      {"^\\uD83D\\uDE00$", "\xf0\x9f\x98\x80", true},  // a surrogate pair is one code point
      {"^\\x41$", "A", true},
      {"^\\t\\n\\v\\f\\r\\0$", std::string("\t\n\v\f\r\0", 6), true},
      {"^\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\/\\-\\^\\$\\\\$", ".*+?()[]{}|/-^$\\", true},
      {"\\bcat\\b", "a cat!", true},
      {"\\bcat\\b", "concat", false},
      {"\\Bcat", "concat", true},
      {"^[\\b]$", "\b", true},
      {"a]}", "a]}", true},  // lone ] and } are literals
      {"^é+$", "\xc3\xa9\xc3\xa9", true},
      {"^(a*)*$", "aaaa", true},  // empty loops terminate
      {"^(a|)+b$", "aab", true},
      {"x*", "anything", true},
  };
  for (const auto& [pattern, text, expected] : cases) {
    EXPECT_EQ(Matches(pattern, text), expected) << "pattern " << pattern << " on " << text;
  }
}

TEST(SafeRegexTest, InvalidUtf8InTextIsReadAsReplacementCharacter) {
  EXPECT_TRUE(Matches("^.$", "\xff"));
  EXPECT_FALSE(Matches("^a$", "\xff"));
  EXPECT_TRUE(Matches("^a.b$",
                      "a\xc3"
                      "b"));  // truncated sequence: one U+FFFD
}

TEST(SafeRegexTest, PathologicalPatternsRunInLinearTime) {
  // Each of these takes exponential time in a backtracking matcher.
  const std::string as(20000, 'a');
  EXPECT_FALSE(Matches("^(a+)+$", as + "!"));
  EXPECT_FALSE(Matches("^(a|a)*$", as + "!"));
  EXPECT_FALSE(Matches("^(a|aa)+b$", as));
  EXPECT_TRUE(Matches("^(a*)*(b|a)$", as));
  EXPECT_FALSE(Matches("(x+x+)+y", std::string(20000, 'x')));
}

TEST(SafeRegexTest, RefusesWhatItDoesNotSupport) {
  const std::vector<std::pair<std::string, StatusCode>> cases = {
      {"(a)\\1", StatusCode::kUnsupported},
      {"(?=a)", StatusCode::kUnsupported},
      {"(?!a)", StatusCode::kUnsupported},
      {"(?<=a)b", StatusCode::kUnsupported},
      {"(?<!a)b", StatusCode::kUnsupported},
      {"(?<n>a)", StatusCode::kUnsupported},
      {"\\k<n>", StatusCode::kUnsupported},
      {"\\p{L}", StatusCode::kUnsupported},
      {"\\cA", StatusCode::kUnsupported},
      {"\\u{1F600}", StatusCode::kUnsupported},
      {"\\q", StatusCode::kUnsupported},
      {"\\01", StatusCode::kUnsupported},
      {"[\\B]", StatusCode::kUnsupported},
      {"(", StatusCode::kMalformed},
      {"a)", StatusCode::kMalformed},
      {"[a", StatusCode::kMalformed},
      {"*a", StatusCode::kMalformed},
      {"a**", StatusCode::kMalformed},
      {"a{", StatusCode::kMalformed},
      {"a{1", StatusCode::kMalformed},
      {"a{x}", StatusCode::kMalformed},
      {"{1}", StatusCode::kMalformed},
      {"a{3,2}", StatusCode::kMalformed},
      {"[z-a]", StatusCode::kMalformed},
      {"[\\d-z]", StatusCode::kMalformed},
      {"^*", StatusCode::kMalformed},
      {"\\b+", StatusCode::kMalformed},
      {"a\\", StatusCode::kMalformed},
      {"\\x4", StatusCode::kMalformed},
      {"\\uZZZZ", StatusCode::kMalformed},
      {"(?a)", StatusCode::kMalformed},
      {"\xff", StatusCode::kInvalidUtf8},
      {"a{1001}", StatusCode::kResourceExhausted},
      {"(a{1000}){5}", StatusCode::kResourceExhausted},
      {std::string(33, '(') + std::string(33, ')'), StatusCode::kResourceExhausted},
      {std::string(kMaxPatternBytes + 1, 'a'), StatusCode::kResourceExhausted},
  };
  for (const auto& [pattern, code] : cases) {
    Result<SafeRegex> re = SafeRegex::Compile(pattern);
    ASSERT_FALSE(re.ok()) << pattern;
    EXPECT_EQ(re.status().code(), code) << pattern << ": " << re.status().ToString();
    EXPECT_NE(re.status().message().find("regex \""), std::string::npos);
  }
}

TEST(SafeRegexTest, MessagesNameThePatternAndThePosition) {
  Result<SafeRegex> re = SafeRegex::Compile("ab(c");
  ASSERT_FALSE(re.ok());
  EXPECT_EQ(re.status().message(), "regex \"ab(c\": unbalanced \"(\" at 2");
  re = SafeRegex::Compile("(?=x)");
  EXPECT_EQ(re.status().message(), "regex \"(?=x)\": lookaround is not supported at 0");
}

TEST(SafeRegexTest, ProgramSizeGrowsWithCountedRepeats) {
  Result<SafeRegex> small = SafeRegex::Compile("^[0-9a-f]{64}$");
  ASSERT_TRUE(small.ok());
  EXPECT_LT(small->program_size(), 80u);
  Result<SafeRegex> big = SafeRegex::Compile("a{1000}");
  ASSERT_TRUE(big.ok());
  EXPECT_GE(big->program_size(), 1000u);
}

}  // namespace
}  // namespace tessera::package
