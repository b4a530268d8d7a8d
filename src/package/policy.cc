#include "package/policy.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "base/check.h"
#include "package/json_schema.h"
#include "package/manifest_schema.h"
#include "package/safe_regex.h"
#include "package/strict_json.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

std::string Prefix() { return "policy: "; }

const Result<JsonSchema>& EmbeddedSchema() {
  static const Result<JsonSchema> schema = []() -> Result<JsonSchema> {
    const std::string_view text = PolicySchemaJson();
    Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Internal("package: the embedded policy schema is not JSON");
    return JsonSchema::Compile(j, "package: embedded policy schema");
  }();
  return schema;
}

// The schema has checked types; these read what it admitted.
std::string Str(const Json& obj, const char* key, std::string fallback = "") {
  auto it = obj.find(key);
  return it == obj.end() ? fallback : it->get<std::string>();
}
double Num(const Json& obj, const char* key, double fallback) {
  auto it = obj.find(key);
  return it == obj.end() ? fallback : it->get<double>();
}
std::uint64_t Uint(const Json& obj, const char* key, std::uint64_t fallback) {
  auto it = obj.find(key);
  return it == obj.end() ? fallback : static_cast<std::uint64_t>(it->get<double>());
}
bool Bool(const Json& obj, const char* key, bool fallback) {
  auto it = obj.find(key);
  return it == obj.end() ? fallback : it->get<bool>();
}
std::vector<std::string> Strings(const Json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end()) return out;
  for (const Json& s : *it) out.push_back(s.get<std::string>());
  return out;
}

CandidateRef Candidate(const Json& j) {
  CandidateRef c;
  if (j.is_object()) {
    c.role = j.at("role").get<std::string>();
    return c;
  }
  const std::string ref = j.get<std::string>();
  const std::size_t at = ref.find('@');
  c.id = ref.substr(0, at);
  if (at != std::string::npos) c.version = ref.substr(at + 1);
  return c;
}

RouterSpec Router(const Json& j) {
  RouterSpec r;
  r.name = Str(j, "name");
  const std::string type = Str(j, "type");
  r.kind = type == "rules"        ? RouterKind::kRules
           : type == "classifier" ? RouterKind::kClassifier
                                  : RouterKind::kEmbedding;
  r.mode = Str(j, "mode", "first") == "scored" ? RuleMode::kScored : RuleMode::kFirst;
  r.case_sensitive = Bool(j, "case_sensitive", false);
  r.default_route = Str(j, "default");
  r.module = Str(j, "module");
  r.threshold = Num(j, "threshold", 0.5);
  r.min_margin = Num(j, "min_margin", 0.0);
  r.exemplars = Str(j, "exemplars");
  r.top_k = Uint(j, "top_k", 5);
  r.abstain_labels = Strings(j, "abstain_labels");
  if (auto it = j.find("labels"); it != j.end()) {
    for (auto l = it->begin(); l != it->end(); ++l) r.labels[l.key()] = l.value().get<std::string>();
  }
  if (auto it = j.find("rules"); it != j.end()) {
    for (const Json& rj : *it) {
      Rule rule;
      rule.route = Str(rj, "route");
      rule.keywords = Strings(rj, "keywords");
      rule.patterns = Strings(rj, "patterns");
      rule.min_chars = Uint(rj, "min_chars", 0);
      rule.max_chars = Uint(rj, "max_chars", 0);
      rule.weight = Num(rj, "weight", 1.0);
      r.rules.push_back(std::move(rule));
    }
  }
  return r;
}

Policy FromJson(const Json& doc) {
  Policy p;
  p.description = Str(doc, "description");
  for (const Json& r : doc.at("routers")) p.routers.push_back(Router(r));
  for (auto it = doc.at("routes").begin(); it != doc.at("routes").end(); ++it) {
    RouteSpec route;
    route.name = it.key();
    const Json& rj = it.value();
    route.description = Str(rj, "description");
    const std::string input = Str(rj, "input", "text");
    route.input = input == "enum"     ? IoKind::kEnum
                  : input == "number" ? IoKind::kNumber
                  : input == "json"   ? IoKind::kJson
                                      : IoKind::kText;
    route.capabilities = Strings(rj, "capabilities");
    for (const Json& step : rj.at("cascade")) {
      std::vector<CandidateRef> alternatives;
      if (step.is_array()) {
        for (const Json& c : step) alternatives.push_back(Candidate(c));
      } else {
        alternatives.push_back(Candidate(step));
      }
      route.cascade.push_back(std::move(alternatives));
    }
    route.fallback = Str(rj, "fallback");
    route.input_pattern = Str(rj, "input_pattern");
    if (auto out = rj.find("output"); out != rj.end()) {
      IoType t;
      const std::string kind = Str(*out, "type");
      t.kind = kind == "enum" ? IoKind::kEnum
               : kind == "number" ? IoKind::kNumber
               : kind == "json"   ? IoKind::kJson
                                  : IoKind::kText;
      t.labels = Strings(*out, "labels");
      t.pattern = Str(*out, "pattern");
      if (auto schema = out->find("schema"); schema != out->end()) t.json_schema = schema->dump();
      route.output = std::move(t);
    }
    p.routes[route.name] = std::move(route);
  }
  if (auto it = doc.find("cascade"); it != doc.end()) {
    CascadeLimits& c = p.cascade;
    c.max_steps = Uint(*it, "max_steps", c.max_steps);
    c.max_wall_ms = Uint(*it, "max_wall_ms", c.max_wall_ms);
    c.max_load_bytes = Uint(*it, "max_load_bytes", c.max_load_bytes);
    c.min_confidence = Num(*it, "min_confidence", c.min_confidence);
    c.use_calibration = Bool(*it, "use_calibration", c.use_calibration);
    c.on_exhausted = Str(*it, "on_exhausted", "abstain") == "best" ? OnExhausted::kBest
                                                                   : OnExhausted::kAbstain;
  }
  if (auto it = doc.find("eligibility"); it != doc.end()) {
    p.licenses = Strings(*it, "licenses");
    p.require_verified = Bool(*it, "require_verified", p.require_verified);
  }
  if (auto it = doc.find("residency"); it != doc.end()) {
    p.load_cost_per_mb = Num(*it, "load_cost_per_mb", p.load_cost_per_mb);
    p.hysteresis = Num(*it, "hysteresis", p.hysteresis);
  }
  return p;
}

