#include "package/strict_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace tessera::package {
namespace {

Result<nlohmann::json> Parse(std::string_view text, std::size_t max_bytes = 1024,
                             std::size_t max_depth = 8) {
  StrictJsonLimits limits;
  limits.max_bytes = max_bytes;
  limits.max_depth = max_depth;
  return ParseStrictJson(text, "test: doc", limits);
}

TEST(StrictJsonTest, ParsesOneValue) {
  Result<nlohmann::json> j = Parse(R"({"a": [1, 2.5, "x", null, true], "b": {"c": {}}})");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["a"][1], 2.5);
  EXPECT_TRUE((*j)["b"]["c"].is_object());
  EXPECT_TRUE(Parse("42").ok());
  EXPECT_TRUE(Parse(" \"s\" ").ok());
}

TEST(StrictJsonTest, RefusesDuplicateNamesNamingTheSecond) {
  Result<nlohmann::json> j = Parse(R"({"a": 1, "a": 2})");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kDuplicate);
  EXPECT_EQ(j.status().message(), "test: doc: member /a occurs twice in its object");

  j = Parse(R"({"a": [0, {"b": 1, "c": {"b": 2}, "b": 3}]})");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kDuplicate);
  EXPECT_NE(j.status().message().find("/a/1/b occurs twice"), std::string::npos)
      << j.status().message();

  j = Parse(R"({"x/y~": 1, "x/y~": 2})");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("/x~1y~0 occurs twice"), std::string::npos);

  // The same name in sibling objects is fine.
  EXPECT_TRUE(Parse(R"([{"a": 1}, {"a": 2}, {"b": {"a": 3}}])").ok());
}

TEST(StrictJsonTest, RefusesTextThatIsNotJson) {
  for (std::string_view text : {"", "{", "{\"a\":}", "[1,]", "{'a':1}", "1 2", "{\"a\":1}x",
                                "// c\n1", "\"\xff\"", "NaN", "[1e]"}) {
    Result<nlohmann::json> j = Parse(text);
    ASSERT_FALSE(j.ok()) << text;
    EXPECT_EQ(j.status().code(), StatusCode::kMalformed) << text;
    EXPECT_NE(j.status().message().find("test: doc: not valid JSON (syntax error at byte "),
              std::string::npos)
        << j.status().message();
  }
}

TEST(StrictJsonTest, BoundsSizeBeforeParsing) {
  const std::string big = "\"" + std::string(2000, 'a') + "\"";
  Result<nlohmann::json> j = Parse(big);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(j.status().message(), "test: doc: is 2002 bytes, more than the limit 1024");
  EXPECT_TRUE(Parse(big, 2002).ok());
}

TEST(StrictJsonTest, BoundsNesting) {
  EXPECT_TRUE(Parse("[[[[[[[[1]]]]]]]]").ok());  // depth 8
  Result<nlohmann::json> j = Parse("[[[[[[[[[1]]]]]]]]]");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(j.status().message(), "test: doc: JSON nests deeper than 8 levels");
  // A deep document is refused while reading, without building it.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  j = Parse(deep, deep.size());
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace tessera::package
