// The resident-set manager on a fake loader and a fake clock: refusal before allocation, LRU
// order, pins, leases, minimum residence, soft pins, failed transactions, measured footprints,
// shared artifacts, the known-good set.
#include "resident/resident_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fake_loader.h"
#include "fake_set.h"

namespace tessera::resident {
namespace {

using fake::Behavior;
using fake::FakeLoader;
using fake::kMB;
using fake::Spec;

class ResidentSetTest : public fake::FakeSetTest {
 protected:
  // A set with `host_mb` of host budget and the given limits. These tests run on one thread:
  // a plan that would fit once other leases end fails at once (kUnavailable) instead of
  // waiting for a deadline the fake clock never reaches (admission_test.cc waits).
  void Make(double host_mb, Budgets b = {}, bool overlap_loads = false) {
    b.host_bytes = static_cast<std::uint64_t>(host_mb * kMB);
    b.queue_timeout_micros = 0;
    ResidentOptions o;
    o.budgets = b;
    o.overlap_loads = overlap_loads;
    MakeSet(std::move(o));
  }
  // Acquires and releases at once: the module is resident and idle.
  void Touch(const ModuleSpec& spec) {
    Result<ResidentSet::Lease> lease = set_->Acquire(spec);
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  }
};

using fake::Keys;

TEST_F(ResidentSetTest, RefusesWhatCannotFitBeforeLoadingAnything) {
  Make(10);
  Result<ResidentSet::Lease> lease = set_->Acquire(Spec("big@1", 12));
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(lease.status().message().find("needs host 12.00 MB"), std::string::npos)
      << lease.status().message();
  EXPECT_NE(lease.status().message().find("host budget 10.00 MB"), std::string::npos);
  EXPECT_EQ(loader_.total_loads(), 0);
  EXPECT_EQ(Events(EventKind::kRefused), Keys{"big@1"});
  EXPECT_EQ(set_->Report().counters.refusals, 1u);
}

TEST_F(ResidentSetTest, EvictsTheLeastRecentlyUsed) {
  Make(10);
  Touch(Spec("a@1", 4));
  clock_.AdvanceSeconds(1);
  Touch(Spec("b@1", 4));
  clock_.AdvanceSeconds(1);
  Touch(Spec("a@1", 4));  // a is now the most recently used
  EXPECT_EQ(set_->Report().counters.hits, 1u);
  clock_.AdvanceSeconds(1);
  Touch(Spec("c@1", 4));
  EXPECT_EQ(Resident(), (Keys{"a@1", "c@1"}));
  EXPECT_EQ(Events(EventKind::kEvicted), Keys{"b@1"});
  EXPECT_EQ(FakeLoader::alive(), 2);
}

TEST_F(ResidentSetTest, KActiveLimitEvictsToo) {
  Budgets b;
  b.max_active = 2;
  Make(100, b);
  Touch(Spec("a@1", 1));
  clock_.AdvanceSeconds(1);
  Touch(Spec("b@1", 1));
  clock_.AdvanceSeconds(1);
  Touch(Spec("c@1", 1));
  EXPECT_EQ(Resident(), (Keys{"b@1", "c@1"}));
  EXPECT_EQ(set_->Report().k_active, 2);
}

TEST_F(ResidentSetTest, PinnedModulesAreNotVictims) {
  Make(10);
  Touch(Spec("a@1", 4));
  clock_.AdvanceSeconds(1);
  Touch(Spec("b@1", 4));
  ASSERT_TRUE(set_->Pin("a@1", true).ok());
  clock_.AdvanceSeconds(1);
  Touch(Spec("c@1", 4));
  EXPECT_EQ(Resident(), (Keys{"a@1", "c@1"}));
  ASSERT_TRUE(set_->Pin("c@1", true).ok());
  Result<ResidentSet::Lease> d = set_->Acquire(Spec("d@1", 4));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("a@1 pinned, c@1 pinned"), std::string::npos)
      << d.status().message();
  EXPECT_EQ(set_->Evict("a@1").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(set_->Pin("a@1", false).ok());
  Touch(Spec("d@1", 4));
  EXPECT_EQ(Resident(), (Keys{"c@1", "d@1"}));
  EXPECT_EQ(set_->Pin("zz@1", true).code(), StatusCode::kNotFound);
}

TEST_F(ResidentSetTest, LeasedModulesAreNeverEvicted) {
  Make(10);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 4));
  Result<ResidentSet::Lease> b = set_->Acquire(Spec("b@1", 4));
  ASSERT_TRUE(a.ok() && b.ok());
  clock_.AdvanceSeconds(60);
  Result<ResidentSet::Lease> c = set_->Acquire(Spec("c@1", 4));
  ASSERT_FALSE(c.ok());
  // It would fit once a lease ends: not refused for good, but no room now.
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  const std::string& msg = c.status().message();
  EXPECT_NE(msg.find("free 2.00 MB"), std::string::npos) << msg;
  EXPECT_NE(msg.find("a@1 leased (1), b@1 leased (1)"), std::string::npos) << msg;
  EXPECT_EQ(set_->Evict("a@1").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(loader_.loads("c@1"), 0);
  b->Release();
  Touch(Spec("c@1", 4));
  EXPECT_EQ(Resident(), (Keys{"a@1", "c@1"}));
}

TEST_F(ResidentSetTest, MinimumResidenceTimeStopsThrashing) {
  Budgets b;
  b.min_residence_micros = 10'000'000;
  Make(5, b);
  Touch(Spec("a@1", 4));
  clock_.AdvanceSeconds(5);
  Result<ResidentSet::Lease> c = set_->Acquire(Spec("b@1", 4));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("a@1 resident for 5.0 s < minimum 10.0 s"), std::string::npos)
      << c.status().message();
  clock_.AdvanceSeconds(5);
  Touch(Spec("b@1", 4));
  EXPECT_EQ(Resident(), Keys{"b@1"});
}

