#include "package/manifest.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "base/check.h"
#include "package/canonical_json.h"
#include "package/json_pointer.h"
#include "package/json_schema.h"
#include "package/manifest_json.h"
#include "package/manifest_schema.h"
#include "package/safe_regex.h"
#include "package/strict_json.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kGgufMediaType = "application/vnd.gguf";

std::string Prefix() { return "package: manifest: "; }

// The embedded schema, compiled once: an immutable constant, built on first use.
const Result<JsonSchema>& EmbeddedSchema() {
  static const Result<JsonSchema> schema = []() -> Result<JsonSchema> {
    const std::string_view text = ManifestSchemaJson();
    Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Internal("package: the embedded manifest schema is not JSON");
    return JsonSchema::Compile(j, "package: embedded manifest schema");
  }();
  return schema;
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

// A policy: one "policy" artifact (its document), no weights or adapter.
Status CheckPolicyArtifacts(const Manifest& m) {
  std::size_t policies = 0;
  for (std::size_t k = 0; k < m.artifacts.size(); ++k) {
    const Artifact& a = m.artifacts[k];
    const std::string at = Prefix() + "/artifacts/" + std::to_string(k);
    if (a.role == ArtifactRole::kWeights || a.role == ArtifactRole::kAdapter) {
      return Malformed(at + "/role: a policy package cannot have a \"" +
                       std::string(ArtifactRoleName(a.role)) + "\" artifact");
    }
    if (a.role != ArtifactRole::kPolicy) continue;
    ++policies;
    if (a.media_type != kPolicyMediaType) {
      return Malformed(at + "/media_type: the policy artifact is " + Quoted(a.media_type) +
                       ", expected " + std::string(kPolicyMediaType));
    }
  }
  if (policies != 1) {
    return Malformed(Prefix() + "/artifacts: a policy package has " + std::to_string(policies) +
                     " \"policy\" artifacts, expected exactly one");
  }
  return Status::Ok();
}

Status CheckArtifacts(const Manifest& m) {
  std::set<std::string> names;
  std::size_t weights = 0;
  std::size_t adapters = 0;
  for (std::size_t k = 0; k < m.artifacts.size(); ++k) {
    const Artifact& a = m.artifacts[k];
    if (!names.insert(a.name).second) {
      return Status(StatusCode::kDuplicate, Prefix() + "/artifacts/" + std::to_string(k) +
                                                "/name: artifact name " + Quoted(a.name) +
                                                " is used twice");
    }
    if (a.role == ArtifactRole::kWeights) ++weights;
    if (a.role == ArtifactRole::kAdapter) ++adapters;
  }
  if (m.kind == PackageKind::kPolicy) return CheckPolicyArtifacts(m);
  for (std::size_t k = 0; k < m.artifacts.size(); ++k) {
    if (m.artifacts[k].role == ArtifactRole::kPolicy) {
      return Malformed(Prefix() + "/artifacts/" + std::to_string(k) +
                       "/role: only a policy package has a \"policy\" artifact");
    }
  }
  const bool model = m.kind == PackageKind::kModel;
  const std::size_t primary = model ? weights : adapters;
  const std::size_t other = model ? adapters : weights;
  const std::string kind = model ? "a model" : "an adapter";
  const std::string primary_role = model ? "weights" : "adapter";
  if (primary != 1) {
    return Malformed(Prefix() + "/artifacts: " + kind + " package has " + std::to_string(primary) +
                     " \"" + primary_role + "\" artifacts, expected exactly one");
  }
  if (other != 0) {
    return Malformed(Prefix() + "/artifacts: " + kind +
                     " package cannot have an artifact with role \"" +
                     (model ? "adapter" : "weights") + "\"" +
                     (model ? "" : " (its base is a package of its own)"));
  }
  for (std::size_t k = 0; k < m.artifacts.size(); ++k) {
    const Artifact& a = m.artifacts[k];
    if ((a.role == ArtifactRole::kWeights || a.role == ArtifactRole::kAdapter) &&
        a.media_type != kGgufMediaType) {
      return Malformed(Prefix() + "/artifacts/" + std::to_string(k) + "/media_type: the " +
                       primary_role + " artifact is " + Quoted(a.media_type) + ", expected " +
                       std::string(kGgufMediaType));
    }
  }
  return Status::Ok();
}

Status CheckKind(const Manifest& m) {
  if (m.kind == PackageKind::kPolicy) return Status::Ok();  // the schema refused model parts
  if (m.kind == PackageKind::kModel) {
    if (m.base) {
      return Malformed(Prefix() + "/base: a model package cannot have a base (only adapters do)");
    }
    if (!m.gguf.tokenizer) {
      return Malformed(Prefix() + "/gguf: a model package needs \"tokenizer\"");
    }
    if (m.gguf.context_length == 0) {
      return Malformed(Prefix() + "/gguf/context_length: is 0; a model needs a context");
    }
    return Status::Ok();
  }
  if (!m.base) return Malformed(Prefix() + "(root): an adapter package needs a \"base\"");
  if (m.base->id == m.id) {
    return Malformed(Prefix() + "/base/id: an adapter cannot be its own base " + Quoted(m.id));
  }
  if (m.gguf.tokenizer) {
    return Malformed(Prefix() +
                     "/gguf/tokenizer: an adapter has no tokenizer of its own (see "
                     "base.tokenizer_sha256)");
  }
  if (m.gguf.context_length != 0) {
    return Malformed(Prefix() + "/gguf/context_length: is " +
                     std::to_string(m.gguf.context_length) + ", expected 0 for an adapter");
  }
  return Status::Ok();
}

Status CheckContractSchemas(const Manifest& m) {
  const std::pair<const IoType*, const char*> io[] = {{&m.contract.input, "input"},
                                                      {&m.contract.output, "output"}};
  for (const auto& [type, which] : io) {
    if (type->kind != IoKind::kJson) continue;
    const std::string at = Prefix() + "/contract/" + which + "/schema";
    if (type->json_schema.size() > kMaxContractSchemaBytes) {
      return Malformed(at + ": is " + std::to_string(type->json_schema.size()) +
                       " canonical bytes, more than " + std::to_string(kMaxContractSchemaBytes));
    }
    Json schema = Json::parse(type->json_schema, nullptr, /*allow_exceptions=*/false);
    TS_CHECK(!schema.is_discarded());  // canonical text made by ManifestFromJson
    Result<JsonSchema> compiled = JsonSchema::Compile(schema, at);
    if (!compiled.ok()) return compiled.status();
  }
  for (const auto& [type, which] : io) {
    if (type->pattern.empty()) continue;
    Result<SafeRegex> re = SafeRegex::Compile(type->pattern);
    if (!re.ok()) {
      return re.status().WithContext(Prefix() + "/contract/" + which + "/pattern");
    }
  }
  return Status::Ok();
}

// v2: the template has one "{input}", and every example's output is a valid output.
Status CheckContractV2(const Manifest& m) {
  if (m.kind == PackageKind::kPolicy || m.schema_version < 2) return Status::Ok();
  const Contract& c = m.contract;
  Result<std::string> applied = ApplyPromptTemplate(c, "");
  if (!applied.ok()) return applied.status().WithContext(Prefix() + "/contract/prompt");
  for (std::size_t k = 0; k < c.examples.size(); ++k) {
    if (Status in = CheckOutputType(c.input, c.examples[k].input); !in.ok()) {
      return Status(in.code(), Prefix() + "/contract/examples/" + std::to_string(k) +
                                   "/input: " + in.message());
    }
    Status st = CheckOutputType(c.output, c.examples[k].output);
    if (!st.ok()) {
      return Status(st.code(), Prefix() + "/contract/examples/" + std::to_string(k) +
                                   "/output: " + st.message());
    }
  }
  return Status::Ok();
}

Status CheckDependencies(const Manifest& m) {
  const std::pair<const std::vector<DependencyRef>*, const char*> lists[] = {
      {&m.dependencies.requirements, "requires"},
      {&m.dependencies.conflicts, "conflicts"},
      {&m.dependencies.replaces, "replaces"}};
  for (const auto& [list, name] : lists) {
    std::set<std::string> ids;
    for (std::size_t k = 0; k < list->size(); ++k) {
      const std::string at = Prefix() + "/dependencies/" + name + "/" + std::to_string(k) + "/id: ";
      const std::string& id = (*list)[k].id;
      if (id == m.id) return Malformed(at + "a package cannot name itself " + Quoted(id));
      if (!ids.insert(id).second) {
        return Status(StatusCode::kDuplicate, at + Quoted(id) + " is listed twice");
      }
    }
  }
  for (std::size_t k = 0; k < m.dependencies.conflicts.size(); ++k) {
    const std::string& id = m.dependencies.conflicts[k].id;
    for (const DependencyRef& r : m.dependencies.requirements) {
      if (r.id == id) {
        return Malformed(Prefix() + "/dependencies/conflicts/" + std::to_string(k) +
                         "/id: " + Quoted(id) + " is both required and in conflict");
      }
    }
  }
  return Status::Ok();
}

std::string FormatDouble(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", v);
  return text;
}

Status CheckQualityAndRollback(const Manifest& m) {
  std::set<std::string> eval_sets;
  for (const Artifact& a : m.artifacts) {
    if (a.role == ArtifactRole::kEvalSet) eval_sets.insert(a.sha256);
  }
  for (std::size_t k = 0; k < m.quality.size(); ++k) {
    if (eval_sets.count(m.quality[k].eval_set_sha256) == 0) {
      return Malformed(Prefix() + "/quality/" + std::to_string(k) +
                       "/eval_set_sha256: names no artifact with role \"eval-set\" (evidence "
                       "must ship its eval set)");
    }
    const QualityEvidence& q = m.quality[k];
    if (q.interval95 && !((*q.interval95)[0] <= q.value && q.value <= (*q.interval95)[1])) {
      return Malformed(Prefix() + "/quality/" + std::to_string(k) + "/interval95: [" +
                       FormatDouble((*q.interval95)[0]) + ", " + FormatDouble((*q.interval95)[1]) +
                       "] does not contain the value " + FormatDouble(q.value));
    }
  }
  if (m.rollback_known_good && !(*m.rollback_known_good < m.version)) {
    return Malformed(Prefix() + "/rollback/known_good: " + m.rollback_known_good->ToString() +
                     " does not precede the package version " + m.version.ToString());
  }
  return Status::Ok();
}

// The document must have a canonical form, and the typed manifest must reproduce it exactly.
Status CheckCanonicalForm(const Json& doc, const Manifest& m) {
  Result<std::string> original = CanonicalJson(doc);
  if (!original.ok()) return original.status().WithContext("package: manifest");
  TS_ASSIGN_OR_RETURN(Json typed, ManifestToJsonValue(m));
  Result<std::string> again = CanonicalJson(typed);
  if (!again.ok() || *again != *original) {
    return Internal(Prefix() + "the typed manifest does not reproduce the document (a bug)");
  }
  return Status::Ok();
}

// ManifestToJson and CanonicalManifestBytes: the value, its canonical text, and the proof that
// ParseManifest accepts it.
Result<std::pair<Json, std::string>> ValidatedJson(const Manifest& m) {
  TS_ASSIGN_OR_RETURN(Json j, ManifestToJsonValue(m));
  TS_ASSIGN_OR_RETURN(std::string canonical, CanonicalJson(j));
  TS_RETURN_IF_ERROR(ParseManifest(canonical).status());
  return std::make_pair(std::move(j), std::move(canonical));
}

}  // namespace

