// The orchestration policy document (package/policy.h): a valid policy read member by member, and
// each way to break one refused with its code and a message naming the place.
#include "package/policy.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

Json ValidPolicy() {
  return Json::parse(R"({
    "schema": "tessera.policy/v1",
    "description": "two skills and an escalation target",
    "routers": [
      {"name": "rules", "type": "rules", "mode": "scored", "min_margin": 0.5,
       "rules": [
         {"route": "arith", "patterns": ["\\d+\\s*[-+]\\s*\\d+"], "weight": 2},
         {"route": "date", "keywords": ["iso date", "normalize"], "max_chars": 200}
       ]},
      {"name": "classifier", "type": "classifier", "module": "dev.t.router",
       "labels": {"arith": "arith", "date": "date"}, "abstain_labels": ["none"],
       "threshold": 0.6, "min_margin": 0.1},
      {"name": "nearest", "type": "embedding", "module": "dev.t.base@1.0.0",
       "exemplars": "exemplars.jsonl", "labels": {"arith": "arith", "date": "date"},
       "top_k": 3, "threshold": 0.7}
    ],
    "routes": {
      "arith": {"description": "sums", "capabilities": ["emit:text"],
                "cascade": [["dev.t.skills.arith", "dev.t.adapters.arith"], "dev.t.generalist"]},
      "date": {"cascade": [{"role": "date-normalise"}, "dev.t.generalist@2.1.0"],
               "fallback": "arith"}
    },
    "cascade": {"max_steps": 2, "max_wall_ms": 5000, "max_load_bytes": 64000000,
                "min_confidence": -0.8, "use_calibration": false, "on_exhausted": "best"},
    "eligibility": {"licenses": ["Apache-2.0"], "require_verified": false},
    "residency": {"load_cost_per_mb": 1.5, "hysteresis": 0.5}
  })");
}

Result<Policy> ParsePolicyJson(const Json& j) { return ParsePolicy(j.dump()); }

TEST(PolicyTest, ReadsEveryMember) {
  Result<Policy> p = ParsePolicyJson(ValidPolicy());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->description, "two skills and an escalation target");
  ASSERT_EQ(p->routers.size(), 3u);
  const RouterSpec& rules = p->routers[0];
  EXPECT_EQ(rules.kind, RouterKind::kRules);
  EXPECT_EQ(rules.mode, RuleMode::kScored);
  EXPECT_FALSE(rules.case_sensitive);
  EXPECT_DOUBLE_EQ(rules.min_margin, 0.5);
  ASSERT_EQ(rules.rules.size(), 2u);
  EXPECT_DOUBLE_EQ(rules.rules[0].weight, 2);
  EXPECT_EQ(rules.rules[1].keywords.size(), 2u);
  EXPECT_EQ(rules.rules[1].max_chars, 200u);
  const RouterSpec& classifier = p->routers[1];
  EXPECT_EQ(classifier.kind, RouterKind::kClassifier);
  EXPECT_EQ(classifier.module, "dev.t.router");
  EXPECT_EQ(classifier.labels.at("date"), "date");
  EXPECT_EQ(classifier.abstain_labels, std::vector<std::string>{"none"});
  EXPECT_DOUBLE_EQ(classifier.threshold, 0.6);
  const RouterSpec& nearest = p->routers[2];
  EXPECT_EQ(nearest.kind, RouterKind::kEmbedding);
  EXPECT_EQ(nearest.exemplars, "exemplars.jsonl");
  EXPECT_EQ(nearest.top_k, 3u);
  const RouteSpec& arith = p->routes.at("arith");
  ASSERT_EQ(arith.cascade.size(), 2u);
  ASSERT_EQ(arith.cascade[0].size(), 2u);
  EXPECT_EQ(arith.cascade[0][1].ToString(), "dev.t.adapters.arith");
  const RouteSpec& date = p->routes.at("date");
  EXPECT_EQ(date.cascade[0][0].ToString(), "role:date-normalise");
  EXPECT_EQ(date.cascade[1][0].id, "dev.t.generalist");
  EXPECT_EQ(date.cascade[1][0].version, "2.1.0");
  EXPECT_EQ(date.fallback, "arith");
  EXPECT_TRUE(date.input_pattern.empty());
  EXPECT_FALSE(date.output.has_value());
  EXPECT_EQ(p->cascade.max_steps, 2u);
  EXPECT_EQ(p->cascade.max_load_bytes, 64000000u);
  EXPECT_DOUBLE_EQ(p->cascade.min_confidence, -0.8);
  EXPECT_FALSE(p->cascade.use_calibration);
  EXPECT_EQ(p->cascade.on_exhausted, OnExhausted::kBest);
  EXPECT_EQ(p->licenses, std::vector<std::string>{"Apache-2.0"});
  EXPECT_FALSE(p->require_verified);
  EXPECT_DOUBLE_EQ(p->hysteresis, 0.5);
  EXPECT_EQ(PolicyPackageIds(*p),
            (std::vector<std::string>{"dev.t.adapters.arith", "dev.t.base", "dev.t.generalist",
                                      "dev.t.router", "dev.t.skills.arith"}));
}