Status NamesRoute(const Policy& p, const std::string& route, const std::string& at) {
  if (p.routes.count(route) != 0) return Status::Ok();
  return Malformed(Prefix() + at + ": names route \"" + route + "\", which the policy does not define");
}

Status CheckRouters(const Policy& p) {
  std::set<std::string> names;
  for (std::size_t k = 0; k < p.routers.size(); ++k) {
    const RouterSpec& r = p.routers[k];
    const std::string at = "/routers/" + std::to_string(k);
    if (!names.insert(r.name).second) {
      return Status(StatusCode::kDuplicate,
                    Prefix() + at + "/name: router name \"" + r.name + "\" is used twice");
    }
    if (!r.default_route.empty()) TS_RETURN_IF_ERROR(NamesRoute(p, r.default_route, at + "/default"));
    for (const auto& [label, route] : r.labels) {
      TS_RETURN_IF_ERROR(NamesRoute(p, route, at + "/labels/" + label));
    }
    for (const std::string& label : r.abstain_labels) {
      if (r.labels.count(label) != 0) {
        return Malformed(Prefix() + at + "/abstain_labels: label \"" + label +
                         "\" is both mapped to a route and abstained");
      }
    }
    for (std::size_t i = 0; i < r.rules.size(); ++i) {
      const Rule& rule = r.rules[i];
      const std::string rat = at + "/rules/" + std::to_string(i);
      TS_RETURN_IF_ERROR(NamesRoute(p, rule.route, rat + "/route"));
      if (rule.max_chars != 0 && rule.max_chars < rule.min_chars) {
        return Malformed(Prefix() + rat + ": max_chars " + std::to_string(rule.max_chars) +
                         " is below min_chars " + std::to_string(rule.min_chars));
      }
      for (std::size_t j = 0; j < rule.patterns.size(); ++j) {
        Result<SafeRegex> re = SafeRegex::Compile(rule.patterns[j]);
        if (!re.ok()) {
          return re.status().WithContext(Prefix() + rat + "/patterns/" + std::to_string(j));
        }
      }
    }
  }
  return Status::Ok();
}

// Routes' domain patterns and output types compile.
Status CheckRouteTypes(const Policy& p) {
  for (const auto& [name, route] : p.routes) {
    const std::string at = "/routes/" + name;
    for (const auto& [what, pattern] :
         {std::pair<const char*, std::string>{"/input_pattern", route.input_pattern},
          {"/output/pattern", route.output ? route.output->pattern : std::string()}}) {
      if (pattern.empty()) continue;
      Result<SafeRegex> re = SafeRegex::Compile(pattern);
      if (!re.ok()) return re.status().WithContext(Prefix() + at + what);
    }
    if (route.output && route.output->kind == IoKind::kJson) {
      Json schema = Json::parse(route.output->json_schema, nullptr, /*allow_exceptions=*/false);
      Result<JsonSchema> compiled = JsonSchema::Compile(schema, Prefix() + at + "/output/schema");
      if (!compiled.ok()) return compiled.status();
    }
  }
  return Status::Ok();
}

