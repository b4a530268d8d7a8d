// The package manifest, v1 and v2: what a skill package is, which exact bytes it consists of, what
// it needs and what it may do. Specified in full in docs/formats/package.md; the machine-readable
// schema is docs/formats/package-manifest.schema.json (compiled in, manifest_schema.h).
//
// A manifest is one JSON object of at most 256 KiB; unknown members are refused at every level
// except inside "annotations" and inside a contract's JSON Schema. In outline:
//
//   schema "tessera.package/v1" | "tessera.package/v2"
//   id "dev.tessera.skills.date"  version "1.2.0" (SemVer)
//   kind "model" | "adapter" | "policy" (v2)   title?, description?   license "Apache-2.0" (SPDX)
//   annotations? {string: string}
//   artifacts [{role, name, media_type, size, sha256}]   1..64, names unique; a model has one
//             "weights" and no "adapter", an adapter one "adapter" and no "weights"
//   gguf {architecture, version, file_type, parameters, context_length, tokenizer? {model, pre,
//         vocab_size, sha256}}     facts read from the GGUF; tokenizer for models only
//   runtime {versions: range, package_abi}
//   base? {id, version, weights_sha256, tokenizer_sha256, targets, rank, alpha}   adapters only
//   contract {role, input, output, max_input_tokens, max_output_tokens, confidence, sampling
//             {temperature, top_k, top_p, seed}}; input/output: {type: text, pattern? (v2)} |
//             {type: number} | {type: enum, labels} | {type: json, schema}
//             v2 adds, required: prompt (a template with one "{input}"), domain (what the skill
//             supports, for people), examples [{input, output}] 1..16 (each output must pass
//             the output type)
//   A policy package (v2, kind "policy") has no gguf, base, contract or resources: its
//   artifacts hold one "policy" document (package/policy.h) and the files it names.
//   dependencies? {requires?, conflicts?, replaces?: [{id, version: range}]}
//   capabilities ["emit:text", ...]
//   resources {weights_bytes, kv_bytes_per_token, scratch_bytes, estimated: true}
//   quality? [{eval_set_sha256, metric: "exact_match", value, cases, runtime_version, split?,
//             interval95?}]
//   rollback? {known_good: version}
//
// Optional containers are non-empty when present ("quality": [] is refused: omit it), so that
// absent and empty are not two encodings of one value; in Manifest an empty container means
// absent. Hence every manifest has exactly one canonical form, and
//   CanonicalManifestBytes(*ParseManifest(bytes)) == RFC 8785 canonical form of `bytes`,
// which ParseManifest checks: verifying a signature over the typed Manifest is verifying it over
// the document that was signed.
//
// Thread safety: Manifest is a value; the functions are pure.
#ifndef TESSERA_PACKAGE_MANIFEST_H_
#define TESSERA_PACKAGE_MANIFEST_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "package/semver.h"
#include "tessera/status.h"

