// JsonSchema: schemas that are refused when compiled, and the bounds on depth and work.
#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "package/json_schema.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

Json J(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

// Concatenation through append: GCC 12 at -O3 reports a false -Wrestrict on some
// `"literal" + std::string` expressions (GCC bug 105329).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

std::string Def(int k) { return Cat({"#/$defs/d", std::to_string(k)}); }
std::string DefName(int k) { return Cat({"d", std::to_string(k)}); }

struct BadSchema {
  std::string schema;
  StatusCode code;
  std::string message;  // after "test: "
};

TEST(JsonSchemaCompileTest, RefusesBadSchemasNamingTheLocation) {
  const std::vector<BadSchema> cases = {
      {R"({"maxLenght": 3})", StatusCode::kUnsupported,
       R"(#/maxLenght: unknown or unsupported keyword "maxLenght")"},
      {R"({"properties": {"a": {"format": "date"}}})", StatusCode::kUnsupported,
       R"(#/properties/a/format: unknown or unsupported keyword "format")"},
      {R"({"patternProperties": {}})", StatusCode::kUnsupported,
       R"(#/patternProperties: unknown or unsupported keyword "patternProperties")"},
      {R"({"prefixItems": []})", StatusCode::kUnsupported,
       R"(#/prefixItems: unknown or unsupported keyword "prefixItems")"},
      {R"({"items": [{"type": "string"}]})", StatusCode::kUnsupported,
       R"(#/items: the array form of "items" ("prefixItems" in 2020-12) is not supported)"},
      {R"({"type": "strin"})", StatusCode::kMalformed, R"(#/type: unknown type "strin")"},
      {R"({"type": ["string", "string"]})", StatusCode::kMalformed,
       "#/type: must be a type name or a non-empty array of distinct type names"},
      {R"({"type": []})", StatusCode::kMalformed,
       "#/type: must be a type name or a non-empty array of distinct type names"},
      {R"({"minLength": -1})", StatusCode::kMalformed,
       "#/minLength: must be a non-negative integer, not -1"},
      {R"({"maxItems": 1.5})", StatusCode::kMalformed,
       "#/maxItems: must be a non-negative integer, not 1.5"},
      {R"({"maxProperties": "3"})", StatusCode::kMalformed,
       "#/maxProperties: must be a non-negative integer, not \"3\""},
      {R"({"minimum": "0"})", StatusCode::kMalformed, "#/minimum: must be a number"},
      {R"({"exclusiveMinimum": true})", StatusCode::kMalformed,
       "#/exclusiveMinimum: must be a number"},
      {R"({"enum": []})", StatusCode::kMalformed, "#/enum: must be a non-empty array"},
      {R"({"required": ["a", "a"]})", StatusCode::kMalformed,
       "#/required: must be an array of distinct strings"},
      {R"({"required": [1]})", StatusCode::kMalformed,
       "#/required: must be an array of distinct strings"},
      {R"({"uniqueItems": 1})", StatusCode::kMalformed, "#/uniqueItems: must be a boolean"},
      {R"({"pattern": "a("})", StatusCode::kMalformed,
       R"(#/pattern: regex "a(": unbalanced "(" at 1)"},
      {R"j({"pattern": "(?=a)"})j", StatusCode::kUnsupported,
       R"j(#/pattern: regex "(?=a)": lookaround is not supported at 0)j"},
      {R"({"pattern": 5})", StatusCode::kMalformed, "#/pattern: must be a string"},
      {R"({"properties": {"a": 5}})", StatusCode::kMalformed,
       "#/properties/a: a schema must be an object or a boolean, not 5"},
      {R"({"properties": []})", StatusCode::kMalformed, "#/properties: must be an object"},
      {R"({"anyOf": []})", StatusCode::kMalformed, "#/anyOf: must be a non-empty array of schemas"},
      {R"({"allOf": [{"type": "x"}]})", StatusCode::kMalformed,
       R"(#/allOf/0/type: unknown type "x")"},
      {R"({"then": {}})", StatusCode::kMalformed, R"(#: "then" and "else" need an "if")"},
      {R"({"$ref": "#/$defs/missing"})", StatusCode::kMalformed,
       R"(#/$ref: reference "#/$defs/missing" does not resolve)"},
      {R"({"$ref": "https://example.com/s.json"})", StatusCode::kUnsupported,
       R"(#/$ref: only the references "#" and "#/$defs/<name>" are supported, not )"
       R"("https://example.com/s.json")"},
      {R"({"$defs": {"a": {}}, "$ref": "#/$defs/a/properties/b"})", StatusCode::kUnsupported,
       R"(#/$ref: only the references "#" and "#/$defs/<name>" are supported, not )"
       R"("#/$defs/a/properties/b")"},
      {R"({"$defs": {"a": {}}, "$ref": "#/$defs/~2"})", StatusCode::kMalformed,
       R"(#/$ref: bad "~" escape in the reference)"},
      {R"({"items": {"$defs": {}}})", StatusCode::kUnsupported,
       R"(#/items/$defs: "$defs" is supported at the root only)"},
      {R"({"$schema": "http://json-schema.org/draft-07/schema#"})", StatusCode::kUnsupported,
       R"(#/$schema: only "https://json-schema.org/draft/2020-12/schema" is supported, at the )"
       R"(root)"},
      {R"({"$id": "x"})", StatusCode::kUnsupported,
       R"(#/$id: unknown or unsupported keyword "$id")"},
      {R"("string")", StatusCode::kMalformed,
       R"(#: a schema must be an object or a boolean, not "string")"},
      {R"({"title": 1})", StatusCode::kMalformed, "#/title: must be a string"},
      // Cycles that never descend into the value would loop forever.
      {R"({"$ref": "#"})", StatusCode::kMalformed,
       "#: subschemas refer to one another in a cycle that never descends into the value ($ref, "
       "allOf, anyOf, oneOf, not, if)"},
      {R"({"$defs": {"a": {"allOf": [{"$ref": "#/$defs/b"}]}, "b": {"not": {"$ref": "#/$defs/a"}}},
           "$ref": "#/$defs/a"})",
       StatusCode::kMalformed,
       "#/$defs/a: subschemas refer to one another in a cycle that never descends into the value "
       "($ref, allOf, anyOf, oneOf, not, if)"},
  };
  for (const BadSchema& c : cases) {
    Result<JsonSchema> s = JsonSchema::Compile(J(c.schema), "test");
    ASSERT_FALSE(s.ok()) << c.schema;
    EXPECT_EQ(s.status().code(), c.code) << c.schema << ": " << s.status().ToString();
    EXPECT_EQ(s.status().message(), Cat({"test: ", c.message})) << c.schema;
  }
}

TEST(JsonSchemaCompileTest, RecursionThroughAValueIsNotACycle) {
  EXPECT_TRUE(JsonSchema::Compile(J(R"({"items": {"$ref": "#"}})")).ok());
  EXPECT_TRUE(JsonSchema::Compile(J(R"({"$defs": {"n": {"properties": {"next": {"$ref":
      "#/$defs/n"}}}}, "$ref": "#/$defs/n"})"))
                  .ok());
}

std::string Nested(std::size_t levels, std::string_view open, std::string_view leaf,
                   std::string_view close) {
  std::string s;
  for (std::size_t k = 0; k < levels; ++k) s += open;
  s += leaf;
  for (std::size_t k = 0; k < levels; ++k) s += close;
  return s;
}

TEST(JsonSchemaLimitsTest, SchemaNestingIsBounded) {
  // {"items": {"items": ... {}}}: each level is one JSON object.
  const std::string ok = Nested(kMaxSchemaDepth - 1, R"({"items":)", "{}", "}");
  EXPECT_TRUE(JsonSchema::Compile(J(ok)).ok());
  const std::string deep = Nested(kMaxSchemaDepth, R"({"items":)", "{}", "}");
  Result<JsonSchema> s = JsonSchema::Compile(J(deep), "test");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.status().message(), "test: #: the schema nests deeper than 64 levels");
  // Deep values inside enum or const count too: they are compared recursively.
  s = JsonSchema::Compile(J(Cat({R"({"const": )", Nested(100, "[", "", "]"), "}"})));
  EXPECT_EQ(s.status().code(), StatusCode::kResourceExhausted);
}

TEST(JsonSchemaLimitsTest, SchemaSizeIsBounded) {
  Json many = Json::object();
  many["anyOf"] = Json::array();
  for (std::size_t k = 0; k < kMaxSchemaNodes; ++k) many["anyOf"].push_back(true);
  Result<JsonSchema> s = JsonSchema::Compile(many, "test");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.status().message(), "test: #/anyOf/9999: the schema has more than 10000 subschemas");
  many["anyOf"].erase(many["anyOf"].size() - 1);
  EXPECT_TRUE(JsonSchema::Compile(many).ok());
}

TEST(JsonSchemaLimitsTest, InstanceNestingIsBounded) {
  Result<JsonSchema> s = JsonSchema::Compile(J(R"({"items": {"$ref": "#"}})"), "test");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Validate(J(Nested(kMaxInstanceDepth, "[", "", "]"))).ok());
  Status st = s->Validate(J(Nested(kMaxInstanceDepth + 1, "[", "", "]")), "test");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(), "test: the value nests deeper than 128 levels");
  // Even for a schema that would not look inside.
  Result<JsonSchema> any = JsonSchema::Compile(J("true"));
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->Validate(J(Nested(1000, "[", "", "]"))).code(), StatusCode::kResourceExhausted);
}

TEST(JsonSchemaLimitsTest, ExponentialSchemasRunOutOfSteps) {
  // d0 fails; d(k) = anyOf [d(k-1), d(k-1)] evaluates d0 2^k times before failing.
  Json schema = {{"$defs", {{"d0", false}}}};
  for (int k = 1; k <= 40; ++k) {
    const std::string prev = Def(k - 1);
    schema["$defs"][DefName(k)] = {{"anyOf", Json::array({{{"$ref", prev}}, {{"$ref", prev}}})}};
  }
  schema["$ref"] = "#/$defs/d40";
  Result<JsonSchema> s = JsonSchema::Compile(schema, "test");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const auto start = std::chrono::steady_clock::now();
  Status st = s->Validate(Json(1), "test");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_EQ(st.message(), "test: (root): validation takes more than 1000000 steps");
  EXPECT_LT(elapsed, std::chrono::seconds(30));  // generous: sanitizers, loaded machines
}

TEST(JsonSchemaLimitsTest, LongChainsOfReferencesAreBounded) {
  // d(k) = {"$ref": d(k-1)}: no cycle, but evaluation nests once per link.
  Json schema = {{"$defs", {{"d0", true}}}};
  const int links = static_cast<int>(kMaxEvaluationDepth) + 10;
  for (int k = 1; k <= links; ++k) {
    schema["$defs"][DefName(k)] = {{"$ref", Def(k - 1)}};
  }
  schema["$ref"] = Def(links);
  Result<JsonSchema> s = JsonSchema::Compile(schema);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->Validate(Json(1)).code(), StatusCode::kResourceExhausted);
}

TEST(JsonSchemaLimitsTest, LongStringsAgainstPatternsCostSteps) {
  Result<JsonSchema> s =
      JsonSchema::Compile(J(R"({"items": {"pattern": "^(a|b|c|d|e|f|g|h)*x$"}})"));
  ASSERT_TRUE(s.ok());
  Json many = Json::array();
  for (int k = 0; k < 20; ++k) many.push_back(Cat({std::string(100000, 'a'), "x"}));  // valid
  EXPECT_EQ(s->Validate(many).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s->Validate(Json::array({Cat({std::string(1000, 'a'), "x"})})).code(), StatusCode::kOk);
}

}  // namespace
}  // namespace tessera::package
