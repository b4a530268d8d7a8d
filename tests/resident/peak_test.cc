// The budget at the peak: by default a transaction releases its victims before it loads, so
// the bytes alive never exceed the budget; a failed load restores the victims (and says what
// that cost); a leased module is never released; a restore that fails leaves a consistent set
// and a clear error. overlap_loads keeps the old behaviour. The fake loader counts the bytes
// its modules hold, shared artifacts once, like the runtime's mapped weights.
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <thread>
#include <vector>

#include "fake_loader.h"
#include "fake_set.h"
#include "resident/resident_set.h"

namespace tessera::resident {
namespace {

using fake::Behavior;
using fake::FakeLoader;
using fake::kMB;
using fake::Keys;
using fake::Spec;

class ResidentPeakTest : public fake::FakeSetTest {
 protected:
  void Make(double host_mb, bool overlap_loads = false) {
    ResidentOptions o;
    o.budgets.host_bytes = static_cast<std::uint64_t>(host_mb * kMB);
    o.budgets.queue_timeout_micros = 0;  // one thread: nobody to wait for
    o.overlap_loads = overlap_loads;
    MakeSet(std::move(o));
  }
  void Touch(const ModuleSpec& spec) {
    Result<ResidentSet::Lease> lease = set_->Acquire(spec);
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    clock_.AdvanceSeconds(1);  // a later touch is more recent
  }
};

TEST_F(ResidentPeakTest, VictimsAreFreedBeforeTheLoad) {
  Make(10);
  Touch(Spec("a@1", 6));
  loader_.Set("b@1", {.stall = true});
  FakeLoader::ResetPeak();
  auto b = std::async(std::launch::async, [&] { return set_->Acquire(Spec("b@1", 6)); });
  loader_.AwaitStalled("b@1");
  // b is loading: a's bytes are gone already, but its room stays reserved for a restore.
  EXPECT_EQ(FakeLoader::alive_bytes(), 0u);
  EXPECT_EQ(State("a@1"), "released");
  EXPECT_EQ(State("b@1"), "loading");
  EXPECT_EQ(Events(EventKind::kEvicted), Keys{"a@1"});  // reported when the memory went
  EXPECT_EQ(set_->Report().usage.bytes.host, 6 * kMB);
  EXPECT_EQ(set_->Report().reserved.bytes.host, 12 * kMB);
  loader_.Release("b@1");
  ASSERT_TRUE(b.get().ok());
  EXPECT_EQ(Resident(), Keys{"b@1"});
  EXPECT_EQ(FakeLoader::peak_bytes(), 6 * kMB);
  EXPECT_EQ(set_->Report().counters.evictions, 1u);
}

TEST_F(ResidentPeakTest, OverlappingLoadsKeepVictimsUntilTheCommit) {
  Make(10, /*overlap_loads=*/true);
  Touch(Spec("a@1", 6));
  loader_.Set("b@1", {.stall = true});
  FakeLoader::ResetPeak();
  auto b = std::async(std::launch::async, [&] { return set_->Acquire(Spec("b@1", 6)); });
  loader_.AwaitStalled("b@1");
  EXPECT_EQ(FakeLoader::alive_bytes(), 6 * kMB);
  EXPECT_EQ(State("a@1"), "evicting");
  EXPECT_TRUE(Events(EventKind::kEvicted).empty());
  loader_.Release("b@1");
  ASSERT_TRUE(b.get().ok());
  EXPECT_EQ(Resident(), Keys{"b@1"});
  EXPECT_EQ(FakeLoader::peak_bytes(), 12 * kMB);  // the documented price of the option
}

TEST_F(ResidentPeakTest, AFailedLoadRestoresTheVictims) {
  Make(10);
  Touch(Spec("a@1", 4));
  Touch(Spec("b@1", 4));
  loader_.Set("d@1", {.load_error = Status(StatusCode::kIoError, "disk on fire")});
  FakeLoader::ResetPeak();
  // c and d need the room of a and b: both are released, c loads, d fails.
  Status s = set_->Activate(std::vector<ModuleSpec>{Spec("c@1", 4), Spec("d@1", 4)});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);  // the load's error, not the restore's
  EXPECT_NE(s.message().find("resident: load d@1: disk on fire"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("restored the 2 modules it had evicted (a@1, b@1: 8.00 MB in"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(Resident(), (Keys{"a@1", "b@1"}));
  EXPECT_EQ(FakeLoader::alive(), 2);  // c was loaded and dropped
  EXPECT_LE(FakeLoader::peak_bytes(), 10 * kMB);
  EXPECT_EQ(loader_.loads("a@1"), 2);
  EXPECT_EQ(loader_.loads("b@1"), 2);
  const Counters c = set_->Report().counters;
  EXPECT_EQ(c.restores, 2u);
  EXPECT_EQ(c.restore_failures, 0u);
  EXPECT_EQ(c.load_failures, 1u);
  EXPECT_EQ(Events(EventKind::kLoadFailed), Keys{"d@1"});
  // The restored modules serve as before, without another load.
  Touch(Spec("a@1", 4));
  EXPECT_EQ(loader_.loads("a@1"), 2);
  EXPECT_EQ(set_->Report().usage.bytes.host, 8 * kMB);
}

TEST_F(ResidentPeakTest, AFailedSmokeCheckRestoresTheVictim) {
  Make(10);
  Touch(Spec("a@1", 6));
  loader_.Set("b@1", {.verify_error = Status(StatusCode::kInternal, "logits are NaN")});
  Result<ResidentSet::Lease> b = set_->Acquire(Spec("b@1", 6));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("smoke check of b@1: logits are NaN"), std::string::npos);
  EXPECT_NE(b.status().message().find("restored the 1 module it had evicted (a@1"),
            std::string::npos)
      << b.status().message();
  EXPECT_EQ(Resident(), Keys{"a@1"});
  EXPECT_EQ(FakeLoader::alive(), 1);
}

TEST_F(ResidentPeakTest, AMeasurementOverTheBudgetRestoresTheVictims) {
  Make(10);
  Touch(Spec("a@1", 5));
  Behavior heavy;
  heavy.measured = Spec("b@1", 11).estimate;
  heavy.measured.measured = true;
  loader_.Set("b@1", heavy);
  Result<ResidentSet::Lease> b = set_->Acquire(Spec("b@1", 6));  // 6 estimated: a must go
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Resident(), Keys{"a@1"});
  EXPECT_EQ(set_->Report().counters.restores, 1u);
}

TEST_F(ResidentPeakTest, ALeasedModuleIsNeverReleased) {
  Make(10);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 4));
  ASSERT_TRUE(a.ok());
  clock_.AdvanceSeconds(1);
  Touch(Spec("b@1", 4));
  const LoadedModule* a_module = a->module().get();
  loader_.Set("c@1", {.load_error = Status(StatusCode::kIoError, "gone"), .stall = true});
  auto c = std::async(std::launch::async, [&] { return set_->Acquire(Spec("c@1", 4)); });
  loader_.AwaitStalled("c@1");
  // Only the idle b is released; a serves on, and another lease of it is granted meanwhile.
  EXPECT_EQ(State("a@1"), "resident");
  EXPECT_EQ(State("b@1"), "released");
  Result<ResidentSet::Lease> a2 = set_->Acquire(Spec("a@1", 4));
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(a2->module().get(), a_module);
  loader_.Release("c@1");
  ASSERT_FALSE(c.get().ok());
  EXPECT_EQ(Resident(), (Keys{"a@1", "b@1"}));
  EXPECT_EQ(loader_.loads("a@1"), 1);
  EXPECT_EQ(loader_.loads("b@1"), 2);
}

