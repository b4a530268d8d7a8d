// Measurement half of `tessera bench`: runs the prefill (ppN) and decode (tgN) tests of one model
// at one thread count in the calling process, and reads the machine facts the report needs
// (CPU name, peak resident memory, summary statistics).
//
// What is timed (wall time, std::chrono::steady_clock; model load and session creation are
// never inside a measurement):
//   ppN  a fresh session evaluates N seeded-random token ids in [0, n_vocab) as one prompt,
//        Session::Generate(ids, max_tokens = 0); the clock brackets that call.
//   tgN  a fresh session gets the BOS token (token 0 when the vocabulary has none) as prompt and
//        generates greedily. The clock runs from the callback of generated token 0 (sampled from
//        the prompt's logits) to the callback of token N, i.e. exactly N one-token forward passes
//        plus N samplings. If the model emits an end-of-generation token first, the session is
//        reset and generation resumes from a seeded-random non-EOG token; the prompt evaluations
//        in between are not timed (counted in TestSamples::restarts).
//
// Ownership: plain values. Thread safety: RunModelBench uses the calling thread (and whatever
// threads the engine starts for ModelOptions::n_threads); the other functions are reentrant.
#ifndef TESSERA_TOOLS_TESSERA_BENCH_MEASURE_H_
#define TESSERA_TOOLS_TESSERA_BENCH_MEASURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera::cli {

enum class BenchKind { kPrefill, kDecode };

struct BenchTest {
  BenchKind kind = BenchKind::kPrefill;
  std::int32_t n_tokens = 0;  // N of ppN / tgN, >= 1
  std::string Name() const;   // "pp512", "tg128"
};

struct BenchPlan {
  std::int32_t n_threads = 1;  // ModelOptions::n_threads, already checked against the cores
  std::int32_t n_ctx = 0;      // ModelOptions::n_ctx, already checked against every test
  std::vector<BenchTest> tests;
  std::int32_t repetitions = 5;  // timed runs per test, >= 1
  std::int32_t warmup = 1;       // untimed runs per test before them, >= 0
  std::uint64_t seed = 1234;     // token ids of ppN and of decode restarts
  bool pack_weights = true;      // ModelOptions::pack_weights
};

struct TestSamples {
  BenchTest test;
  std::vector<double> seconds;  // one per repetition: wall time of the N tokens
  std::int32_t restarts = 0;    // tgN only: end-of-generation restarts over all timed runs
};

struct ModelRun {
  std::string sha256;                // Model::sha256()
  std::int64_t n_params = 0;         // Model::n_params()
  std::vector<TestSamples> samples;  // in BenchPlan::tests order
  std::int64_t peak_rss_bytes = 0;   // VmHWM of this process after the runs; -1 if unknown
  double load_seconds = 0.0;         // Model::Open (mapping, SHA-256, binding, packing)
  std::int64_t packed_bytes = 0;     // Model::packed_bytes()
  std::int64_t released_bytes = 0;   // Model::released_file_bytes()
};

// The context the tests need: ppN needs N positions, tgN needs N + 2 (BOS, then N + 1 generated
// tokens of which the last is not evaluated).
std::int32_t ContextNeeded(const BenchTest& test);

// Opens `path` with the plan's threads and context and runs every test. Errors: those of
// Model::Open, NewSession and Generate; kInternal if decode cannot make progress.
Result<ModelRun> RunModelBench(const std::string& path, const BenchPlan& plan);

// "model name" of the first processor in /proc/cpuinfo; "unknown" if unreadable.
std::string CpuModelName();

// Peak resident set of this process (VmHWM of /proc/self/status, else getrusage ru_maxrss),
// bytes; -1 if neither is available.
std::int64_t PeakRssBytes();

struct SampleStats {
  double mean = 0.0;
  double sd = 0.0;  // sample standard deviation (n - 1); 0 for one sample
  double median = 0.0;
};
SampleStats Summarize(std::vector<double> values);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_BENCH_MEASURE_H_
