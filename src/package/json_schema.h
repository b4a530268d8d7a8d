// JsonSchema: a validator for a documented subset of JSON Schema 2020-12
// (https://json-schema.org/draft/2020-12/json-schema-validation). It checks package manifests
// against docs/formats/package-manifest.schema.json and, later, model outputs against the JSON
// Schema of a skill's contract. Compile once, validate many.
//
// Keywords (2020-12 meaning unless noted):
//   any value   type (a name or an array of names: null boolean object array number string
//               integer; "integer" is any number without a fractional part, so 1.0 is one),
//               enum (non-empty), const
//   numbers     minimum maximum exclusiveMinimum exclusiveMaximum (2020-12: numbers, not
//               booleans); compared exactly, also between integers beyond 2^53 and doubles
//   strings     minLength maxLength (in Unicode code points), pattern (the ECMA-262 subset of
//               safe_regex.h, matched in linear time, unanchored)
//   arrays      items (one schema for every element; the array form is refused), minItems
//               maxItems uniqueItems
//   objects     properties required additionalProperties (a schema or a boolean)
//               minProperties maxProperties propertyNames
//   applicators allOf anyOf oneOf not, if/then/else (then and else need an if); $ref to "#" or
//   "#/$defs/<name>" ("~0" and "~1" escapes
//               decoded; no other references), $defs (at the root only)
//   ignored     title description $comment default examples deprecated readOnly writeOnly
//               (annotations; their types are still checked), and $schema at the root, which
//               must be "https://json-schema.org/draft/2020-12/schema"
// A schema is an object or a boolean (true accepts everything, false nothing). Every other
// keyword is refused by Compile (kUnsupported), so that a typo ("maxLenght") or a keyword this
// validator does not implement ("format", "if", "prefixItems", "patternProperties") cannot
// silently switch a check off.
//
// Compile errors: kUnsupported (unknown keyword, unsupported $ref or regex feature), kMalformed
// (a keyword with a bad value, an unresolved $ref, a $ref cycle that never reaches a value),
// kResourceExhausted (schema nested deeper than kMaxSchemaDepth, more than kMaxSchemaNodes
// subschemas, a pattern over the limits of safe_regex.h). They name the schema location, e.g.
// `package: json schema: #/properties/name: unknown keyword "maxLenght"`.
//
// Validation errors: kMalformed naming the JSON Pointer of the failing value and the rule:
// `package: manifest: /artifacts/0/sha256: does not match pattern ^[0-9a-f]{64}$`. Validation
// stops at the first failure; for anyOf/oneOf it reports the failure of the branch that got
// deepest into the value. kResourceExhausted when the value nests deeper than
// kMaxInstanceDepth, when subschemas applied to one another nest deeper than kMaxEvaluationDepth,
// or when validation would take more than kMaxValidationSteps steps (a step is one subschema
// applied to one value; a pattern match costs code points x program size / 16 steps): a schema
// built from $defs can otherwise take exponential time.
//
// Thread safety: a compiled JsonSchema is immutable; Validate may be called from many threads.
// Cost of a copy: one shared pointer (the compiled form is shared).
#ifndef TESSERA_PACKAGE_JSON_SCHEMA_H_
#define TESSERA_PACKAGE_JSON_SCHEMA_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <utility>

#include "tessera/status.h"

namespace tessera::package {

inline constexpr std::size_t kMaxSchemaDepth = 64;       // JSON nesting of the schema document
inline constexpr std::size_t kMaxSchemaNodes = 10000;    // subschemas in one schema
inline constexpr std::size_t kMaxInstanceDepth = 128;    // JSON nesting of a validated value
inline constexpr std::size_t kMaxEvaluationDepth = 512;  // nested subschema applications
inline constexpr std::uint64_t kMaxValidationSteps = 1000000;

struct JsonSchemaProgram;  // the compiled form (json_schema_program.h)

class JsonSchema {
 public:
  // `context` starts every error message.
  static Result<JsonSchema> Compile(const nlohmann::json& schema,
                                    std::string_view context = "package: json schema");

  // OK if `instance` is valid. Messages start with `context`.
  Status Validate(const nlohmann::json& instance,
                  std::string_view context = "package: json schema") const;

 private:
  explicit JsonSchema(std::shared_ptr<const JsonSchemaProgram> program)
      : program_(std::move(program)) {}

  std::shared_ptr<const JsonSchemaProgram> program_;
};

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_JSON_SCHEMA_H_