namespace tessera::package {

inline constexpr std::size_t kMaxManifestBytes = 256 * 1024;
inline constexpr std::size_t kMaxManifestDepth = 64;               // JSON nesting
inline constexpr std::size_t kMaxContractSchemaBytes = 64 * 1024;  // canonical bytes
inline constexpr std::string_view kManifestSchemaV1 = "tessera.package/v1";
inline constexpr std::string_view kManifestSchemaV2 = "tessera.package/v2";
inline constexpr std::string_view kPolicyMediaType = "application/vnd.tessera.policy+json";
inline constexpr std::string_view kSigningPrefix = "tessera-package-v1\n";

enum class PackageKind : std::uint8_t { kModel, kAdapter, kPolicy };
enum class ArtifactRole : std::uint8_t {
  kWeights,
  kAdapter,
  kEvalSet,
  kRouterExemplars,
  kTokenizer,
  kDoc,
  kPolicy,
};
enum class IoKind : std::uint8_t { kText, kEnum, kNumber, kJson };
enum class ConfidenceKind : std::uint8_t { kMeanTokenLogprob, kMinTokenLogprob, kNone };
enum class QualityMetric : std::uint8_t { kExactMatch };

// The JSON spellings: "model", "eval-set", "json", "mean-token-logprob", "exact_match", ...
std::string_view PackageKindName(PackageKind kind);
std::string_view ArtifactRoleName(ArtifactRole role);
std::string_view IoKindName(IoKind kind);
std::string_view ConfidenceKindName(ConfidenceKind kind);
std::string_view QualityMetricName(QualityMetric metric);

// A version range field: the parsed range, equal to another when their texts are equal.
struct RangeValue {
  VersionRange range;
  friend bool operator==(const RangeValue& a, const RangeValue& b) {
    return a.range.text() == b.range.text();
  }
};

struct Artifact {
  ArtifactRole role = ArtifactRole::kDoc;
  std::string name;        // a file name: [A-Za-z0-9._-]+, not "." or ".."
  std::string media_type;  // "application/vnd.gguf", "application/x-ndjson", ...
  std::uint64_t size = 0;  // bytes
  std::string sha256;      // 64 lowercase hex digits
  friend bool operator==(const Artifact&, const Artifact&) = default;
};

struct TokenizerFacts {
  std::string model;  // tokenizer.ggml.model
  std::string pre;    // tokenizer.ggml.pre, "default" when absent
  std::uint64_t vocab_size = 0;
  std::string sha256;  // of the canonical vocabulary bytes (package.md section 5)
  friend bool operator==(const TokenizerFacts&, const TokenizerFacts&) = default;
};

struct GgufFacts {
  std::string architecture;   // general.architecture (adapters: the base's)
  std::uint64_t version = 0;  // GGUF format version
  std::string file_type;      // dominant tensor type: "F32", "F16", "Q8_0", ...
  std::uint64_t parameters = 0;
  std::uint64_t context_length = 0;         // 0 for adapters
  std::optional<TokenizerFacts> tokenizer;  // models only
  friend bool operator==(const GgufFacts&, const GgufFacts&) = default;
};

struct RuntimeRequirement {
  RangeValue versions;  // Tessera runtime versions
  std::uint64_t package_abi = 0;
  friend bool operator==(const RuntimeRequirement&, const RuntimeRequirement&) = default;
};

struct AdapterBase {
  std::string id;
  Version version;  // exact
  std::string weights_sha256;
  std::string tokenizer_sha256;
  std::vector<std::string> targets;  // "attn_q.weight", ... without the layer index
  std::uint64_t rank = 0;
  double alpha = 0;  // the scale applied is alpha / rank
  friend bool operator==(const AdapterBase&, const AdapterBase&) = default;
};

struct IoType {
  IoKind kind = IoKind::kText;
  std::vector<std::string> labels;  // kEnum: 1..256, unique
  std::string json_schema;          // kJson: the JSON Schema, as canonical JSON text
  std::string pattern;              // kText, v2: a safe_regex.h pattern outputs must match
  friend bool operator==(const IoType&, const IoType&) = default;
};

struct Sampling {
  double temperature = 0;  // 0: greedy
  std::uint64_t top_k = 0;
  double top_p = 1;
  std::uint64_t seed = 0;
  friend bool operator==(const Sampling&, const Sampling&) = default;
};

struct ContractExample {
  std::string input;
  std::string output;
  friend bool operator==(const ContractExample&, const ContractExample&) = default;
};

struct Contract {
  std::string role;  // "date-normalise", "route", ...
  // v2 (empty in v1): how a request becomes the model's prompt: the text with "{input}"
  // replaced by the request ("{{" and "}}" are literal braces), e.g. "route: {input}\n".
  std::string prompt;
  std::string domain;                     // v2: what the skill supports, for people
  std::vector<ContractExample> examples;  // v2: 1..16, signed with the manifest
  IoType input;
  IoType output;
  std::uint64_t max_input_tokens = 0;
  std::uint64_t max_output_tokens = 0;
  ConfidenceKind confidence = ConfidenceKind::kNone;
  Sampling sampling;
  friend bool operator==(const Contract&, const Contract&) = default;
};

struct DependencyRef {
  std::string id;
  RangeValue version;
  friend bool operator==(const DependencyRef&, const DependencyRef&) = default;
};

struct Dependencies {
  std::vector<DependencyRef> requirements;  // "requires"
  std::vector<DependencyRef> conflicts;
  std::vector<DependencyRef> replaces;
  friend bool operator==(const Dependencies&, const Dependencies&) = default;
};

struct Resources {
  std::uint64_t weights_bytes = 0;
  std::uint64_t kv_bytes_per_token = 0;
  std::uint64_t scratch_bytes = 0;
  bool estimated = true;  // v1 manifests carry estimates only
  friend bool operator==(const Resources&, const Resources&) = default;
};

struct QualityEvidence {
  std::string eval_set_sha256;  // an artifact with role "eval-set"
  QualityMetric metric = QualityMetric::kExactMatch;
  double value = 0;  // 0..1
  std::uint64_t cases = 0;
  Version runtime_version;
  std::string split;  // what the set holds out ("novel", ...); empty: not stated
  std::optional<std::array<double, 2>> interval95;  // [low, high] around value
  friend bool operator==(const QualityEvidence&, const QualityEvidence&) = default;
};

struct Manifest {
  std::uint32_t schema_version = 1;  // 1: tessera.package/v1, 2: tessera.package/v2
  std::string id;                    // reverse-DNS
  Version version;
  PackageKind kind = PackageKind::kModel;
  std::string title;                               // empty: absent
  std::string description;                         // empty: absent
  std::string license;                             // SPDX identifier or LicenseRef-...
  std::map<std::string, std::string> annotations;  // empty: absent
  std::vector<Artifact> artifacts;
  GgufFacts gguf;  // models and adapters; default (absent) for policies
  RuntimeRequirement runtime;
  std::optional<AdapterBase> base;  // adapters only
  Contract contract;                // models and adapters; default (absent) for policies
  Dependencies dependencies;        // all empty: absent
  std::vector<std::string> capabilities;
  Resources resources;                   // models and adapters; default (absent) for policies
  std::vector<QualityEvidence> quality;  // empty: absent
  std::optional<Version> rollback_known_good;
  friend bool operator==(const Manifest&, const Manifest&) = default;

