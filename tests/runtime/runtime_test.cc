// The runtime on a store of real packages (the shipped models): leases, sessions, measured
// footprints, shared base weights, budgets, stale handles, live states, rollback.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "registry/live_states.h"
#include "runtime_fixture.h"

namespace tessera::testing {
namespace {

constexpr std::uint64_t kMB = 1'000'000;

TEST_F(RuntimeTest, AcquiresGeneratesAndMeasures) {
  std::unique_ptr<Runtime> rt = Open();
  ASSERT_NE(rt, nullptr);
  Result<ModuleHandle> m = rt->Acquire("dev.test.skills.date");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Result<ModuleInfo> info = rt->Describe(*m);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->version, "1.0.0");
  EXPECT_EQ(info->kind, "model");
  Result<SessionHandle> s = rt->OpenSession(*m);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Generate(*rt, *s, "convert 13th of February, 1994 to YYYY-MM-DD\n"), "1994-02-13");

  RuntimeReport r = rt->Report();
  EXPECT_EQ(r.n_total, 5);
  EXPECT_EQ(r.k_active, 1);
  EXPECT_EQ(r.sessions, 1);
  ASSERT_EQ(r.modules.size(), 1u);
  const ResidentModuleInfo& mod = r.modules[0];
  EXPECT_EQ(mod.module, "dev.test.skills.date@1.0.0");
  EXPECT_EQ(mod.leases, 2);  // the handle's and the session's
  EXPECT_FALSE(mod.estimate.measured);
  EXPECT_EQ(mod.estimate.artifact_bytes, 1000u);  // the fixture manifest's (wrong) estimate
  EXPECT_TRUE(mod.measured.measured);
  struct stat st {};
  ASSERT_EQ(
      ::stat((std::string(TESSERA_SOURCE_DIR) + "/models/specialists/date.gguf").c_str(), &st), 0);
  EXPECT_GE(mod.measured.artifact_bytes, static_cast<std::uint64_t>(st.st_size));
  EXPECT_GT(mod.measured.kv_bytes_per_token, 0u);
  EXPECT_GT(mod.measured.session_bytes, 0u);
  // Host usage: the mapped weights and heap, plus the one session's KV and buffers.
  EXPECT_EQ(r.kv_bytes, mod.kv_bytes);
  EXPECT_EQ(r.host_bytes, mod.measured.artifact_bytes + mod.measured.private_bytes + mod.kv_bytes +
                              mod.measured.session_bytes);
  EXPECT_TRUE(rt->CloseSession(*s).ok());
  EXPECT_TRUE(rt->Release(*m).ok());
}

TEST_F(RuntimeTest, AdaptersShareOneMappingOfTheirBase) {
  std::unique_ptr<Runtime> rt = Open();
  Result<ModuleHandle> date = rt->Acquire("dev.test.date-lora");
  Result<ModuleHandle> unit = rt->Acquire("dev.test.unit-lora@1.0.0");
  ASSERT_TRUE(date.ok() && unit.ok()) << date.status().ToString() << unit.status().ToString();
  EXPECT_EQ(rt->Describe(*unit)->base, "dev.test.base@1.0.0");
  RuntimeReport r = rt->Report();
  ASSERT_EQ(r.modules.size(), 2u);
  const FootprintInfo& a = r.modules[0].measured;
  const FootprintInfo& b = r.modules[1].measured;
  EXPECT_GT(a.artifact_bytes, 6 * kMB);  // the 6.7 MB base
  EXPECT_GT(a.private_bytes, 1 * kMB);   // the 1.25 MB adapter
  EXPECT_EQ(r.host_bytes, a.artifact_bytes + a.private_bytes + b.private_bytes);
  Result<SessionHandle> s = rt->OpenSession(*unit);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(Generate(*rt, *s, "convert 12 km to m\n").empty());
}

