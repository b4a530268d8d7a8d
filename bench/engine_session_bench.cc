// The per-request costs of the engine API the orchestrator uses, on the shipped models, one
// compute thread (ModelOptions::n_threads = 1):
//   - creating a session (plain base; base + one adapter),
//   - switching a session between two resident adapters (Session::SetAdapters), and the first
//     decode step after a switch against the same step without one,
//   - a classifier router scoring its 7 labels (label tokens + EOS) after a request:
//     one ScoreChoices call against 7 Score calls,
//   - an embedding (Session::Embed) of 20 tokens on the base and on the router.
//   build/release/bench/engine_session_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one line)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tessera/engine.h"

namespace tessera {
namespace {

std::string ModelPath(const std::string& name) {
  return std::string(TESSERA_SOURCE_DIR) + "/models/" + name;
}

// The shipped models, opened once per process with one compute thread. `error` is non-empty
// when any of them failed to open.
struct Models {
  std::unique_ptr<Model> base;
  std::unique_ptr<Model> router;
  std::shared_ptr<const Adapter> date;
  std::shared_ptr<const Adapter> unit;
  std::string error;
};

const Models& Shipped() {
  static const Models* models = [] {
    auto* m = new Models();  // lives for the process: benchmarks run until exit
    ModelOptions options;
    options.n_threads = 1;
    Result<std::unique_ptr<Model>> base = Model::Open(ModelPath("base.gguf"), options);
    Result<std::unique_ptr<Model>> router = Model::Open(ModelPath("router.gguf"), options);
    if (!base.ok() || !router.ok()) {
      m->error = (base.ok() ? router.status() : base.status()).ToString();
      return m;
    }
    m->base = std::move(base).value();
    m->router = std::move(router).value();
    Result<std::shared_ptr<const Adapter>> date =
        Adapter::Open(ModelPath("adapters/date.lora.gguf"), *m->base);
    Result<std::shared_ptr<const Adapter>> unit =
        Adapter::Open(ModelPath("adapters/unit.lora.gguf"), *m->base);
    if (!date.ok() || !unit.ok()) {
      m->error = (date.ok() ? unit.status() : date.status()).ToString();
      return m;
    }
    m->date = *date;
    m->unit = *unit;
    return m;
  }();
  return *models;
}

// The shipped models, or nullptr after marking `state` skipped.
const Models* ModelsOrSkip(benchmark::State& state) {
  const Models& m = Shipped();
  if (!m.error.empty()) {
    state.SkipWithError(m.error.c_str());
    return nullptr;
  }
  return &m;
}

void BM_NewSessionPlain(benchmark::State& state) {
  const Models* m = ModelsOrSkip(state);
  if (m == nullptr) return;
  for (auto _ : state) {
    Result<std::unique_ptr<Session>> s = m->base->NewSession();
    benchmark::DoNotOptimize(s.ok());
  }
}
BENCHMARK(BM_NewSessionPlain);

void BM_NewSessionOneAdapter(benchmark::State& state) {
  const Models* m = ModelsOrSkip(state);
  if (m == nullptr) return;
  SessionOptions so;
  so.adapters.push_back({m->date, 1.0f});
  for (auto _ : state) {
    Result<std::unique_ptr<Session>> s = m->base->NewSession(so);
    benchmark::DoNotOptimize(s.ok());
  }
}
BENCHMARK(BM_NewSessionOneAdapter);

// One switch per iteration, alternating date and unit (the caller's one-element vector
// included).
void BM_SetAdaptersSwitch(benchmark::State& state) {
  const Models* m = ModelsOrSkip(state);
  if (m == nullptr) return;
  SessionOptions so;
  so.adapters.push_back({m->date, 1.0f});
  Result<std::unique_ptr<Session>> s = m->base->NewSession(so);
  if (!s.ok()) {
    state.SkipWithError(s.status().ToString().c_str());
    return;
  }
  bool to_unit = true;
  for (auto _ : state) {
    const Status st = (*s)->SetAdapters({{to_unit ? m->unit : m->date, 1.0f}});
    benchmark::DoNotOptimize(st.ok());
    to_unit = !to_unit;
  }
}
BENCHMARK(BM_SetAdaptersSwitch);

// One decode step (a one-token prompt evaluated, one token sampled) on an empty session of
// base + adapter; with switch = 1 the session first switches to the other adapter, so the step
// runs on weights the previous step did not use.
void BM_FirstDecodeStep(benchmark::State& state) {
  const Models* m = ModelsOrSkip(state);
  if (m == nullptr) return;
  const bool do_switch = state.range(0) != 0;
  SessionOptions so;
  so.adapters.push_back({m->date, 1.0f});
  Result<std::unique_ptr<Session>> s = m->base->NewSession(so);
  if (!s.ok()) {
    state.SkipWithError(s.status().ToString().c_str());
    return;
  }
  const std::vector<std::int32_t> prompt = {m->base->bos_id()};
  GenerateOptions options;
  options.max_tokens = 1;
  bool to_unit = true;
  for (auto _ : state) {
    if (do_switch) {
      const Status st = (*s)->SetAdapters({{to_unit ? m->unit : m->date, 1.0f}});
      benchmark::DoNotOptimize(st.ok());
      to_unit = !to_unit;
    } else {
      (*s)->Reset();
    }
    Result<GenerateResult> r = (*s)->Generate(prompt, options);
    benchmark::DoNotOptimize(r.ok());
  }
}
BENCHMARK(BM_FirstDecodeStep)->ArgName("switch")->Arg(0)->Arg(1);

// The router's request and its labels, each label's tokens followed by EOS.
struct RouterInput {
  std::vector<std::int32_t> prompt;
  std::vector<std::vector<std::int32_t>> labels;
  std::string error;
};

RouterInput MakeRouterInput(const Model& router) {
  RouterInput in;
  Result<std::vector<std::int32_t>> prompt =
      router.Tokenize("route: what is 12 plus 7?\n", /*add_bos=*/true, false);
  if (!prompt.ok()) {
    in.error = prompt.status().ToString();
    return in;
  }
  in.prompt = *prompt;
  for (const char* label : {"arith", "date", "extract", "none", "reverse", "sentiment", "unit"}) {
    Result<std::vector<std::int32_t>> ids = router.Tokenize(label, false, false);
    if (!ids.ok()) {
      in.error = ids.status().ToString();
      return in;
    }
    in.labels.push_back(*ids);
    in.labels.back().push_back(router.eos_id());
  }
  return in;
}

void BM_RouterScoreChoices(benchmark::State& state) {
  const Models* m = ModelsOrSkip(state);
  if (m == nullptr) return;
  const RouterInput in = MakeRouterInput(*m->router);
  Result<std::unique_ptr<Session>> s = m->router->NewSession();
  if (!in.error.empty() || !s.ok()) {
    state.SkipWithError(in.error.empty() ? s.status().ToString().c_str() : in.error.c_str());
    return;
  }
  for (auto _ : state) {
    Result<std::vector<ScoreResult>> r = (*s)->ScoreChoices(in.prompt, in.labels);
    benchmark::DoNotOptimize(r.ok());
  }
  state.counters["prompt_tokens"] = static_cast<double>(in.prompt.size());
}
BENCHMARK(BM_RouterScoreChoices);

void BM_RouterScoreEachLabel(benchmark::State& state) {
  const Models* m = ModelsOrSkip(state);
  if (m == nullptr) return;
  const RouterInput in = MakeRouterInput(*m->router);
  Result<std::unique_ptr<Session>> s = m->router->NewSession();
  if (!in.error.empty() || !s.ok()) {
    state.SkipWithError(in.error.empty() ? s.status().ToString().c_str() : in.error.c_str());
    return;
  }
  for (auto _ : state) {
    for (const std::vector<std::int32_t>& label : in.labels) {
      Result<ScoreResult> r = (*s)->Score(in.prompt, label);
      benchmark::DoNotOptimize(r.ok());
    }
  }
  state.counters["prompt_tokens"] = static_cast<double>(in.prompt.size());
}
BENCHMARK(BM_RouterScoreEachLabel);

// Embed of the first 20 tokens of a request (BOS included). Arg: 0 = base, 1 = router.
void BM_Embed20Tokens(benchmark::State& state) {
  const Models* m = ModelsOrSkip(state);
  if (m == nullptr) return;
  const Model& model = state.range(0) == 0 ? *m->base : *m->router;
  Result<std::vector<std::int32_t>> ids =
      model.Tokenize("route: how many m is 643 km? and what is 12 plus 7?", true, false);
  Result<std::unique_ptr<Session>> s = model.NewSession();
  if (!ids.ok() || ids->size() < 20 || !s.ok()) {
    state.SkipWithError("cannot tokenize 20 tokens or create a session");
    return;
  }
  ids->resize(20);
  for (auto _ : state) {
    Result<std::vector<float>> e = (*s)->Embed(*ids);
    benchmark::DoNotOptimize(e.ok());
  }
  state.SetItemsProcessed(state.iterations() * 20);  // tokens
}
BENCHMARK(BM_Embed20Tokens)->ArgName("router")->Arg(0)->Arg(1);

}  // namespace
}  // namespace tessera