const Artifact* Manifest::FindArtifact(std::string_view name) const {
  for (const Artifact& a : artifacts) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const Artifact& Manifest::primary_artifact() const {
  const ArtifactRole role = kind == PackageKind::kModel     ? ArtifactRole::kWeights
                            : kind == PackageKind::kAdapter ? ArtifactRole::kAdapter
                                                            : ArtifactRole::kPolicy;
  for (const Artifact& a : artifacts) {
    if (a.role == role) return a;
  }
  TS_CHECK(false && "a valid manifest has its primary artifact");
  return artifacts.front();
}

Result<Manifest> ParseManifest(std::string_view bytes) {
  StrictJsonLimits limits;
  limits.max_bytes = kMaxManifestBytes;
  limits.max_depth = kMaxManifestDepth;
  TS_ASSIGN_OR_RETURN(Json doc, ParseStrictJson(bytes, "package: manifest", limits));
  if (!doc.is_object()) {
    return Malformed(Prefix() + "(root): is " + JsonKindName(doc) + ", expected a JSON object");
  }
  auto schema_id = doc.find("schema");
  if (schema_id != doc.end() && schema_id->is_string() &&
      *schema_id != std::string(kManifestSchemaV1) &&
      *schema_id != std::string(kManifestSchemaV2)) {
    return Status(StatusCode::kUnsupported, Prefix() + "/schema: " + BriefJson(*schema_id, 80) +
                                                " is not supported; this runtime reads " +
                                                std::string(kManifestSchemaV1) + " and " +
                                                std::string(kManifestSchemaV2));
  }
  const Result<JsonSchema>& schema = EmbeddedSchema();
  if (!schema.ok()) return schema.status();
  TS_RETURN_IF_ERROR(schema->Validate(doc, "package: manifest"));
  TS_ASSIGN_OR_RETURN(Manifest m, ManifestFromJson(doc));
  TS_RETURN_IF_ERROR(CheckArtifacts(m));
  TS_RETURN_IF_ERROR(CheckKind(m));
  TS_RETURN_IF_ERROR(CheckContractSchemas(m));
  TS_RETURN_IF_ERROR(CheckContractV2(m));
  TS_RETURN_IF_ERROR(CheckDependencies(m));
  TS_RETURN_IF_ERROR(CheckQualityAndRollback(m));
  TS_RETURN_IF_ERROR(CheckCanonicalForm(doc, m));
  return m;
}

Result<std::string> ApplyPromptTemplate(const Contract& contract, std::string_view request) {
  if (contract.prompt.empty()) return std::string(request);  // v1: the request is the prompt
  const std::string_view t = contract.prompt;
  std::string out;
  out.reserve(t.size() + request.size());
  int placeholders = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.compare(i, 7, "{input}") == 0) {
      out.append(request);
      ++placeholders;
      i += 6;
    } else if ((t[i] == '{' || t[i] == '}') && i + 1 < t.size() && t[i + 1] == t[i]) {
      out.push_back(t[i]);
      ++i;
    } else if (t[i] == '{' || t[i] == '}') {
      return Malformed("contract prompt template: a lone \"" + std::string(1, t[i]) + "\" at " +
                       std::to_string(i) + " (write \"{{\" or \"}}\" for a brace)");
    } else {
      out.push_back(t[i]);
    }
  }
  if (placeholders != 1) {
    return Malformed("contract prompt template: has " + std::to_string(placeholders) +
                     " \"{input}\", expected exactly one");
  }
  return out;
}

