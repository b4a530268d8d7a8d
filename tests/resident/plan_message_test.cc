// Refusal messages of the planner name budgets as a person reads them: an unlimited budget is
// "unlimited", never 2^64 bytes less what is used (issue 17: `--budget-kv 1` printed "free
// 18446744073.71 GB" for an unlimited host budget).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "resident/plan.h"
#include "resident/policy.h"

namespace tessera::resident {
namespace {

TEST(PlanMessageTest, AnUnlimitedHostBudgetIsNotPrintedAsANumber) {
  Budgets budgets;
  budgets.kv_bytes = 1;  // only the KV budget is set
  std::vector<PlanModule> modules(1);
  modules[0].key = "dev.a@1.0.0";
  modules[0].footprint.private_bytes.host = 8'000'000;
  modules[0].leases = 1;  // busy: not evictable
  PlanRequest request;
  request.keep = {"dev.a@1.0.0"};
  request.extra_kv_bytes = 4096;
  request.what = "a session of dev.a@1.0.0";
  std::unique_ptr<EvictionPolicy> lru = LeastRecentlyUsed();
  Result<Plan> plan = MakePlan(budgets, modules, request, *lru);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kResourceExhausted);
  const std::string msg = plan.status().message();
  EXPECT_NE(msg.find("host budget unlimited"), std::string::npos) << msg;
  EXPECT_NE(msg.find("free unlimited"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("18446744073"), std::string::npos) << msg;
}

}  // namespace
}  // namespace tessera::resident