TEST(PolicyTest, Defaults) {
  Json j = {{"schema", "tessera.policy/v1"},
            {"routers", {{{"name", "r"}, {"type", "rules"}, {"rules", {{{"route", "a"}}}}}}},
            {"routes", {{"a", {{"cascade", {"dev.t.a"}}}}}}};
  Result<Policy> p = ParsePolicyJson(j);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->routers[0].mode, RuleMode::kFirst);
  EXPECT_EQ(p->cascade.max_steps, 3u);
  EXPECT_EQ(p->cascade.on_exhausted, OnExhausted::kAbstain);
  EXPECT_TRUE(p->require_verified);
  EXPECT_TRUE(p->cascade.use_calibration);
}

struct Broken {
  std::string what;
  std::function<void(Json&)> edit;
  StatusCode code;
  std::string message;
};

TEST(PolicyTest, RefusesBrokenPolicies) {
  const std::vector<Broken> cases = {
      {"newer schema", [](Json& j) { j["schema"] = "tessera.policy/v2"; },
       StatusCode::kUnsupported, "policy: /schema: \"tessera.policy/v2\" is not supported"},
      {"unknown member", [](Json& j) { j["route_by"] = 1; }, StatusCode::kMalformed,
       "/route_by"},
      {"no routes", [](Json& j) { j["routes"] = Json::object(); }, StatusCode::kMalformed,
       "/routes"},
      {"a route named badly", [](Json& j) { j["routes"]["Bad Name"] = j["routes"]["arith"]; },
       StatusCode::kMalformed, "Bad Name"},
      {"a classifier member in a rules router", [](Json& j) { j["routers"][0]["module"] = "x.y"; },
       StatusCode::kMalformed, "/routers/0"},
      {"a rule for a missing route", [](Json& j) { j["routers"][0]["rules"][0]["route"] = "unit"; },
       StatusCode::kMalformed,
       "policy: /routers/0/rules/0/route: names route \"unit\", which the policy does not define"},
      {"a label for a missing route", [](Json& j) { j["routers"][1]["labels"]["x"] = "nope"; },
       StatusCode::kMalformed, "/routers/1/labels/x: names route \"nope\""},
      {"a label mapped and abstained",
       [](Json& j) { j["routers"][1]["abstain_labels"] = {"date"}; }, StatusCode::kMalformed,
       "/routers/1/abstain_labels: label \"date\" is both mapped to a route and abstained"},
      {"two routers with one name", [](Json& j) { j["routers"][2]["name"] = "rules"; },
       StatusCode::kDuplicate, "/routers/2/name: router name \"rules\" is used twice"},
      {"a pattern with lookahead",
       [](Json& j) { j["routers"][0]["rules"][0]["patterns"] = {"(?=x)"}; },
       StatusCode::kUnsupported, "/routers/0/rules/0/patterns/0"},
      {"a broken pattern", [](Json& j) { j["routers"][0]["rules"][0]["patterns"] = {"a("}; },
       StatusCode::kMalformed, "/routers/0/rules/0/patterns/0"},
      {"max below min",
       [](Json& j) {
         j["routers"][0]["rules"][1]["min_chars"] = 50;
         j["routers"][0]["rules"][1]["max_chars"] = 10;
       },
       StatusCode::kMalformed, "max_chars 10 is below min_chars 50"},
      {"a fallback cycle", [](Json& j) { j["routes"]["arith"]["fallback"] = "date"; },
       StatusCode::kMalformed, "fallbacks form a cycle: arith -> date -> arith"},
      {"a fallback to itself", [](Json& j) { j["routes"]["arith"]["fallback"] = "arith"; },
       StatusCode::kMalformed, "fallbacks form a cycle: arith -> arith"},
      {"a fallback to nowhere", [](Json& j) { j["routes"]["date"]["fallback"] = "unit"; },
       StatusCode::kMalformed, "/routes/date/fallback: names route \"unit\""},
      {"an empty step", [](Json& j) { j["routes"]["arith"]["cascade"][0] = Json::array(); },
       StatusCode::kMalformed, "/routes/arith/cascade/0"},
      {"a candidate that is no id", [](Json& j) { j["routes"]["arith"]["cascade"][1] = "Gen"; },
       StatusCode::kMalformed, "/routes/arith/cascade/1"},
      {"positive min_confidence", [](Json& j) { j["cascade"]["min_confidence"] = 0.5; },
       StatusCode::kMalformed, "/cascade/min_confidence"},
      {"zero steps", [](Json& j) { j["cascade"]["max_steps"] = 0; }, StatusCode::kMalformed,
       "/cascade/max_steps"},
      {"threshold above one", [](Json& j) { j["routers"][1]["threshold"] = 1.5; },
       StatusCode::kMalformed, "/routers/1"},
      {"a route domain with lookahead", [](Json& j) { j["routes"]["date"]["input_pattern"] = "(?=a)"; },
       StatusCode::kUnsupported, "policy: /routes/date/input_pattern"},
      {"a pattern on a number output",
       [](Json& j) { j["routes"]["date"]["output"] = {{"type", "number"}, {"pattern", "x"}}; },
       StatusCode::kMalformed, "/routes/date/output"},
      {"an output schema that does not compile",
       [](Json& j) {
         j["routes"]["date"]["output"] = {{"type", "json"}, {"schema", {{"maxLenght", 3}}}};
       },
       StatusCode::kUnsupported, "/routes/date/output/schema"},
  };
  for (const Broken& c : cases) {
    SCOPED_TRACE(c.what);
    Json j = ValidPolicy();
    c.edit(j);
    Result<Policy> p = ParsePolicyJson(j);
    ASSERT_FALSE(p.ok()) << "accepted";
    EXPECT_EQ(p.status().code(), c.code) << p.status().ToString();
    EXPECT_NE(p.status().message().find(c.message), std::string::npos)
        << p.status().message() << "\nexpected to contain: " << c.message;
  }
}

TEST(PolicyTest, RefusesBytesThatAreNoPolicy) {
  EXPECT_EQ(ParsePolicy("").status().code(), StatusCode::kMalformed);
  EXPECT_EQ(ParsePolicy("[1]").status().code(), StatusCode::kMalformed);
  EXPECT_EQ(ParsePolicy("{\"schema\":\"tessera.policy/v1\",\"schema\":\"x\"}").status().code(),
            StatusCode::kDuplicate);
  EXPECT_EQ(ParsePolicy(std::string(kMaxPolicyBytes + 1, ' ')).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(ParsePolicy("{\"schema\":\"tessera.policy/v1\xff\"}").status().code(),
            StatusCode::kMalformed);
}

}  // namespace
}  // namespace tessera::package
