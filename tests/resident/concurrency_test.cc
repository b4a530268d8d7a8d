// The resident-set manager under concurrent requests: coalesced loads, loads that do not block
// requests for resident modules, K_parallel slots with a FIFO queue and deadlines.
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

using fake::FakeLoader;
using fake::kMB;
using fake::Spec;

class ResidentConcurrencyTest : public fake::FakeSetTest {
 protected:
  void Make(Budgets b) {
    ResidentOptions o;
    o.budgets = b;
    MakeSet(std::move(o));
  }
};

TEST_F(ResidentConcurrencyTest, ConcurrentRequestsShareOneLoad) {
  Make({});
  loader_.Set("a@1", {.stall = true});
  auto first = std::async(std::launch::async, [&] { return set_->Acquire(Spec("a@1", 1)); });
  loader_.AwaitStalled("a@1");
  auto second = std::async(std::launch::async, [&] { return set_->Acquire(Spec("a@1", 1)); });
  // The second request waits for the first one's load instead of loading again.
  while (set_->Report().waiting == 0) std::this_thread::yield();
  loader_.Release("a@1");
  Result<ResidentSet::Lease> a1 = first.get();
  Result<ResidentSet::Lease> a2 = second.get();
  ASSERT_TRUE(a1.ok() && a2.ok());
  EXPECT_EQ(loader_.loads("a@1"), 1);
  EXPECT_EQ(a1->module(), a2->module());
  EXPECT_EQ(set_->Report().modules.at(0).leases, 2);
}

TEST_F(ResidentConcurrencyTest, ConcurrentRequestsShareALoadError) {
  Make({});
  loader_.Set("a@1",
              {.load_error = Status(StatusCode::kIntegrity, "sha256 differs"), .stall = true});
  auto first = std::async(std::launch::async, [&] { return set_->Acquire(Spec("a@1", 1)); });
  loader_.AwaitStalled("a@1");
  auto second = std::async(std::launch::async, [&] { return set_->Acquire(Spec("a@1", 1)); });
  while (set_->Report().waiting == 0) std::this_thread::yield();
  loader_.Release("a@1");
  Result<ResidentSet::Lease> a1 = first.get();
  Result<ResidentSet::Lease> a2 = second.get();
  ASSERT_FALSE(a1.ok());
  EXPECT_EQ(a1.status().code(), StatusCode::kIntegrity);
  ASSERT_FALSE(a2.ok());
  EXPECT_EQ(a2.status().code(), StatusCode::kIntegrity);
  EXPECT_EQ(loader_.loads("a@1"), 1);
  EXPECT_EQ(set_->Report().counters.coalesced, 1u);
}

TEST_F(ResidentConcurrencyTest, RequestsSharingAnUnderestimatedLoadPlanAgainWithIt) {
  Budgets b;
  b.host_bytes = 10 * kMB;
  Make(b);
  ASSERT_TRUE(set_->Acquire(Spec("a@1", 4)).ok());  // resident, idle
  clock_.AdvanceSeconds(1);
  fake::Behavior heavy{.stall = true};
  heavy.measured = Spec("b@1", 8).estimate;  // estimated 3 MB below
  heavy.measured.measured = true;
  loader_.Set("b@1", heavy);
  auto first = std::async(std::launch::async, [&] { return set_->Acquire(Spec("b@1", 3)); });
  loader_.AwaitStalled("b@1");
  auto second = std::async(std::launch::async, [&] { return set_->Acquire(Spec("b@1", 3)); });
  while (set_->Report().waiting == 0) std::this_thread::yield();
  loader_.Release("b@1");
  // 4 + 8 > 10: the load is undone; both requests plan again with the 8 MB measurement, one
  // of them evicts a and loads b, the other shares that load.
  while (loader_.loads("b@1") < 2) std::this_thread::yield();  // the first stall has ended
  loader_.AwaitStalled("b@1");
  loader_.Release("b@1");
  Result<ResidentSet::Lease> b1 = first.get();
  Result<ResidentSet::Lease> b2 = second.get();
  ASSERT_TRUE(b1.ok()) << b1.status().ToString();
  ASSERT_TRUE(b2.ok()) << b2.status().ToString();
  EXPECT_EQ(b1->module(), b2->module());
  EXPECT_EQ(loader_.loads("b@1"), 2);
  const ResidentReport r = set_->Report();
  ASSERT_EQ(r.modules.size(), 1u);
  EXPECT_EQ(r.modules.at(0).key, "b@1");
  EXPECT_EQ(r.counters.replans, 1u);
}

