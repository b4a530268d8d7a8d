// The orchestrator's overheads on the bundled skills, one compute thread, in a store that
// scripts/bench-orchestration builds (TESSERA_BENCH_HOME; the benchmarks fail without it):
//   - rule routing: the bundled policy's rules router on one request (no model);
//   - classifier routing: the router model scoring its 7 labels (Runtime::ScoreLabels on an
//     open session), and the same as the orchestrator pays it per request (a session opened on
//     the resident, pinned router, labels scored, session closed);
//   - embedding routing: the request embedded by the router model and compared with the
//     policy's exemplars;
//   - adapter switch: a request for one resident adapter after a request for another on the
//     same base (acquire, open a session, close; no generation), against the engine's own
//     Session::SetAdapters (engine_session_bench);
//     its two halves: acquiring the resident module, and opening and closing a session on it;
//   - a whole Ask (routing + one cascade step + evidence append) with every module resident.
//   scripts/bench-orchestration   (builds the store, runs this and the evidence benchmark)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "orchestrator/embedding_router.h"
#include "orchestrator/rule_router.h"
#include "package/policy.h"
#include "tessera/orchestrator.h"

namespace tessera {
namespace {

const char* Home() { return std::getenv("TESSERA_BENCH_HOME"); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Fixture {
  std::unique_ptr<Runtime> runtime;
  std::unique_ptr<Orchestrator> orchestrator;
  std::string error;
};

Fixture& Shared() {
  static Fixture* f = [] {
    auto* fx = new Fixture();  // lives for the process
    if (Home() == nullptr) {
      fx->error = "TESSERA_BENCH_HOME is not set: run scripts/bench-orchestration";
      return fx;
    }
    RuntimeOptions options;
    options.home = Home();
    options.n_threads = 1;
    Result<std::unique_ptr<Runtime>> rt = Runtime::Open(options);
    if (!rt.ok()) {
      fx->error = rt.status().ToString();
      return fx;
    }
    fx->runtime = std::move(rt).value();
    Result<std::unique_ptr<Orchestrator>> o = Orchestrator::Open(*fx->runtime, {});
    if (!o.ok()) {
      fx->error = o.status().ToString();
      return fx;
    }
    fx->orchestrator = std::move(o).value();
    return fx;
  }();
  return *f;
}

bool Ready(benchmark::State& state) {
  if (!Shared().error.empty()) {
    state.SkipWithError(Shared().error.c_str());
    return false;
  }
  return true;
}

void BM_RuleRouting(benchmark::State& state) {
  Result<package::Policy> p = package::ParsePolicy(
      ReadFile(std::string(TESSERA_SOURCE_DIR) + "/models/policies/skills/policy.json"));
  if (!p.ok()) {
    state.SkipWithError(p.status().ToString().c_str());
    return;
  }
  Result<orchestrator::RuleRouter> rules = orchestrator::RuleRouter::Compile(p->routers[0]);
  const std::string requests[] = {"what is 12 plus 7?", "normalize the date: 5th of March, 2021",
                                  "how many ml is 2 l?", "write a poem about the sea"};
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(rules->Route(requests[i++ % 4]));
  }
}
BENCHMARK(BM_RuleRouting);

// A session on `ref` that stays open for the benchmark.
Result<SessionHandle> OpenOn(Runtime& rt, const std::string& ref) {
  TS_ASSIGN_OR_RETURN(ModuleHandle m, rt.Acquire(ref));
  Result<SessionHandle> s = rt.OpenSession(m);
  (void)rt.Release(m);
  return s;
}

void BM_ClassifierScoreLabels(benchmark::State& state) {
  if (!Ready(state)) return;
  Runtime& rt = *Shared().runtime;
  Result<SessionHandle> s = OpenOn(rt, "dev.tessera.router");
  for (auto _ : state) {
    benchmark::DoNotOptimize(rt.ScoreLabels(*s, "what is 12 plus 7?"));
  }
  (void)rt.CloseSession(*s);
}
BENCHMARK(BM_ClassifierScoreLabels)->Unit(benchmark::kMicrosecond);

void BM_ClassifierAsTheOrchestratorPaysIt(benchmark::State& state) {
  if (!Ready(state)) return;
  Runtime& rt = *Shared().runtime;
  for (auto _ : state) {
    Result<SessionHandle> s = OpenOn(rt, "dev.tessera.router");
    benchmark::DoNotOptimize(rt.ScoreLabels(*s, "what is 12 plus 7?"));
    (void)rt.CloseSession(*s);
  }
}
BENCHMARK(BM_ClassifierAsTheOrchestratorPaysIt)->Unit(benchmark::kMicrosecond);

void BM_EmbeddingRouting(benchmark::State& state) {
  if (!Ready(state)) return;
  Runtime& rt = *Shared().runtime;
  Result<SessionHandle> s = OpenOn(rt, "dev.tessera.router");
  package::RouterSpec spec;
  spec.name = "nearest";
  spec.kind = package::RouterKind::kEmbedding;
  spec.labels = {{"a", "a"}};
  std::vector<package::Exemplar> exemplars;
  std::vector<std::vector<float>> vectors;
  for (int i = 0; i < 54; ++i) {  // as many as the bundled policy ships
    exemplars.push_back({"a", "x"});
    vectors.push_back(*rt.Embed(*s, "exemplar number " + std::to_string(i)));
  }
  Result<orchestrator::EmbeddingIndex> index =
      orchestrator::EmbeddingIndex::Build(spec, exemplars, vectors);
  for (auto _ : state) {
    Result<std::vector<float>> v = rt.Embed(*s, "what is 12 plus 7?");
    benchmark::DoNotOptimize(index->Route(*v));
  }
  (void)rt.CloseSession(*s);
}
BENCHMARK(BM_EmbeddingRouting)->Unit(benchmark::kMicrosecond);

void BM_AdapterSwitch(benchmark::State& state) {
  if (!Ready(state)) return;
  Runtime& rt = *Shared().runtime;
  const std::string refs[] = {"dev.tessera.adapters.date", "dev.tessera.adapters.unit"};
  if (!rt.Activate(refs).ok()) {
    state.SkipWithError("the two adapters do not fit together");
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    Result<SessionHandle> s = OpenOn(rt, refs[i++ % 2]);
    (void)rt.CloseSession(*s);
  }
}
BENCHMARK(BM_AdapterSwitch)->Unit(benchmark::kMicrosecond);

// The two halves of a switch: acquiring a resident module (a registry lookup and a lease), and
// a session opened and closed on a module already leased.
void BM_AcquireResident(benchmark::State& state) {
  if (!Ready(state)) return;
  Runtime& rt = *Shared().runtime;
  for (auto _ : state) {
    Result<ModuleHandle> m = rt.Acquire("dev.tessera.adapters.date");
    (void)rt.Release(*m);
  }
}
BENCHMARK(BM_AcquireResident)->Unit(benchmark::kMicrosecond);

void BM_SessionOpenClose(benchmark::State& state) {
  if (!Ready(state)) return;
  Runtime& rt = *Shared().runtime;
  Result<ModuleHandle> m = rt.Acquire("dev.tessera.adapters.date");
  for (auto _ : state) {
    Result<SessionHandle> s = rt.OpenSession(*m);
    (void)rt.CloseSession(*s);
  }
  (void)rt.Release(*m);
}
BENCHMARK(BM_SessionOpenClose)->Unit(benchmark::kMicrosecond);

void BM_AskResident(benchmark::State& state) {
  if (!Ready(state)) return;
  Orchestrator& o = *Shared().orchestrator;
  AskOptions options;
  for (auto _ : state) {
    Result<AskResult> r = o.Ask("what is 12 plus 7?", options);
    if (!r.ok() || r->outcome != "answered") state.SkipWithError("not answered");
  }
}
BENCHMARK(BM_AskResident)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tessera
