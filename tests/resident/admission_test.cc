// Admission under concurrent requests: a plan that fits once other requests end waits for
// them (FIFO, with bounded overtaking) until it fits or its deadline passes; only what can
// never fit is refused at once; sessions of leased modules go first; many clients on a slow
// loader all succeed without the bytes alive ever exceeding the budget.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>
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

class ResidentAdmissionTest : public fake::FakeSetTest {
 protected:
  void Make(double host_mb, std::int32_t max_overtakes = 4) {
    ResidentOptions o;
    o.budgets.host_bytes = static_cast<std::uint64_t>(host_mb * kMB);
    o.budgets.queue_timeout_micros = 30'000'000;  // on the fake clock: only the test moves it
    o.max_overtakes = max_overtakes;
    MakeSet(std::move(o));
  }
  // Blocks until `n` requests wait for memory.
  void AwaitAdmitting(int n) {
    while (set_->Report().admitting != n) std::this_thread::yield();
  }
  std::future<Result<ResidentSet::Lease>> AcquireLater(const ModuleSpec& spec) {
    return std::async(std::launch::async, [this, spec] { return set_->Acquire(spec); });
  }
};

TEST_F(ResidentAdmissionTest, ARequestWaitsForALeaseToEnd) {
  Make(10);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 6));
  ASSERT_TRUE(a.ok());
  auto b = AcquireLater(Spec("b@1", 6));
  AwaitAdmitting(1);
  EXPECT_EQ(loader_.loads("b@1"), 0);  // nothing allocated while it waits
  clock_.AdvanceSeconds(2);
  a->Release();
  Result<ResidentSet::Lease> got = b.get();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Resident(), Keys{"b@1"});
  const Counters c = set_->Report().counters;
  EXPECT_EQ(c.admission_waits, 1u);
  EXPECT_EQ(c.admission_timeouts, 0u);
  EXPECT_EQ(c.refusals, 0u);
  EXPECT_EQ(c.admission_wait_micros, 2'000'000);
}

TEST_F(ResidentAdmissionTest, ARequestWaitsForALoadInProgress) {
  Make(10);
  loader_.Set("a@1", {.stall = true});
  auto a = AcquireLater(Spec("a@1", 6));
  loader_.AwaitStalled("a@1");
  auto b = AcquireLater(Spec("b@1", 6));  // a is loading: not a victim yet
  AwaitAdmitting(1);
  loader_.Release("a@1");
  Result<ResidentSet::Lease> a_lease = a.get();
  ASSERT_TRUE(a_lease.ok());
  EXPECT_EQ(set_->Report().admitting, 1);  // a is leased now: b still waits
  clock_.AdvanceSeconds(1);
  a_lease->Release();
  ASSERT_TRUE(b.get().ok());
  EXPECT_EQ(loader_.order(), (Keys{"a@1", "b@1"}));
}

TEST_F(ResidentAdmissionTest, TheDeadlinePassesWithUnavailable) {
  Make(10);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 6));
  ASSERT_TRUE(a.ok());
  auto b = std::async(std::launch::async,
                      [&] { return set_->Acquire(Spec("b@1", 6), /*timeout_micros=*/5'000'000); });
  AwaitAdmitting(1);
  clock_.AdvanceSeconds(6);  // past the deadline
  Result<ResidentSet::Lease> got = b.get();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  const std::string& msg = got.status().message();
  EXPECT_NE(msg.find("load b@1: no room within 5.0 s (waited 6.0 s, 0 requests ahead; retry "
                     "after"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("a@1 leased (1)"), std::string::npos) << msg;
  EXPECT_EQ(loader_.loads("b@1"), 0);
  EXPECT_EQ(set_->Report().admitting, 0);
  EXPECT_EQ(set_->Report().counters.admission_timeouts, 1u);
  EXPECT_EQ(Events(EventKind::kQueueTimeout), Keys{"b@1"});
  EXPECT_TRUE(Events(EventKind::kRefused).empty());
}