TEST_F(ResidentConcurrencyTest, ALoadDoesNotBlockRequestsForResidentModules) {
  Make({});
  const ModuleSpec a_spec = Spec("a@1", 1);
  const ModuleSpec b_spec = Spec("b@1", 1);
  ASSERT_TRUE(set_->Acquire(a_spec).ok());  // resident, idle
  loader_.Set("b@1", {.stall = true});
  auto slow = std::async(std::launch::async, [&] { return set_->Acquire(b_spec); });
  loader_.AwaitStalled("b@1");
  // b's load is in progress (stalled): a is served, reports and pins work.
  Result<ResidentSet::Lease> a = set_->Acquire(a_spec);
  ASSERT_TRUE(a.ok());
  ResidentReport r = set_->Report();
  ASSERT_EQ(r.modules.size(), 2u);
  EXPECT_EQ(r.modules[1].state, "loading");
  EXPECT_EQ(r.k_active, 1);
  ASSERT_TRUE(set_->Pin("a@1", true).ok());
  loader_.Release("b@1");
  ASSERT_TRUE(slow.get().ok());
}

TEST_F(ResidentConcurrencyTest, KParallelQueuesThenFailsWithARetryHint) {
  Budgets b;
  b.max_parallel = 1;
  b.queue_timeout_micros = 5'000'000;
  Make(b);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 1));
  Result<ResidentSet::Lease> bl = set_->Acquire(Spec("b@1", 1));
  ASSERT_TRUE(a.ok() && bl.ok());
  Result<ResidentSet::Slot> slot_a = set_->EnterParallel(*a);
  ASSERT_TRUE(slot_a.ok());
  // A second request for a joins without a new slot.
  Result<ResidentSet::Slot> slot_a2 = set_->EnterParallel(*a);
  ASSERT_TRUE(slot_a2.ok());
  EXPECT_EQ(set_->Report().k_parallel, 1);
  auto waiting = std::async(std::launch::async, [&] { return set_->EnterParallel(*bl); });
  while (set_->Report().queued == 0) std::this_thread::yield();
  clock_.AdvanceSeconds(6);  // past the deadline
  Result<ResidentSet::Slot> slot_b = waiting.get();
  ASSERT_FALSE(slot_b.ok());
  EXPECT_EQ(slot_b.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(slot_b.status().message().find("K_parallel 1 of 1"), std::string::npos)
      << slot_b.status().message();
  EXPECT_NE(slot_b.status().message().find("retry after"), std::string::npos);
  EXPECT_EQ(set_->Report().queued, 0);
  EXPECT_EQ(set_->Report().counters.queue_timeouts, 1u);
}

TEST_F(ResidentConcurrencyTest, KParallelServesTheQueueInOrder) {
  Budgets b;
  b.max_parallel = 1;
  Make(b);
  Result<ResidentSet::Lease> a = set_->Acquire(Spec("a@1", 1));
  Result<ResidentSet::Lease> bl = set_->Acquire(Spec("b@1", 1));
  Result<ResidentSet::Lease> c = set_->Acquire(Spec("c@1", 1));
  ASSERT_TRUE(a.ok() && bl.ok() && c.ok());
  Result<ResidentSet::Slot> slot_a = set_->EnterParallel(*a);
  ASSERT_TRUE(slot_a.ok());
  std::mutex mu;
  std::vector<std::string> order;
  auto enter = [&](const ResidentSet::Lease& lease) {
    Result<ResidentSet::Slot> s = set_->EnterParallel(lease);
    EXPECT_TRUE(s.ok());
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(lease.key());
  };  // the slot leaves here
  std::thread tb(enter, std::cref(*bl));
  while (set_->Report().queued < 1) std::this_thread::yield();
  std::thread tc(enter, std::cref(*c));
  while (set_->Report().queued < 2) std::this_thread::yield();
  slot_a->Leave();
  tb.join();
  tc.join();
  EXPECT_EQ(order, (std::vector<std::string>{"b@1", "c@1"}));
  EXPECT_EQ(set_->Report().k_parallel, 0);
}

TEST_F(ResidentConcurrencyTest, ManyThreadsKeepTheBudget) {
  Budgets b;
  b.host_bytes = 5 * kMB;
  Make(b);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string key = "m";  // (operator+ on literals trips g++ 12's -Wrestrict)
        key += std::to_string((t + i) % 6);
        key += "@1";
        Result<ResidentSet::Lease> l = set_->Acquire(Spec(key, 2));
        if (l.ok()) {
          ++ok;
          EXPECT_LE(set_->Report().usage.bytes.host, 5 * kMB);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_GT(ok.load(), 0);
  ResidentReport r = set_->Report();
  EXPECT_LE(r.usage.bytes.host, 5 * kMB);
  EXPECT_EQ(FakeLoader::alive(), r.k_active);
}

}  // namespace
}  // namespace tessera::resident
