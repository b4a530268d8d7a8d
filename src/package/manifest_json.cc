#include "package/manifest_json.h"

#include <array>

#include "base/check.h"
#include "package/canonical_json.h"
#include "package/json_compare.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 3> kKindNames = {"model", "adapter", "policy"};
constexpr std::array<std::string_view, 7> kRoleNames = {
    "weights", "adapter", "eval-set", "router-exemplars", "tokenizer", "doc", "policy"};
constexpr std::array<std::string_view, 4> kIoNames = {"text", "enum", "number", "json"};
constexpr std::array<std::string_view, 3> kConfidenceNames = {"mean-token-logprob",
                                                              "min-token-logprob", "none"};
constexpr std::array<std::string_view, 1> kMetricNames = {"exact_match"};

template <typename Enum, std::size_t N>
std::string_view NameOf(const std::array<std::string_view, N>& names, Enum value) {
  const auto index = static_cast<std::size_t>(value);
  TS_CHECK(index < N);
  return names[index];
}

// The schema has checked every type and required member; these accessors only assert it.
const Json& Member(const Json& obj, const char* key) {
  TS_CHECK(obj.is_object());
  auto it = obj.find(key);
  TS_CHECK(it != obj.end());
  return *it;
}
const Json* OptionalMember(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}
std::string String(const Json& obj, const char* key) {
  const Json& v = Member(obj, key);
  TS_CHECK(v.is_string());
  return v.get<std::string>();
}
std::string OptionalString(const Json& obj, const char* key) {
  return OptionalMember(obj, key) == nullptr ? std::string() : String(obj, key);
}
std::uint64_t Uint(const Json& obj, const char* key) {
  const Json& v = Member(obj, key);
  TS_CHECK(IsIntegral(v) && CompareNumbers(v, Json(0)) >= 0 &&
           CompareNumbers(v, Json(9007199254740991ull)) <= 0);
  return v.is_number_float() ? static_cast<std::uint64_t>(v.get<double>()) : v.get<std::uint64_t>();
}
double Number(const Json& obj, const char* key) {
  const Json& v = Member(obj, key);
  TS_CHECK(v.is_number());
  return v.get<double>();
}
template <typename Enum, std::size_t N>
Enum EnumOf(const Json& obj, const char* key, const std::array<std::string_view, N>& names) {
  const std::string s = String(obj, key);
  for (std::size_t k = 0; k < N; ++k) {
    if (names[k] == s) return static_cast<Enum>(k);
  }
  TS_CHECK(false && "the schema admits only known names");
  return static_cast<Enum>(0);
}

Result<Version> VersionAt(const Json& obj, const char* key, const std::string& pointer) {
  Result<Version> v = Version::Parse(String(obj, key));
  if (!v.ok()) return v.status().WithContext("package: manifest: " + pointer);
  return v;
}
Result<RangeValue> RangeAt(const Json& obj, const char* key, const std::string& pointer) {
  const std::string text = String(obj, key);
  Result<VersionRange> r = VersionRange::Parse(text);
  if (!r.ok()) return r.status().WithContext("package: manifest: " + pointer);
  if (r->text() != text) {
    return Malformed("package: manifest: " + pointer + ": range \"" + text +
                     "\" has spaces at its start or end");
  }
  return RangeValue{std::move(r).value()};
}

Result<IoType> IoTypeAt(const Json& obj, const char* key, const std::string& pointer) {
  const Json& io = Member(obj, key);
  IoType t;
  t.kind = EnumOf<IoKind>(io, "type", kIoNames);
  if (const Json* labels = OptionalMember(io, "labels")) {
    for (const Json& l : *labels) t.labels.push_back(l.get<std::string>());
  }
  if (const Json* schema = OptionalMember(io, "schema")) {
    Result<std::string> text = CanonicalJson(*schema);
    if (!text.ok()) return text.status().WithContext("package: manifest: " + pointer + "/schema");
    t.json_schema = std::move(text).value();
  }
  t.pattern = OptionalString(io, "pattern");
  return t;
}

