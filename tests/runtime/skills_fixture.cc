#include "skills_fixture.h"

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "registry/pack.h"

namespace tessera::testing {
namespace {

using Json = nlohmann::json;
using registry::fixture::Spec;

Json Examples(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  Json out = Json::array();
  for (const auto& [in, out_text] : pairs) out.push_back({{"input", in}, {"output", out_text}});
  return out;
}

// The v2 members of a skill's manifest, as a merge patch.
Json V2(const std::string& role, const Json& output, const Json& examples,
        const std::string& prompt = "{input}\n") {
  return {{"schema", "tessera.package/v2"},
          {"contract",
           {{"role", role},
            {"output", output},
            {"prompt", prompt},
            {"domain", "what the shipped " + role + " model was trained on"},
            {"examples", examples}}}};
}

Json DateContract() {
  return V2("date-normalise", {{"type", "text"}, {"pattern", "^\\d{4}-\\d{2}-\\d{2}$"}},
            Examples({{"date: March 3, 2021", "2021-03-03"}}));
}
Json UnitContract() {
  return V2("unit-convert", {{"type", "number"}}, Examples({{"convert 12 km to m", "12000"}}));
}

Spec SkillSpec(const std::string& id, const std::string& weights, const std::string& eval,
          Json patch, bool adapter = false) {
  Spec s;
  s.id = id;
  s.weights = weights;
  s.eval_set = eval;
  s.adapter = adapter;
  s.patch = std::move(patch);
  return s;
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::atomic<int> g_counter{0};

Status InstallPolicyInto(registry::Registry& store, const std::string& work,
                         const package::PrivateKey& key, const std::string& name,
                         const Json& policy, const std::string& exemplars) {
  const std::string dir = work + "/policy-" + name + "-" + std::to_string(g_counter++);
  std::filesystem::create_directories(dir);
  Write(dir + "/policy.json", policy.dump(1));
  Write(dir + "/exemplars.jsonl", exemplars);
  Json m = {{"schema", "tessera.package/v2"},
            {"id", "dev.test.policy." + name},
            {"version", "1.0.0"},
            {"kind", "policy"},
            {"license", "MIT"},
            {"artifacts",
             {{{"role", "policy"},
               {"name", "policy.json"},
               {"media_type", "application/vnd.tessera.policy+json"}},
              {{"role", "router-exemplars"},
               {"name", "exemplars.jsonl"},
               {"media_type", "application/x-ndjson"}}}},
            {"runtime", {{"versions", ">=0.1.0 <0.2.0"}, {"package_abi", 1}}},
            {"capabilities", Json::array()}};
  Write(dir + "/manifest.json", m.dump(1));
  Result<registry::PackResult> packed = registry::PackDirectory(dir, dir + ".tpkg", &key);
  if (!packed.ok()) return packed.status();
  return store.Install(dir + ".tpkg").status();
}

void BuildSkillsStore(const std::string& work, const std::string& home, const package::PrivateKey& key) {
  std::unique_ptr<registry::Registry> store =
      registry::fixture::OpenStore(home, key, &base::SystemClock());
  ASSERT_NE(store, nullptr);
  const Json router_out = {
      {"type", "enum"},
      {"labels", {"arith", "date", "extract", "none", "reverse", "sentiment", "unit"}}};
  Spec base = registry::fixture::BaseSpec();
  base.patch = V2("base", {{"type", "text"}}, Examples({{"date: March 3, 2021", "2021-03-03"}}));
  for (const Spec& s : {
           base,
           SkillSpec("dev.test.router", "router.gguf", "eval/keys/routing.jsonl",
                V2("route", router_out, Examples({{"what is 2+2", "arith"}}), "route: {input}\n")),
           SkillSpec("dev.test.skills.date", "specialists/date.gguf", "eval/keys/date.jsonl", DateContract()),
           SkillSpec("dev.test.date-lora", "adapters/date.lora.gguf", "eval/keys/date.jsonl", DateContract(),
                true),
           SkillSpec("dev.test.skills.unit", "specialists/unit.gguf", "eval/keys/unit.jsonl", UnitContract()),
           SkillSpec("dev.test.unit-lora", "adapters/unit.lora.gguf", "eval/keys/unit.jsonl", UnitContract(),
                true),
           SkillSpec("dev.test.skills.sentiment", "specialists/sentiment.gguf", "eval/keys/sentiment.jsonl",
                V2("sentiment", {{"type", "enum"}, {"labels", {"negative", "positive"}}},
                   Examples({{"review: the food was great", "positive"}}))),
           SkillSpec("dev.test.generalist", "generalist.gguf", "eval/keys/date.jsonl",
                V2("general", {{"type", "text"}}, Examples({{"convert 12 km to m", "12000"}}))),
       }) {
    Result<registry::InstallResult> r = store->Install(registry::fixture::Pack(work, s, &key));
    ASSERT_TRUE(r.ok()) << s.id << ": " << r.status().ToString();
  }
  Status policy = InstallPolicyInto(*store, work, key, "skills", SkillsPolicy(), kSkillsExemplars);
  ASSERT_TRUE(policy.ok()) << policy.ToString();
  Result<std::vector<registry::VerifyResult>> verified = store->Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
}

}  // namespace

const char* const kSkillsExemplars =
    "{\"label\":\"date\",\"text\":\"normalize the date: June 9, 1987\"}\n"
    "{\"label\":\"date\",\"text\":\"7/4/1999 in ISO format\"}\n"
    "{\"label\":\"unit\",\"text\":\"convert 12 km to m\"}\n"
    "{\"label\":\"unit\",\"text\":\"250 g in kg\"}\n"
    "{\"label\":\"sentiment\",\"text\":\"review: the hotel was lovely\"}\n"
    "{\"label\":\"none\",\"text\":\"what is the capital of Peru?\"}\n"
    "{\"label\":\"none\",\"text\":\"write a poem about the sea\"}\n";

Json SkillsPolicy() {
  return Json::parse(R"({
    "schema": "tessera.policy/v1",
    "routers": [
      {"name": "rules", "type": "rules",
       "rules": [{"route": "date", "patterns": ["\\b(january|february|march)\\s+\\d{1,2},\\s+\\d{4}\\b"]}]},
      {"name": "classifier", "type": "classifier", "module": "dev.test.router",
       "labels": {"date": "date", "unit": "unit", "sentiment": "sentiment"},
       "abstain_labels": ["none", "arith", "extract", "reverse"], "threshold": 0.5},
      {"name": "nearest", "type": "embedding", "module": "dev.test.router",
       "exemplars": "exemplars.jsonl",
       "labels": {"date": "date", "unit": "unit", "sentiment": "sentiment"},
       "abstain_labels": ["none"], "top_k": 3, "threshold": 0.9}
    ],
    "routes": {
      "date": {"cascade": [["dev.test.skills.date", "dev.test.date-lora"], "dev.test.generalist"]},
      "unit": {"cascade": [["dev.test.skills.unit", "dev.test.unit-lora"], "dev.test.generalist"]},
      "sentiment": {"cascade": ["dev.test.skills.sentiment", "dev.test.generalist"]}
    },
    "cascade": {"min_confidence": -0.5, "use_calibration": true},
    "eligibility": {"licenses": ["MIT"]}
  })");
}

void SkillsTest::SetUp() {
  static const std::string* const kTemplate = [this] {
    const std::string work = registry::fixture::TempDir("skills-template");
    BuildSkillsStore(work, work + "/home", key_);
    return new std::string(work + "/home");
  }();
  work_ = registry::fixture::TempDir("skills");
  home_ = work_ + "/home";
  std::filesystem::copy(*kTemplate, home_, std::filesystem::copy_options::recursive);
}

void SkillsTest::TearDown() { std::filesystem::remove_all(work_); }

std::unique_ptr<Runtime> SkillsTest::Open(RuntimeBudgets budgets) {
  RuntimeOptions o;
  o.home = home_;
  o.budgets = budgets;
  o.n_threads = 1;
  Result<std::unique_ptr<Runtime>> rt = Runtime::Open(std::move(o));
  EXPECT_TRUE(rt.ok()) << rt.status().ToString();
  return rt.ok() ? std::move(*rt) : nullptr;
}

std::unique_ptr<Orchestrator> SkillsTest::OpenOrchestrator(Runtime& rt, const std::string& policy) {
  OrchestratorOptions o;
  o.policy = policy.empty() ? "dev.test.policy.skills" : policy;
  Result<std::unique_ptr<Orchestrator>> orchestrator = Orchestrator::Open(rt, o);
  EXPECT_TRUE(orchestrator.ok()) << orchestrator.status().ToString();
  return orchestrator.ok() ? std::move(*orchestrator) : nullptr;
}

Status SkillsTest::InstallPolicy(const std::string& name, const Json& policy,
                                 const std::string& exemplars) {
  TS_ASSIGN_OR_RETURN(std::unique_ptr<registry::Registry> store, registry::Registry::Open(home_));
  return InstallPolicyInto(*store, work_, key_, name, policy, exemplars);
}

Status SkillsTest::InstallModel(const std::string& id, const std::string& weights,
                                const std::string& eval, const Json& patch) {
  TS_ASSIGN_OR_RETURN(std::unique_ptr<registry::Registry> store, registry::Registry::Open(home_));
  Result<registry::InstallResult> r =
      store->Install(registry::fixture::Pack(work_, SkillSpec(id, weights, eval, patch), &key_));
  if (!r.ok()) return r.status();
  return store->Verify(id).status();
}

}  // namespace tessera::testing
