// JsonSchema: every keyword, accepted and refused values, and the messages.
#include "package/json_schema.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace tessera::package {
namespace {

using Json = nlohmann::json;

Json J(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

Status Check(std::string_view schema, std::string_view instance) {
  Result<JsonSchema> s = JsonSchema::Compile(J(schema), "test");
  if (!s.ok()) return Status(StatusCode::kInternal, "schema refused: " + s.status().ToString());
  return s->Validate(J(instance), "test");
}

void ExpectValid(std::string_view schema, std::string_view instance) {
  Status st = Check(schema, instance);
  EXPECT_TRUE(st.ok()) << schema << " on " << instance << ": " << st.ToString();
}

// `message` is the whole message after "test: ".
void ExpectInvalid(std::string_view schema, std::string_view instance, std::string_view message) {
  Status st = Check(schema, instance);
  ASSERT_FALSE(st.ok()) << schema << " on " << instance;
  EXPECT_EQ(st.code(), StatusCode::kMalformed) << st.ToString();
  EXPECT_EQ(st.message(), "test: " + std::string(message)) << schema << " on " << instance;
}

TEST(JsonSchemaTest, Type) {
  ExpectValid(R"({"type": "string"})", R"("x")");
  ExpectValid(R"({"type": "integer"})", "-5");
  ExpectValid(R"({"type": "integer"})", "1.0");  // no fractional part: an integer
  ExpectValid(R"({"type": "integer"})", "18446744073709551615");
  ExpectValid(R"({"type": "number"})", "7");
  ExpectValid(R"({"type": "number"})", "7.5");
  ExpectValid(R"({"type": ["null", "object"]})", "null");
  ExpectValid(R"({"type": ["null", "object"]})", "{}");
  ExpectValid(R"({"type": "boolean"})", "false");
  ExpectValid(R"({"type": "array"})", "[]");
  ExpectInvalid(R"({"type": "integer"})", "1.5", "(root): is a number, expected integer");
  ExpectInvalid(R"({"type": "string"})", "1", "(root): is an integer, expected string");
  ExpectInvalid(R"({"type": ["null", "object"]})", "[]",
                "(root): is an array, expected one of: null, object");
  ExpectInvalid(R"({"type": "boolean"})", "0", "(root): is an integer, expected boolean");
  ExpectInvalid(R"({"type": "null"})", "false", "(root): is a boolean, expected null");
}

TEST(JsonSchemaTest, EnumAndConstCompareByValue) {
  ExpectValid(R"({"enum": ["a", 1, null]})", "1.0");
  ExpectValid(R"({"enum": ["a", 1, null]})", "null");
  ExpectInvalid(R"({"enum": ["a", 1, null]})", R"("b")", R"((root): is not one of ["a",1,null])");
  ExpectInvalid(R"({"enum": [1]})", "true", "(root): is not one of [1]");
  ExpectValid(R"({"const": {"a": [1, {"b": 2}], "c": null}})",
              R"({"c": null, "a": [1.0, {"b": 2}]})");
  ExpectInvalid(R"({"const": {"a": [1, 2]}})", R"({"a": [2, 1]})",
                R"((root): is not the constant {"a":[1,2]})");
  ExpectInvalid(R"({"const": 9007199254740993})", "9007199254740992.0",
                "(root): is not the constant 9007199254740993");
}

TEST(JsonSchemaTest, NumericLimitsAreExact) {
  ExpectValid(R"({"minimum": 1, "maximum": 3})", "1");
  ExpectValid(R"({"minimum": 1, "maximum": 3})", "3.0");
  ExpectValid(R"({"type": "string", "minimum": 5})", R"("applies to numbers only")");
  ExpectInvalid(R"({"minimum": 1})", "0.999", "(root): 0.999 is less than the minimum 1");
  ExpectInvalid(R"({"maximum": 3})", "4", "(root): 4 is greater than the maximum 3");
  ExpectValid(R"({"exclusiveMinimum": 0})", "5e-324");
  ExpectInvalid(R"({"exclusiveMinimum": 0})", "0",
                "(root): 0 is not greater than the exclusive minimum 0");
  ExpectInvalid(R"({"exclusiveMaximum": 1})", "1.0",
                "(root): 1.0 is not less than the exclusive maximum 1");
  ExpectValid(R"({"exclusiveMaximum": 1})", "0.9999999999999999");
  ExpectValid(R"({"maximum": 9007199254740991})", "9007199254740991");
  ExpectInvalid(R"({"maximum": 9007199254740991})", "9007199254740992",
                "(root): 9007199254740992 is greater than the maximum 9007199254740991");
  ExpectInvalid(R"({"maximum": 9007199254740991})", "18446744073709551615",
                "(root): 18446744073709551615 is greater than the maximum 9007199254740991");
  ExpectInvalid(R"({"maximum": 9007199254740991})", "1e300",
                "(root): 1e+300 is greater than the maximum 9007199254740991");
  // 2^53 + 1 and the double 2^53 differ, although a double cannot tell.
  ExpectInvalid(R"({"maximum": 9007199254740992.0})", "9007199254740993",
                "(root): 9007199254740993 is greater than the maximum 9.007199254740992e+15");
  ExpectValid(R"({"minimum": -9223372036854775808})", "-9223372036854775808");
  ExpectInvalid(R"({"minimum": -1.5})", "-2", "(root): -2 is less than the minimum -1.5");
}

TEST(JsonSchemaTest, StringLengthCountsCodePoints) {
  ExpectValid(R"({"minLength": 2, "maxLength": 2})", "\"\xc3\xa9\xc3\xa9\"");  // "éé": 4 bytes
  ExpectValid(R"({"maxLength": 1})", "\"\xf0\x9f\x98\x80\"");                  // one emoji
  ExpectInvalid(R"({"maxLength": 2})", "\"h\xc3\xa9\xc3\xa9\"",
                "(root): has 3 characters, more than maxLength 2");
  ExpectInvalid(R"({"minLength": 1})", R"("")", "(root): has 0 characters, fewer than minLength 1");
  ExpectValid(R"({"maxLength": 0})", "5");  // applies to strings only
}

TEST(JsonSchemaTest, PatternIsUnanchoredEcmaScript) {
  ExpectValid(R"({"pattern": "b"})", R"("abc")");
  ExpectValid(R"({"pattern": "^[0-9a-f]{64}$"})",
              R"("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")");
  ExpectInvalid(R"({"properties": {"sha256": {"pattern": "^[0-9a-f]{64}$"}}})",
                R"({"sha256": "E3B0"})", "/sha256: does not match pattern ^[0-9a-f]{64}$");
  ExpectValid(R"({"pattern": "^a"})", "12");  // applies to strings only
}

TEST(JsonSchemaTest, ArrayKeywords) {
  ExpectValid(R"({"items": {"type": "integer"}, "minItems": 1, "maxItems": 3})", "[1, 2, 3]");
  ExpectInvalid(R"({"items": {"type": "integer"}})", R"([1, "2"])",
                "/1: is a string, expected integer");
  ExpectInvalid(R"({"minItems": 1})", "[]", "(root): has 0 items, fewer than minItems 1");
  ExpectInvalid(R"({"maxItems": 1})", "[1, 2]", "(root): has 2 items, more than maxItems 1");
  ExpectValid(R"({"uniqueItems": true})", R"([1, "1", [1], {"a": 1}, {"a": 2}, true, null])");
  ExpectInvalid(R"({"uniqueItems": true})", "[1, 2, 1.0]",
                "(root): items 0 and 2 are equal (uniqueItems)");
  ExpectInvalid(R"({"uniqueItems": true})", R"([{"a": [1], "b": 2}, {"b": 2, "a": [1]}])",
                "(root): items 0 and 1 are equal (uniqueItems)");
  ExpectValid(R"({"uniqueItems": false})", "[1, 1]");
  ExpectInvalid(R"({"items": {"items": {"const": 0}}})", "[[0], [0, 1]]",
                "/1/1: is not the constant 0");
}

TEST(JsonSchemaTest, ObjectKeywords) {
  const char* schema = R"({
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "string"}, "n": {"type": "integer"}},
    "additionalProperties": false})";
  ExpectValid(schema, R"({"id": "x", "n": 2})");
  ExpectInvalid(schema, R"({"n": 2})", R"((root): required member "id" is missing)");
  ExpectInvalid(schema, R"({"id": "x", "extra": 1})",
                "/extra: unknown member (additionalProperties is false)");
  ExpectInvalid(schema, R"({"id": 5})", "/id: is an integer, expected string");
  ExpectValid(R"({"additionalProperties": {"type": "string"}})", R"({"a": "x"})");
  ExpectInvalid(R"({"additionalProperties": {"type": "string"}})", R"({"a": 1})",
                "/a: is an integer, expected string");
  ExpectInvalid(R"({"minProperties": 1})", "{}",
                "(root): has 0 members, fewer than minProperties 1");
  ExpectInvalid(R"({"maxProperties": 1})", R"({"a": 1, "b": 2})",
                "(root): has 2 members, more than maxProperties 1");
  ExpectValid(R"({"propertyNames": {"pattern": "^[a-z]+$"}})", R"({"abc": 1})");
  ExpectInvalid(R"({"propertyNames": {"pattern": "^[a-z]+$", "maxLength": 3}})",
                R"({"abc": 1, "Bad": 2})", "/Bad: the member name does not match pattern ^[a-z]+$");
  ExpectInvalid(R"({"propertyNames": {"maxLength": 3}})", R"({"long": 1})",
                "/long: the member name has 4 characters, more than maxLength 3");
  // Pointers escape "~" and "/" (RFC 6901) and show other bytes safely.
  ExpectInvalid(R"({"additionalProperties": false})", R"({"a/b~c": 1})",
                "/a~1b~0c: unknown member (additionalProperties is false)");
  ExpectInvalid(R"({"additionalProperties": false})", R"({"a\nb": 1})",
                "/a\\x0ab: unknown member (additionalProperties is false)");
  ExpectValid(R"({"required": ["a"]})", "[1]");  // applies to objects only
}