TEST_F(ResidentSetTest, SoftPinsExpire) {
  Make(5);
  Touch(Spec("a@1", 4));
  ASSERT_TRUE(set_->SoftPin("a@1", 3'000'000).ok());
  clock_.AdvanceSeconds(1);
  Result<ResidentSet::Lease> b = set_->Acquire(Spec("b@1", 4));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("a@1 soft-pinned for 2.0 s more"), std::string::npos)
      << b.status().message();
  EXPECT_EQ(set_->Report().modules.at(0).soft_pin_remaining_micros, 2'000'000);
  clock_.AdvanceSeconds(2);
  Touch(Spec("b@1", 4));
  EXPECT_EQ(Resident(), Keys{"b@1"});
}

// With overlap_loads, the victims stay in memory until the commit: a failed load leaves them
// untouched (peak_test.cc covers the default, which releases and restores them).
TEST_F(ResidentSetTest, AFailedLoadLeavesTheSetIntactWhenLoadsOverlap) {
  Make(10, {}, /*overlap_loads=*/true);
  Touch(Spec("a@1", 3));
  clock_.AdvanceSeconds(1);
  Touch(Spec("b@1", 3));
  loader_.Set("d@1", {.load_error = Status(StatusCode::kIoError, "disk on fire")});
  clock_.AdvanceSeconds(1);
  // c and d need the room of a and b: both would be evicted, but d fails after c loaded.
  const std::vector<ModuleSpec> plan = {Spec("c@1", 3), Spec("d@1", 3)};
  Status s = set_->Activate(plan);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("resident: load d@1: disk on fire"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("the resident set is unchanged"), std::string::npos);
  EXPECT_EQ(Resident(), (Keys{"a@1", "b@1"}));
  EXPECT_EQ(FakeLoader::alive(), 2);  // c was loaded and dropped: nothing leaks
  EXPECT_TRUE(Events(EventKind::kEvicted).empty());
  EXPECT_EQ(Events(EventKind::kLoadFailed), Keys{"d@1"});
  // a and b still serve.
  Touch(Spec("a@1", 3));
  EXPECT_EQ(loader_.loads("a@1"), 1);
}

TEST_F(ResidentSetTest, AFailedSmokeCheckLeavesTheSetIntact) {
  Make(10);
  Touch(Spec("a@1", 6));
  loader_.Set("b@1", {.verify_error = Status(StatusCode::kInternal, "logits are NaN")});
  Result<ResidentSet::Lease> b = set_->Acquire(Spec("b@1", 6));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("smoke check of b@1: logits are NaN"), std::string::npos)
      << b.status().message();
  EXPECT_EQ(Resident(), Keys{"a@1"});
  EXPECT_EQ(FakeLoader::alive(), 1);
}

