// Test support for the runtime: a store with the shipped models installed as packages.
//   dev.test.base@1.0.0            models/base.gguf
//   dev.test.date-lora@1.0.0       models/adapters/date.lora.gguf on the base
//   dev.test.unit-lora@1.0.0       models/adapters/unit.lora.gguf on the base
//   dev.test.skills.date@1.0.0     models/specialists/date.gguf
//   dev.test.skills.unit@1.0.0     models/specialists/unit.gguf
#ifndef TESSERA_TESTS_RUNTIME_RUNTIME_FIXTURE_H_
#define TESSERA_TESTS_RUNTIME_RUNTIME_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "registry_fixture.h"
#include "tessera/runtime.h"

namespace tessera::testing {

class RuntimeTest : public ::testing::Test {
 protected:
  // A copy of a store built once per test binary (installing costs about a second).
  void SetUp() override;
  void TearDown() override;  // removes this test's store
  // A runtime on this test's store.
  std::unique_ptr<Runtime> Open(RuntimeBudgets budgets = {});
  // Events of `kind` seen so far, by module.
  std::vector<std::string> Events(RuntimeEventKind kind);
  std::string Generate(Runtime& rt, SessionHandle s, const std::string& prompt);

  std::string home_;
  std::string work_;
  package::PrivateKey key_ = registry::fixture::Key(7);
  std::mutex events_mu_;
  std::vector<RuntimeEvent> events_;
};

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_RUNTIME_RUNTIME_FIXTURE_H_