TEST(JsonSchemaTest, ReferencesAndDefinitions) {
  const char* schema = R"({
    "$defs": {"positive": {"type": "integer", "minimum": 1},
              "a/b~c": {"const": "escaped"}},
    "properties": {"n": {"$ref": "#/$defs/positive"}, "e": {"$ref": "#/$defs/a~1b~0c"}}})";
  ExpectValid(schema, R"({"n": 3, "e": "escaped"})");
  ExpectInvalid(schema, R"({"n": 0})", "/n: 0 is less than the minimum 1");
  ExpectInvalid(schema, R"({"e": "x"})", R"(/e: is not the constant "escaped")");
  // A recursive schema: a tree of integers.
  const char* tree =
      R"({"anyOf": [{"type": "integer"}, {"type": "array", "items": {"$ref": "#"}}]})";
  ExpectValid(tree, "[1, [2, [3, []]], 4]");
  Status st = Check(tree, R"([1, [2, ["x"]]])");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/1/1/0"), std::string::npos) << st.message();
  // $ref beside other keywords: both apply (2020-12).
  ExpectInvalid(R"({"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "maxLength": 1})",
                R"("ab")", "(root): has 2 characters, more than maxLength 1");
}

TEST(JsonSchemaTest, Applicators) {
  ExpectValid(R"({"allOf": [{"type": "integer"}, {"minimum": 2}]})", "3");
  ExpectInvalid(R"({"allOf": [{"type": "integer"}, {"minimum": 2}]})", "1",
                "(root): 1 is less than the minimum 2");
  ExpectValid(R"({"anyOf": [{"type": "string"}, {"minimum": 2}]})", "3");
  ExpectValid(R"({"anyOf": [{"type": "string"}, {"minimum": 2}]})", R"("x")");
  ExpectInvalid(R"({"anyOf": [{"type": "string"}, {"minimum": 2}]})", "1",
                "(root): is an integer, expected string (the closest of the 2 schemas in anyOf "
                "at (root))");
  ExpectValid(R"({"oneOf": [{"type": "integer"}, {"type": "string"}]})", "1");
  ExpectInvalid(R"({"oneOf": [{"type": "integer"}, {"minimum": 0}]})", "1",
                "(root): matches schemas 0 and 1 of the 2 in oneOf, expected exactly one");
  // The closest failure is the one that got deepest into the value.
  ExpectInvalid(R"({"oneOf": [{"type": "string"},
                              {"properties": {"a": {"properties": {"b": {"type": "null"}}}}}]})",
                R"({"a": {"b": 1}})",
                "/a/b: is an integer, expected null (the closest of the 2 schemas in oneOf at "
                "(root))");
  ExpectValid(R"({"not": {"type": "string"}})", "1");
  ExpectInvalid(R"({"not": {"enum": [".", ".."]}})", R"("..")",
                R"((root): must not match the schema in "not": {"enum":[".",".."]})");
  const char* conditional = R"({
    "if": {"properties": {"type": {"const": "enum"}}},
    "then": {"required": ["labels"]},
    "else": {"properties": {"labels": false}}})";
  ExpectValid(conditional, R"({"type": "enum", "labels": []})");
  ExpectValid(conditional, R"({"type": "text"})");
  ExpectInvalid(conditional, R"({"type": "enum"})",
                R"((root): required member "labels" is missing)");
  ExpectInvalid(conditional, R"({"type": "text", "labels": []})",
                "/labels: is not allowed by the schema");
  ExpectValid(R"({"if": {"type": "string"}})", "1");  // if alone never fails
}

TEST(JsonSchemaTest, BooleanSchemasAndAnnotations) {
  ExpectValid("true", R"({"anything": [1]})");
  ExpectInvalid("false", "1", "(root): is not allowed by the schema");
  ExpectValid(R"({"items": true})", "[1]");
  ExpectValid(R"({"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "t",
                  "description": "d", "$comment": "c", "default": 1, "examples": [1],
                  "deprecated": false, "readOnly": true, "writeOnly": false})",
              "1");
}

TEST(JsonSchemaTest, CompiledSchemaIsReusableAndCopyable) {
  Result<JsonSchema> s = JsonSchema::Compile(J(R"({"type": "integer"})"));
  ASSERT_TRUE(s.ok());
  const JsonSchema copy = *s;
  for (int k = 0; k < 100; ++k) EXPECT_TRUE(copy.Validate(Json(k)).ok());
  Status st = copy.Validate(Json("x"));
  EXPECT_EQ(st.message(), "package: json schema: (root): is a string, expected integer");
}

}  // namespace
}  // namespace tessera::package