// Fallback chains end: following "fallback" from any route never returns to a route seen.
Status CheckFallbacks(const Policy& p) {
  for (const auto& [name, route] : p.routes) {
    if (route.fallback.empty()) continue;
    TS_RETURN_IF_ERROR(NamesRoute(p, route.fallback, "/routes/" + name + "/fallback"));
  }
  for (const auto& [name, route] : p.routes) {
    std::vector<std::string> chain = {name};
    std::string next = route.fallback;
    while (!next.empty()) {
      if (std::find(chain.begin(), chain.end(), next) != chain.end()) {
        std::string cycle;
        for (const std::string& c : chain) cycle += c + " -> ";
        return Malformed(Prefix() + "/routes/" + name + "/fallback: fallbacks form a cycle: " +
                         cycle + next);
      }
      chain.push_back(next);
      next = p.routes.at(next).fallback;
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view RouterKindName(RouterKind kind) {
  switch (kind) {
    case RouterKind::kRules:
      return "rules";
    case RouterKind::kClassifier:
      return "classifier";
    case RouterKind::kEmbedding:
      return "embedding";
  }
  return "rules";
}

std::string CandidateRef::ToString() const {
  if (id.empty()) return "role:" + role;
  return version.empty() ? id : id + "@" + version;
}

Result<Policy> ParsePolicy(std::string_view bytes) {
  StrictJsonLimits limits;
  limits.max_bytes = kMaxPolicyBytes;
  TS_ASSIGN_OR_RETURN(Json doc, ParseStrictJson(bytes, "policy", limits));
  if (!doc.is_object()) return Malformed(Prefix() + "(root): is not a JSON object");
  auto schema_id = doc.find("schema");
  if (schema_id != doc.end() && schema_id->is_string() &&
      *schema_id != std::string(kPolicySchemaV1)) {
    return Status(StatusCode::kUnsupported, Prefix() + "/schema: \"" +
                                                schema_id->get<std::string>().substr(0, 80) +
                                                "\" is not supported; this runtime reads " +
                                                std::string(kPolicySchemaV1));
  }
  const Result<JsonSchema>& schema = EmbeddedSchema();
  if (!schema.ok()) return schema.status();
  TS_RETURN_IF_ERROR(schema->Validate(doc, "policy"));
  Policy p = FromJson(doc);
  TS_RETURN_IF_ERROR(CheckRouters(p));
  TS_RETURN_IF_ERROR(CheckRouteTypes(p));
  TS_RETURN_IF_ERROR(CheckFallbacks(p));
  return p;
}

std::vector<std::string> PolicyPackageIds(const Policy& policy) {
  std::set<std::string> ids;
  for (const RouterSpec& r : policy.routers) {
    if (!r.module.empty()) ids.insert(r.module.substr(0, r.module.find('@')));
  }
  for (const auto& [name, route] : policy.routes) {
    for (const auto& step : route.cascade) {
      for (const CandidateRef& c : step) {
        if (!c.id.empty()) ids.insert(c.id);
      }
    }
  }
  return {ids.begin(), ids.end()};
}

Result<std::vector<Exemplar>> ParseExemplars(std::string_view bytes) {
  if (bytes.size() > kMaxExemplarBytes) {
    return Status(StatusCode::kResourceExhausted, "exemplars: " + std::to_string(bytes.size()) +
                                                      " bytes, more than " +
                                                      std::to_string(kMaxExemplarBytes));
  }
  std::vector<Exemplar> out;
  std::size_t line_no = 0;
  while (!bytes.empty()) {
    ++line_no;
    const std::size_t nl = bytes.find('\n');
    std::string_view line = bytes.substr(0, nl);
    bytes = nl == std::string_view::npos ? std::string_view() : bytes.substr(nl + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string at = "exemplars: line " + std::to_string(line_no) + ": ";
    Result<Json> j = ParseStrictJson(line, at, StrictJsonLimits{4096, 4});
    if (!j.ok()) return Malformed(j.status().message());
    if (!j->is_object() || j->size() != 2 || !j->contains("label") || !j->contains("text") ||
        !(*j)["label"].is_string() || !(*j)["text"].is_string()) {
      return Malformed(at + "expected {\"label\": string, \"text\": string}");
    }
    Exemplar e{(*j)["label"].get<std::string>(), (*j)["text"].get<std::string>()};
    if (e.label.empty() || e.text.empty() || e.text.size() > 1024) {
      return Malformed(at + "label and text must be non-empty, text at most 1024 bytes");
    }
    if (out.size() == kMaxExemplars) {
      return Status(StatusCode::kResourceExhausted,
                    at + "more than " + std::to_string(kMaxExemplars) + " exemplars");
    }
    out.push_back(std::move(e));
  }
  if (out.empty()) return Malformed("exemplars: the file holds no exemplar");
  return out;
}

Status CheckExemplarLabels(const RouterSpec& router, const std::vector<Exemplar>& exemplars) {
  std::set<std::string> seen;
  for (const Exemplar& e : exemplars) {
    const bool abstain = std::find(router.abstain_labels.begin(), router.abstain_labels.end(),
                                   e.label) != router.abstain_labels.end();
    if (router.labels.count(e.label) == 0 && !abstain) {
      return Malformed("exemplars of router \"" + router.name + "\": label \"" + e.label +
                       "\" is neither mapped to a route nor abstained");
    }
    seen.insert(e.label);
  }
  for (const auto& [label, route] : router.labels) {
    if (seen.count(label) == 0) {
      return Malformed("exemplars of router \"" + router.name + "\": no exemplar for label \"" +
                       label + "\"");
    }
  }
  return Status::Ok();
}

}  // namespace tessera::package