TEST_F(ResidentAdmissionTest, WhatCanNeverFitIsRefusedAtOnce) {
  Make(10);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 6));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(set_->Pin("a@1", true).ok());
  Result<ResidentSet::Lease> held = set_->Acquire(Spec("h@1", 1));
  ASSERT_TRUE(held.ok());
  // 6 pinned + 6 > 10 whatever ends; 12 > 10 alone; two modules of 6 together.
  for (const ModuleSpec& s : {Spec("b@1", 6), Spec("big@1", 12)}) {
    Result<ResidentSet::Lease> r = set_->Acquire(s);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().message();
  }
  ASSERT_TRUE(set_->Pin("a@1", false).ok());
  a->Release();
  EXPECT_EQ(set_->Activate(std::vector<ModuleSpec>{Spec("x@1", 6), Spec("y@1", 6)}).code(),
            StatusCode::kResourceExhausted);
  const Counters c = set_->Report().counters;
  EXPECT_EQ(c.admission_waits, 0u);
  EXPECT_EQ(c.refusals, 3u);
  EXPECT_EQ(loader_.total_loads(), 2);
}

TEST_F(ResidentAdmissionTest, WaitersAreServedInOrder) {
  Make(10);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 6));
  ASSERT_TRUE(a.ok());
  auto b = AcquireLater(Spec("b@1", 6));
  AwaitAdmitting(1);
  auto c = AcquireLater(Spec("c@1", 6));
  AwaitAdmitting(2);
  // Either could take a's room now; the first to come does.
  a->Release();
  Result<ResidentSet::Lease> b_lease = b.get();
  ASSERT_TRUE(b_lease.ok());
  EXPECT_EQ(set_->Report().admitting, 1);
  EXPECT_EQ(loader_.loads("c@1"), 0);
  b_lease->Release();
  ASSERT_TRUE(c.get().ok());
  EXPECT_EQ(loader_.order(), (Keys{"a@1", "b@1", "c@1"}));
}

TEST_F(ResidentAdmissionTest, SmallRequestsPassALargeOneThatCannotFitYet) {
  Make(10);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 4));
  ASSERT_TRUE(a.ok());
  auto large = AcquireLater(Spec("large@1", 8));  // 4 + 8 > 10 while a is leased
  AwaitAdmitting(1);
  // A small module fits beside a now: it does not wait behind the large one.
  Result<ResidentSet::Lease> small = set_->Acquire(Spec("s1@1", 2));
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  small->Release();
  a->Release();
  ASSERT_TRUE(large.get().ok());
}

TEST_F(ResidentAdmissionTest, ALargeRequestIsNotStarvedBySmallOnes) {
  Make(10, /*max_overtakes=*/2);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 4));
  ASSERT_TRUE(a.ok());
  auto large = AcquireLater(Spec("large@1", 8));
  AwaitAdmitting(1);
  for (const char* key : {"s1@1", "s2@1"}) {  // two pass it
    clock_.AdvanceSeconds(1);
    ASSERT_TRUE(set_->Acquire(Spec(key, 2)).ok());
  }
  // The third would fit too (4 + 2 + 2 + 2), but the large one has been passed twice.
  auto s3 = AcquireLater(Spec("s3@1", 2));
  AwaitAdmitting(2);
  EXPECT_EQ(loader_.loads("s3@1"), 0);
  clock_.AdvanceSeconds(1);
  a->Release();
  Result<ResidentSet::Lease> large_lease = large.get();
  ASSERT_TRUE(large_lease.ok()) << large_lease.status().ToString();
  ASSERT_TRUE(s3.get().ok());
  EXPECT_EQ(loader_.order(), (Keys{"a@1", "s1@1", "s2@1", "large@1", "s3@1"}));
}

TEST_F(ResidentAdmissionTest, AnIdleModuleIsNotLeasedAheadOfARequestWhoseTurnHasCome) {
  Make(10, /*max_overtakes=*/0);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 4));
  ASSERT_TRUE(a.ok());
  clock_.AdvanceSeconds(1);
  ASSERT_TRUE(set_->Acquire(Spec("b@1", 3)).ok());  // resident, idle
  auto large = AcquireLater(Spec("large@1", 8));
  AwaitAdmitting(1);
  // Another lease of the leased a changes nothing for the large request: granted at once.
  ASSERT_TRUE(set_->Acquire(Spec("a@1", 4)).ok());
  // A lease of the idle b would keep a module the large request may evict: it waits.
  auto b = AcquireLater(Spec("b@1", 3));
  AwaitAdmitting(2);
  clock_.AdvanceSeconds(1);
  a->Release();
  ASSERT_TRUE(large.get().ok());  // evicted a and b (4 + 3 + 8 > 10, 3 + 8 > 10)
  ASSERT_TRUE(b.get().ok());      // then loaded again
  EXPECT_EQ(loader_.loads("b@1"), 2);
}

