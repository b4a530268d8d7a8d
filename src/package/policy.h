// The orchestration policy, tessera.policy/v1: which module answers a request, and why. Specified
// in full in docs/formats/policy.md; the machine-readable schema is docs/formats/policy.schema.json
// (compiled in, like the manifest's). A policy travels as the "policy" artifact of a signed
// package of kind "policy" (manifest.h), so what decided a request is as exact as what answered it.
//
// In outline (JSON, at most 256 KiB, unknown members refused at every level):
//
//   schema "tessera.policy/v1"   description?
//   routers [ ... ] 1..8, tried in order; the first that decides a route wins:
//     {name, type "rules", mode? "first"|"scored", case_sensitive? false, default? route,
//      min_margin? 0, rules [{route, keywords? [...], patterns? [...], min_chars?, max_chars?,
//      weight? 1}]}
//     {name, type "classifier", module "id[@version]" (its contract output is an enum),
//      labels {label: route}, abstain_labels? [label], threshold? 0.5, min_margin? 0}
//     {name, type "embedding", module, exemplars "file.jsonl" (an artifact of the policy
//      package), labels, abstain_labels?, top_k? 5, threshold? 0.5, min_margin? 0}
//   routes {name: {description?, input? "text", capabilities? [...],
//                  cascade [step, ...] (a step: a candidate or [alternatives]),
//                  fallback? route, input_pattern? regex, output? type}}
//     input_pattern: the route's domain; a request it does not match (searched in the
//     ASCII-lower-cased request) is abstained rather than answered. output: a type every
//     answer on this route must also pass ({"type": "text", "pattern"}, number, enum, json).
//     a candidate: "id" or "id@version", or {"role": contract role}
//   cascade? {max_steps 3, max_wall_ms 30000, max_load_bytes (none), min_confidence -1.0,
//             use_calibration true, on_exhausted "abstain"|"best"}
//   eligibility? {licenses? [...], require_verified true}
//   residency? {load_cost_per_mb 0.5, hysteresis 0.25}
//
// Semantic checks after the schema (kMalformed naming the JSON Pointer): router names unique;
// every route a rule, a label map, a default or a fallback names exists; a label is not both
// mapped and abstained; patterns (rules', routes' input_pattern and output pattern) compile
// (safe_regex.h), an output JSON Schema compiles; fallbacks never form a cycle (a route
// that falls back, directly or through others, to itself: the message names the cycle);
// max_chars >= min_chars.
//
// Thread safety: Policy is a value; the functions are pure.
#ifndef TESSERA_PACKAGE_POLICY_H_
#define TESSERA_PACKAGE_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "package/manifest.h"
#include "tessera/status.h"

namespace tessera::package {

inline constexpr std::string_view kPolicySchemaV1 = "tessera.policy/v1";
inline constexpr std::size_t kMaxPolicyBytes = 256 * 1024;

enum class RouterKind : std::uint8_t { kRules, kClassifier, kEmbedding };
enum class RuleMode : std::uint8_t { kFirst, kScored };
enum class OnExhausted : std::uint8_t { kAbstain, kBest };

std::string_view RouterKindName(RouterKind kind);  // "rules", "classifier", "embedding"

struct Rule {
  std::string route;
  std::vector<std::string> keywords;  // whole words or phrases
  std::vector<std::string> patterns;  // safe_regex.h, searched anywhere in the request
  std::uint64_t min_chars = 0;        // code points of the request
  std::uint64_t max_chars = 0;        // 0: no bound
  double weight = 1;
};

struct RouterSpec {
  std::string name;
  RouterKind kind = RouterKind::kRules;
  // kRules.
  RuleMode mode = RuleMode::kFirst;
  bool case_sensitive = false;
  std::vector<Rule> rules;
  std::string default_route;  // "": abstain when no rule matches
  // kClassifier and kEmbedding.
  std::string module;                          // "id" or "id@version"
  std::map<std::string, std::string> labels;   // label -> route
  std::vector<std::string> abstain_labels;     // labels meaning "out of domain"
  double threshold = 0.5;                      // classifier: probability; embedding: cosine
  double min_margin = 0;                       // every kind: top-1 minus top-2 score
  std::string exemplars;                       // kEmbedding: artifact name
  std::uint64_t top_k = 5;                     // kEmbedding
};

struct CandidateRef {
  std::string id;       // empty for a role
  std::string version;  // exact version, or "" for the current one
  std::string role;     // a contract role, when id is empty
  std::string ToString() const;  // "id", "id@1.0.0", "role:date-normalise"
};

struct RouteSpec {
  std::string name;
  std::string description;
  IoKind input = IoKind::kText;
  std::vector<std::string> capabilities;  // every candidate must be granted them
  std::vector<std::vector<CandidateRef>> cascade;  // steps; each step's alternatives
  std::string fallback;                            // "" or another route
  std::string input_pattern;                       // "" or the route's domain (safe_regex.h)
  std::optional<IoType> output;                    // every answer must also pass it
};

struct CascadeLimits {
  std::uint64_t max_steps = 3;        // module invocations per request
  std::uint64_t max_wall_ms = 30000;  // no new step starts after this
  std::uint64_t max_load_bytes = 0;   // bytes made resident for one request; 0: no bound
  double min_confidence = -1.0;       // threshold without a calibration (the contract's measure)
  bool use_calibration = true;        // thresholds from `tessera calibrate` evidence
  OnExhausted on_exhausted = OnExhausted::kAbstain;
};

struct Policy {
  std::string description;
  std::vector<RouterSpec> routers;
  std::map<std::string, RouteSpec> routes;
  CascadeLimits cascade;
  std::vector<std::string> licenses;  // allowed licences of candidates; empty: any
  bool require_verified = true;       // candidates must be in state "verified"
  double load_cost_per_mb = 0.5;      // cost units (millions of parameter-tokens) per MB loaded
  double hysteresis = 0.25;           // a cold alternative must be this much cheaper
};

// Parses and checks a policy document (see the top of this file). Errors: kResourceExhausted
// (over kMaxPolicyBytes or too deep), kMalformed (not JSON, schema or semantic violation, naming
// the JSON Pointer), kDuplicate (a member twice, a router name twice), kUnsupported (a schema
// other than tessera.policy/v1, a regular-expression feature outside safe_regex.h).
Result<Policy> ParsePolicy(std::string_view bytes);

// Every package id a policy names (routers' modules and candidates), sorted, without versions.
std::vector<std::string> PolicyPackageIds(const Policy& policy);

// Router exemplars (an artifact with role "router-exemplars"): JSONL, one {"label", "text"} per
// line (both non-empty strings, text at most 1024 bytes, nothing else), blank lines skipped.
inline constexpr std::size_t kMaxExemplarBytes = 1 << 20;
inline constexpr std::size_t kMaxExemplars = 4096;
struct Exemplar {
  std::string label;
  std::string text;
};
// Errors: kResourceExhausted (over the limits), kMalformed naming the line.
Result<std::vector<Exemplar>> ParseExemplars(std::string_view bytes);
// Every exemplar's label is mapped or abstained by `router` and every mapped label has at
// least one exemplar. kMalformed naming the label.
Status CheckExemplarLabels(const RouterSpec& router, const std::vector<Exemplar>& exemplars);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_POLICY_H_