std::optional<std::string> InputFromPrompt(const Contract& contract, std::string_view prompt) {
  if (contract.prompt.empty()) return std::string(prompt);
  // The template's literal text around "{input}", braces unescaped.
  Result<std::string> marked = ApplyPromptTemplate(contract, std::string_view("\x01", 1));
  if (!marked.ok()) return std::nullopt;
  const std::size_t at = marked->find('\x01');
  const std::string_view before = std::string_view(*marked).substr(0, at);
  const std::string_view after = std::string_view(*marked).substr(at + 1);
  if (prompt.size() < before.size() + after.size() || !prompt.starts_with(before) ||
      !prompt.ends_with(after)) {
    return std::nullopt;
  }
  return std::string(prompt.substr(before.size(), prompt.size() - before.size() - after.size()));
}

namespace {

// A JSON number as RFC 8259 writes it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&]() {
    const std::size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

std::string Brief(std::string_view text) {
  std::string out(text.substr(0, 60));
  if (text.size() > 60) out += "...";
  return Quoted(out);
}

}  // namespace

Status CheckOutputType(const IoType& type, std::string_view text) {
  switch (type.kind) {
    case IoKind::kEnum: {
      for (const std::string& label : type.labels) {
        if (label == text) return Status::Ok();
      }
      std::string labels;
      for (const std::string& label : type.labels) labels += (labels.empty() ? "" : ", ") + label;
      return Malformed(Brief(text) + " is not one of the labels " + labels);
    }
    case IoKind::kNumber:
      if (IsJsonNumber(text)) return Status::Ok();
      return Malformed(Brief(text) + " is not a number");
    case IoKind::kJson: {
      Json schema = Json::parse(type.json_schema, nullptr, /*allow_exceptions=*/false);
      if (schema.is_discarded()) return Malformed("the contract's JSON Schema is not JSON");
      TS_ASSIGN_OR_RETURN(JsonSchema compiled, JsonSchema::Compile(schema, "contract output"));
      Result<Json> value = ParseStrictJson(text, "output", StrictJsonLimits{});
      if (!value.ok()) return Malformed(Brief(text) + " is not JSON: " + value.status().message());
      Status st = compiled.Validate(*value, "output");
      if (!st.ok()) return Malformed(Brief(text) + " does not match the schema: " + st.message());
      return Status::Ok();
    }
    case IoKind::kText:
      if (type.pattern.empty()) return Status::Ok();
      {
        TS_ASSIGN_OR_RETURN(SafeRegex re, SafeRegex::Compile(type.pattern));
        if (re.Search(text)) return Status::Ok();
      }
      return Malformed(Brief(text) + " does not match the pattern " + type.pattern);
  }
  return Status::Ok();
}

Result<std::string> ManifestToJson(const Manifest& manifest) {
  TS_ASSIGN_OR_RETURN(auto validated, ValidatedJson(manifest));
  return validated.first.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<std::string> CanonicalManifestBytes(const Manifest& manifest) {
  TS_ASSIGN_OR_RETURN(auto validated, ValidatedJson(manifest));
  return std::move(validated.second);
}

Result<std::string> SigningMessage(const Manifest& manifest) {
  TS_ASSIGN_OR_RETURN(std::string canonical, CanonicalManifestBytes(manifest));
  return std::string(kSigningPrefix) + canonical;
}

}  // namespace tessera::package
