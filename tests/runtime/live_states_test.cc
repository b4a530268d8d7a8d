// Residency is not lifecycle (ADR 0016): a run leaves the packages' history as it was, and a
// runtime killed by SIGKILL or SIGTERM (in a forked child) leaves nothing live, so that the
// package can be removed and doctor finds the store consistent; while the child lives, remove
// is refused naming its pid.
#include "registry/live_states.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime_fixture.h"
#include "held_child.h"

namespace tessera::testing {
namespace {

constexpr const char* kDate = "dev.test.skills.date";

// A forked child that opens a runtime on `home`, acquires `ref`, opens a session on it, waits
// for its live file to say so, tells the parent, and then waits until it is killed.
class RuntimeChild : public tessera::testing::HeldChild {
 public:
  RuntimeChild(const std::string& home, const std::string& ref)
      : HeldChild([&] {
          RuntimeOptions o;
          o.home = home;
          o.n_threads = 1;
          Result<std::unique_ptr<Runtime>> rt = Runtime::Open(std::move(o));
          if (!rt.ok()) return false;
          Result<ModuleHandle> m = (*rt)->Acquire(ref);
          if (!m.ok() || !(*rt)->OpenSession(*m).ok()) return false;
          (void)(*rt)->Report();  // flushes the live file
          (void)rt->release();    // held until the child is killed
          return true;
        }) {}
};

// Every transition of every package, one line each.
std::vector<std::string> AllHistory(registry::Registry& store) {
  std::vector<std::string> out;
  const std::vector<registry::PackageRecord> all = store.List().value();
  for (const registry::PackageRecord& r : all) {
    const std::vector<registry::Transition> history = store.History(r.id, r.version).value();
    for (const registry::Transition& t : history) {
      out.push_back(std::to_string(t.seq) + " " + t.id + "@" + t.version + " " + t.from + " -> " +
                    t.to + " at " + std::to_string(t.at) + ": " + t.reason);
    }
  }
  return out;
}

TEST_F(RuntimeTest, ARunAppendsNothingToAnyHistory) {
  std::unique_ptr<registry::Registry> store = registry::Registry::Open(home_).value();
  const std::vector<std::string> before = AllHistory(*store);
  ASSERT_EQ(before.size(), 5u);  // each package's installation
  auto states = [&] {
    std::vector<std::string> out;
    const std::vector<registry::PackageRecord> all = store->List().value();
    for (const registry::PackageRecord& r : all) out.push_back(std::string(StateName(r.state)));
    return out;
  };
  const std::vector<std::string> states_before = states();
  {
    std::unique_ptr<Runtime> rt = Open();
    Result<ModuleHandle> m = rt->Acquire(kDate);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    Result<SessionHandle> s = rt->OpenSession(*m);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(Generate(*rt, *s, "convert 13th of February, 1994 to YYYY-MM-DD\n"), "1994-02-13");
    Result<ModuleHandle> adapter = rt->Acquire("dev.test.unit-lora");  // and its base
    ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
    (void)rt->Report();
    ASSERT_TRUE(rt->CloseSession(*s).ok());
    ASSERT_TRUE(rt->Release(*m).ok());
    ASSERT_TRUE(rt->Evict(kDate).ok());
  }
  EXPECT_EQ(AllHistory(*store), before);
  EXPECT_EQ(states(), states_before);
}

TEST_F(RuntimeTest, AKilledRuntimeLeavesNothingLive) {
  // Each round removes its package afterwards, so each holds another one.
  for (const auto& [signal, id] : {std::pair<int, std::string>{SIGKILL, "dev.test.skills.date"},
                                   std::pair<int, std::string>{SIGTERM, "dev.test.skills.unit"}}) {
    SCOPED_TRACE(signal == SIGKILL ? "SIGKILL" : "SIGTERM");
    std::unique_ptr<registry::Registry> store = registry::Registry::Open(home_).value();
    RuntimeChild child(home_, id);
    ASSERT_TRUE(child.ready());
    const std::string pid = std::to_string(child.pid());
    std::vector<registry::LiveModule> live = registry::ReadLiveStates(home_).value();
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0].key, id + "@1.0.0");
    EXPECT_EQ(live[0].state, registry::LiveState::kActive);
    EXPECT_EQ(std::to_string(live[0].pid), pid);
    // While the child holds it, remove is refused and names the process.
    const Status refused = store->Remove(id, "", "test");
    EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(refused.message().find("it is active in pid " + pid), std::string::npos)
        << refused.message();
    EXPECT_EQ(store->Show(id).value().state, registry::State::kInstalled);

    ASSERT_TRUE(child.Kill(signal));
    EXPECT_TRUE(registry::ReadLiveStates(home_).value().empty());
    EXPECT_TRUE(store->Remove(id, "", "test").ok());
    Result<registry::DoctorReport> doctor = store->Doctor(false, false);
    ASSERT_TRUE(doctor.ok()) << doctor.status().ToString();
    EXPECT_TRUE(doctor->consistent);
    EXPECT_TRUE(doctor->findings.empty()) << doctor->findings.front();
  }
}

}  // namespace
}  // namespace tessera::testing
