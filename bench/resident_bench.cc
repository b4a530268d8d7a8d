// The resident-set manager's own overhead, on a loader that does no I/O: a lease of a resident
// module (the hot path of every request), a load that must evict (plan, transaction, commit),
// and planning over many resident modules.
//   build/release/bench/resident_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "resident/plan.h"
#include "resident/resident_set.h"

namespace tessera::resident {
namespace {

class NullModule final : public LoadedModule {};

class NullLoader final : public Loader {
 public:
  Result<LoadResult> Load(const ModuleSpec& spec) override {
    LoadResult r;
    r.module = std::make_shared<NullModule>();
    r.measured = spec.estimate;
    return r;
  }
  Status Verify(const ModuleSpec&, LoadedModule&, Footprint&) override { return Status::Ok(); }
};

ModuleSpec Spec(int i, std::uint64_t bytes) {
  ModuleSpec s;
  s.key = "dev.bench.m";  // (operator+ on literals trips g++ 12's -Wrestrict)
  s.key += std::to_string(i);
  s.key += "@1.0.0";
  s.sha256 = std::string(64, 'b');
  s.estimate.artifacts.push_back({s.key, {bytes, 0}});
  s.estimate.private_bytes.host = bytes / 10;
  return s;
}

void BM_AcquireResident(benchmark::State& state) {
  NullLoader loader;
  ResidentSet set(loader, {});
  const ModuleSpec spec = Spec(0, 1'000'000);
  Result<ResidentSet::Lease> warm = set.Acquire(spec);
  for (auto _ : state) {
    Result<ResidentSet::Lease> lease = set.Acquire(spec);
    benchmark::DoNotOptimize(lease.ok());
  }
}
BENCHMARK(BM_AcquireResident);

// Two modules, room for one: every acquisition evicts the other and loads.
void BM_AcquireWithEviction(benchmark::State& state) {
  NullLoader loader;
  ResidentOptions o;
  o.budgets.host_bytes = 1'500'000;
  ResidentSet set(loader, std::move(o));
  const ModuleSpec a = Spec(0, 1'000'000), b = Spec(1, 1'000'000);
  bool flip = false;
  for (auto _ : state) {
    Result<ResidentSet::Lease> lease = set.Acquire(flip ? a : b);
    flip = !flip;
    if (!lease.ok()) state.SkipWithError(lease.status().message().c_str());
  }
}
BENCHMARK(BM_AcquireWithEviction);

// Planning one load among N resident, idle modules when the budget forces one eviction.
void BM_PlanWithResident(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<PlanModule> modules;
  for (int i = 0; i < n; ++i) {
    PlanModule m;
    m.key = Spec(i, 1'000'000).key;
    m.footprint = Spec(i, 1'000'000).estimate;
    m.last_used_micros = i;
    modules.push_back(std::move(m));
  }
  Budgets b;
  b.host_bytes = static_cast<std::uint64_t>(n) * 1'100'000;
  PlanRequest request;
  request.load.push_back({"new@1", Spec(n, 1'000'000).estimate});
  request.now_micros = n;
  std::unique_ptr<EvictionPolicy> lru = LeastRecentlyUsed();
  for (auto _ : state) {
    Result<Plan> plan = MakePlan(b, modules, request, *lru);
    if (!plan.ok() || plan->evict.size() != 1) state.SkipWithError("unexpected plan");
  }
}
BENCHMARK(BM_PlanWithResident)->Arg(4)->Arg(16)->Arg(64);

}  // namespace
}  // namespace tessera::resident
