#include "package/canonical_json.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace tessera::package {
namespace {

using Json = nlohmann::json;

Json Parse(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

std::string Canonical(const Json& value) {
  Result<std::string> c = CanonicalJson(value);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : std::string();
}

// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
TEST(CanonicalJsonTest, NumbersFollowRfc8785AppendixB) {
  const std::vector<std::pair<std::uint64_t, std::string>> cases = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},  // minus zero
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},  // round to even
  };
  for (const auto& [bits, expected] : cases) {
    const double d = std::bit_cast<double>(bits);
    Result<std::string> text = CanonicalNumber(d);
    ASSERT_TRUE(text.ok()) << std::hex << bits;
    EXPECT_EQ(*text, expected) << std::hex << bits;
    EXPECT_EQ(Canonical(Json(d)), expected) << std::hex << bits;
  }
  // NaN and Infinity have no JSON form.
  for (std::uint64_t bits : {0x7fffffffffffffffull, 0x7ff0000000000000ull, 0xfff0000000000000ull}) {
    const double d = std::bit_cast<double>(bits);
    EXPECT_EQ(CanonicalNumber(d).status().code(), StatusCode::kOutOfRange) << std::hex << bits;
    Result<std::string> in_tree = CanonicalJson(Json::array({1, d}));
    EXPECT_EQ(in_tree.status().code(), StatusCode::kOutOfRange);
    EXPECT_NE(in_tree.status().message().find("at \"/1\""), std::string::npos)
        << in_tree.status().message();
  }
}

TEST(CanonicalJsonTest, NumberNotationSwitchesAt1e21And1eMinus7) {
  const std::vector<std::pair<double, std::string>> cases = {
      {1e21, "1e+21"},
      {1e20, "100000000000000000000"},
      {123456789012345680000.0, "123456789012345680000"},
      {1.5e21, "1.5e+21"},
      {1e-7, "1e-7"},
      {1.5e-7, "1.5e-7"},
      {1e-6, "0.000001"},
      {0.0000015, "0.0000015"},
      {1.23e-18, "1.23e-18"},
      {0.1, "0.1"},
      {1.5, "1.5"},
      {4.5, "4.5"},
      {0.002, "0.002"},
      {100.0, "100"},
      {-1.0, "-1"},
      {1e30, "1e+30"},
      {1e300, "1e+300"},
      {-0.0, "0"},
      {std::numeric_limits<double>::denorm_min(), "5e-324"},
  };
  for (const auto& [d, expected] : cases) {
    EXPECT_EQ(*CanonicalNumber(d), expected) << expected;
  }
}

