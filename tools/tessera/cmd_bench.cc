// tessera bench -m FILE[,FILE...] [-t 1,2] [-p 64,512] [-n 128] [-r 5] [--warmup 1] [--json]
//               [--seed S] [--in-process] [--no-pack]
//
// Prefill (ppN) and decode (tgN) speed in the manner of llama-bench: for every model and thread
// count, each test runs --warmup untimed times then -r timed times; the table shows the mean
// ± sample standard deviation and the median of tokens/s over the timed runs. What exactly is
// timed is written at the top of bench_measure.h (model load is never timed; tgN times N
// one-token forward passes and samplings between the first and last token callbacks).
//
// Memory: each (model, thread count) runs in a forked child process, so the peak resident set
// reported (VmHWM) is that of one model alone: its mapping, KV cache, scratch and thread pool.
// It is printed beside the bound 1.2 x (file + KV + 16 MiB), KV being the F32 cache of
// the context the tests need (n_ctx = the largest of p and n + 2). --in-process runs everything
// in this process instead (for profilers); the peak is then the process's peak so far.
//
// Flags: -p 0 / -n 0 skip that kind of test; -t 0 means every core; a context the model cannot
// hold, more threads than cores, a bad number or a missing file is a one-line error, exit 1.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_measure.h"
#include "command.h"
#include "gguf/reader.h"
#include "options.h"
#include "tensor/types.h"

namespace tessera::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::int32_t kMaxRuns = 1000;              // -r and --warmup
constexpr std::int64_t kRssSlackBytes = 16ll << 20;  // the "+ 16 MiB"
constexpr double kRssFactor = 1.2;

struct BenchFlags {
  std::string models;
  std::string threads;
  std::string prompt = "512";
  std::string gen = "128";
  std::string repetitions = "5";
  std::string warmup = "1";
  std::uint64_t seed = 1234;
  bool json = false;
  bool in_process = false;
  bool no_pack = false;
};

// What the report says about a model file, read from its GGUF header (no weights touched).
struct ModelFacts {
  std::string path;
  std::string file_name;
  std::string type;  // dominant matrix type, e.g. "Q4_0"
  std::int64_t file_bytes = 0;
  std::int64_t tensor_bytes = 0;
  std::int64_t n_params = 0;
  std::int32_t n_ctx_train = 0;
  std::int64_t n_layer = 0;
  std::int64_t n_embd_k_plus_v = 0;  // K row + V row width of one layer, elements; 0 if unknown
};

// "64,512" -> {64, 512}; every item an integer in [min, max].
Result<std::vector<std::int32_t>> ParseCounts(const std::string& flag, const std::string& text,
                                              std::int32_t min, std::int32_t max) {
  std::vector<std::int32_t> values;
  for (const std::string& item : SplitCommas(text)) {
    std::int32_t v = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || v < min ||
        v > max) {
      return InvalidArgument("bench: " + flag + " \"" + item + "\" is not an integer in " +
                             std::to_string(min) + ".." + std::to_string(max));
    }
    values.push_back(v);
  }
  return values;
}

