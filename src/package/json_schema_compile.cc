// JsonSchema::Compile: checks every keyword of a schema document and builds its compiled form.
#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "package/json_compare.h"
#include "package/json_pointer.h"
#include "package/json_schema.h"
#include "package/json_schema_program.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kDialect = "https://json-schema.org/draft/2020-12/schema";

class SchemaCompiler {
 public:
  explicit SchemaCompiler(std::string_view context) : context_(context) {}

  Result<std::shared_ptr<const JsonSchemaProgram>> Run(const Json& schema) {
    if (JsonDepth(schema, kMaxSchemaDepth) > kMaxSchemaDepth) {
      return Error(StatusCode::kResourceExhausted, "#",
                   "the schema nests deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
    }
    TS_ASSIGN_OR_RETURN(const std::size_t root, CompileSchema(schema, "#", /*is_root=*/true));
    (void)root;  // always 0
    TS_RETURN_IF_ERROR(ResolveRefs());
    TS_RETURN_IF_ERROR(CheckCycles());
    return std::shared_ptr<const JsonSchemaProgram>(std::move(program_));
  }

 private:
  struct PendingRef {
    std::size_t node;
    std::string target;
    std::string at;
  };

  Status Error(StatusCode code, const std::string& at, const std::string& problem) const {
    return Status(code, std::string(context_) + ": " + RenderPointer(at) + ": " + problem);
  }

  Result<std::size_t> CompileSchema(const Json& s, const std::string& at, bool is_root) {
    if (program_->nodes.size() >= kMaxSchemaNodes) {
      return Error(StatusCode::kResourceExhausted, at,
                   "the schema has more than " + std::to_string(kMaxSchemaNodes) + " subschemas");
    }
    const std::size_t index = program_->nodes.size();
    program_->nodes.emplace_back();
    locations_.push_back(at);
    SchemaNode node;
    if (s.is_boolean()) {
      node.is_bool = true;
      node.bool_value = s.get<bool>();
    } else if (s.is_object()) {
      for (auto it = s.begin(); it != s.end(); ++it) {
        TS_RETURN_IF_ERROR(Keyword(&node, index, it.key(), it.value(),
                                   at + "/" + EscapePointerToken(it.key()), is_root));
      }
      if ((node.then_schema || node.else_schema) && !node.if_schema) {
        return Error(StatusCode::kMalformed, at, "\"then\" and \"else\" need an \"if\"");
      }
    } else {
      return Error(StatusCode::kMalformed, at,
                   "a schema must be an object or a boolean, not " + BriefJson(s, 40));
    }
    program_->nodes[index] = std::move(node);
    return index;
  }

  Result<std::size_t> Subschema(const Json& s, const std::string& at) {
    return CompileSchema(s, at, /*is_root=*/false);
  }

  Result<std::vector<std::size_t>> SchemaList(const Json& v, const std::string& at) {
    if (!v.is_array() || v.empty()) {
      return Error(StatusCode::kMalformed, at, "must be a non-empty array of schemas");
    }
    std::vector<std::size_t> out;
    for (std::size_t k = 0; k < v.size(); ++k) {
      TS_ASSIGN_OR_RETURN(const std::size_t sub, Subschema(v[k], at + "/" + std::to_string(k)));
      out.push_back(sub);
    }
    return out;
  }

  Result<std::uint64_t> Count(const Json& v, const std::string& at) {
    constexpr double kTwo53 = 9007199254740992.0;
    if (!IsIntegral(v) || CompareNumbers(v, Json(0)) < 0 || CompareNumbers(v, Json(kTwo53)) > 0) {
      return Error(StatusCode::kMalformed, at,
                   "must be a non-negative integer, not " + BriefJson(v, 40));
    }
    return v.is_number_float() ? static_cast<std::uint64_t>(v.get<double>())
                               : v.get<std::uint64_t>();
  }

  Status Types(SchemaNode* node, const Json& v, const std::string& at) {
    static constexpr std::pair<std::string_view, std::uint8_t> kNames[] = {
        {"null", kTypeNull},      {"boolean", kTypeBoolean}, {"object", kTypeObject},
        {"array", kTypeArray},    {"number", kTypeNumber},   {"string", kTypeString},
        {"integer", kTypeInteger}};
    const Status bad = Error(StatusCode::kMalformed, at,
                             "must be a type name or a non-empty array of distinct type names");
    std::vector<const Json*> names;
    if (v.is_string()) names.push_back(&v);
    if (v.is_array()) {
      for (const Json& e : v) names.push_back(&e);
    }
    if (names.empty()) return bad;
    for (const Json* name : names) {
      if (!name->is_string()) return bad;
      const auto* found = std::find_if(std::begin(kNames), std::end(kNames), [&](const auto& t) {
        return t.first == name->get_ref<const std::string&>();
      });
      if (found == std::end(kNames)) {
        return Error(StatusCode::kMalformed, at, "unknown type " + BriefJson(*name, 40));
      }
      if ((node->types & found->second) != 0) return bad;
      node->types |= found->second;
    }
    return Status::Ok();
  }

  Status Keyword(SchemaNode* node, std::size_t index, const std::string& key, const Json& v,
                 const std::string& at, bool is_root) {
    if (key == "type") return Types(node, v, at);
    if (key == "const") {
      node->const_value = v;
      node->const_text = BriefJson(v);
      return Status::Ok();
    }
    if (key == "enum") {
      if (!v.is_array() || v.empty()) {
        return Error(StatusCode::kMalformed, at, "must be a non-empty array");
      }
      node->enum_values = std::vector<Json>(v.begin(), v.end());
      node->enum_text = BriefJson(v);
      return Status::Ok();
    }
    if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
        key == "exclusiveMaximum") {
      if (!v.is_number()) return Error(StatusCode::kMalformed, at, "must be a number");
      std::optional<Json>& slot = key == "minimum"            ? node->minimum
                                  : key == "maximum"          ? node->maximum
                                  : key == "exclusiveMinimum" ? node->exclusive_minimum
                                                              : node->exclusive_maximum;
      slot = v;
      return Status::Ok();
    }
    if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems" ||
        key == "minProperties" || key == "maxProperties") {
      TS_ASSIGN_OR_RETURN(const std::uint64_t n, Count(v, at));
      std::optional<std::uint64_t>& slot = key == "minLength"       ? node->min_length
                                           : key == "maxLength"     ? node->max_length
                                           : key == "minItems"      ? node->min_items
                                           : key == "maxItems"      ? node->max_items
                                           : key == "minProperties" ? node->min_properties
                                                                    : node->max_properties;
      slot = n;
      return Status::Ok();
    }
    if (key == "pattern") {
      if (!v.is_string()) return Error(StatusCode::kMalformed, at, "must be a string");
      Result<SafeRegex> re = SafeRegex::Compile(v.get_ref<const std::string&>());
      if (!re.ok()) return Error(re.status().code(), at, re.status().message());
      node->pattern = std::move(re).value();
      node->pattern_text = v.get<std::string>();
      return Status::Ok();
    }
    if (key == "uniqueItems" || key == "deprecated" || key == "readOnly" || key == "writeOnly") {
      if (!v.is_boolean()) return Error(StatusCode::kMalformed, at, "must be a boolean");
      if (key == "uniqueItems") node->unique_items = v.get<bool>();
      return Status::Ok();
    }
    if (key == "items") {
      if (v.is_array()) {
        return Error(StatusCode::kUnsupported, at,
                     "the array form of \"items\" (\"prefixItems\" in 2020-12) is not supported");
      }
      TS_ASSIGN_OR_RETURN(node->items, Subschema(v, at));
      return Status::Ok();
    }
    if (key == "properties") {
      if (!v.is_object()) return Error(StatusCode::kMalformed, at, "must be an object");
      for (auto it = v.begin(); it != v.end(); ++it) {
        TS_ASSIGN_OR_RETURN(const std::size_t sub,
                            Subschema(it.value(), at + "/" + EscapePointerToken(it.key())));
        node->properties[it.key()] = sub;
      }
      return Status::Ok();
    }
    if (key == "required") {
      std::set<std::string> seen;
      const bool ok = v.is_array() && std::all_of(v.begin(), v.end(), [&](const Json& e) {
                        return e.is_string() && seen.insert(e.get<std::string>()).second;
                      });
      if (!ok) return Error(StatusCode::kMalformed, at, "must be an array of distinct strings");
      for (const Json& e : v) node->required.push_back(e.get<std::string>());
      return Status::Ok();
    }
    if (key == "additionalProperties") return Assign(&node->additional_properties, v, at);
    if (key == "propertyNames") return Assign(&node->property_names, v, at);
    if (key == "not") {
      node->not_text = BriefJson(v);
      return Assign(&node->not_schema, v, at);
    }
    if (key == "if") return Assign(&node->if_schema, v, at);
    if (key == "then") return Assign(&node->then_schema, v, at);
    if (key == "else") return Assign(&node->else_schema, v, at);
    if (key == "allOf" || key == "anyOf" || key == "oneOf") {
      TS_ASSIGN_OR_RETURN(std::vector<std::size_t> subs, SchemaList(v, at));
      (key == "allOf"   ? node->all_of
       : key == "anyOf" ? node->any_of
                        : node->one_of) = std::move(subs);
      return Status::Ok();
    }
    if (key == "$ref") {
      if (!v.is_string()) return Error(StatusCode::kMalformed, at, "must be a string");
      refs_.push_back({index, v.get<std::string>(), at});
      return Status::Ok();
    }
    if (key == "$defs") {
      if (!is_root) {
        return Error(StatusCode::kUnsupported, at, "\"$defs\" is supported at the root only");
      }
      if (!v.is_object()) return Error(StatusCode::kMalformed, at, "must be an object");
      for (auto it = v.begin(); it != v.end(); ++it) {
        TS_ASSIGN_OR_RETURN(defs_[it.key()],
                            Subschema(it.value(), at + "/" + EscapePointerToken(it.key())));
      }
      return Status::Ok();
    }
    if (key == "$schema") {
      if (!is_root || v != Json(std::string(kDialect))) {
        return Error(StatusCode::kUnsupported, at,
                     "only \"" + std::string(kDialect) + "\" is supported, at the root");
      }
      return Status::Ok();
    }
    if (key == "title" || key == "description" || key == "$comment") {
      if (!v.is_string()) return Error(StatusCode::kMalformed, at, "must be a string");
      return Status::Ok();
    }
    if (key == "default") return Status::Ok();
    if (key == "examples") {
      if (!v.is_array()) return Error(StatusCode::kMalformed, at, "must be an array");
      return Status::Ok();
    }
    return Error(StatusCode::kUnsupported, at,
                 "unknown or unsupported keyword " + BriefJson(Json(key), 60));
  }

  Status Assign(std::optional<std::size_t>* slot, const Json& v, const std::string& at) {
    TS_ASSIGN_OR_RETURN(*slot, Subschema(v, at));
    return Status::Ok();
  }

  Status ResolveRefs() {
    constexpr std::string_view kDefsPrefix = "#/$defs/";
    for (const PendingRef& r : refs_) {
      std::size_t target = 0;
      if (r.target != "#") {
        const std::string_view t = r.target;
        if (!t.starts_with(kDefsPrefix) || t.find('/', kDefsPrefix.size()) != t.npos) {
          return Error(StatusCode::kUnsupported, r.at,
                       "only the references \"#\" and \"#/$defs/<name>\" are supported, not " +
                           BriefJson(Json(r.target), 80));
        }
        std::string name;
        const std::string_view token = t.substr(kDefsPrefix.size());
        for (std::size_t k = 0; k < token.size(); ++k) {
          if (token[k] != '~') {
            name.push_back(token[k]);
          } else if (k + 1 < token.size() && (token[k + 1] == '0' || token[k + 1] == '1')) {
            name.push_back(token[++k] == '0' ? '~' : '/');
          } else {
            return Error(StatusCode::kMalformed, r.at, "bad \"~\" escape in the reference");
          }
        }
        auto it = defs_.find(name);
        if (it == defs_.end()) {
          return Error(StatusCode::kMalformed, r.at,
                       "reference " + BriefJson(Json(r.target), 80) + " does not resolve");
        }
        target = it->second;
      }
      program_->nodes[r.node].ref = target;
    }
    return Status::Ok();
  }

  // Subschemas applied to the same value ($ref, allOf, anyOf, oneOf, not, if/then/else) must not
  // form a cycle: validation would loop without ever descending into the value.
  Status CheckCycles() const {
    const std::vector<SchemaNode>& nodes = program_->nodes;
    enum : std::uint8_t { kNew, kOpen, kDone };
    std::vector<std::uint8_t> state(nodes.size(), kNew);
    const auto edges = [&nodes](std::size_t n) {
      const SchemaNode& s = nodes[n];
      std::vector<std::size_t> out(s.all_of);
      out.insert(out.end(), s.any_of.begin(), s.any_of.end());
      out.insert(out.end(), s.one_of.begin(), s.one_of.end());
      for (const auto& o : {s.ref, s.not_schema, s.if_schema, s.then_schema, s.else_schema}) {
        if (o) out.push_back(*o);
      }
      return out;
    };
    for (std::size_t start = 0; start < nodes.size(); ++start) {
      if (state[start] != kNew) continue;
      // Iterative depth-first search: (node, its edges, next edge).
      std::vector<std::pair<std::size_t, std::pair<std::vector<std::size_t>, std::size_t>>> stack;
      stack.push_back({start, {edges(start), 0}});
      state[start] = kOpen;
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next.second == next.first.size()) {
          state[node] = kDone;
          stack.pop_back();
          continue;
        }
        const std::size_t to = next.first[next.second++];
        if (state[to] == kOpen) {
          return Error(StatusCode::kMalformed, locations_[to],
                       "subschemas refer to one another in a cycle that never descends into the "
                       "value ($ref, allOf, anyOf, oneOf, not, if)");
        }
        if (state[to] == kNew) {
          state[to] = kOpen;
          stack.push_back({to, {edges(to), 0}});
        }
      }
    }
    return Status::Ok();
  }

  std::string_view context_;
  std::unique_ptr<JsonSchemaProgram> program_ = std::make_unique<JsonSchemaProgram>();
  std::vector<std::string> locations_;  // per node
  std::vector<PendingRef> refs_;
  std::map<std::string, std::size_t> defs_;
};

}  // namespace

Result<JsonSchema> JsonSchema::Compile(const Json& schema, std::string_view context) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<const JsonSchemaProgram> program,
                      SchemaCompiler(context).Run(schema));
  return JsonSchema(std::move(program));
}

}  // namespace tessera::package