Result<std::vector<DependencyRef>> DependencyList(const Json& deps, const char* key,
                                                  const std::string& pointer) {
  std::vector<DependencyRef> out;
  const Json* list = OptionalMember(deps, key);
  if (list == nullptr) return out;
  for (std::size_t k = 0; k < list->size(); ++k) {
    const Json& d = (*list)[k];
    const std::string at = pointer + "/" + key + "/" + std::to_string(k);
    TS_ASSIGN_OR_RETURN(RangeValue range, RangeAt(d, "version", at + "/version"));
    out.push_back({String(d, "id"), std::move(range)});
  }
  return out;
}

Json DependencyListJson(const std::vector<DependencyRef>& list) {
  Json out = Json::array();
  for (const DependencyRef& d : list)
    out.push_back({{"id", d.id}, {"version", d.version.range.text()}});
  return out;
}

Result<Json> IoTypeJson(const IoType& t, const char* which) {
  Json out = {{"type", std::string(IoKindName(t.kind))}};
  if (!t.labels.empty()) out["labels"] = t.labels;
  if (!t.pattern.empty()) out["pattern"] = t.pattern;
  if (!t.json_schema.empty()) {
    Json schema = Json::parse(t.json_schema, nullptr, /*allow_exceptions=*/false);
    if (schema.is_discarded()) {
      return InvalidArgument(std::string("package: manifest: contract.") + which +
                             ".json_schema is not JSON text");
    }
    out["schema"] = std::move(schema);
  }
  return out;
}

Status ReadContract(const Json& contract, Contract& c) {
  c.role = String(contract, "role");
  TS_ASSIGN_OR_RETURN(c.input, IoTypeAt(contract, "input", "/contract/input"));
  TS_ASSIGN_OR_RETURN(c.output, IoTypeAt(contract, "output", "/contract/output"));
  c.max_input_tokens = Uint(contract, "max_input_tokens");
  c.max_output_tokens = Uint(contract, "max_output_tokens");
  c.confidence = EnumOf<ConfidenceKind>(contract, "confidence", kConfidenceNames);
  const Json& sampling = Member(contract, "sampling");
  c.sampling = {Number(sampling, "temperature"), Uint(sampling, "top_k"), Number(sampling, "top_p"),
                Uint(sampling, "seed")};
  c.prompt = OptionalString(contract, "prompt");
  c.domain = OptionalString(contract, "domain");
  if (const Json* examples = OptionalMember(contract, "examples")) {
    for (const Json& e : *examples) c.examples.push_back({String(e, "input"), String(e, "output")});
  }
  return Status::Ok();
}

Result<Json> ContractJson(const Contract& c) {
  TS_ASSIGN_OR_RETURN(Json input, IoTypeJson(c.input, "input"));
  TS_ASSIGN_OR_RETURN(Json output, IoTypeJson(c.output, "output"));
  Json j = {{"role", c.role},
            {"input", std::move(input)},
            {"output", std::move(output)},
            {"max_input_tokens", c.max_input_tokens},
            {"max_output_tokens", c.max_output_tokens},
            {"confidence", std::string(ConfidenceKindName(c.confidence))},
            {"sampling",
             {{"temperature", c.sampling.temperature},
              {"top_k", c.sampling.top_k},
              {"top_p", c.sampling.top_p},
              {"seed", c.sampling.seed}}}};
  if (!c.prompt.empty()) j["prompt"] = c.prompt;
  if (!c.domain.empty()) j["domain"] = c.domain;
  if (!c.examples.empty()) {
    Json& examples = j["examples"];
    examples = Json::array();
    for (const ContractExample& e : c.examples) {
      examples.push_back({{"input", e.input}, {"output", e.output}});
    }
  }
  return j;
}

