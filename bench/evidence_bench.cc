// The evidence ledger: the latency of one append of a ~1 KB decision body (validation, canonical
// JSON, SHA-256 and one SQLite transaction) with each fsync policy, and Verify's throughput over
// a ledger of 20,000 such records. The issue's goal is < 200 us per append.
//
// Ledgers are made under $TESSERA_BENCH_DIR (default: the system temp directory), which should
// be on the disk whose fsync you mean to measure, and removed afterwards. Run:
//   build/release/bench/evidence_bench --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "evidence/ledger.h"

namespace tessera::evidence {
namespace {

constexpr int kVerifyRecords = 20000;

// A fresh directory for one benchmark's ledger.
std::string BenchDir(const std::string& name) {
  const char* root = std::getenv("TESSERA_BENCH_DIR");
  const std::filesystem::path base =
      root != nullptr ? std::filesystem::path(root) : std::filesystem::temp_directory_path();
  const std::filesystem::path dir =
      base / ("tessera-evidence-bench-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// A decision record of about 1 KB, as the orchestrator writes one: candidates with scores and
// exclusion reasons, the selection, the artifacts involved. Written with spaces and members out
// of order, so Append's canonicalisation does real work. `i` varies it.
std::string DecisionBody(int i) {
  std::string body = R"({ "request": {"id": "req-)" + std::to_string(i) +
                     R"(", "input_tokens": 37, "input_type": "text"},
  "policy": {"id": "dev.tessera.policy.default", "version": "1.2.0",
             "sha256": "3f1d2c0b9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817060f1e"},
  "router": {"mode": "classifier", "threshold": 0.62, "margin": 0.31, "top": "date"},
  "candidates": [
    {"module": "dev.tessera.skills.date@1.0.0", "score": 0.8731, "eligible": true},
    {"module": "dev.tessera.skills.units@1.0.0", "score": 0.0912, "eligible": true},
    {"module": "dev.tessera.skills.math@1.0.0", "score": 0.0214, "eligible": false,
     "excluded": "input type number expected"},
    {"module": "dev.tessera.generalist@1.0.0", "score": 0.0143, "eligible": true}],
  "selected": {"module": "dev.tessera.skills.date@1.0.0", "confidence": 0.8731,
    "weights_sha256": "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"},
  "cost": {"load_ms": 0, "bytes_to_load": 0, "tokens_out": 12},
  "loads": [], "evictions": [],
  "result": {"tokens": 12, "latency_us": 18234, "type_check": "ok", "stop": "eos"},
  "fallbacks": [] })";
  return body;
}

void Append(benchmark::State& state, SyncMode sync) {
  const std::string dir = BenchDir(sync == SyncMode::kFull ? "full" : "normal");
  {
    LedgerOptions options;
    options.sync = sync;
    Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(LedgerPath(dir), options);
    if (!ledger.ok()) {
      state.SkipWithError(ledger.status().ToString().c_str());
      return;
    }
    const std::string body = DecisionBody(0);
    std::size_t stored = 0;
    int i = 0;
    for (auto _ : state) {
      Result<Record> r = (*ledger)->Append("decision", "req-" + std::to_string(i++), body);
      if (!r.ok()) {
        state.SkipWithError(r.status().ToString().c_str());
        break;
      }
      stored = r->body.size();
      benchmark::DoNotOptimize(r->hash.data());
    }
    state.counters["body_bytes"] = static_cast<double>(stored);
  }
  std::filesystem::remove_all(dir);
}

void BM_AppendSyncNormal(benchmark::State& state) { Append(state, SyncMode::kNormal); }
void BM_AppendSyncFull(benchmark::State& state) { Append(state, SyncMode::kFull); }
BENCHMARK(BM_AppendSyncNormal)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_AppendSyncFull)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Verify(benchmark::State& state) {
  const std::string dir = BenchDir("verify");
  {
    Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(LedgerPath(dir));
    if (!ledger.ok()) {
      state.SkipWithError(ledger.status().ToString().c_str());
      return;
    }
    for (int i = 0; i < kVerifyRecords; ++i) {
      if (!(*ledger)->Append("decision", "req-" + std::to_string(i), DecisionBody(i)).ok()) {
        state.SkipWithError("append failed");
        return;
      }
    }
    for (auto _ : state) {
      Result<VerifyReport> report = (*ledger)->Verify();
      if (!report.ok() || !report->ok || report->records != kVerifyRecords) {
        state.SkipWithError("the ledger does not verify");
        break;
      }
    }
    state.SetItemsProcessed(state.iterations() * kVerifyRecords);  // records/s
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Verify)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace tessera::evidence
