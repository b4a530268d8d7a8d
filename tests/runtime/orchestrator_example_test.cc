// The worked example at the top of include/tessera/orchestrator.h, as code that runs.
#include <cstdio>
#include <string>

#include "skills_fixture.h"
#include "tessera/orchestrator.h"

namespace tessera::testing {
namespace {

int FailWith(const Status& s) {
  ADD_FAILURE() << s.ToString();
  return 1;
}

// Returns 0 on success, like a main(); `said` receives the answer and who gave it.
int OrchestratorExample(const std::string& home, std::string* said) {
  auto Fail = FailWith;
  tessera::RuntimeOptions options;
  options.home = home;  // packages and a policy installed
  auto runtime = tessera::Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  tessera::OrchestratorOptions o;  // o.policy empty: the one installed
  auto orchestrator = tessera::Orchestrator::Open(**runtime, o);  // routers loaded, pinned
  if (!orchestrator.ok()) return Fail(orchestrator.status());
  auto answer = (*orchestrator)->Ask("convert 7250 g to kg");
  if (!answer.ok()) return Fail(answer.status());  // a bad request: empty, too long
  if (answer->outcome == "answered" && answer->accepted) {
    std::printf("%s by %s\n", answer->answer.c_str(), answer->module.c_str());  // "7.25 by ..."
  } else {
    std::printf("no answer: %s\n", answer->reason.c_str());  // abstained, and why
  }
  std::printf("%s", answer->explanation.c_str());  // routers, candidates, steps, loads
  auto replay = (*orchestrator)->Replay(answer->evidence);  // the same answer and decision?
  if (!replay.ok()) return Fail(replay.status());
  if (!replay->same_decision) return 1;

  *said = answer->answer + " by " + answer->module;
  return 0;
}

TEST_F(SkillsTest, TheOrchestratorHeaderExampleRuns) {
  std::string said;
  ASSERT_EQ(OrchestratorExample(home_, &said), 0);
  EXPECT_EQ(said, "7.25 by dev.test.skills.unit@1.0.0");
}

}  // namespace
}  // namespace tessera::testing