TEST_F(ResidentPeakTest, AFailedRestoreLeavesAConsistentSet) {
  Make(10);
  Touch(Spec("a@1", 6));
  // a loaded once; its restore (the second load) fails.
  loader_.Set("a@1",
              {.load_error = Status(StatusCode::kIntegrity, "sha256 differs"), .fail_from = 2});
  loader_.Set("b@1", {.load_error = Status(StatusCode::kIoError, "disk on fire")});
  Result<ResidentSet::Lease> b = set_->Acquire(Spec("b@1", 6));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kIoError);
  EXPECT_NE(b.status().message().find(
                "could not restore a@1 (resident: load a@1: sha256 differs): no longer resident"),
            std::string::npos)
      << b.status().message();
  EXPECT_TRUE(Resident().empty());
  EXPECT_EQ(FakeLoader::alive(), 0);
  EXPECT_EQ(set_->Report().usage.bytes.host, 0u);
  EXPECT_EQ(set_->Report().reserved.bytes.host, 0u);
  EXPECT_EQ(set_->Report().counters.restore_failures, 1u);
  EXPECT_EQ(Events(EventKind::kEvicted), Keys{"a@1"});
  // Nothing is stuck: a loads again once it can.
  loader_.Set("a@1", {});
  Touch(Spec("a@1", 6));
  EXPECT_EQ(Resident(), Keys{"a@1"});
}