  // The one artifact with role kWeights (models), kAdapter (adapters) or kPolicy (policies).
  const Artifact& primary_artifact() const;
  // The artifact named `name`, or null.
  const Artifact* FindArtifact(std::string_view name) const;
};

// Parses and checks a manifest, in this order:
//   1. size: more than kMaxManifestBytes is kResourceExhausted;
//   2. JSON (strict_json.h): not JSON or not an object is kMalformed, a member name twice in
//      one object kDuplicate, nesting deeper than kMaxManifestDepth kResourceExhausted;
//   3. "schema" other than "tessera.package/v1" or "/v2" (a newer format) is kUnsupported;
//   4. the embedded JSON Schema: kMalformed naming the JSON Pointer and the rule, e.g.
//      `package: manifest: /artifacts/0/sha256: does not match pattern ^[0-9a-f]{64}$`;
//   5. checks the schema cannot express, each a kMalformed (kDuplicate for repeated names) with
//      its own message: versions and ranges parse (semver.h); a model has exactly one "weights"
//      artifact and no "adapter", an adapter the reverse, and that artifact is
//      application/vnd.gguf; artifact names are unique (kDuplicate); "base" is required for
//      adapters and refused for models, and names another package; gguf.tokenizer is required
//      for models and refused for adapters; an adapter's context_length is 0; a contract's JSON
//      Schema compiles (its own code: kUnsupported for an unsupported keyword) and is at most
//      kMaxContractSchemaBytes canonical bytes; each quality entry's eval_set_sha256 is the
//      sha256 of an artifact with role "eval-set" (required, not a warning: evidence that cannot
//      be re-run is not evidence); dependency ids are unique per list, never the package's own
//      id, and no id is both required and in conflict; rollback.known_good precedes version;
//      v2: the prompt template has exactly one "{input}" and balanced "{{"/"}}"; a text
//      output's pattern compiles (safe_regex.h); every example's output passes the output
//      type (CheckOutputType); a policy has exactly one "policy" artifact of media type
//      application/vnd.tessera.policy+json and no weights or adapter;
//   6. numbers: the document must have an RFC 8785 form (canonical_json.h: kOutOfRange for an
//      integer beyond 2^53 that a double cannot hold, e.g. inside a contract's JSON Schema).
Result<Manifest> ParseManifest(std::string_view bytes);

// The prompt of `request` under `contract` (v2 template; v1: the request as given).
// kMalformed for a template without exactly one "{input}" (ParseManifest refuses those).
Result<std::string> ApplyPromptTemplate(const Contract& contract, std::string_view request);

// The inverse of ApplyPromptTemplate: the request inside `prompt` (an eval set's prompt, which
// is written in the model's prompt form), when `prompt` starts with the template's text before
// "{input}" and ends with the text after it; nullopt otherwise. v1 (no template): `prompt`.
std::optional<std::string> InputFromPrompt(const Contract& contract, std::string_view prompt);

// Whether `text` is a valid value of `type`: kEnum one of the labels exactly; kNumber a JSON
// number (e.g. "-12.5", no spaces); kJson a JSON value that the schema accepts; kText matching
// the pattern when there is one (anywhere: anchor it with ^ and $). OK or kMalformed naming
// the rule ("not one of the labels negative, positive"), kUnsupported/kMalformed for a
// pattern or schema that does not compile.
Status CheckOutputType(const IoType& type, std::string_view text);

// The manifest as indented JSON text (for files people read). Refuses (with ParseManifest's
// codes) a Manifest that ParseManifest would refuse; ParseManifest(*ManifestToJson(m)) == m.
Result<std::string> ManifestToJson(const Manifest& manifest);

// The RFC 8785 canonical bytes of the manifest: what is hashed and signed.
Result<std::string> CanonicalManifestBytes(const Manifest& manifest);

// kSigningPrefix + CanonicalManifestBytes: the message an Ed25519 package signature covers.
Result<std::string> SigningMessage(const Manifest& manifest);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_MANIFEST_H_