// RFC 8785 section 3.2.2 / 3.2.3: the sample object, parsed, then canonicalized.
TEST(CanonicalJsonTest, MatchesTheRfc8785Sample) {
  const Json sample = Parse(R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })");
  EXPECT_EQ(Canonical(sample),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

// RFC 8785 section 3.2.3: names sort by UTF-16 code units.
TEST(CanonicalJsonTest, SortsNamesByUtf16CodeUnits) {
  const Json object = Parse(R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })");
  EXPECT_EQ(Canonical(object),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
            "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
            "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
            "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
  // U+1D11E (D834 DD1E) sorts before U+E000 in UTF-16, after it by code point and UTF-8 bytes.
  EXPECT_EQ(Canonical(Parse(R"({"\ue000":1,"\ud834\udd1e":2})")),
            "{\"\xf0\x9d\x84\x9e\":2,\"\xee\x80\x80\":1}");
  // The RFC's locale example: plain code-unit order, no locale rules.
  EXPECT_EQ(Canonical(Parse(R"({"sin":4,"p\u00eache":3,"p\u00e9ch\u00e9":2,"peach":1})")),
            "{\"peach\":1,\"p\xc3\xa9\x63h\xc3\xa9\":2,\"p\xc3\xaa\x63he\":3,\"sin\":4}");
}

TEST(CanonicalJsonTest, DropsWhitespaceAndSortsNestedObjects) {
  EXPECT_EQ(Canonical(Parse(R"( { "b" : [ 1 , 2 , { "z" : 0 , "y" : [ ] } ] ,
                                  "a" : { "d" : true , "c" : null , "" : { } } } )")),
            R"({"a":{"":{},"c":null,"d":true},"b":[1,2,{"y":[],"z":0}]})");
  EXPECT_EQ(Canonical(Json::object()), "{}");
  EXPECT_EQ(Canonical(Json::array()), "[]");
  EXPECT_EQ(Canonical(Json("")), "\"\"");
  EXPECT_EQ(Canonical(Json(nullptr)), "null");
  EXPECT_EQ(Canonical(Json(false)), "false");
}

TEST(CanonicalJsonTest, EscapesOnlyWhatJsonRequires) {
  std::string all_controls;
  for (int c = 0; c < 0x20; ++c) all_controls.push_back(static_cast<char>(c));
  EXPECT_EQ(Canonical(Json(all_controls)),
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
            "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
            "\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
  // Quote and backslash escaped; "/", DEL, U+2028 and astral characters as they are.
  EXPECT_EQ(Canonical(Json("\"\\/\x7f\xe2\x80\xa8\xf0\x9f\x98\x80")),
            "\"\\\"\\\\/\x7f\xe2\x80\xa8\xf0\x9f\x98\x80\"");
  // Names are escaped the same way.
  EXPECT_EQ(Canonical(Json::object({{std::string("a\nb\0", 4), 1}})), "{\"a\\nb\\u0000\":1}");
}

TEST(CanonicalJsonTest, RefusesInvalidUtf8NamingWhere) {
  struct Case {
    Json value;
    std::string where;
  };
  const std::vector<Case> cases = {
      {Json("\xff"), "at the root"},
      {Json("abc\xc0\xaf"), "at the root"},                                      // overlong "/"
      {Json::object({{"a", Json::array({1, "\xed\xa0\x80"})}}), "at \"/a/1\""},  // surrogate
      {Json::object({{"k/~", Json::array({"\xf4\x90\x80\x80"})}}), "at \"/k~1~0/0\""},  // >10FFFF
      {Json::object({{"ok", 1}, {"bad\xe2\x82", 2}}), "at \"/bad\\xe2\\x82\""},         // a name
  };
  for (const Case& c : cases) {
    Result<std::string> text = CanonicalJson(c.value);
    ASSERT_FALSE(text.ok());
    EXPECT_EQ(text.status().code(), StatusCode::kInvalidUtf8);
    EXPECT_NE(text.status().message().find(c.where), std::string::npos)
        << text.status().message() << "\nexpected: " << c.where;
    EXPECT_EQ(text.status().message().rfind("package: canonical json: ", 0), 0u);
  }
}

TEST(CanonicalJsonTest, IntegersMustSurviveADouble) {
  EXPECT_EQ(Canonical(Json(std::int64_t{0})), "0");
  EXPECT_EQ(Canonical(Json(std::int64_t{-17})), "-17");
  EXPECT_EQ(Canonical(Json(std::uint64_t{9007199254740992ull})), "9007199254740992");
  EXPECT_EQ(Canonical(Json(std::int64_t{-9007199254740992ll})), "-9007199254740992");
  EXPECT_EQ(Canonical(Parse("9007199254740991")), "9007199254740991");
  // Beyond 2^53 an integer is accepted only if the double nearest to it prints as it: the
  // canonical text of the double 1e19 is this integer, so it must be acceptable input too.
  EXPECT_EQ(Canonical(Json(std::uint64_t{10000000000000000000ull})), "10000000000000000000");
  EXPECT_EQ(Canonical(Json(1e19)), "10000000000000000000");
  for (const Json& bad :
       {Json(std::uint64_t{9007199254740993ull}), Json(std::int64_t{-9007199254740993ll}),
        Json(std::uint64_t{1ull << 60}), Json(std::numeric_limits<std::uint64_t>::max()),
        Json(std::numeric_limits<std::int64_t>::min()), Parse("[0, 12345678901234567891]")}) {
    Result<std::string> text = CanonicalJson(bad);
    ASSERT_FALSE(text.ok()) << bad.dump();
    EXPECT_EQ(text.status().code(), StatusCode::kOutOfRange) << bad.dump();
    EXPECT_NE(text.status().message().find("cannot be written exactly as an IEEE 754 double"),
              std::string::npos);
  }
}

Json Nested(std::size_t depth) {
  Json j = Json::array();
  for (std::size_t i = 1; i < depth; ++i) j = Json::array({std::move(j)});
  return j;
}

TEST(CanonicalJsonTest, BoundsNestingAndRefusesNonJsonValues) {
  EXPECT_TRUE(CanonicalJson(Nested(kMaxCanonicalDepth)).ok());
  Result<std::string> deep = CanonicalJson(Nested(kMaxCanonicalDepth + 1));
  EXPECT_EQ(deep.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(deep.status().message().find("nesting deeper than 256"), std::string::npos);

  EXPECT_EQ(CanonicalJson(Json::binary({1, 2, 3})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CanonicalJson(Json(Json::value_t::discarded)).status().code(),
            StatusCode::kInvalidArgument);
}

// ---- Property: canonical text parses back to the value and is its own canonical form. ----

class RandomJson {
 public:
  explicit RandomJson(std::uint64_t seed) : rng_(seed) {}

  // An object of a few members, like a manifest.
  Json Document() {
    Json o = Json::object();
    for (int i = 1 + Pick(8); i > 0; --i) o[String(1 + Pick(6))] = Value(1);
    return o;
  }

  Json Value(int depth) {
    const int kind = Pick(depth > 3 ? 6 : 8);
    switch (kind) {
      case 0:
        return nullptr;
      case 1:
        return Pick(2) == 1;
      case 2:
        return Integer();
      case 3:
        return Double();
      case 4:
      case 5:
        return String(Pick(12));
      case 6: {
        Json a = Json::array();
        for (int i = Pick(5); i > 0; --i) a.push_back(Value(depth + 1));
        return a;
      }
      default: {
        Json o = Json::object();
        for (int i = Pick(6); i > 0; --i) o[String(Pick(6))] = Value(depth + 1);
        return o;
      }
    }
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  Json Integer() {
    constexpr std::int64_t kMax = std::int64_t{1} << 53;
    if (Pick(2) == 0) return std::uniform_int_distribution<std::int64_t>(-1000, 1000)(rng_);
    return std::uniform_int_distribution<std::int64_t>(-kMax, kMax)(rng_);
  }

  Json Double() {
    switch (Pick(3)) {
      case 0:  // any finite double, from its bits
        while (true) {
          const double d = std::bit_cast<double>(rng_());
          if (std::isfinite(d)) return d;
        }
      case 1:  // decimal-looking values
        return static_cast<double>(std::uniform_int_distribution<int>(-100000, 100000)(rng_)) /
               100.0;
      default:  // around the notation thresholds
        return std::ldexp(std::uniform_real_distribution<double>(0.5, 1.0)(rng_), Pick(160) - 80);
    }
  }

  std::string String(int length) {
    std::string s;
    for (int i = 0; i < length; ++i) {
      char32_t cp = 0;
      switch (Pick(5)) {
        case 0:
          cp = static_cast<char32_t>(Pick(0x20));  // controls
          break;
        case 1:
          cp = static_cast<char32_t>(0x20 + Pick(0x60));  // ASCII, DEL
          break;
        case 2:
          cp = static_cast<char32_t>(0x80 + Pick(0x780));  // two bytes
          break;
        case 3:
          cp = static_cast<char32_t>(0x800 + Pick(0xF800));  // three bytes
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xE000 + (cp & 0xFF);
          break;
        default:
          cp = static_cast<char32_t>(0x10000 + Pick(0x100000));  // four bytes
      }
      AppendUtf8(cp, &s);
    }
    return s;
  }

  static void AppendUtf8(char32_t cp, std::string* s) {
    if (cp < 0x80) {
      s->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::mt19937_64 rng_;
};

TEST(CanonicalJsonTest, RandomDocumentsRoundTripAndAreIdempotent) {
  RandomJson gen(20240611);
  for (int i = 0; i < 5000; ++i) {
    const Json value = i % 2 == 0 ? gen.Document() : gen.Value(0);
    Result<std::string> canonical = CanonicalJson(value);
    ASSERT_TRUE(canonical.ok()) << canonical.status().ToString() << "\n" << value.dump();
    const Json reparsed = Parse(*canonical);
    ASSERT_EQ(reparsed, value) << *canonical;
    Result<std::string> again = CanonicalJson(reparsed);
    ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << *canonical;
    ASSERT_EQ(*again, *canonical);
  }
}

}  // namespace
}  // namespace tessera::package
