// JsonSchema::Validate: applies a compiled schema (json_schema_program.h) to a value.
#include "package/json_schema.h"

#include <algorithm>
#include <bit>
#include <optional>
#include <string>
#include <vector>

#include "package/json_compare.h"
#include "package/json_pointer.h"
#include "package/json_schema_program.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

struct Failure {
  StatusCode code = StatusCode::kMalformed;
  std::string pointer;  // RFC 6901, of the failing value
  std::string problem;
};
using Outcome = std::optional<Failure>;  // nullopt: valid

bool TypeMatches(std::uint8_t types, const Json& v) {
  if (v.is_null()) return types & kTypeNull;
  if (v.is_boolean()) return types & kTypeBoolean;
  if (v.is_object()) return types & kTypeObject;
  if (v.is_array()) return types & kTypeArray;
  if (v.is_string()) return types & kTypeString;
  if (v.is_number()) return (types & kTypeNumber) || ((types & kTypeInteger) && IsIntegral(v));
  return false;
}

std::string TypeList(std::uint8_t types) {
  static constexpr const char* kNames[] = {"null",   "boolean", "object", "array",
                                           "number", "string",  "integer"};
  std::string out;
  for (int bit = 0; bit < 7; ++bit) {
    if ((types & (1u << bit)) == 0) continue;
    out += out.empty() ? "" : ", ";
    out += kNames[bit];
  }
  return std::popcount(types) > 1 ? "one of: " + out : out;
}

