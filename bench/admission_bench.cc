// The resident-set manager under concurrent clients (issue 17, ADR 0018): throughput and latency
// percentiles of whole requests for 1, 2, 4 and 8 clients, at a host budget that holds a third
// of the library, with zero errors expected. A request takes what the runtime takes: a lease
// (loading, and evicting, when the module is not resident), a session's room, a K_parallel
// slot, 1 ms of compute on a pool of 2 threads (clients beyond 2 wait for it, they do not
// spin), then lets go. The loader takes 2 ms per MB and loads one module at a time, like the
// runtime's (it sleeps: the time of I/O and hashing, not compute).
//   build/release/bench/admission_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "resident/resident_set.h"

namespace tessera::resident {
namespace {

constexpr std::uint64_t kMB = 1'000'000;
constexpr int kRequests = 400;  // per run, shared among the clients
constexpr auto kComputePerRequest = std::chrono::microseconds(1000);
constexpr auto kLoadPerMB = std::chrono::microseconds(2000);

class NoModule final : public LoadedModule {};

class SlowLoader final : public Loader {
 public:
  Result<LoadResult> Load(const ModuleSpec& spec) override {
    std::lock_guard<std::mutex> lock(one_at_a_time_);
    const std::uint64_t mb = FootprintBytes(spec.estimate).host / kMB;
    std::this_thread::sleep_for(kLoadPerMB * static_cast<std::int64_t>(mb));
    LoadResult r;
    r.module = std::make_shared<NoModule>();
    r.measured = spec.estimate;
    return r;
  }
  Status Verify(const ModuleSpec&, LoadedModule&, Footprint&) override { return Status::Ok(); }

 private:
  std::mutex one_at_a_time_;
};

// 16 modules of 1 to 8 MB (seeded), each with a session of 0.5 MB of KV and 0.25 MB of buffers.
std::vector<ModuleSpec> Library(std::uint64_t* total) {
  std::mt19937 rng(17);
  std::vector<ModuleSpec> out;
  *total = 0;
  for (int i = 0; i < 16; ++i) {
    ModuleSpec s;
    s.key = "dev.bench.m";  // (operator+ on literals trips g++ 12's -Wrestrict)
    s.key += std::to_string(i);
    s.key += "@1.0.0";
    s.sha256 = std::string(64, 'b');
    s.estimate.private_bytes.host = (1 + rng() % 8) * kMB;
    s.estimate.session_kv_bytes = kMB / 2;
    s.estimate.session_bytes = kMB / 4;
    *total += s.estimate.private_bytes.host;
    out.push_back(std::move(s));
  }
  return out;
}

void BusyFor(std::chrono::microseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  volatile std::uint64_t x = 0;
  while (std::chrono::steady_clock::now() < end) x = x + 1;
}

void BM_Clients(benchmark::State& state) {
  const int clients = static_cast<int>(state.range(0));
  std::uint64_t total = 0;
  const std::vector<ModuleSpec> library = Library(&total);
  for (auto _ : state) {
    SlowLoader loader;
    ResidentOptions o;
    o.budgets.host_bytes = total / 3;
    o.budgets.max_parallel = 2;
    ResidentSet set(loader, std::move(o));
    std::counting_semaphore<2> pool(2);  // the compute threads
    std::atomic<int> next{0}, errors{0};
    std::mutex latencies_mu;
    std::vector<double> latencies_ms;
    std::string first_error;
    auto client = [&](int c) {
      std::mt19937 pick(100 + c);
      while (next++ < kRequests) {
        const ModuleSpec& spec = library[pick() % library.size()];
        const auto t0 = std::chrono::steady_clock::now();
        Status s;
        Result<ResidentSet::Lease> lease = set.Acquire(spec);
        if (lease.ok()) {
          const ResidentSet::SessionCharge charge{kMB / 2, kMB / 4};
          s = set.ChargeSession(*lease, charge);
          if (s.ok()) {
            Result<ResidentSet::Slot> slot = set.EnterParallel(*lease);
            if (slot.ok()) {
              pool.acquire();
              BusyFor(kComputePerRequest);
              pool.release();
            } else {
              s = slot.status();
            }
            set.ReleaseSession(*lease, charge);
          }
        } else {
          s = lease.status();
        }
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        std::lock_guard<std::mutex> lock(latencies_mu);
        if (s.ok()) {
          latencies_ms.push_back(ms);
        } else {
          ++errors;
          if (first_error.empty()) first_error = s.ToString();
        }
      }
    };
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) threads.emplace_back(client, c);
    for (std::thread& t : threads) t.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(seconds);
    std::sort(latencies_ms.begin(), latencies_ms.end());
    auto percentile = [&](double p) {
      if (latencies_ms.empty()) return 0.0;
      const auto i = static_cast<std::size_t>(p * static_cast<double>(latencies_ms.size() - 1));
      return latencies_ms[i];
    };
    const ResidentReport r = set.Report();
    state.counters["req_per_s"] = static_cast<double>(latencies_ms.size()) / seconds;
    state.counters["p50_ms"] = percentile(0.50);
    state.counters["p99_ms"] = percentile(0.99);
    state.counters["errors"] = errors.load();
    state.counters["loads"] = static_cast<double>(r.counters.loads);
    state.counters["waits"] = static_cast<double>(r.counters.admission_waits);
    state.counters["budget_MB"] = static_cast<double>(total / 3) / 1e6;
    if (errors.load() != 0) state.SkipWithError(first_error.c_str());
  }
}
BENCHMARK(BM_Clients)
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tessera::resident
