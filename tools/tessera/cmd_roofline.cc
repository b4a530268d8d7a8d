// tessera roofline [-t 1,2] [-r 7] [--l2-kib 512] [--l3-mib 8] [--dram-mib 256] [--json]
//
// Measures this machine's roofline: streaming-read bandwidth of an L2-sized, an L3-sized and a
// DRAM-sized (much larger than L3) buffer, and peak single-precision FMA throughput, with the
// widest SIMD the CPU has (AVX-512 when present, and AVX2), at each thread count. Each thread
// reads its own buffer of the given size (first touched by that thread); a run is timed from a
// barrier that starts every thread to the barrier where the last one finishes, and the figure
// is the median of -r runs after one warm-up run. GB/s are 10^9 bytes per second.
//
// The probe threads are created once per configuration, never more than -t, and -t is refused
// above the core count (ResolveThreads).
#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "bench_measure.h"
#include "command.h"
#include "options.h"
#include "roofline_kernels.h"

namespace tessera::cli {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

constexpr std::uint64_t kTargetBytesPerRun = 1ull << 30;  // read per thread per timed run
constexpr std::int64_t kFmaIterations = 20'000'000;       // per thread per timed run

struct RooflineFlags {
  std::string threads = "1,2";
  std::int32_t repetitions = 7;
  std::int32_t l2_kib = 512;
  std::int32_t l3_mib = 8;
  std::int32_t dram_mib = 256;
  bool json = false;
};

struct AlignedDelete {
  void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
};
using Buffer = std::unique_ptr<float[], AlignedDelete>;

// Runs work(thread_index) on n_threads threads (the caller is thread 0) 1 + reps times and
// returns the wall seconds of each of the last `reps` runs. setup(thread_index) runs once on
// each thread first (for first-touch allocation).
template <typename Setup, typename Work>
std::vector<double> TimeOnThreads(std::int32_t n_threads, std::int32_t reps, Setup setup,
                                  Work work) {
  std::barrier sync(n_threads);
  std::vector<double> seconds;
  auto body = [&](std::int32_t index) {
    setup(index);
    for (std::int32_t rep = 0; rep <= reps; ++rep) {
      sync.arrive_and_wait();
      const Clock::time_point start = Clock::now();
      work(index);
      sync.arrive_and_wait();
      if (index == 0 && rep > 0) {
        seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
      }
    }
  };
  std::vector<std::thread> helpers;
  for (std::int32_t i = 1; i < n_threads; ++i) helpers.emplace_back(body, i);
  body(0);
  for (std::thread& t : helpers) t.join();
  return seconds;
}

struct Probe {
  std::string what;  // "read L2", "fma avx512"
  std::string size;  // "512 KiB/thread" or "" for FMA
  std::string unit;  // "GB/s" or "GFLOP/s"
  std::int32_t threads = 1;
  std::vector<double> values;  // one per run
};

Probe MeasureRead(const std::string& level, std::uint64_t bytes, std::int32_t n_threads,
                  std::int32_t reps, const roofline::SimdSupport& simd) {
  const std::size_t n_floats =
      std::max<std::size_t>(1, bytes / sizeof(float) / roofline::kReadStepFloats) *
      roofline::kReadStepFloats;
  const std::uint64_t real_bytes = n_floats * sizeof(float);
  const std::uint64_t passes = std::max<std::uint64_t>(1, kTargetBytesPerRun / real_bytes);
  std::vector<Buffer> buffers(static_cast<std::size_t>(n_threads));
  std::vector<float> sinks(static_cast<std::size_t>(n_threads), 0.0f);
  auto setup = [&](std::int32_t i) {
    Buffer b(static_cast<float*>(::operator new[](real_bytes, std::align_val_t(64))));
    for (std::size_t k = 0; k < n_floats; ++k) b[k] = static_cast<float>(k & 7) * 0.125f;
    buffers[static_cast<std::size_t>(i)] = std::move(b);
  };
  auto work = [&](std::int32_t i) {
    const float* data = buffers[static_cast<std::size_t>(i)].get();
    float sum = 0.0f;
    for (std::uint64_t pass = 0; pass < passes; ++pass) {
      sum += simd.avx512f    ? roofline::ReadSumAvx512(data, n_floats)
             : simd.avx2_fma ? roofline::ReadSumAvx2(data, n_floats)
                             : roofline::ReadSumScalar(data, n_floats);
    }
    sinks[static_cast<std::size_t>(i)] = sum;
  };
  Probe p;
  p.what = "read " + level;
  p.size = bytes >= (1u << 20) ? std::to_string(bytes >> 20) + " MiB/thread"
                               : std::to_string(bytes >> 10) + " KiB/thread";
  p.unit = "GB/s";
  p.threads = n_threads;
  for (double s : TimeOnThreads(n_threads, reps, setup, work)) {
    p.values.push_back(static_cast<double>(real_bytes * passes) * n_threads / s / 1e9);
  }
  // The sums are data-dependent: printing nothing but keeping them alive is enough.
  volatile float keep = sinks[0];
  (void)keep;
  return p;
}

Probe MeasureFma(bool avx512, std::int32_t n_threads, std::int32_t reps) {
  std::vector<float> sinks(static_cast<std::size_t>(n_threads), 0.0f);
  auto setup = [](std::int32_t) {};
  auto work = [&](std::int32_t i) {
    sinks[static_cast<std::size_t>(i)] =
        avx512 ? roofline::FmaLoopAvx512(kFmaIterations, 0.999999f, 1e-6f)
               : roofline::FmaLoopAvx2(kFmaIterations, 0.999999f, 1e-6f);
  };
  Probe p;
  p.what = avx512 ? "fma avx512" : "fma avx2";
  p.unit = "GFLOP/s";
  p.threads = n_threads;
  const double flops =
      static_cast<double>(kFmaIterations) * roofline::kFmaChains * (avx512 ? 16 : 8) * 2.0;
  for (double s : TimeOnThreads(n_threads, reps, setup, work)) {
    p.values.push_back(flops * n_threads / s / 1e9);
  }
  volatile float keep = sinks[0];
  (void)keep;
  return p;
}

int RunRoofline(const RooflineFlags& f) {
  Result<std::vector<std::int32_t>> threads = ParseIdList("-t", f.threads);
  if (!threads.ok()) return ReportError(threads.status().WithContext("roofline"));
  for (std::int32_t& t : *threads) {
    Result<std::int32_t> resolved = ResolveThreads(t);
    if (!resolved.ok()) return ReportError(resolved.status().WithContext("roofline"));
    t = *resolved;
  }
  if (f.repetitions < 1 || f.repetitions > 1000) {
    return ReportError(
        InvalidArgument("roofline: -r " + std::to_string(f.repetitions) + " is outside 1..1000"));
  }
  if (f.l2_kib < 16 || f.l2_kib > (1 << 20) || f.l3_mib < 1 || f.l3_mib > 4096 || f.dram_mib < 1 ||
      f.dram_mib > 16384) {
    return ReportError(
        InvalidArgument("roofline: buffer sizes must be --l2-kib 16..1048576, --l3-mib 1..4096, "
                        "--dram-mib 1..16384"));
  }
  const roofline::SimdSupport simd = roofline::DetectSimd();
  std::vector<Probe> probes;
  for (std::int32_t t : *threads) {
    probes.push_back(
        MeasureRead("L2", static_cast<std::uint64_t>(f.l2_kib) << 10, t, f.repetitions, simd));
    probes.push_back(
        MeasureRead("L3", static_cast<std::uint64_t>(f.l3_mib) << 20, t, f.repetitions, simd));
    probes.push_back(
        MeasureRead("DRAM", static_cast<std::uint64_t>(f.dram_mib) << 20, t, f.repetitions, simd));
    if (simd.avx2_fma) probes.push_back(MeasureFma(false, t, f.repetitions));
    if (simd.avx512f) probes.push_back(MeasureFma(true, t, f.repetitions));
  }
  const std::string isa = simd.avx512f ? "avx512" : simd.avx2_fma ? "avx2" : "scalar";
  if (f.json) {
    Json out;
    out["cpu"] = CpuModelName();
    out["cores"] = *ResolveThreads(0);
    out["read_isa"] = isa;
    out["repetitions"] = f.repetitions;
    Json rows = Json::array();
    for (const Probe& p : probes) {
      const SampleStats s = Summarize(p.values);
      rows.push_back({{"probe", p.what},
                      {"size", p.size},
                      {"threads", p.threads},
                      {"unit", p.unit},
                      {"median", s.median},
                      {"mean", s.mean},
                      {"sd", s.sd},
                      {"samples", p.values}});
    }
    out["probes"] = std::move(rows);
    std::printf("%s\n", DumpJson(out).c_str());
    return 0;
  }
  std::printf("CPU: %s (%d cores); reads with %s loads; median of %d runs\n\n",
              CpuModelName().c_str(), *ResolveThreads(0), isa.c_str(), f.repetitions);
  std::printf("| %-11s | %-16s | %7s | %10s | %-7s |\n", "probe", "buffer", "threads", "median",
              "unit");
  std::printf("| ----------- | ---------------- | ------: | ---------: | ------- |\n");
  for (const Probe& p : probes) {
    std::printf("| %-11s | %-16s | %7d | %10.1f | %-7s |\n", p.what.c_str(), p.size.c_str(),
                p.threads, Summarize(p.values).median, p.unit.c_str());
  }
  return 0;
}

}  // namespace

RunFn AddRoofline(CLI::App& app) {
  auto f = std::make_shared<RooflineFlags>();
  CLI::App* sub =
      app.add_subcommand("roofline", "Measure memory bandwidth and peak FLOP/s of this machine");
  sub->add_option("-t,--threads", f->threads, "Thread counts, e.g. 1,2 (default 1,2)");
  sub->add_option("-r,--repetitions", f->repetitions, "Timed runs per probe (default 7)");
  sub->add_option("--l2-kib", f->l2_kib, "L2-resident buffer per thread, KiB (default 512)");
  sub->add_option("--l3-mib", f->l3_mib, "L3-resident buffer per thread, MiB (default 8)");
  sub->add_option("--dram-mib", f->dram_mib, "DRAM buffer per thread, MiB (default 256)");
  sub->add_flag("--json", f->json, "Print one JSON document");
  return [f] { return RunRoofline(*f); };
}

}  // namespace tessera::cli