std::string UpperTypeName(tensor::DType type) {
  std::string name(tensor::TypeName(type));
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::int64_t MetaInt(const gguf::File& file, const std::string& key, std::int64_t fallback) {
  Result<std::int64_t> v = file.GetI64(key);
  return v.ok() ? *v : fallback;
}

Result<ModelFacts> ReadFacts(const std::string& path) {
  TS_ASSIGN_OR_RETURN(gguf::File file, gguf::File::Open(path));
  ModelFacts f;
  f.path = path;
  const std::size_t slash = path.find_last_of('/');
  f.file_name = slash == std::string::npos ? path : path.substr(slash + 1);
  f.file_bytes = static_cast<std::int64_t>(file.bytes().size());
  // Dominant type: the type of the most matrices (ties: the most bytes), as the file's type.
  std::map<tensor::DType, std::pair<int, std::int64_t>> matrices;
  for (const gguf::TensorInfo& t : file.tensors()) {
    f.tensor_bytes += static_cast<std::int64_t>(t.size_bytes);
    f.n_params += static_cast<std::int64_t>(t.n_elements());
    if (t.dims.size() >= 2) {
      ++matrices[t.type].first;
      matrices[t.type].second += static_cast<std::int64_t>(t.size_bytes);
    }
  }
  f.type = "?";
  std::pair<int, std::int64_t> best{-1, 0};
  for (const auto& [type, count] : matrices) {
    if (count > best) best = count, f.type = UpperTypeName(type);
  }
  Result<std::string_view> arch = file.GetString("general.architecture");
  const std::string a = arch.ok() ? std::string(*arch) : "llama";
  f.n_ctx_train = static_cast<std::int32_t>(MetaInt(file, a + ".context_length", 0));
  f.n_layer = MetaInt(file, a + ".block_count", 0);
  const std::int64_t n_embd = MetaInt(file, a + ".embedding_length", 0);
  const std::int64_t n_head = MetaInt(file, a + ".attention.head_count", 0);
  const std::int64_t n_head_kv = MetaInt(file, a + ".attention.head_count_kv", n_head);
  const std::int64_t head_dim = n_head > 0 ? n_embd / n_head : 0;
  const std::int64_t k_dim = MetaInt(file, a + ".attention.key_length", head_dim);
  const std::int64_t v_dim = MetaInt(file, a + ".attention.value_length", head_dim);
  f.n_embd_k_plus_v = n_head_kv * (k_dim + v_dim);
  return f;
}

// F32 keys and values of every layer for n_ctx positions (model::KvCache's layout); -1 unknown.
std::int64_t KvBytes(const ModelFacts& f, std::int32_t n_ctx) {
  if (f.n_layer <= 0 || f.n_embd_k_plus_v <= 0) return -1;
  return f.n_layer * n_ctx * f.n_embd_k_plus_v * static_cast<std::int64_t>(sizeof(float));
}

std::int64_t RssBound(const ModelFacts& f, std::int64_t kv_bytes) {
  if (kv_bytes < 0) return -1;
  return static_cast<std::int64_t>(kRssFactor *
                                   static_cast<double>(f.file_bytes + kv_bytes + kRssSlackBytes));
}

Json RunToJson(const ModelRun& run) {
  Json j;
  j["sha256"] = run.sha256;
  j["n_params"] = run.n_params;
  j["peak_rss_bytes"] = run.peak_rss_bytes;
  j["load_seconds"] = run.load_seconds;
  j["packed_bytes"] = run.packed_bytes;
  j["released_bytes"] = run.released_bytes;
  Json tests = Json::array();
  for (const TestSamples& s : run.samples) {
    tests.push_back({{"seconds", s.seconds}, {"restarts", s.restarts}});
  }
  j["tests"] = std::move(tests);
  return j;
}

Result<ModelRun> RunFromJson(const std::string& text, const BenchPlan& plan) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j["tests"].is_array() ||
      j["tests"].size() != plan.tests.size()) {
    return Internal("bench: the measuring child process sent no valid result");
  }
  ModelRun run;
  run.sha256 = j["sha256"].is_string() ? j["sha256"].get<std::string>() : "";
  run.n_params = j["n_params"].is_number() ? j["n_params"].get<std::int64_t>() : 0;
  run.peak_rss_bytes =
      j["peak_rss_bytes"].is_number() ? j["peak_rss_bytes"].get<std::int64_t>() : -1;
  run.load_seconds = j["load_seconds"].is_number() ? j["load_seconds"].get<double>() : 0.0;
  run.packed_bytes = j["packed_bytes"].is_number() ? j["packed_bytes"].get<std::int64_t>() : 0;
  run.released_bytes =
      j["released_bytes"].is_number() ? j["released_bytes"].get<std::int64_t>() : 0;
  for (std::size_t i = 0; i < plan.tests.size(); ++i) {
    const Json& t = j["tests"][i];
    TestSamples s;
    s.test = plan.tests[i];
    if (t.contains("seconds") && t["seconds"].is_array()) {
      for (const Json& v : t["seconds"]) {
        if (v.is_number()) s.seconds.push_back(v.get<double>());
      }
    }
    if (t.contains("restarts") && t["restarts"].is_number()) {
      s.restarts = t["restarts"].get<std::int32_t>();
    }
    if (s.seconds.size() != static_cast<std::size_t>(plan.repetitions)) {
      return Internal("bench: the measuring child process sent a malformed result");
    }
    run.samples.push_back(std::move(s));
  }
  return run;
}

