// The registry at scale: a store of 1,000 installed packages (ids dev.bench.p0000..p0999, each
// requiring up to three earlier ones, seeded), then list, show and dependency resolution on it;
// and installing a 10 MB package (compared with SHA-256 of the same bytes, measured in the same
// run, since install is meant to be bounded by hashing).
//
// The store is built once under $TESSERA_BENCH_DIR (default /tmp/tessera-registry-bench) and
// reused by later runs; delete it to rebuild (about a minute). Run:
//   build/release/bench/registry_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "package/signature.h"
#include "registry/pack.h"
#include "registry/registry.h"

namespace tessera::registry {
namespace {

constexpr int kPackages = 1000;
const std::string kModel = std::string(TESSERA_SOURCE_DIR) + "/models/specialists/date.gguf";

std::string BenchDir() {
  const char* dir = std::getenv("TESSERA_BENCH_DIR");
  return dir != nullptr ? dir : "/tmp/tessera-registry-bench";
}

package::PrivateKey Key() {
  std::vector<std::uint8_t> seed(32, 7);
  return std::move(package::PrivateKey::FromSeed(seed).value());
}

std::string Id(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "dev.bench.p%04d", i);
  return buf;
}

// A package directory with the date specialist as weights, `extra` as a doc artifact.
std::string PackOne(const std::string& work, const std::string& id,
                    const std::vector<std::string>& requires_ids, const std::string& extra) {
  const std::string dir = work + "/src-" + id;
  ::mkdir(dir.c_str(), 0755);
  ::symlink(kModel.c_str(), (dir + "/w.gguf").c_str());
  nlohmann::json artifacts = {
      {{"role", "weights"}, {"name", "w.gguf"}, {"media_type", "application/vnd.gguf"}}};
  if (!extra.empty()) {
    ::symlink(extra.c_str(), (dir + "/extra.bin").c_str());
    artifacts.push_back(
        {{"role", "doc"}, {"name", "extra.bin"}, {"media_type", "application/octet-stream"}});
  }
  nlohmann::json m = {
      {"schema", "tessera.package/v1"},
      {"id", id},
      {"version", "1.0.0"},
      {"kind", "model"},
      {"license", "MIT"},
      {"artifacts", artifacts},
      {"runtime", {{"versions", ">=0.1.0"}, {"package_abi", 1}}},
      {"contract",
       {{"role", "bench"},
        {"input", {{"type", "text"}}},
        {"output", {{"type", "text"}}},
        {"max_input_tokens", 64},
        {"max_output_tokens", 16},
        {"confidence", "none"},
        {"sampling", {{"temperature", 0}, {"top_k", 0}, {"top_p", 1}, {"seed", 0}}}}},
      {"capabilities", {"emit:text"}},
      {"resources",
       {{"weights_bytes", 1},
        {"kv_bytes_per_token", 1},
        {"scratch_bytes", 1},
        {"estimated", true}}}};
  if (!requires_ids.empty()) {
    nlohmann::json reqs = nlohmann::json::array();
    for (const std::string& r : requires_ids) reqs.push_back({{"id", r}, {"version", "^1.0.0"}});
    m["dependencies"] = {{"requires", reqs}};
  }
  std::ofstream(dir + "/manifest.json") << m.dump();
  const std::string out = work + "/" + id + ".tpkg";
  package::PrivateKey key = Key();
  Result<PackResult> r = PackDirectory(dir, out, &key);
  if (!r.ok()) std::fprintf(stderr, "pack %s: %s\n", id.c_str(), r.status().ToString().c_str());
  return out;
}

Registry& Store() {
  static std::unique_ptr<Registry> store = [] {
    const std::string dir = BenchDir();
    ::mkdir(dir.c_str(), 0755);
    std::unique_ptr<Registry> r = Registry::Open(dir + "/home").value();
    if (r->List().value().size() >= static_cast<std::size_t>(kPackages)) return r;
    (void)r->TrustAdd({"bench", Key().public_key(), {"dev.bench."}, {"*"}, {}});
    std::mt19937 rng(42);
    for (int i = static_cast<int>(r->List().value().size()); i < kPackages; ++i) {
      std::vector<std::string> deps;
      for (int k = 0; k < 3 && i > 0; ++k) {
        std::string d = Id(static_cast<int>(rng() % static_cast<unsigned>(i)));
        if (std::find(deps.begin(), deps.end(), d) == deps.end()) deps.push_back(d);
      }
      Result<InstallResult> in = r->Install(PackOne(dir, Id(i), deps, ""));
      if (!in.ok()) std::fprintf(stderr, "install: %s\n", in.status().ToString().c_str());
    }
    return r;
  }();
  return *store;
}

void BM_List1000(benchmark::State& state) {
  Registry& store = Store();
  for (auto _ : state) {
    std::vector<PackageRecord> all = store.List().value();
    benchmark::DoNotOptimize(all.data());
    if (all.size() != static_cast<std::size_t>(kPackages)) state.SkipWithError("not 1000");
  }
}
BENCHMARK(BM_List1000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Show(benchmark::State& state) {
  Registry& store = Store();
  int i = 0;
  for (auto _ : state) {
    PackageRecord r = store.Show(Id(i++ % kPackages)).value();
    package::Manifest m = store.LoadManifest(r).value();
    benchmark::DoNotOptimize(m.id.data());
  }
}
BENCHMARK(BM_Show)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ResolveGraph(benchmark::State& state) {
  Registry& store = Store();
  std::size_t edges = 0;
  for (auto _ : state) {
    std::vector<GraphEdge> g = store.Graph(Id(kPackages - 1)).value();
    edges = g.size();
  }
  state.counters["edges"] = static_cast<double>(edges);
}
BENCHMARK(BM_ResolveGraph)->Unit(benchmark::kMillisecond)->UseRealTime();

std::string TenMegabytes() {
  const std::string path = BenchDir() + "/ten-mb.bin";
  std::vector<char> bytes(10 << 20);
  std::mt19937 rng(7);
  for (char& b : bytes) b = static_cast<char>(rng());
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

void BM_Install10MB(benchmark::State& state) {
  Registry& store = Store();
  const std::string extra = TenMegabytes();
  const std::string file = PackOne(BenchDir(), "dev.bench.big", {Id(0)}, extra);
  struct stat st;
  ::stat(file.c_str(), &st);
  for (auto _ : state) {
    Result<InstallResult> r = store.Install(file);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    state.PauseTiming();
    (void)store.Remove("dev.bench.big", "", "bench");
    state.ResumeTiming();
  }
  state.SetBytesProcessed(state.iterations() * st.st_size);
}
BENCHMARK(BM_Install10MB)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Sha256_10MB(benchmark::State& state) {
  std::vector<std::uint8_t> bytes(10 << 20, 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(base::Sha256(bytes));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_Sha256_10MB)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace tessera::registry
