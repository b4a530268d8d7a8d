// A Backend (orchestrator/backend.h) whose modules, residency, answers, label scores and
// embeddings are scripted by the test, with a fake clock that advances per invocation, and a
// log of every call.
#ifndef TESSERA_TESTS_ORCHESTRATOR_FAKE_BACKEND_H_
#define TESSERA_TESTS_ORCHESTRATOR_FAKE_BACKEND_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/backend.h"
#include "orchestrator/orchestrate.h"

namespace tessera::orchestrator::testing {

// A usable, verified text-to-text model with `params` parameters.
inline ModuleFacts Module(const std::string& id, std::uint64_t params,
                          const std::string& role = "skill") {
  ModuleFacts m;
  m.id = id;
  m.version = "1.0.0";
  m.kind = "model";
  m.state = "verified";
  m.usable = true;
  m.license = "Apache-2.0";
  m.granted = {"emit:text"};
  m.schema_version = 2;
  m.contract.role = role;
  m.contract.prompt = "{input}\n";
  m.parameters = params;
  m.sha256 = std::string(64, id.back());
  return m;
}

inline SkillAnswer Answer(const std::string& text, double confidence, bool valid = true) {
  SkillAnswer a;
  a.text = text;
  a.valid = valid;
  if (!valid) a.failure = "\"" + text + "\" does not match the pattern";
  a.stop_reason = "end_of_generation";
  a.measure = "mean-token-logprob";
  a.confidence = confidence;
  a.prompt_tokens = 5;
  a.output_tokens = 3;
  return a;
}

class FakeBackend final : public Backend {
 public:
  void Add(const ModuleFacts& m) { modules_[m.id] = m; }
  void SetResidency(const std::string& id, ResidencyPreview p) { residency_[id] = std::move(p); }
  void SetAnswer(const std::string& id, Result<SkillAnswer> a) { answers_.insert_or_assign(id, std::move(a)); }
  void SetScores(const std::string& id, LabelScores s) { scores_[id] = std::move(s); }
  void SetEmbedding(const std::string& text, std::vector<float> v) { embeddings_[text] = std::move(v); }
  void FailEmbedding(const std::string& text) { embeddings_.erase(text); }

  Result<ModuleFacts> Describe(const std::string& id, const std::string& version) override {
    calls.push_back("describe " + id);
    auto it = modules_.find(id);
    if (it == modules_.end() || (!version.empty() && version != it->second.version)) {
      return NotFound("no package " + id);
    }
    return it->second;
  }
  Result<std::vector<ModuleFacts>> WithRole(const std::string& role) override {
    std::vector<ModuleFacts> out;
    for (const auto& [id, m] : modules_) {
      if (m.contract.role == role) out.push_back(m);
    }
    return out;
  }
  ResidencyPreview Preview(const ModuleFacts& m) override {
    auto it = residency_.find(m.id);
    if (it != residency_.end()) return it->second;
    ResidencyPreview p;
    p.load_bytes = m.parameters * 2;
    return p;
  }
  Result<SkillAnswer> Invoke(const ModuleFacts& m, std::string_view input) override {
    calls.push_back("invoke " + m.id + " " + std::string(input));
    now_ += invoke_micros;
    auto it = answers_.find(m.id);
    if (it == answers_.end()) return Internal("no scripted answer for " + m.id);
    Result<SkillAnswer> a = it->second;
    if (a.ok()) a->loaded_bytes = Preview(m).load_bytes;  // 0 when resident
    return a;
  }
  Result<LabelScores> ScoreLabels(const ModuleFacts& m, std::string_view input) override {
    calls.push_back("score " + m.id + " " + std::string(input));
    auto it = scores_.find(m.id);
    if (it == scores_.end()) return Internal("no scripted scores for " + m.id);
    return it->second;
  }
  Result<std::vector<float>> Embed(const ModuleFacts& m, std::string_view text) override {
    calls.push_back("embed " + m.id + " " + std::string(text));
    auto it = embeddings_.find(std::string(text));
    if (it == embeddings_.end()) return Internal("no scripted embedding for " + std::string(text));
    return it->second;
  }
  std::int64_t NowMicros() override { return now_; }

  std::int64_t invoke_micros = 1000;
  std::vector<std::string> calls;

 private:
  std::int64_t now_ = 0;
  std::map<std::string, ModuleFacts> modules_;
  std::map<std::string, ResidencyPreview> residency_;
  std::map<std::string, Result<SkillAnswer>> answers_;
  std::map<std::string, LabelScores> scores_;
  std::map<std::string, std::vector<float>> embeddings_;
};

// Calibrated thresholds by module id.
class FakeThresholds final : public ThresholdSource {
 public:
  std::map<std::string, Threshold> by_id;
  std::optional<Threshold> For(const ModuleFacts& m) override {
    auto it = by_id.find(m.id);
    if (it == by_id.end()) return std::nullopt;
    return it->second;
  }
};

inline LabelScores Scores(std::vector<std::string> labels, std::vector<double> probabilities) {
  LabelScores s;
  s.labels = std::move(labels);
  s.probabilities = std::move(probabilities);
  for (double p : s.probabilities) s.logprobs.push_back(p > 0 ? std::log(p) : -1e9);
  s.prompt_tokens = 6;
  s.scored_tokens = static_cast<std::int32_t>(s.labels.size()) * 2;
  return s;
}

}  // namespace tessera::orchestrator::testing

#endif  // TESSERA_TESTS_ORCHESTRATOR_FAKE_BACKEND_H_
