// Test support for contracts and orchestration: a store of the shipped models packed as
// manifest v2 packages (templates, domains, examples, typed outputs) and a policy package.
//   dev.test.base            models/base.gguf
//   dev.test.router          models/router.gguf, enum over the router's seven labels,
//                            template "route: {input}\n"
//   dev.test.skills.date     specialists/date.gguf, output pattern ^\d{4}-\d{2}-\d{2}$
//   dev.test.date-lora       adapters/date.lora.gguf on the base, the same contract
//   dev.test.skills.unit     specialists/unit.gguf, output number
//   dev.test.unit-lora       adapters/unit.lora.gguf on the base
//   dev.test.skills.sentiment specialists/sentiment.gguf, output enum negative|positive
//   dev.test.generalist      generalist.gguf, text
//   dev.test.policy.skills   kPolicyJson (below) with exemplars kExemplars
// Every template is "{input}\n" unless said. Built once per test binary, copied per test.
#ifndef TESSERA_TESTS_RUNTIME_SKILLS_FIXTURE_H_
#define TESSERA_TESTS_RUNTIME_SKILLS_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "registry_fixture.h"
#include "tessera/orchestrator.h"
#include "tessera/runtime.h"

namespace tessera::testing {

// The policy document of dev.test.policy.skills: rules for dates, the router scoring labels,
// nearest exemplars; routes date, unit, sentiment, each [[specialist, adapter], generalist].
nlohmann::json SkillsPolicy();
extern const char* const kSkillsExemplars;

class SkillsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::unique_ptr<Runtime> Open(RuntimeBudgets budgets = {});
  std::unique_ptr<Orchestrator> OpenOrchestrator(Runtime& rt, const std::string& policy = "");
  // Packs and installs a policy package (id dev.test.policy.<name>) with `policy`; returns the
  // install's status.
  Status InstallPolicy(const std::string& name, const nlohmann::json& policy,
                       const std::string& exemplars = kSkillsExemplars);
  // Packs and installs a model package from models/<weights> with `patch` merged into its v2
  // manifest.
  Status InstallModel(const std::string& id, const std::string& weights, const std::string& eval,
                      const nlohmann::json& patch);

  std::string home_;
  std::string work_;
  package::PrivateKey key_ = registry::fixture::Key(9);
};

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_RUNTIME_SKILLS_FIXTURE_H_