// gguf, base, contract and resources: the members of a model or adapter.
Status ReadModelParts(const Json& doc, Manifest& m) {
  const Json& gguf = Member(doc, "gguf");
  m.gguf.architecture = String(gguf, "architecture");
  m.gguf.version = Uint(gguf, "version");
  m.gguf.file_type = String(gguf, "file_type");
  m.gguf.parameters = Uint(gguf, "parameters");
  m.gguf.context_length = Uint(gguf, "context_length");
  if (const Json* tok = OptionalMember(gguf, "tokenizer")) {
    m.gguf.tokenizer = TokenizerFacts{String(*tok, "model"), String(*tok, "pre"),
                                      Uint(*tok, "vocab_size"), String(*tok, "sha256")};
  }
  if (const Json* base = OptionalMember(doc, "base")) {
    AdapterBase b;
    b.id = String(*base, "id");
    TS_ASSIGN_OR_RETURN(b.version, VersionAt(*base, "version", "/base/version"));
    b.weights_sha256 = String(*base, "weights_sha256");
    b.tokenizer_sha256 = String(*base, "tokenizer_sha256");
    for (const Json& t : Member(*base, "targets")) b.targets.push_back(t.get<std::string>());
    b.rank = Uint(*base, "rank");
    b.alpha = Number(*base, "alpha");
    m.base = std::move(b);
  }
  TS_RETURN_IF_ERROR(ReadContract(Member(doc, "contract"), m.contract));
  const Json& res = Member(doc, "resources");
  m.resources = {Uint(res, "weights_bytes"), Uint(res, "kv_bytes_per_token"),
                 Uint(res, "scratch_bytes"), Member(res, "estimated").get<bool>()};
  return Status::Ok();
}

}  // namespace

std::string_view PackageKindName(PackageKind kind) { return NameOf(kKindNames, kind); }
std::string_view ArtifactRoleName(ArtifactRole role) { return NameOf(kRoleNames, role); }
std::string_view IoKindName(IoKind kind) { return NameOf(kIoNames, kind); }
std::string_view ConfidenceKindName(ConfidenceKind kind) { return NameOf(kConfidenceNames, kind); }
std::string_view QualityMetricName(QualityMetric metric) { return NameOf(kMetricNames, metric); }

Result<Manifest> ManifestFromJson(const Json& doc) {
  Manifest m;
  m.schema_version = String(doc, "schema") == kManifestSchemaV2 ? 2 : 1;
  m.id = String(doc, "id");
  TS_ASSIGN_OR_RETURN(m.version, VersionAt(doc, "version", "/version"));
  m.kind = EnumOf<PackageKind>(doc, "kind", kKindNames);
  m.title = OptionalString(doc, "title");
  m.description = OptionalString(doc, "description");
  m.license = String(doc, "license");
  if (const Json* annotations = OptionalMember(doc, "annotations")) {
    for (auto it = annotations->begin(); it != annotations->end(); ++it) {
      m.annotations[it.key()] = it.value().get<std::string>();
    }
  }
  for (const Json& a : Member(doc, "artifacts")) {
    m.artifacts.push_back({EnumOf<ArtifactRole>(a, "role", kRoleNames), String(a, "name"),
                           String(a, "media_type"), Uint(a, "size"), String(a, "sha256")});
  }
  if (m.kind != PackageKind::kPolicy) TS_RETURN_IF_ERROR(ReadModelParts(doc, m));
  const Json& runtime = Member(doc, "runtime");
  TS_ASSIGN_OR_RETURN(m.runtime.versions, RangeAt(runtime, "versions", "/runtime/versions"));
  m.runtime.package_abi = Uint(runtime, "package_abi");
  if (const Json* deps = OptionalMember(doc, "dependencies")) {
    TS_ASSIGN_OR_RETURN(m.dependencies.requirements,
                        DependencyList(*deps, "requires", "/dependencies"));
    TS_ASSIGN_OR_RETURN(m.dependencies.conflicts,
                        DependencyList(*deps, "conflicts", "/dependencies"));
    TS_ASSIGN_OR_RETURN(m.dependencies.replaces,
                        DependencyList(*deps, "replaces", "/dependencies"));
  }
  for (const Json& cap : Member(doc, "capabilities"))
    m.capabilities.push_back(cap.get<std::string>());
  if (const Json* quality = OptionalMember(doc, "quality")) {
    for (std::size_t k = 0; k < quality->size(); ++k) {
      const Json& q = (*quality)[k];
      QualityEvidence e;
      e.eval_set_sha256 = String(q, "eval_set_sha256");
      e.metric = EnumOf<QualityMetric>(q, "metric", kMetricNames);
      e.value = Number(q, "value");
      e.cases = Uint(q, "cases");
      TS_ASSIGN_OR_RETURN(
          e.runtime_version,
          VersionAt(q, "runtime_version", "/quality/" + std::to_string(k) + "/runtime_version"));
      if (OptionalMember(q, "split") != nullptr) e.split = String(q, "split");
      if (const Json* interval = OptionalMember(q, "interval95")) {
        e.interval95 =
            std::array<double, 2>{(*interval)[0].get<double>(), (*interval)[1].get<double>()};
      }
      m.quality.push_back(std::move(e));
    }
  }
  if (const Json* rollback = OptionalMember(doc, "rollback")) {
    TS_ASSIGN_OR_RETURN(m.rollback_known_good,
                        VersionAt(*rollback, "known_good", "/rollback/known_good"));
  }
  return m;
}