// Runs the plan in a forked child so that its peak resident memory is this model's alone. The
// child reports errors itself (one line on stderr) and exits 1; *child_failed is then set.
Result<ModelRun> RunInChild(const std::string& path, const BenchPlan& plan, bool* child_failed) {
  int fds[2];
  if (::pipe(fds) != 0) return Internal("bench: pipe() failed");
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return Internal("bench: fork() failed");
  }
  if (pid == 0) {
    ::close(fds[0]);
    Result<ModelRun> run = RunModelBench(path, plan);
    if (!run.ok()) {
      ReportError(run.status());
      std::fflush(stderr);
      ::_exit(1);
    }
    const std::string text = DumpJson(RunToJson(*run), -1);
    std::size_t written = 0;
    while (written < text.size()) {
      const ssize_t n = ::write(fds[1], text.data() + written, text.size() - written);
      if (n <= 0) ::_exit(3);
      written += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int wstatus = 0;
  if (::waitpid(pid, &wstatus, 0) != pid) return Internal("bench: waitpid() failed");
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 1) {
    *child_failed = true;
    return Internal("bench: the measuring child process failed");
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return Internal("bench: the measuring child process for " + path + " died (" +
                    (WIFSIGNALED(wstatus) ? "signal " + std::to_string(WTERMSIG(wstatus))
                                          : "exit " + std::to_string(WEXITSTATUS(wstatus))) +
                    ")");
  }
  return RunFromJson(text, plan);
}

std::string Mib(std::int64_t bytes) {
  if (bytes < 0) return "?";
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

std::string Params(std::int64_t n) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f M", static_cast<double>(n) / 1e6);
  return text;
}

std::string UtcNow() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

constexpr const char* kRowFormat =
    "| %-28s | %-6s | %10s | %8s | %-7s | %7s | %6s | %18s | %9s |\n";

void PrintHeader() {
  std::printf(kRowFormat, "model", "type", "size", "params", "backend", "threads", "test", "t/s",
              "median");
  std::printf("| %.28s | %.6s | %.10s | %.8s | %.7s | %.7s | %.6s | %.18s | %.9s |\n",
              "-----------------------------", "------", "---------:", "-------:", "-------",
              "------:", "-----:", "-----------------:", "--------:");
}

// One row per test of `run`, appended to `rows` (the --json document's rows).
void EmitRows(const ModelFacts& facts, const BenchPlan& plan, const ModelRun& run, bool json,
              Json* rows) {
  const std::int64_t kv = KvBytes(facts, plan.n_ctx);
  for (const TestSamples& s : run.samples) {
    std::vector<double> rates;
    for (double sec : s.seconds) {
      rates.push_back(sec > 0.0 ? s.test.n_tokens / sec : 0.0);
    }
    const SampleStats stats = Summarize(rates);
    if (!json) {
      char rate[48];
      char median[24];
      std::snprintf(rate, sizeof(rate), "%.2f ± %.2f", stats.mean, stats.sd);
      std::snprintf(median, sizeof(median), "%.2f", stats.median);
      // "±" is two bytes but one column: pad by one more.
      std::string rate_cell = std::string(rate).insert(0, 1, ' ');
      std::printf(kRowFormat, facts.file_name.c_str(), facts.type.c_str(),
                  Mib(facts.tensor_bytes).c_str(), Params(run.n_params).c_str(), "CPU",
                  std::to_string(plan.n_threads).c_str(), s.test.Name().c_str(), rate_cell.c_str(),
                  median);
      std::fflush(stdout);
    }
    Json row;
    row["model_file"] = facts.file_name;
    row["model_path"] = facts.path;
    row["sha256"] = run.sha256;
    row["type"] = facts.type;
    row["size_bytes"] = facts.tensor_bytes;
    row["file_bytes"] = facts.file_bytes;
    row["n_params"] = run.n_params;
    row["backend"] = "CPU";
    row["n_threads"] = plan.n_threads;
    row["test"] = s.test.Name();
    row["n_prompt"] = s.test.kind == BenchKind::kPrefill ? s.test.n_tokens : 0;
    row["n_gen"] = s.test.kind == BenchKind::kDecode ? s.test.n_tokens : 0;
    row["repetitions"] = plan.repetitions;
    row["warmup"] = plan.warmup;
    row["samples_seconds"] = s.seconds;
    row["samples_ts"] = rates;
    row["mean_ts"] = stats.mean;
    row["sd_ts"] = stats.sd;
    row["median_ts"] = stats.median;
    row["eog_restarts"] = s.restarts;
    row["n_ctx"] = plan.n_ctx;
    row["kv_bytes"] = kv;
    row["peak_rss_bytes"] = run.peak_rss_bytes;
    row["rss_bound_bytes"] = RssBound(facts, kv);
    row["pack_weights"] = plan.pack_weights;
    row["packed_bytes"] = run.packed_bytes;
    row["released_file_bytes"] = run.released_bytes;
    row["load_seconds"] = run.load_seconds;
    rows->push_back(std::move(row));
  }
}