TEST_F(RuntimeTest, StaleHandlesAreRefusedNotFollowed) {
  std::unique_ptr<Runtime> rt = Open();
  Result<ModuleHandle> m = rt->Acquire("dev.test.skills.unit");
  ASSERT_TRUE(m.ok());
  Result<SessionHandle> s = rt->OpenSession(*m);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(rt->Release(*m).ok());
  EXPECT_EQ(rt->Release(*m).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(rt->Describe(*m).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(rt->OpenSession(*m).status().code(), StatusCode::kFailedPrecondition);
  // The session has its own lease: it still generates after the module handle is gone.
  EXPECT_EQ(Generate(*rt, *s, "convert 12 km to m\n"), "12000");
  ASSERT_TRUE(rt->CloseSession(*s).ok());
  GenerateOptions g;
  Result<GenerateResult> after = rt->Generate(*s, "convert 12 km to m\n", g);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(after.status().message().find("stale"), std::string::npos);
  EXPECT_EQ(rt->CloseSession(*s).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(rt->Transcript(*s).status().code(), StatusCode::kFailedPrecondition);
  // Ids never issued, and an id whose slot was reused by a newer object.
  EXPECT_EQ(rt->Release(ModuleHandle{0}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(rt->Release(ModuleHandle{~0ull}).code(), StatusCode::kFailedPrecondition);
  Result<ModuleHandle> again = rt->Acquire("dev.test.skills.unit");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->id, m->id);
  EXPECT_EQ(rt->Describe(*m).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(rt->Describe(*again).ok());
}

TEST_F(RuntimeTest, PlanesResetSeparately) {
  std::unique_ptr<Runtime> rt = Open();
  Result<ModuleHandle> m = rt->Acquire("dev.test.skills.unit");
  ASSERT_TRUE(m.ok());
  Result<SessionHandle> s = rt->OpenSession(*m);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Generate(*rt, *s, "convert 12 km to m\n"), "12000");
  ASSERT_TRUE(rt->ResetContext(*s).ok());  // tokens and KV go, the transcript stays
  EXPECT_EQ(Generate(*rt, *s, "convert 48 kg to g\n"), "48000");
  Result<std::vector<Turn>> t = rt->Transcript(*s);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[1].response, "48000");
  ASSERT_TRUE(rt->ClearTranscript(*s).ok());
  EXPECT_TRUE(rt->Transcript(*s)->empty());
  EXPECT_EQ(rt->Report().k_active, 1);  // residency untouched
}

TEST_F(RuntimeTest, RefusesWhatCannotFitBeforeLoading) {
  RuntimeBudgets b;
  b.host_bytes = 3 * kMB;  // the base alone is 6.7 MB
  std::unique_ptr<Runtime> rt = Open(b);
  Result<ModuleHandle> m = rt->Acquire("dev.test.date-lora");
  // The estimate (1000 B) fits: the load runs and measures 8 MB; the transaction is undone and
  // planned again with the measurement, which refuses it.
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(m.status().message().find("cannot fit load dev.test.date-lora@1.0.0"),
            std::string::npos)
      << m.status().message();
  EXPECT_EQ(rt->Report().k_active, 0);
  EXPECT_EQ(rt->Report().replans, 1u);
  EXPECT_EQ(Events(RuntimeEventKind::kLoadFailed).size(), 1u);
  EXPECT_EQ(Events(RuntimeEventKind::kRefused).size(), 1u);
  // The second attempt plans with the measurement and is refused before loading.
  Result<ModuleHandle> again = rt->Acquire("dev.test.date-lora");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("cannot fit load dev.test.date-lora@1.0.0"),
            std::string::npos)
      << again.status().message();
  EXPECT_EQ(Events(RuntimeEventKind::kLoadFailed).size(), 1u);
  EXPECT_EQ(Events(RuntimeEventKind::kRefused).size(), 2u);
  EXPECT_EQ(rt->Report().replans, 1u);
}

TEST_F(RuntimeTest, MeasurementsOutliveTheRuntime) {
  {
    std::unique_ptr<Runtime> first = Open();
    ASSERT_TRUE(first->Acquire("dev.test.date-lora").ok());
  }  // its measurement is in the registry now
  RuntimeBudgets b;
  b.host_bytes = 3 * kMB;
  std::unique_ptr<Runtime> rt = Open(b);
  Result<ModuleHandle> m = rt->Acquire("dev.test.date-lora");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(m.status().message().find("cannot fit"), std::string::npos) << m.status().message();
  EXPECT_TRUE(Events(RuntimeEventKind::kLoadFailed).empty());  // refused before loading
  EXPECT_EQ(rt->Report().loads, 0u);
  // With room, the report shows the manifest's estimate beside the stored measurement.
  std::unique_ptr<Runtime> roomy;
  rt.reset();
  roomy = Open();
  ASSERT_TRUE(roomy->Activate(std::vector<std::string>{"dev.test.date-lora"}).ok());
  const ResidentModuleInfo info = roomy->Report().modules.at(0);
  EXPECT_FALSE(info.estimate.measured);
  EXPECT_TRUE(info.measured.measured);
  EXPECT_GT(info.measured.artifact_bytes, 6 * kMB);
}

TEST_F(RuntimeTest, EvictsIdleModulesUnderKActive) {
  RuntimeBudgets b;
  b.max_active = 1;
  // One thread: the refused Acquire below would wait for its own lease until the deadline.
  b.queue_timeout_ms = 0;
  std::unique_ptr<Runtime> rt = Open(b);
  {
    Result<ModuleHandle> m = rt->Acquire("dev.test.skills.date");
    ASSERT_TRUE(m.ok());
    Result<ModuleHandle> busy = rt->Acquire("dev.test.skills.unit");
    ASSERT_FALSE(busy.ok());  // date is leased
    EXPECT_NE(busy.status().message().find("dev.test.skills.date@1.0.0 leased (1)"),
              std::string::npos)
        << busy.status().message();
    ASSERT_TRUE(rt->Release(*m).ok());
  }
  Result<ModuleHandle> u = rt->Acquire("dev.test.skills.unit");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(Events(RuntimeEventKind::kEvicted),
            std::vector<std::string>{"dev.test.skills.date@1.0.0"});
  RuntimeReport r = rt->Report();
  ASSERT_EQ(r.modules.size(), 1u);
  EXPECT_EQ(r.modules[0].module, "dev.test.skills.unit@1.0.0");
}

TEST_F(RuntimeTest, LiveStatesFollowTheResidentSetAndTheIndexKeepsTheLifecycle) {
  std::unique_ptr<Runtime> rt = Open();
  Result<std::unique_ptr<registry::Registry>> store = registry::Registry::Open(home_);
  ASSERT_TRUE(store.ok());
  auto live = [&] {
    std::string out;
    const std::vector<registry::LiveModule> all = registry::ReadLiveStates(home_).value();
    for (const registry::LiveModule& m : all) {
      EXPECT_EQ(m.pid, ::getpid());
      out += m.key + " " + std::string(registry::LiveStateName(m.state)) + ";";
    }
    return out;
  };
  auto state = [&](const std::string& id) {
    return registry::StateName((*store)->Show(id).value().state);
  };
  Result<ModuleHandle> m = rt->Acquire("dev.test.skills.date");
  ASSERT_TRUE(m.ok());
  (void)rt->Report();  // waits for the live file
  EXPECT_EQ(live(), "dev.test.skills.date@1.0.0 active;");
  EXPECT_EQ(state("dev.test.skills.date"), "installed");
  ASSERT_TRUE(rt->Release(*m).ok());
  (void)rt->Report();
  EXPECT_EQ(live(), "dev.test.skills.date@1.0.0 resident;");
  ASSERT_TRUE(rt->Evict("dev.test.skills.date").ok());
  (void)rt->Report();
  EXPECT_EQ(live(), "");
  ASSERT_TRUE(rt->Acquire("dev.test.skills.unit").ok());
  (void)rt->Report();
  EXPECT_EQ(live(), "dev.test.skills.unit@1.0.0 active;");
  rt.reset();  // a runtime that ends leaves nothing live, and no file behind
  EXPECT_EQ(live(), "");
  EXPECT_TRUE(registry::StaleLiveFiles(home_, false).value().empty());
  EXPECT_EQ(state("dev.test.skills.unit"), "installed");
}

TEST_F(RuntimeTest, ConcurrentAcquiresShareOneLoad) {
  std::unique_ptr<Runtime> rt = Open();
  std::vector<std::thread> threads;
  std::vector<Result<ModuleHandle>> got(4, Status(StatusCode::kInternal, "unset"));
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { got[i] = rt->Acquire("dev.test.date-lora"); });
  }
  for (std::thread& t : threads) t.join();
  for (const Result<ModuleHandle>& g : got) ASSERT_TRUE(g.ok()) << g.status().ToString();
  RuntimeReport r = rt->Report();
  EXPECT_EQ(r.loads, 1u);
  EXPECT_EQ(r.hits + r.coalesced, 3u);
  ASSERT_EQ(r.modules.size(), 1u);
  EXPECT_EQ(r.modules[0].leases, 4);
}

