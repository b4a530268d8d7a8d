#include "runtime_fixture.h"

#include <filesystem>

namespace tessera::testing {
namespace {

using registry::fixture::Spec;

Spec Model(const std::string& id, const std::string& weights, const std::string& eval) {
  Spec s;
  s.id = id;
  s.weights = weights;
  s.eval_set = eval;
  return s;
}

Spec LoraSpec(const std::string& id, const std::string& weights, const std::string& eval) {
  Spec s = Model(id, weights, eval);
  s.adapter = true;
  return s;
}

// Installs the packages into a new store at `home`.
void BuildStore(const std::string& work, const std::string& home, const package::PrivateKey& key) {
  std::unique_ptr<registry::Registry> store =
      registry::fixture::OpenStore(home, key, &base::SystemClock());
  ASSERT_NE(store, nullptr);
  for (const Spec& s :
       {registry::fixture::BaseSpec(),
        LoraSpec("dev.test.date-lora", "adapters/date.lora.gguf", "eval/keys/date.jsonl"),
        LoraSpec("dev.test.unit-lora", "adapters/unit.lora.gguf", "eval/keys/unit.jsonl"),
        Model("dev.test.skills.date", "specialists/date.gguf", "eval/keys/date.jsonl"),
        Model("dev.test.skills.unit", "specialists/unit.gguf", "eval/keys/unit.jsonl")}) {
    Result<registry::InstallResult> r = store->Install(registry::fixture::Pack(work, s, &key));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

}  // namespace

void RuntimeTest::SetUp() {
  static const std::string* const kTemplate = [this] {
    const std::string work = registry::fixture::TempDir("runtime-template");
    BuildStore(work, work + "/home", key_);
    return new std::string(work + "/home");
  }();
  work_ = registry::fixture::TempDir("runtime");
  home_ = work_ + "/home";
  std::filesystem::copy(*kTemplate, home_, std::filesystem::copy_options::recursive);
}

void RuntimeTest::TearDown() { std::filesystem::remove_all(work_); }

std::unique_ptr<Runtime> RuntimeTest::Open(RuntimeBudgets budgets) {
  RuntimeOptions o;
  o.home = home_;
  o.budgets = budgets;
  o.n_threads = 1;
  o.on_event = [this](const RuntimeEvent& e) {
    std::lock_guard<std::mutex> lock(events_mu_);
    events_.push_back(e);
  };
  Result<std::unique_ptr<Runtime>> rt = Runtime::Open(std::move(o));
  EXPECT_TRUE(rt.ok()) << rt.status().ToString();
  return rt.ok() ? std::move(*rt) : nullptr;
}

std::vector<std::string> RuntimeTest::Events(RuntimeEventKind kind) {
  std::lock_guard<std::mutex> lock(events_mu_);
  std::vector<std::string> out;
  for (const RuntimeEvent& e : events_) {
    if (e.kind == kind) out.push_back(e.module);
  }
  return out;
}

std::string RuntimeTest::Generate(Runtime& rt, SessionHandle s, const std::string& prompt) {
  GenerateOptions g;
  g.max_tokens = 24;
  Result<GenerateResult> r = rt.Generate(s, prompt, g);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->text : "";
}

}  // namespace tessera::testing