Result<Json> ManifestToJsonValue(const Manifest& m) {
  Json j = Json::object();
  j["schema"] = std::string(m.schema_version == 2 ? kManifestSchemaV2 : kManifestSchemaV1);
  j["id"] = m.id;
  j["version"] = m.version.ToString();
  j["kind"] = std::string(PackageKindName(m.kind));
  if (!m.title.empty()) j["title"] = m.title;
  if (!m.description.empty()) j["description"] = m.description;
  j["license"] = m.license;
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  j["artifacts"] = Json::array();
  for (const Artifact& a : m.artifacts) {
    j["artifacts"].push_back({{"role", std::string(ArtifactRoleName(a.role))},
                              {"name", a.name},
                              {"media_type", a.media_type},
                              {"size", a.size},
                              {"sha256", a.sha256}});
  }
  const bool model_parts = m.kind != PackageKind::kPolicy;
  if (model_parts) {
    Json& gguf = j["gguf"];
    gguf = {{"architecture", m.gguf.architecture},
            {"version", m.gguf.version},
            {"file_type", m.gguf.file_type},
            {"parameters", m.gguf.parameters},
            {"context_length", m.gguf.context_length}};
    if (const auto& t = m.gguf.tokenizer) {
      gguf["tokenizer"] = {{"model", t->model},
                           {"pre", t->pre},
                           {"vocab_size", t->vocab_size},
                           {"sha256", t->sha256}};
    }
  }
  j["runtime"] = {{"versions", m.runtime.versions.range.text()},
                  {"package_abi", m.runtime.package_abi}};
  if (const auto& b = m.base) {
    j["base"] = {{"id", b->id},
                 {"version", b->version.ToString()},
                 {"weights_sha256", b->weights_sha256},
                 {"tokenizer_sha256", b->tokenizer_sha256},
                 {"targets", b->targets},
                 {"rank", b->rank},
                 {"alpha", b->alpha}};
  }
  if (model_parts) {
    TS_ASSIGN_OR_RETURN(j["contract"], ContractJson(m.contract));
  }
  const Dependencies& d = m.dependencies;
  if (!d.requirements.empty()) j["dependencies"]["requires"] = DependencyListJson(d.requirements);
  if (!d.conflicts.empty()) j["dependencies"]["conflicts"] = DependencyListJson(d.conflicts);
  if (!d.replaces.empty()) j["dependencies"]["replaces"] = DependencyListJson(d.replaces);
  j["capabilities"] = m.capabilities;
  if (model_parts) {
    j["resources"] = {{"weights_bytes", m.resources.weights_bytes},
                      {"kv_bytes_per_token", m.resources.kv_bytes_per_token},
                      {"scratch_bytes", m.resources.scratch_bytes},
                      {"estimated", m.resources.estimated}};
  }
  if (!m.quality.empty()) {
    Json& quality = j["quality"];
    quality = Json::array();
    for (const QualityEvidence& q : m.quality) {
      Json entry = {{"eval_set_sha256", q.eval_set_sha256},
                    {"metric", std::string(QualityMetricName(q.metric))},
                    {"value", q.value},
                    {"cases", q.cases},
                    {"runtime_version", q.runtime_version.ToString()}};
      if (!q.split.empty()) entry["split"] = q.split;
      if (q.interval95) entry["interval95"] = {(*q.interval95)[0], (*q.interval95)[1]};
      quality.push_back(std::move(entry));
    }
  }
  if (m.rollback_known_good) j["rollback"] = {{"known_good", m.rollback_known_good->ToString()}};
  return j;
}

}  // namespace tessera::package