TEST_F(ResidentPeakTest, ARequestForAReleasedVictimGetsItBack) {
  Make(10);
  Touch(Spec("a@1", 6));
  loader_.Set("b@1", {.load_error = Status(StatusCode::kIoError, "gone"), .stall = true});
  auto b = std::async(std::launch::async, [&] { return set_->Acquire(Spec("b@1", 6)); });
  loader_.AwaitStalled("b@1");
  // A request for a waits for b's transaction, then leases the restored module.
  auto a = std::async(std::launch::async, [&] { return set_->Acquire(Spec("a@1", 6)); });
  while (set_->Report().waiting == 0) std::this_thread::yield();
  loader_.Release("b@1");
  ASSERT_FALSE(b.get().ok());
  Result<ResidentSet::Lease> lease = a.get();
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_EQ(loader_.loads("a@1"), 2);
  EXPECT_EQ(Resident(), Keys{"a@1"});
}

TEST_F(ResidentPeakTest, AVictimKeepsTheBaseItSharesWithTheLoadMapped) {
  Make(11);
  Touch(Spec("x@1", 2, {"base"}, 8));
  loader_.Set("y@1", {.stall = true});
  FakeLoader::ResetPeak();
  auto y =
      std::async(std::launch::async, [&] { return set_->Acquire(Spec("y@1", 2, {"base"}, 8)); });
  loader_.AwaitStalled("y@1");
  // x's own 2 MB are gone; the base stays mapped for y, whose plan counts it.
  EXPECT_EQ(State("x@1"), "released");
  EXPECT_EQ(FakeLoader::alive_bytes(), 8 * kMB);
  loader_.Release("y@1");
  ASSERT_TRUE(y.get().ok());
  EXPECT_EQ(Resident(), Keys{"y@1"});
  EXPECT_EQ(loader_.maps("base"), 1);  // mapped once, by x
  EXPECT_EQ(FakeLoader::peak_bytes(), 10 * kMB);
}

TEST_F(ResidentPeakTest, ARollbackReleasesBeforeItLoads) {
  Make(10);
  Touch(Spec("a@1", 3));
  Touch(Spec("b@1", 3));
  set_->RecordKnownGood();
  Touch(Spec("c@1", 8));  // evicts a and b
  FakeLoader::ResetPeak();
  ASSERT_TRUE(set_->RollbackToKnownGood().ok());
  EXPECT_EQ(Resident(), (Keys{"a@1", "b@1"}));
  EXPECT_LE(FakeLoader::peak_bytes(), 10 * kMB);
}

}  // namespace
}  // namespace tessera::resident
