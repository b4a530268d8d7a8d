// What the orchestrator needs from the runtime, as an interface, so that routing, eligibility
// and the cascade are pure decisions over it and are tested with a fake (tests/orchestrator/).
// The runtime implements it over its registry, resident set and engine
// (src/runtime/orchestrator_backend.h).
//
// Thread safety: one Backend serves one request at a time (the orchestrator does not call it
// from two threads at once); implementations document more.
#ifndef TESSERA_ORCHESTRATOR_BACKEND_H_
#define TESSERA_ORCHESTRATOR_BACKEND_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "package/manifest.h"
#include "tessera/status.h"

namespace tessera::orchestrator {

// An installed package as a candidate sees it (registry facts + manifest).
struct ModuleFacts {
  std::string id;
  std::string version;
  std::string kind;   // "model", "adapter", "policy"
  std::string state;  // lifecycle: "installed", "verified", "suspended", ...
  bool usable = false;  // installed or verified, and (adapters) its base is too
  std::string unusable;  // why not, when the state alone does not say (an adapter's base)
  std::string license;
  std::vector<std::string> granted;  // capabilities the trust policy granted
  std::uint32_t schema_version = 1;
  package::Contract contract;
  std::uint64_t parameters = 0;  // weight elements that run (an adapter: its base's + its own)
  std::string sha256;            // primary artifact
  std::string base;              // adapters: "id@version" of the base
  std::string base_sha256;       // adapters: the base's weights sha256
  std::string key() const { return id + "@" + version; }
};

// What making a module resident would take now, planned without doing it.
struct ResidencyPreview {
  bool resident = false;
  bool fits = true;                 // false: the plan is refused (see refusal)
  std::uint64_t load_bytes = 0;     // bytes to load (0 when resident; an adapter whose base is
                                    // resident: the adapter's own)
  std::vector<std::string> evict;   // modules the load would evict, first first
  std::string refusal;              // why it cannot fit
};

// One answer of a skill under its contract (the runtime's Runtime::Answer).
struct SkillAnswer {
  std::string text;
  bool valid = false;    // passed the output type (and did not stop at max tokens if typed)
  std::string failure;   // why not valid
  std::string stop_reason;
  std::int32_t prompt_tokens = 0;
  std::int32_t output_tokens = 0;
  std::string measure;   // "mean-token-logprob", "min-token-logprob", "label-probability"
  double confidence = 0;  // the measure's value: a log-probability (<= 0)
  double mean_logprob = 0;
  double min_logprob = 0;
  double min_margin = 0;  // smallest gap between the chosen token and the best other, nats
  double seconds = 0;
  // Residency changes this invocation caused (loads with bytes and seconds, evictions).
  std::vector<std::string> loaded;
  std::vector<std::string> evicted;
  double load_seconds = 0;
  std::uint64_t loaded_bytes = 0;
  std::uint64_t evicted_bytes = 0;  // host bytes the evictions freed
};

// A classifier's scores over its labels.
struct LabelScores {
  std::vector<std::string> labels;
  std::vector<double> logprobs;       // teacher-forced log-probability of label + EOS
  std::vector<double> probabilities;  // softmax of logprobs
  std::int32_t prompt_tokens = 0;
  std::int32_t scored_tokens = 0;     // label tokens scored, all labels together
  double seconds = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // The current usable version of `id` (or exactly `version`). kNotFound, or
  // kFailedPrecondition when the version exists but is not usable (its state is in the facts of
  // the error message).
  virtual Result<ModuleFacts> Describe(const std::string& id, const std::string& version) = 0;
  // Current versions of every installed model or adapter package whose contract role is `role`.
  virtual Result<std::vector<ModuleFacts>> WithRole(const std::string& role) = 0;
  virtual ResidencyPreview Preview(const ModuleFacts& module) = 0;
  // The skill's answer to `input` under its contract (template, limits, sampling, type check).
  // Errors: kOutOfRange (input over max_input_tokens), kInvalidUtf8, kInvalidArgument (empty),
  // kResourceExhausted (cannot become resident), ...: the cascade records them and goes on.
  virtual Result<SkillAnswer> Invoke(const ModuleFacts& module, std::string_view input) = 0;
  virtual Result<LabelScores> ScoreLabels(const ModuleFacts& module, std::string_view input) = 0;
  // Mean-pooled hidden state of `text` (the raw text, no template).
  virtual Result<std::vector<float>> Embed(const ModuleFacts& module, std::string_view text) = 0;
  // A monotonic clock for the cascade's wall-time bound.
  virtual std::int64_t NowMicros() = 0;
};

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_BACKEND_H_