std::size_t CodePoints(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The number of reference tokens in a pointer.
std::size_t Depth(const std::string& pointer) {
  return static_cast<std::size_t>(std::count(pointer.begin(), pointer.end(), '/'));
}

class Validator {
 public:
  explicit Validator(const JsonSchemaProgram& program) : program_(program) {}

  Outcome Check(std::size_t index, const Json& v, const JsonPath* at, std::size_t depth) {
    if (++steps_ > kMaxValidationSteps) return TooCostly(at);
    if (depth > kMaxEvaluationDepth) {
      return Failure{StatusCode::kResourceExhausted, PointerOf(at),
                     "subschemas nest deeper than " + std::to_string(kMaxEvaluationDepth)};
    }
    const SchemaNode& s = program_.nodes[index];
    if (s.is_bool) return s.bool_value ? Outcome() : Fail(at, "is not allowed by the schema");
    if (s.types != 0 && !TypeMatches(s.types, v)) {
      return Fail(at, "is " + JsonKindName(v) + ", expected " + TypeList(s.types));
    }
    if (s.const_value && CompareJson(v, *s.const_value) != 0) {
      return Fail(at, "is not the constant " + s.const_text);
    }
    if (s.enum_values && std::none_of(s.enum_values->begin(), s.enum_values->end(),
                                      [&v](const Json& e) { return CompareJson(v, e) == 0; })) {
      return Fail(at, "is not one of " + s.enum_text);
    }
    Outcome out;
    if (v.is_number()) out = CheckNumber(s, v, at);
    if (v.is_string()) out = CheckString(s, v.get_ref<const std::string&>(), at);
    if (v.is_array()) out = CheckArray(s, v, at, depth);
    if (v.is_object()) out = CheckObject(s, v, at, depth);
    if (out) return out;
    return CheckApplicators(s, v, at, depth);
  }

 private:
  static Outcome Fail(const JsonPath* at, std::string problem) {
    return Failure{StatusCode::kMalformed, PointerOf(at), std::move(problem)};
  }
  static Outcome TooCostly(const JsonPath* at) {
    return Failure{StatusCode::kResourceExhausted, PointerOf(at),
                   "validation takes more than " + std::to_string(kMaxValidationSteps) + " steps"};
  }

  Outcome CheckNumber(const SchemaNode& s, const Json& v, const JsonPath* at) {
    const std::string text = BriefJson(v, 40);
    if (s.minimum && CompareNumbers(v, *s.minimum) < 0) {
      return Fail(at, text + " is less than the minimum " + BriefJson(*s.minimum, 40));
    }
    if (s.maximum && CompareNumbers(v, *s.maximum) > 0) {
      return Fail(at, text + " is greater than the maximum " + BriefJson(*s.maximum, 40));
    }
    if (s.exclusive_minimum && CompareNumbers(v, *s.exclusive_minimum) <= 0) {
      return Fail(at, text + " is not greater than the exclusive minimum " +
                          BriefJson(*s.exclusive_minimum, 40));
    }
    if (s.exclusive_maximum && CompareNumbers(v, *s.exclusive_maximum) >= 0) {
      return Fail(at, text + " is not less than the exclusive maximum " +
                          BriefJson(*s.exclusive_maximum, 40));
    }
    return Outcome();
  }

  Outcome CheckString(const SchemaNode& s, const std::string& v, const JsonPath* at) {
    if (s.min_length || s.max_length) {
      const std::size_t n = CodePoints(v);
      if (s.min_length && n < *s.min_length) {
        return Fail(at, "has " + std::to_string(n) + " characters, fewer than minLength " +
                            std::to_string(*s.min_length));
      }
      if (s.max_length && n > *s.max_length) {
        return Fail(at, "has " + std::to_string(n) + " characters, more than maxLength " +
                            std::to_string(*s.max_length));
      }
    }
    if (s.pattern) {
      steps_ += (v.size() + 1) * s.pattern->program_size() / 16;
      if (steps_ > kMaxValidationSteps) return TooCostly(at);
      if (!s.pattern->Search(v)) return Fail(at, "does not match pattern " + s.pattern_text);
    }
    return Outcome();
  }

  Outcome CheckArray(const SchemaNode& s, const Json& v, const JsonPath* at, std::size_t depth) {
    const std::size_t n = v.size();
    if (s.min_items && n < *s.min_items) {
      return Fail(at, "has " + std::to_string(n) + " items, fewer than minItems " +
                          std::to_string(*s.min_items));
    }
    if (s.max_items && n > *s.max_items) {
      return Fail(at, "has " + std::to_string(n) + " items, more than maxItems " +
                          std::to_string(*s.max_items));
    }
    if (s.unique_items && n > 1) {
      steps_ += n * static_cast<std::uint64_t>(std::bit_width(n));
      if (steps_ > kMaxValidationSteps) return TooCostly(at);
      std::vector<std::size_t> order(n);
      for (std::size_t k = 0; k < n; ++k) order[k] = k;
      std::sort(order.begin(), order.end(), [&v](std::size_t a, std::size_t b) {
        const int c = CompareJson(v[a], v[b]);
        return c < 0 || (c == 0 && a < b);
      });
      for (std::size_t k = 1; k < n; ++k) {
        if (CompareJson(v[order[k - 1]], v[order[k]]) == 0) {
          return Fail(at, "items " + std::to_string(order[k - 1]) + " and " +
                              std::to_string(order[k]) + " are equal (uniqueItems)");
        }
      }
    }
    if (s.items) {
      for (std::size_t k = 0; k < n; ++k) {
        const JsonPath child{at, false, {}, k};
        if (Outcome f = Check(*s.items, v[k], &child, depth + 1)) return f;
      }
    }
    return Outcome();
  }

  Outcome CheckObject(const SchemaNode& s, const Json& v, const JsonPath* at, std::size_t depth) {
    const std::size_t n = v.size();
    if (s.min_properties && n < *s.min_properties) {
      return Fail(at, "has " + std::to_string(n) + " members, fewer than minProperties " +
                          std::to_string(*s.min_properties));
    }
    if (s.max_properties && n > *s.max_properties) {
      return Fail(at, "has " + std::to_string(n) + " members, more than maxProperties " +
                          std::to_string(*s.max_properties));
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
      const JsonPath child{at, true, it.key(), 0};
      if (s.property_names) {
        if (Outcome f = Check(*s.property_names, Json(it.key()), at, depth + 1)) {
          if (f->code != StatusCode::kMalformed) return f;
          return Fail(&child, "the member name " + f->problem);
        }
      }
      auto known = s.properties.find(it.key());
      std::optional<std::size_t> sub;
      if (known != s.properties.end()) {
        sub = known->second;
      } else if (s.additional_properties) {
        const SchemaNode& extra = program_.nodes[*s.additional_properties];
        if (extra.is_bool && !extra.bool_value) {
          return Fail(&child, "unknown member (additionalProperties is false)");
        }
        sub = s.additional_properties;
      }
      if (sub) {
        if (Outcome f = Check(*sub, it.value(), &child, depth + 1)) return f;
      }
    }
    for (const std::string& name : s.required) {
      if (!v.contains(name)) {
        return Fail(at, "required member " + BriefJson(Json(name), 80) + " is missing");
      }
    }
    return Outcome();
  }

  Outcome CheckApplicators(const SchemaNode& s, const Json& v, const JsonPath* at,
                           std::size_t depth) {
    if (s.ref) {
      if (Outcome f = Check(*s.ref, v, at, depth + 1)) return f;
    }
    for (std::size_t sub : s.all_of) {
      if (Outcome f = Check(sub, v, at, depth + 1)) return f;
    }
    if (!s.any_of.empty()) {
      if (Outcome f = CheckSome(s.any_of, "anyOf", v, at, depth)) return f;
    }
    if (!s.one_of.empty()) {
      if (Outcome f = CheckSome(s.one_of, "oneOf", v, at, depth)) return f;
    }
    if (s.not_schema) {
      Outcome f = Check(*s.not_schema, v, at, depth + 1);
      if (f && f->code != StatusCode::kMalformed) return f;
      if (!f) return Fail(at, "must not match the schema in \"not\": " + s.not_text);
    }
    if (s.if_schema) {
      Outcome f = Check(*s.if_schema, v, at, depth + 1);
      if (f && f->code != StatusCode::kMalformed) return f;
      const std::optional<std::size_t> branch = f ? s.else_schema : s.then_schema;
      if (branch) {
        if (Outcome g = Check(*branch, v, at, depth + 1)) return g;
      }
    }
    return Outcome();
  }

  // anyOf (at least one branch valid) and oneOf (exactly one).
  Outcome CheckSome(const std::vector<std::size_t>& branches, std::string_view keyword,
                    const Json& v, const JsonPath* at, std::size_t depth) {
    std::vector<std::size_t> valid;
    Outcome closest;
    for (std::size_t k = 0; k < branches.size(); ++k) {
      Outcome f = Check(branches[k], v, at, depth + 1);
      if (f && f->code != StatusCode::kMalformed) return f;
      if (!f) {
        valid.push_back(k);
        if (keyword == "anyOf") return Outcome();
      } else if (!closest || Depth(f->pointer) > Depth(closest->pointer)) {
        closest = std::move(f);
      }
    }
    const std::string n = std::to_string(branches.size());
    if (valid.empty()) {
      closest->problem += " (the closest of the " + n + " schemas in " + std::string(keyword) +
                          " at " + RenderPointer(PointerOf(at)) + ")";
      return closest;
    }
    if (valid.size() > 1) {
      return Fail(at, "matches schemas " + std::to_string(valid[0]) + " and " +
                          std::to_string(valid[1]) + " of the " + n +
                          " in oneOf, expected exactly one");
    }
    return Outcome();
  }

  const JsonSchemaProgram& program_;
  std::uint64_t steps_ = 0;
};

}  // namespace

Status JsonSchema::Validate(const Json& instance, std::string_view context) const {
  if (JsonDepth(instance, kMaxInstanceDepth) > kMaxInstanceDepth) {
    return Status(StatusCode::kResourceExhausted,
                  std::string(context) + ": the value nests deeper than " +
                      std::to_string(kMaxInstanceDepth) + " levels");
  }
  Validator validator(*program_);
  Outcome f = validator.Check(0, instance, nullptr, 0);
  if (!f) return Status::Ok();
  return Status(f->code,
                std::string(context) + ": " + RenderPointer(f->pointer) + ": " + f->problem);
}

}  // namespace tessera::package