std::string MemoryLine(const ModelFacts& facts, const BenchPlan& plan, const ModelRun& run) {
  const std::int64_t kv = KvBytes(facts, plan.n_ctx);
  const std::int64_t bound = RssBound(facts, kv);
  const char* verdict = bound < 0 || run.peak_rss_bytes < 0 ? ""
                        : run.peak_rss_bytes <= bound       ? "within"
                                                            : "OVER";
  return facts.file_name + " t=" + std::to_string(plan.n_threads) + ": peak RSS " +
         Mib(run.peak_rss_bytes) + " " + verdict + " bound " + Mib(bound) + " = 1.2 x (file " +
         Mib(facts.file_bytes) + " + KV " + Mib(kv) + " at n_ctx " + std::to_string(plan.n_ctx) +
         " + 16 MiB); packed copies " + Mib(run.packed_bytes) + ", file pages released " +
         Mib(run.released_bytes) + ", load " + std::to_string(run.load_seconds).substr(0, 5) +
         " s; sha256 " + run.sha256;
}

int RunBench(const BenchFlags& flags) {
  Result<std::vector<std::int32_t>> reps = ParseCounts("-r", flags.repetitions, 1, kMaxRuns);
  if (!reps.ok() || reps->size() != 1) {
    return ReportError(reps.ok() ? InvalidArgument("bench: -r takes one number") : reps.status());
  }
  Result<std::vector<std::int32_t>> warmup = ParseCounts("--warmup", flags.warmup, 0, kMaxRuns);
  if (!warmup.ok() || warmup->size() != 1) {
    return ReportError(warmup.ok() ? InvalidArgument("bench: --warmup takes one number")
                                   : warmup.status());
  }
  constexpr std::int32_t kMaxTokens = 1 << 20;
  Result<std::vector<std::int32_t>> prompts = ParseCounts("-p", flags.prompt, 0, kMaxTokens);
  if (!prompts.ok()) return ReportError(prompts.status());
  Result<std::vector<std::int32_t>> gens = ParseCounts("-n", flags.gen, 0, kMaxTokens);
  if (!gens.ok()) return ReportError(gens.status());
  std::vector<std::int32_t> threads;
  if (flags.threads.empty()) {
    threads.push_back(0);
  } else {
    Result<std::vector<std::int32_t>> t = ParseCounts("-t", flags.threads, -(1 << 30), 1 << 30);
    if (!t.ok()) return ReportError(t.status());
    threads = *t;
  }
  for (std::int32_t& t : threads) {
    Result<std::int32_t> resolved = ResolveThreads(t);
    if (!resolved.ok()) return ReportError(resolved.status().WithContext("bench"));
    t = *resolved;
  }

  BenchPlan base;
  base.repetitions = reps->front();
  base.warmup = warmup->front();
  base.seed = flags.seed;
  base.pack_weights = !flags.no_pack;
  for (std::int32_t p : *prompts) {
    if (p > 0) base.tests.push_back({BenchKind::kPrefill, p});
  }
  for (std::int32_t n : *gens) {
    if (n > 0) base.tests.push_back({BenchKind::kDecode, n});
  }
  if (base.tests.empty()) return ReportError(InvalidArgument("bench: no test (-p and -n are 0)"));
  for (const BenchTest& t : base.tests) base.n_ctx = std::max(base.n_ctx, ContextNeeded(t));

  // Every model is checked before anything is measured.
  std::vector<ModelFacts> models;
  for (const std::string& path : SplitCommas(flags.models)) {
    if (path.empty()) return ReportError(InvalidArgument("bench: -m has an empty file name"));
    Result<ModelFacts> facts = ReadFacts(path);
    if (!facts.ok()) return ReportError(facts.status().WithContext("bench"));
    for (const BenchTest& t : base.tests) {
      if (ContextNeeded(t) > facts->n_ctx_train) {
        return ReportError(OutOfRange(
            "bench: test " + t.Name() + " needs n_ctx " + std::to_string(ContextNeeded(t)) +
            " but " + facts->file_name + " holds at most " + std::to_string(facts->n_ctx_train)));
      }
    }
    models.push_back(*std::move(facts));
  }

  const std::string cpu = CpuModelName();
  Json rows = Json::array();
  std::vector<std::string> memory_lines;
  if (!flags.json) {
    std::printf("CPU: %s (%d cores); tokens/s: mean ± sd over %d runs after %d warmup\n\n",
                cpu.c_str(), *ResolveThreads(0), base.repetitions, base.warmup);
    PrintHeader();
  }
  for (const ModelFacts& facts : models) {
    for (std::int32_t t : threads) {
      BenchPlan plan = base;
      plan.n_threads = t;
      bool child_failed = false;
      Result<ModelRun> run = flags.in_process ? RunModelBench(facts.path, plan)
                                              : RunInChild(facts.path, plan, &child_failed);
      if (child_failed) return 1;  // the child printed its error
      if (!run.ok()) return ReportError(run.status());
      EmitRows(facts, plan, *run, flags.json, &rows);
      memory_lines.push_back(MemoryLine(facts, plan, *run));
    }
  }
  if (flags.json) {
    Json out;
    out["date"] = UtcNow();
    out["cpu"] = cpu;
    out["cores"] = *ResolveThreads(0);
    out["peak_rss_scope"] = flags.in_process ? "process" : "model";
    out["decode_timing"] = "callback of token 0 to callback of token N (N forwards + samplings)";
    out["rows"] = std::move(rows);
    std::printf("%s\n", DumpJson(out).c_str());
    return 0;
  }
  std::printf("\nmemory (%s):\n", flags.in_process ? "process peak so far" : "one child per row");
  for (const std::string& line : memory_lines) std::printf("  %s\n", line.c_str());
  return 0;
}

}  // namespace

RunFn AddBench(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* sub = app.add_subcommand("bench", "Prefill and decode speed, like llama-bench");
  sub->add_option("-m,--model", f->models, "GGUF model file(s), comma-separated")->required();
  sub->add_option("-t,--threads", f->threads, "Thread counts, e.g. 1,2 (default: all cores)");
  sub->add_option("-p,--n-prompt", f->prompt, "Prefill test sizes, e.g. 64,512; 0 = none");
  sub->add_option("-n,--n-gen", f->gen, "Decode test sizes, e.g. 128; 0 = none");
  sub->add_option("-r,--repetitions", f->repetitions, "Timed runs per test (default 5)");
  sub->add_option("--warmup", f->warmup, "Untimed runs per test first (default 1)");
  sub->add_option("--seed", f->seed, "Seed of the random prompt tokens (default 1234)");
  sub->add_flag("--json", f->json, "Print one JSON document with every row");
  sub->add_flag("--no-pack", f->no_pack,
                "Use every weight in place from the file (ModelOptions::pack_weights = false)");
  sub->add_flag("--in-process", f->in_process,
                "Measure in this process, not one child per model (peak RSS is the process's)");
  return [f] { return RunBench(*f); };
}

}  // namespace tessera::cli