TEST_F(ResidentAdmissionTest, ASessionGoesAheadOfWaitingLoads) {
  Make(10, /*max_overtakes=*/0);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 4));
  ASSERT_TRUE(a.ok());
  auto large = AcquireLater(Spec("large@1", 8));
  AwaitAdmitting(1);
  // Work in progress: a's session fits and does not wait behind the large request.
  ASSERT_TRUE(set_->ChargeSession(*a, {1 * kMB, 1 * kMB}).ok());
  // A new load that would fit (4 + 2 + 2) waits: the large request's turn has come.
  auto small = AcquireLater(Spec("s@1", 2));
  AwaitAdmitting(2);
  set_->ReleaseSession(*a, {1 * kMB, 1 * kMB});
  a->Release();
  ASSERT_TRUE(large.get().ok());
  ASSERT_TRUE(small.get().ok());
}

TEST_F(ResidentAdmissionTest, ASessionWaitsForRoom) {
  Make(10);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 4));
  Result<ResidentSet::Lease> b = set_->Acquire(Spec("b@1", 2));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(set_->ChargeSession(*a, {3 * kMB, 0}).ok());  // 9 of 10
  auto session = std::async(std::launch::async, [&] {
    return set_->ChargeSession(*b, {2 * kMB, 0});
  });
  AwaitAdmitting(1);
  set_->ReleaseSession(*a, {3 * kMB, 0});
  ASSERT_TRUE(session.get().ok());
  EXPECT_EQ(set_->Report().usage.kv, 2 * kMB);
  set_->ReleaseSession(*b, {2 * kMB, 0});
}

TEST_F(ResidentAdmissionTest, ASessionsDeadlinePassesWithUnavailable) {
  Make(10);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 8));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(set_->ChargeSession(*a, {1 * kMB, 0}).ok());
  auto session = std::async(std::launch::async, [&] {
    return set_->ChargeSession(*a, {2 * kMB, 0}, /*timeout_micros=*/1'000'000);
  });
  AwaitAdmitting(1);
  clock_.AdvanceSeconds(2);
  Status s = session.get();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("no room within 1.0 s"), std::string::npos) << s.message();
  EXPECT_EQ(set_->Report().usage.kv, 1 * kMB);  // nothing charged for it
  set_->ReleaseSession(*a, {1 * kMB, 0});
}

// Leases then sessions, as the runtime takes them: a lease of an idle module is granted only
// with room for one session of it, so two requests never both hold a lease that leaves no
// room for either one's session (each would wait for the other until its deadline).
TEST_F(ResidentAdmissionTest, LeaseHoldersDoNotWaitForEachOthersSessions) {
  Make(10);
  const ResidentSet::SessionCharge session{1'500'000, 0};
  for (const ModuleSpec& s : {Spec("a@1", 4), Spec("b@1", 5)}) {  // learn their sessions
    Result<ResidentSet::Lease> l = set_->Acquire(s);
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE(set_->ChargeSession(*l, session).ok());
    set_->ReleaseSession(*l, session);
    clock_.AdvanceSeconds(1);
  }
  ASSERT_TRUE(set_->Activate(std::vector<ModuleSpec>{Spec("a@1", 4), Spec("b@1", 5)}).ok());
  // a + b = 9 fit, but a session beside both does not (10.5).
  Result<ResidentSet::Lease> first = set_->Acquire(Spec("b@1", 5));
  ASSERT_TRUE(first.ok());  // its session may evict the idle a
  Result<ResidentSet::Lease> second = set_->Acquire(Spec("a@1", 4), /*timeout_micros=*/0);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("room for a session"), std::string::npos)
      << second.status().message();
  ASSERT_TRUE(set_->ChargeSession(*first, session, /*timeout_micros=*/0).ok());
  EXPECT_EQ(Resident(), Keys{"b@1"});
  set_->ReleaseSession(*first, session);
}