TEST_F(ResidentSetTest, MeasuredFootprintsReplaceEstimates) {
  Make(10);
  Behavior heavy;
  heavy.measured = Spec("a@1", 7).estimate;
  heavy.measured.measured = true;
  loader_.Set("a@1", heavy);
  Touch(Spec("a@1", 2));  // estimated 2 MB, measured 7 MB
  ResidentReport r = set_->Report();
  ASSERT_EQ(r.modules.size(), 1u);
  EXPECT_EQ(r.modules[0].estimate.private_bytes.host, 2 * kMB);
  EXPECT_TRUE(r.modules[0].measured.measured);
  EXPECT_EQ(r.modules[0].measured.private_bytes.host, 7 * kMB);
  EXPECT_EQ(r.usage.bytes.host, 7 * kMB);
  // 7 + 4 > 10: b must evict a, which the 2 MB estimate would not have required.
  clock_.AdvanceSeconds(1);
  Touch(Spec("b@1", 4));
  EXPECT_EQ(Resident(), Keys{"b@1"});
}

TEST_F(ResidentSetTest, AMeasurementOverTheEstimatePlansAgain) {
  Make(10);
  Touch(Spec("a@1", 4));
  Behavior heavy;
  heavy.measured = Spec("b@1", 8).estimate;
  heavy.measured.measured = true;
  loader_.Set("b@1", heavy);
  clock_.AdvanceSeconds(1);
  // b fits beside a as estimated (3 MB); its load measures 8: the load is undone and the plan
  // made again with the measurement, which evicts a.
  ASSERT_TRUE(set_->Activate(std::vector<ModuleSpec>{Spec("b@1", 3)}).ok());
  EXPECT_EQ(Resident(), Keys{"b@1"});
  EXPECT_EQ(FakeLoader::alive(), 1);
  const Counters c = set_->Report().counters;
  EXPECT_EQ(c.replans, 1u);
  EXPECT_EQ(c.load_failures, 1u);
  EXPECT_EQ(c.evictions, 1u);
  EXPECT_EQ(c.loads, 2u);
}

TEST_F(ResidentSetTest, AMeasurementOverTheBudgetIsRefused) {
  Make(10);
  Touch(Spec("a@1", 4));
  Behavior huge;
  huge.measured = Spec("b@1", 12).estimate;
  huge.measured.measured = true;
  loader_.Set("b@1", huge);
  clock_.AdvanceSeconds(1);
  // Estimated 3 MB, measured 12: the second plan refuses it, and a stays.
  Status s = set_->Activate(std::vector<ModuleSpec>{Spec("b@1", 3)});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("b@1"), std::string::npos) << s.message();
  EXPECT_EQ(Resident(), Keys{"a@1"});
  EXPECT_EQ(FakeLoader::alive(), 1);
  const Counters c = set_->Report().counters;
  EXPECT_EQ(c.replans, 1u);
  EXPECT_EQ(c.refusals, 1u);
}

TEST_F(ResidentSetTest, SharedArtifactsAreChargedOnce) {
  Make(20);
  // Two adapters on one 8 MB base: 8 + 1 + 1, not 18.
  Touch(Spec("x@1", 1, {"base"}, 8));
  Touch(Spec("y@1", 1, {"base"}, 8));
  EXPECT_EQ(set_->Report().usage.bytes.host, 10 * kMB);
  // A third module of 12 MB must evict both adapters: the base goes with the last of them.
  clock_.AdvanceSeconds(1);
  Touch(Spec("z@1", 12));
  EXPECT_EQ(Resident(), Keys{"z@1"});
}

TEST_F(ResidentSetTest, EvictionKeepsArtifactsAnIncomingModuleShares) {
  Make(11);
  Touch(Spec("x@1", 2, {"base"}, 8));
  clock_.AdvanceSeconds(1);
  // y shares the base: evicting x frees only its 2 private MB, which is enough.
  Touch(Spec("y@1", 2, {"base"}, 8));
  EXPECT_EQ(Resident(), Keys{"y@1"});
  EXPECT_EQ(set_->Report().usage.bytes.host, 10 * kMB);
}

TEST_F(ResidentSetTest, PreviewPlansWithoutChangingAnything) {
  Make(11);
  Touch(Spec("x@1", 2, {"base"}, 8));
  clock_.AdvanceSeconds(1);
  ResidentSet::Preview p = set_->PreviewAcquire(Spec("x@1", 2, {"base"}, 8));
  EXPECT_TRUE(p.resident);
  EXPECT_EQ(p.load_host_bytes, 0u);
  // y shares the resident base: only its 2 private MB are loaded, and x must go.
  p = set_->PreviewAcquire(Spec("y@1", 2, {"base"}, 8));
  EXPECT_FALSE(p.resident);
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.load_host_bytes, 2 * kMB);
  EXPECT_EQ(p.evict, Keys{"x@1"});
  p = set_->PreviewAcquire(Spec("big@1", 12));
  EXPECT_FALSE(p.fits);
  EXPECT_NE(p.refusal.find("needs host 12.00 MB"), std::string::npos) << p.refusal;
  EXPECT_EQ(Resident(), Keys{"x@1"});
  EXPECT_EQ(loader_.total_loads(), 1);
  EXPECT_EQ(set_->Report().counters.refusals, 0u);
  EXPECT_TRUE(Events(EventKind::kEvicted).empty());
}

