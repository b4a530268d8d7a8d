// The runtime's budgets under load (ADR 0018), on real packages: a request that fits once
// another one ends waits for it instead of failing; a load that fails gives back the module
// it evicted; what can never fit is refused at once.
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "runtime_fixture.h"

namespace tessera::testing {
namespace {

// A module and one session of it, as the runtime measured them.
std::uint64_t NeedsWithASession(const ResidentModuleInfo& m) {
  return m.measured.artifact_bytes + m.measured.private_bytes + m.kv_bytes +
         m.measured.session_bytes;
}

// A host budget that holds either specialist with a session, but not one beside the other
// (not even idle, without its session): measured by a runtime without budgets, whose
// measurements the store keeps for the next one.
std::uint64_t OneSpecialistAtATime(Runtime& rt) {
  std::uint64_t needs[2] = {0, 0}, modules[2] = {0, 0};
  int i = 0;
  for (const char* id : {"dev.test.skills.date", "dev.test.skills.unit"}) {
    Result<ModuleHandle> m = rt.Acquire(id);
    EXPECT_TRUE(m.ok());
    Result<SessionHandle> s = rt.OpenSession(*m);
    EXPECT_TRUE(s.ok());
    for (const ResidentModuleInfo& info : rt.Report().modules) {
      if (info.module.rfind(id, 0) == 0) {
        needs[i] = NeedsWithASession(info);
        modules[i] = info.measured.artifact_bytes + info.measured.private_bytes;
      }
    }
    EXPECT_TRUE(rt.CloseSession(*s).ok());
    EXPECT_TRUE(rt.Release(*m).ok());
    ++i;
  }
  return std::max(needs[0], needs[1]) + std::min(modules[0], modules[1]) / 2;
}

TEST_F(RuntimeTest, ASecondClientWaitsForRoomInsteadOfFailing) {
  RuntimeBudgets b;
  b.host_bytes = OneSpecialistAtATime(*Open());
  std::unique_ptr<Runtime> rt = Open(b);
  Result<ModuleHandle> held = rt->Acquire("dev.test.skills.date");
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  Result<SessionHandle> session = rt->OpenSession(*held);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  std::string second;
  std::thread client([&] {
    Result<ModuleHandle> m = rt->Acquire("dev.test.skills.unit");
    if (!m.ok()) {
      second = m.status().ToString();
      return;
    }
    Result<SessionHandle> s = rt->OpenSession(*m);
    second = s.ok() ? Generate(*rt, *s, "convert 12 km to m\n") : s.status().ToString();
    if (s.ok()) (void)rt->CloseSession(*s);
    (void)rt->Release(*m);
  });
  while (rt->Report().admitting == 0) std::this_thread::yield();
  EXPECT_EQ(Generate(*rt, *session, "convert 13th of February, 1994 to YYYY-MM-DD\n"),
            "1994-02-13");
  ASSERT_TRUE(rt->CloseSession(*session).ok());
  ASSERT_TRUE(rt->Release(*held).ok());
  client.join();
  EXPECT_EQ(second, "12000");
  const RuntimeReport r = rt->Report();
  EXPECT_EQ(r.admission_waits, 1u);
  EXPECT_EQ(r.refusals, 0u);
  EXPECT_EQ(r.admitting, 0);
  EXPECT_EQ(Events(RuntimeEventKind::kEvicted),
            std::vector<std::string>{"dev.test.skills.date@1.0.0"});
}

TEST_F(RuntimeTest, WhatCanNeverFitIsRefusedAtOnceWhileOthersHoldLeases) {
  RuntimeBudgets b;
  b.host_bytes = OneSpecialistAtATime(*Open());
  std::unique_ptr<Runtime> rt = Open(b);
  Result<ModuleHandle> held = rt->Acquire("dev.test.skills.date");
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(rt->Pin("dev.test.skills.date", true).ok());
  // The unit specialist fits beside the pinned date one, but its session never will: no
  // lease or session of anyone else is in the way, so there is nothing to wait for.
  Result<ModuleHandle> unit_module = rt->Acquire("dev.test.skills.unit");
  ASSERT_TRUE(unit_module.ok()) << unit_module.status().ToString();
  Result<SessionHandle> s = rt->OpenSession(*unit_module);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.status().message().find("cannot fit a session of dev.test.skills.unit"),
            std::string::npos)
      << s.status().message();
  EXPECT_EQ(rt->Report().admission_waits, 0u);
  ASSERT_TRUE(rt->Release(*unit_module).ok());
  ASSERT_TRUE(rt->Pin("dev.test.skills.date", false).ok());
  ASSERT_TRUE(rt->Release(*held).ok());
}

TEST_F(RuntimeTest, AFailedLoadRestoresTheModuleItEvicted) {
  RuntimeBudgets b;
  b.host_bytes = OneSpecialistAtATime(*Open());
  std::string blob;  // dev.test.skills.unit's weights, damaged on disk
  {
    Result<std::unique_ptr<registry::Registry>> store = registry::Registry::Open(home_);
    ASSERT_TRUE(store.ok());
    Result<registry::PackageRecord> r = (*store)->Show("dev.test.skills.unit", "1.0.0");
    ASSERT_TRUE(r.ok());
    for (const registry::ArtifactRecord& a : r->artifacts) {
      if (a.role == "weights") blob = (*store)->BlobPath(a.sha256);
    }
  }
  ASSERT_EQ(::chmod(blob.c_str(), 0644), 0);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-100, std::ios::end);
    f.put('\x7f');
  }
  std::unique_ptr<Runtime> rt = Open(b);
  {
    Result<ModuleHandle> m = rt->Acquire("dev.test.skills.date");
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(rt->Release(*m).ok());  // resident, idle: unit's load evicts it first
  }
  Result<ModuleHandle> broken = rt->Acquire("dev.test.skills.unit");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), StatusCode::kIntegrity);
  EXPECT_NE(broken.status().message().find(
                "restored the 1 module it had evicted (dev.test.skills.date@1.0.0"),
            std::string::npos)
      << broken.status().message();
  const RuntimeReport r = rt->Report();
  ASSERT_EQ(r.modules.size(), 1u);
  EXPECT_EQ(r.modules[0].module, "dev.test.skills.date@1.0.0");
  EXPECT_EQ(r.modules[0].state, "resident");
  EXPECT_EQ(r.restores, 1u);
  EXPECT_EQ(r.restore_failures, 0u);
  EXPECT_GT(r.restore_seconds, 0.0);
  // It serves as before.
  Result<ModuleHandle> again = rt->Acquire("dev.test.skills.date");
  ASSERT_TRUE(again.ok());
  Result<SessionHandle> s = rt->OpenSession(*again);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Generate(*rt, *s, "convert 13th of February, 1994 to YYYY-MM-DD\n"), "1994-02-13");
  ASSERT_TRUE(rt->CloseSession(*s).ok());
  ASSERT_TRUE(rt->Release(*again).ok());
}

}  // namespace
}  // namespace tessera::testing
