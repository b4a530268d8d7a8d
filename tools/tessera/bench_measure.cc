#include "bench_measure.h"

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "tessera/engine.h"

namespace tessera::cli {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Wall time of one ppN run: an emptied session evaluates `ids` as one prompt.
Result<double> TimePrefill(Session& session, std::span<const std::int32_t> ids) {
  session.Reset();
  GenerateOptions options;
  options.max_tokens = 0;
  const Clock::time_point start = Clock::now();
  Result<GenerateResult> result = session.Generate(ids, options);
  const Clock::time_point end = Clock::now();
  if (!result.ok()) return result.status().WithContext("bench: prefill");
  return Seconds(end - start);
}

std::int32_t RandomNonEogToken(const Model& model, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int32_t> dist(0, model.n_vocab() - 1);
  for (int i = 0; i < 64; ++i) {
    const std::int32_t id = dist(rng);
    if (!model.IsEndOfGeneration(id)) return id;
  }
  return 0;
}

// Wall time of N greedy decode steps (see the header); adds end-of-generation restarts to
// *restarts.
Result<double> TimeDecode(const Model& model, Session& session, std::int32_t n_steps,
                          std::mt19937_64& rng, std::int32_t* restarts) {
  std::int32_t first = model.bos_id() >= 0 ? model.bos_id() : 0;
  std::int32_t done = 0;
  double seconds = 0.0;
  // Every segment but the last ends early on an end-of-generation token; a model that emits
  // one at every step would never finish, so the segments are bounded.
  for (std::int32_t segment = 0; done < n_steps; ++segment) {
    if (segment > n_steps + 16) {
      return Internal("bench: decode made " + std::to_string(done) + " of " +
                      std::to_string(n_steps) + " steps in " + std::to_string(segment) +
                      " segments (the model keeps ending generation)");
    }
    session.Reset();
    GenerateOptions options;
    options.max_tokens = n_steps - done + 1;  // temperature 0: greedy
    std::int32_t events = 0;
    Clock::time_point first_event;
    Clock::time_point last_event;
    auto on_token = [&](const TokenEvent&) {
      const Clock::time_point now = Clock::now();
      if (events == 0) first_event = now;
      last_event = now;
      ++events;
      return true;
    };
    Result<GenerateResult> result =
        session.Generate(std::span<const std::int32_t>(&first, 1), options, on_token);
    if (!result.ok()) return result.status().WithContext("bench: decode");
    if (events >= 2) {
      done += events - 1;
      seconds += Seconds(last_event - first_event);
    }
    if (done < n_steps) {
      ++*restarts;
      first = RandomNonEogToken(model, rng);
    }
  }
  return seconds;
}

}  // namespace

std::string BenchTest::Name() const {
  return (kind == BenchKind::kPrefill ? "pp" : "tg") + std::to_string(n_tokens);
}

std::int32_t ContextNeeded(const BenchTest& test) {
  return test.kind == BenchKind::kPrefill ? test.n_tokens : test.n_tokens + 2;
}

Result<ModelRun> RunModelBench(const std::string& path, const BenchPlan& plan) {
  ModelOptions model_options;
  model_options.n_threads = plan.n_threads;
  model_options.n_ctx = plan.n_ctx;
  model_options.pack_weights = plan.pack_weights;
  const auto load_start = std::chrono::steady_clock::now();
  TS_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Open(path, model_options));
  const std::chrono::duration<double> load = std::chrono::steady_clock::now() - load_start;
  TS_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, model->NewSession());
  std::mt19937_64 rng(plan.seed);

  ModelRun run;
  run.sha256 = model->sha256();
  run.n_params = model->n_params();
  run.load_seconds = load.count();
  run.packed_bytes = static_cast<std::int64_t>(model->packed_bytes());
  run.released_bytes = static_cast<std::int64_t>(model->released_file_bytes());
  for (const BenchTest& test : plan.tests) {
    TestSamples samples;
    samples.test = test;
    std::vector<std::int32_t> ids;
    if (test.kind == BenchKind::kPrefill) {
      std::uniform_int_distribution<std::int32_t> dist(0, model->n_vocab() - 1);
      ids.resize(static_cast<std::size_t>(test.n_tokens));
      for (std::int32_t& id : ids) id = dist(rng);
    }
    for (std::int32_t rep = 0; rep < plan.warmup + plan.repetitions; ++rep) {
      std::int32_t restarts = 0;
      Result<double> seconds = test.kind == BenchKind::kPrefill
                                   ? TimePrefill(*session, ids)
                                   : TimeDecode(*model, *session, test.n_tokens, rng, &restarts);
      if (!seconds.ok()) return seconds.status().WithContext(test.Name());
      if (rep < plan.warmup) continue;
      samples.seconds.push_back(*seconds);
      samples.restarts += restarts;
    }
    run.samples.push_back(std::move(samples));
  }
  run.peak_rss_bytes = PeakRssBytes();
  return run;
}

std::string CpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    std::size_t begin = line.find_first_not_of(" \t", colon + 1);
    return begin == std::string::npos ? "unknown" : line.substr(begin);
  }
  return "unknown";
}

std::int64_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    // "VmHWM:     12345 kB"
    const std::size_t digits = line.find_first_of("0123456789");
    if (digits == std::string::npos) break;
    std::int64_t kib = 0;
    auto [ptr, ec] = std::from_chars(line.data() + digits, line.data() + line.size(), kib);
    if (ec != std::errc()) break;
    return kib * 1024;
  }
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
  return -1;
}

SampleStats Summarize(std::vector<double> values) {
  SampleStats s;
  if (values.empty()) return s;
  const double n = static_cast<double>(values.size());
  for (double v : values) s.mean += v;
  s.mean /= n;
  if (values.size() > 1) {
    double sq = 0.0;
    for (double v : values) sq += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(sq / (n - 1.0));
  }
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  s.median = values.size() % 2 == 1 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
  return s;
}

}  // namespace tessera::cli