TEST_F(ResidentSetTest, RollsBackToTheKnownGoodSet) {
  Make(10);
  Touch(Spec("a@1", 3));
  Touch(Spec("b@1", 3));
  set_->RecordKnownGood();
  clock_.AdvanceSeconds(1);
  Touch(Spec("c@1", 8));  // evicts a and b
  EXPECT_EQ(Resident(), Keys{"c@1"});
  ASSERT_TRUE(set_->RollbackToKnownGood().ok());
  EXPECT_EQ(Resident(), (Keys{"a@1", "b@1"}));
  EXPECT_EQ(Events(EventKind::kRolledBack).size(), 1u);
  ResidentReport r = set_->Report();
  ASSERT_EQ(r.known_good.size(), 2u);
  EXPECT_EQ(r.known_good[0].key, "a@1");
}

TEST_F(ResidentSetTest, RollbackWithoutASnapshotIsRefused) {
  Make(10);
  EXPECT_EQ(set_->RollbackToKnownGood().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ResidentSetTest, SessionsKvIsChargedAndCanEvict) {
  Budgets b;
  b.kv_bytes = 3 * kMB;
  b.max_sessions = 2;
  Make(10, b);
  Touch(Spec("a@1", 4));
  clock_.AdvanceSeconds(1);
  Result<ResidentSet::Lease> lease = set_->Acquire(Spec("b@1", 4));
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(set_->ChargeSession(*lease, {1 * kMB, 0}).ok());  // 9 MB: fits
  EXPECT_EQ(Resident(), (Keys{"a@1", "b@1"}));
  ASSERT_TRUE(set_->ChargeSession(*lease, {2 * kMB, 0}).ok());  // 11 MB: evicts idle a
  EXPECT_EQ(Resident(), Keys{"b@1"});
  EXPECT_EQ(set_->Report().usage.kv, 3 * kMB);
  EXPECT_EQ(set_->Report().usage.bytes.host, 7 * kMB);
  // The session limit and the KV budget: both free up when other sessions close, so they
  // are "no room now" (no waiting on this thread), not refusals.
  Status over = set_->ChargeSession(*lease, {1, 0});
  EXPECT_EQ(over.code(), StatusCode::kUnavailable);
  EXPECT_NE(over.message().find("2 sessions open, the limit is 2"), std::string::npos)
      << over.message();
  set_->ReleaseSession(*lease, {2 * kMB, 0});
  over = set_->ChargeSession(*lease, {3 * kMB, 0});  // the KV budget: 1 + 3 > 3
  EXPECT_EQ(over.code(), StatusCode::kUnavailable);
  EXPECT_NE(over.message().find("KV 4.00 MB > budget 3.00 MB"), std::string::npos)
      << over.message();
  // A session larger than the KV budget itself can never fit.
  over = set_->ChargeSession(*lease, {4 * kMB, 0});
  EXPECT_EQ(over.code(), StatusCode::kResourceExhausted);
  set_->ReleaseSession(*lease, {1 * kMB, 0});
  EXPECT_EQ(set_->Report().usage.kv, 0u);
  // Buffers other than KV count in the host budget only.
  ASSERT_TRUE(set_->ChargeSession(*lease, {0, 5 * kMB}).ok());
  EXPECT_EQ(set_->Report().usage.bytes.host, 9 * kMB);
  EXPECT_EQ(set_->Report().modules.at(0).sessions, 1);
  set_->ReleaseSession(*lease, {0, 5 * kMB});
}

TEST_F(ResidentSetTest, ExplicitEviction) {
  Make(10);
  Touch(Spec("a@1", 3));
  ASSERT_TRUE(set_->Evict("a@1").ok());
  EXPECT_TRUE(Resident().empty());
  EXPECT_EQ(FakeLoader::alive(), 0);
  EXPECT_EQ(set_->Evict("a@1").code(), StatusCode::kNotFound);
}

TEST_F(ResidentSetTest, ADuplicateKeyInOnePlanIsInvalid) {
  Make(10);
  const std::vector<ModuleSpec> twice = {Spec("a@1", 1), Spec("a@1", 1)};
  EXPECT_EQ(set_->Activate(twice).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::resident