TEST_F(RuntimeTest, SessionsAreChargedToTheKvBudget) {
  RuntimeBudgets b;
  b.kv_bytes = 1000;  // less than one session's cache
  std::unique_ptr<Runtime> rt = Open(b);
  Result<ModuleHandle> m = rt->Acquire("dev.test.skills.unit");
  ASSERT_TRUE(m.ok());
  Result<SessionHandle> s = rt->OpenSession(*m);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.status().message().find("> budget 1.0 kB"), std::string::npos)
      << s.status().message();
  EXPECT_EQ(rt->Report().sessions, 0);
  EXPECT_EQ(rt->Report().modules.at(0).leases, 1);  // the session's lease went back
}

TEST_F(RuntimeTest, UnknownAndUnusablePackagesAreNamed) {
  std::unique_ptr<Runtime> rt = Open();
  EXPECT_EQ(rt->Acquire("dev.test.nothing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(rt->Acquire("dev.test.skills.date@9.9.9").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(rt->Acquire("").status().code(), StatusCode::kInvalidArgument);
  {
    Result<std::unique_ptr<registry::Registry>> store = registry::Registry::Open(home_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Suspend("dev.test.skills.date", "", "test").ok());
  }
  Result<ModuleHandle> m = rt->Acquire("dev.test.skills.date");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(m.status().message().find("suspended"), std::string::npos);
}

TEST_F(RuntimeTest, AChangeByAnotherProcessIsSeenByTheNextAcquire) {
  std::unique_ptr<Runtime> rt = Open();
  Result<ModuleHandle> m = rt->Acquire("dev.test.skills.date");  // resolved, and remembered
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(rt->Release(*m).ok());
  {
    Result<std::unique_ptr<registry::Registry>> store = registry::Registry::Open(home_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Suspend("dev.test.skills.date", "", "test").ok());
  }
  EXPECT_EQ(rt->Acquire("dev.test.skills.date").status().code(), StatusCode::kFailedPrecondition);
  {
    Result<std::unique_ptr<registry::Registry>> store = registry::Registry::Open(home_);
    ASSERT_TRUE((*store)->Resume("dev.test.skills.date", "", "test").ok());
  }
  m = rt->Acquire("dev.test.skills.date");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(rt->Release(*m).ok());
}

TEST_F(RuntimeTest, AFailedUpgradeFallsBackToTheKnownGoodVersion) {
  // 1.1.0 of the date skill declares 1.0.0 known good; its weights (other bytes) are then
  // damaged on disk, so its load fails the integrity check.
  registry::fixture::Spec up;
  up.id = "dev.test.skills.date";
  up.version = "1.1.0";
  up.weights = "specialists/unit.gguf";
  up.patch = {{"rollback", {{"known_good", "1.0.0"}}}};
  std::string blob;
  {
    Result<std::unique_ptr<registry::Registry>> store = registry::Registry::Open(home_);
    ASSERT_TRUE(store.ok());
    Result<registry::InstallResult> r =
        (*store)->Install(registry::fixture::Pack(work_, up, &key_));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const registry::ArtifactRecord& a : r->record.artifacts) {
      if (a.role == "weights") blob = (*store)->BlobPath(a.sha256);
    }
  }
  // The unit specialist's blob is shared with dev.test.skills.unit: that one breaks too.
  ASSERT_EQ(::chmod(blob.c_str(), 0644), 0);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-100, std::ios::end);
    f.put('\x7f');
  }
  std::unique_ptr<Runtime> rt = Open();
  Result<ModuleHandle> m = rt->Acquire("dev.test.skills.date");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(rt->Describe(*m)->version, "1.0.0");
  EXPECT_EQ(Events(RuntimeEventKind::kRolledBack),
            std::vector<std::string>{"dev.test.skills.date@1.1.0"});
  Result<std::unique_ptr<registry::Registry>> store = registry::Registry::Open(home_);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Show("dev.test.skills.date", "1.1.0")->state, registry::State::kSuspended);
  // Without a known-good version the error is the load's.
  Result<ModuleHandle> unit = rt->Acquire("dev.test.skills.unit");
  ASSERT_FALSE(unit.ok());
  EXPECT_EQ(unit.status().code(), StatusCode::kIntegrity);
}

