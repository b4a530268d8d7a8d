// The orchestrator's Backend (orchestrator/backend.h) over a Runtime: candidates' facts from the
// registry (manifests read once per version), residency previews from the resident set, and
// each invocation as acquire → session → Runtime::Answer (or ScoreLabels, Embed) → close, with
// the loads and evictions it caused captured from the runtime's events on this thread.
//
// Thread safety: one RuntimeBackend per request thread (its caches are its own); the Runtime
// underneath is shared.
#ifndef TESSERA_RUNTIME_ORCHESTRATOR_BACKEND_H_
#define TESSERA_RUNTIME_ORCHESTRATOR_BACKEND_H_

#include <map>
#include <string>

#include "orchestrator/backend.h"
#include "tessera/runtime.h"

namespace tessera::runtime {

class RuntimeBackend final : public orchestrator::Backend {
 public:
  explicit RuntimeBackend(Runtime& runtime) : runtime_(runtime) {}

  Result<orchestrator::ModuleFacts> Describe(const std::string& id,
                                             const std::string& version) override;
  Result<std::vector<orchestrator::ModuleFacts>> WithRole(const std::string& role) override;
  orchestrator::ResidencyPreview Preview(const orchestrator::ModuleFacts& module) override;
  Result<orchestrator::SkillAnswer> Invoke(const orchestrator::ModuleFacts& module,
                                           std::string_view input) override;
  Result<orchestrator::LabelScores> ScoreLabels(const orchestrator::ModuleFacts& module,
                                                std::string_view input) override;
  Result<std::vector<float>> Embed(const orchestrator::ModuleFacts& module,
                                   std::string_view text) override;
  std::int64_t NowMicros() override;

 private:
  Runtime& runtime_;
  std::map<std::string, orchestrator::ModuleFacts> facts_;  // by "id@version#manifest sha256"
};

// Called by the runtime for each event (Runtime::Impl::OnEvent): records it for the invocation
// running on this thread, if any.
void CaptureEvent(const RuntimeEvent& event);

}  // namespace tessera::runtime

#endif  // TESSERA_RUNTIME_ORCHESTRATOR_BACKEND_H_