// The same when neither module's session was measured before its load (a new store: the
// first load of each module measures it): the lease that would leave no room for its session
// beside the other lease is not granted; its module stays resident, idle, and it waits.
TEST_F(ResidentAdmissionTest, LeaseHoldersDoNotWaitForEachOthersUnmeasuredSessions) {
  Make(10);
  const ResidentSet::SessionCharge session{1'500'000, 0};
  for (const ModuleSpec& s : {Spec("a@1", 4), Spec("b@1", 5)}) {
    Behavior measures;  // what the smoke check finds: the estimate and one session
    measures.measured = s.estimate;
    measures.measured.session_kv_bytes = session.kv_bytes;
    measures.measured.measured = true;
    loader_.Set(s.key, measures);
  }
  Result<ResidentSet::Lease> first = set_->Acquire(Spec("b@1", 5));
  ASSERT_TRUE(first.ok());
  // a + b = 9 fit, so a loads; its session, measured by the load, does not fit beside b's
  // lease (10.5 MB).
  Result<ResidentSet::Lease> second = set_->Acquire(Spec("a@1", 4), /*timeout_micros=*/0);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("room for a session"), std::string::npos)
      << second.status().message();
  EXPECT_EQ(Resident(), (Keys{"a@1", "b@1"}));
  ASSERT_TRUE(set_->ChargeSession(*first, session, /*timeout_micros=*/0).ok());
  EXPECT_EQ(Resident(), Keys{"b@1"});  // the idle a made room
  set_->ReleaseSession(*first, session);
  first->Release();
  // Once b's lease ends, a's first lease (a hit) has its room.
  Result<ResidentSet::Lease> again = set_->Acquire(Spec("a@1", 4), /*timeout_micros=*/0);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(set_->ChargeSession(*again, session, /*timeout_micros=*/0).ok());
  set_->ReleaseSession(*again, session);
}

// Many clients, each taking a lease, a session, then letting go, on a loader that yields while
// it loads; a budget that holds about a third of the library. Real clock, real deadlines: a
// deadlock would show as kUnavailable, not as a hang. Sessions known before any load (as a
// store that recorded its measurements) or only once each module's first load measured one
// (a new store).
void RunManyClients(bool sessions_known_before) {
  FakeLoader loader;
  loader.SetLoadYields(200);
  std::vector<ModuleSpec> library;
  std::mt19937 rng(17);
  std::uint64_t total = 0;
  for (int i = 0; i < 12; ++i) {
    const double mb = 1 + static_cast<double>(rng() % 4);  // 1..4 MB
    std::string key = "m";
    key += std::to_string(i);
    key += "@1";
    library.push_back(Spec(key, mb));
    Behavior measures;  // the smoke check's session
    measures.measured = library.back().estimate;
    measures.measured.session_kv_bytes = 100'000;
    measures.measured.session_bytes = 50'000;
    measures.measured.measured = true;
    loader.Set(key, measures);
    if (sessions_known_before) library.back().estimate = measures.measured;
    total += static_cast<std::uint64_t>(mb * kMB);
  }
  ResidentOptions o;
  o.budgets.host_bytes = total / 3;
  o.budgets.queue_timeout_micros = 20'000'000;
  ResidentSet set(loader, std::move(o));
  FakeLoader::ResetPeak();
  std::atomic<int> ok{0}, failed{0};
  std::mutex first_error_mu;
  std::string first_error;
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      std::mt19937 pick(100 + t);
      for (int i = 0; i < 40; ++i) {
        const ModuleSpec& spec = library[pick() % library.size()];
        Status s;
        Result<ResidentSet::Lease> lease = set.Acquire(spec);
        if (lease.ok()) {
          const ResidentSet::SessionCharge charge{100'000, 50'000};
          s = set.ChargeSession(*lease, charge);
          if (s.ok()) set.ReleaseSession(*lease, charge);
        } else {
          s = lease.status();
        }
        if (s.ok()) {
          ++ok;
        } else {
          ++failed;
          std::lock_guard<std::mutex> lock(first_error_mu);
          if (first_error.empty()) first_error = s.ToString();
        }
      }
    });
  }
  for (std::thread& c : clients) c.join();
  EXPECT_EQ(failed.load(), 0) << first_error;
  EXPECT_EQ(ok.load(), 8 * 40);
  EXPECT_LE(FakeLoader::peak_bytes(), total / 3);
  const ResidentReport r = set.Report();
  EXPECT_EQ(r.admitting, 0);
  EXPECT_GT(r.counters.admission_waits, 0u);  // the budget made them wait, not fail
}

TEST(ResidentAdmissionStressTest, ManyClientsAllSucceedWithinTheBudget) {
  RunManyClients(/*sessions_known_before=*/true);
}

TEST(ResidentAdmissionStressTest, ManyClientsAllSucceedWhenNoSessionWasMeasuredBefore) {
  RunManyClients(/*sessions_known_before=*/false);
}

}  // namespace
}  // namespace tessera::resident