TEST_F(RuntimeTest, RollsBackToTheKnownGoodSet) {
  RuntimeBudgets b;
  b.max_active = 2;
  b.queue_timeout_ms = 0;  // this thread holds the lease in the way: waiting cannot help
  std::unique_ptr<Runtime> rt = Open(b);
  const std::vector<std::string> good = {"dev.test.skills.date", "dev.test.skills.unit"};
  ASSERT_TRUE(rt->Activate(good).ok());
  rt->RecordKnownGood();
  Result<ModuleHandle> lora = rt->Acquire("dev.test.date-lora");  // evicts one of them
  ASSERT_TRUE(lora.ok()) << lora.status().ToString();
  EXPECT_EQ(Events(RuntimeEventKind::kEvicted).size(), 1u);
  // All or nothing: three modules do not fit K_active 2 while the adapter is leased; they
  // would once its lease ends, so this is "no room now" (kUnavailable), not a refusal.
  const std::vector<std::string> too_many = {"dev.test.skills.date", "dev.test.skills.unit"};
  EXPECT_EQ(rt->Activate(too_many).code(), StatusCode::kUnavailable);
  EXPECT_EQ(rt->Report().k_active, 2);
  ASSERT_TRUE(rt->Release(*lora).ok());
  ASSERT_TRUE(rt->RollbackToKnownGood().ok());
  RuntimeReport r = rt->Report();
  ASSERT_EQ(r.modules.size(), 2u);
  EXPECT_EQ(r.modules[0].module, "dev.test.skills.date@1.0.0");
  EXPECT_EQ(r.modules[1].module, "dev.test.skills.unit@1.0.0");
  ASSERT_EQ(r.known_good.size(), 2u);
  EXPECT_EQ(r.known_good[0].substr(0, 26), "dev.test.skills.date@1.0.0");
  EXPECT_EQ(Events(RuntimeEventKind::kRolledBack).size(), 1u);
}

}  // namespace
}  // namespace tessera::testing
