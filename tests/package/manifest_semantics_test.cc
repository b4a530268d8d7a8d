// Manifests that the JSON Schema accepts but ParseManifest refuses: the checks that need more
// than one member, or a parser (versions, ranges, contract schemas).
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "manifest_fixture.h"
#include "package/manifest.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;
using fixture::ExpectRefused;

constexpr StatusCode kMalformed = StatusCode::kMalformed;

Json Dep(const std::string& id, const std::string& range) {
  return Json{{"id", id}, {"version", range}};
}

TEST(ManifestSemanticsTest, QualityNamesItsSplitAndInterval) {
  Json d = fixture::ModelManifestJson();
  d["quality"][0]["value"] = 0.95;
  d["quality"][0]["split"] = "novel";
  d["quality"][0]["interval95"] = {0.9, 0.97};
  Result<Manifest> m = ParseManifest(d.dump());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->quality[0].split, "novel");
  ASSERT_TRUE(m->quality[0].interval95.has_value());
  EXPECT_EQ((*m->quality[0].interval95)[0], 0.9);
  EXPECT_EQ((*m->quality[0].interval95)[1], 0.97);
  // Both are optional: evidence without them reads as before.
  Result<Manifest> plain = ParseManifest(fixture::ModelManifestJson().dump());
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->quality[0].split, "");
  EXPECT_FALSE(plain->quality[0].interval95.has_value());
  d["quality"][0]["split"] = "Novel split";
  EXPECT_EQ(ParseManifest(d.dump()).status().code(), kMalformed);
}

TEST(ManifestSemanticsTest, VersionsAndRanges) {
  ExpectRefused({
      {"two parts", false, [](Json& d) { d["version"] = "1.2"; }, kMalformed,
       "package: manifest: /version: package: version \"1.2\""},
      {"leading v", false, [](Json& d) { d["version"] = "v1.2.0"; }, kMalformed,
       "/version: package: version \"v1.2.0\""},
      {"leading zero", false, [](Json& d) { d["version"] = "01.2.0"; }, kMalformed,
       "/version: package: version \"01.2.0\""},
      {"empty pre-release", false, [](Json& d) { d["version"] = "1.2.0-"; }, kMalformed,
       "/version: package: version \"1.2.0-\""},
      {"base version is a range", true, [](Json& d) { d["base"]["version"] = "^1.0.0"; },
       kMalformed, "/base/version: package: version \"^1.0.0\""},
      {"measured by", false, [](Json& d) { d["quality"][0]["runtime_version"] = "0.1"; },
       kMalformed, "/quality/0/runtime_version: package: version \"0.1\""},
      {"rollback", false, [](Json& d) { d["rollback"]["known_good"] = "latest"; }, kMalformed,
       "/rollback/known_good: package: version \"latest\""},
      {"runtime range", false, [](Json& d) { d["runtime"]["versions"] = ">=0.1 <0.2"; }, kMalformed,
       "/runtime/versions: package: version range \">=0.1 <0.2\""},
      {"range with spaces", false, [](Json& d) { d["runtime"]["versions"] = " >=0.1.0"; },
       kMalformed, "/runtime/versions: range \" >=0.1.0\" has spaces at its start or end"},
      {"dependency range", false,
       [](Json& d) { d["dependencies"]["replaces"][0]["version"] = "1.x"; }, kMalformed,
       "/dependencies/replaces/0/version: package: version range \"1.x\""},
  });
}

TEST(ManifestSemanticsTest, ArtifactsMatchTheKind) {
  ExpectRefused({
      {"two weights", false, [](Json& d) { d["artifacts"][2]["role"] = "weights"; }, kMalformed,
       "package: manifest: /artifacts: a model package has 2 \"weights\" artifacts, expected "
       "exactly one"},
      {"no weights", false, [](Json& d) { d["artifacts"][0]["role"] = "doc"; }, kMalformed,
       "/artifacts: a model package has 0 \"weights\" artifacts, expected exactly one"},
      {"model with an adapter", false, [](Json& d) { d["artifacts"][2]["role"] = "adapter"; },
       kMalformed, "/artifacts: a model package cannot have an artifact with role \"adapter\""},
      {"two adapters", true, [](Json& d) { d["artifacts"][2]["role"] = "adapter"; }, kMalformed,
       "/artifacts: an adapter package has 2 \"adapter\" artifacts, expected exactly one"},
      {"adapter with weights", true, [](Json& d) { d["artifacts"][2]["role"] = "weights"; },
       kMalformed,
       "/artifacts: an adapter package cannot have an artifact with role \"weights\" (its base "
       "is a package of its own)"},
      {"duplicate names", false, [](Json& d) { d["artifacts"][2]["name"] = "extract.gguf"; },
       StatusCode::kDuplicate,
       "package: manifest: /artifacts/2/name: artifact name \"extract.gguf\" is used twice"},
      {"weights not gguf", false,
       [](Json& d) { d["artifacts"][0]["media_type"] = "application/octet-stream"; }, kMalformed,
       "/artifacts/0/media_type: the weights artifact is \"application/octet-stream\", expected "
       "application/vnd.gguf"},
  });
}

TEST(ManifestSemanticsTest, BaseAndTokenizerFollowTheKind) {
  const Json adapter_base = fixture::AdapterManifestJson()["base"];
  const Json model_tokenizer = fixture::ModelManifestJson()["gguf"]["tokenizer"];
  ExpectRefused({
      {"model with a base", false, [&](Json& d) { d["base"] = adapter_base; }, kMalformed,
       "package: manifest: /base: a model package cannot have a base (only adapters do)"},
      {"adapter without a base", true, [](Json& d) { d.erase("base"); }, kMalformed,
       "package: manifest: (root): an adapter package needs a \"base\""},
      {"adapter based on itself", true, [](Json& d) { d["base"]["id"] = d["id"]; }, kMalformed,
       "/base/id: an adapter cannot be its own base \"dev.tessera.adapters.sentiment\""},
      {"model without a tokenizer", false, [](Json& d) { d["gguf"].erase("tokenizer"); },
       kMalformed, "/gguf: a model package needs \"tokenizer\""},
      {"adapter with a tokenizer", true, [&](Json& d) { d["gguf"]["tokenizer"] = model_tokenizer; },
       kMalformed, "/gguf/tokenizer: an adapter has no tokenizer of its own"},
      {"adapter with a context", true, [](Json& d) { d["gguf"]["context_length"] = 128; },
       kMalformed, "/gguf/context_length: is 128, expected 0 for an adapter"},
      {"model without a context", false, [](Json& d) { d["gguf"]["context_length"] = 0; },
       kMalformed, "/gguf/context_length: is 0; a model needs a context"},
  });
}

TEST(ManifestSemanticsTest, ContractTypes) {
  ExpectRefused({
      {"enum without labels", true, [](Json& d) { d["contract"]["output"].erase("labels"); },
       kMalformed, "/contract/output: required member \"labels\" is missing"},
      {"duplicate labels", true,
       [](Json& d) {
         d["contract"]["output"]["labels"] = {"positive", "negative", "positive"};
       },
       kMalformed, "/contract/output/labels: items 0 and 2 are equal (uniqueItems)"},
      {"no labels", true, [](Json& d) { d["contract"]["output"]["labels"] = Json::array(); },
       kMalformed, "/contract/output/labels: has 0 items, fewer than minItems 1"},
      {"labels on text", false, [](Json& d) { d["contract"]["input"]["labels"] = {"a"}; },
       kMalformed, "/contract/input/labels: is not allowed by the schema"},
      {"json without a schema", false, [](Json& d) { d["contract"]["output"].erase("schema"); },
       kMalformed, "/contract/output: required member \"schema\" is missing"},
      {"schema on enum", true, [](Json& d) { d["contract"]["output"]["schema"] = Json::object(); },
       kMalformed, "/contract/output/schema: is not allowed by the schema"},
      {"schema with a typo", false,
       [](Json& d) { d["contract"]["output"]["schema"]["properties"]["name"]["maxLenght"] = 3; },
       StatusCode::kUnsupported,
       "package: manifest: /contract/output/schema: #/properties/name/maxLenght: unknown or "
       "unsupported keyword \"maxLenght\""},
      {"schema with a bad pattern", false,
       [](Json& d) { d["contract"]["output"]["schema"]["properties"]["city"]["pattern"] = "(a"; },
       kMalformed, "/contract/output/schema: #/properties/city/pattern: regex \"(a\""},
      {"schema with a huge integer", false,
       [](Json& d) {
         d["contract"]["output"]["schema"]["properties"]["age"]["maximum"] = 9007199254740993ull;
       },
       StatusCode::kOutOfRange, "/contract/output/schema"},
      {"schema too large", false,
       [](Json& d) { d["contract"]["output"]["schema"]["description"] = std::string(70000, 'x'); },
       kMalformed, "/contract/output/schema: is 70"},
  });
}

TEST(ManifestSemanticsTest, DependenciesQualityAndRollback) {
  ExpectRefused({
      {"requires itself", false,
       [](Json& d) { d["dependencies"]["requires"] = {Dep("dev.tessera.skills.extract", "*")}; },
       kMalformed,
       "/dependencies/requires/0/id: a package cannot name itself "
       "\"dev.tessera.skills.extract\""},
      {"listed twice", true,
       [](Json& d) { d["dependencies"]["requires"].push_back(Dep("dev.tessera.base", "*")); },
       StatusCode::kDuplicate, "/dependencies/requires/1/id: \"dev.tessera.base\" is listed twice"},
      {"required and in conflict", true,
       [](Json& d) { d["dependencies"]["conflicts"] = {Dep("dev.tessera.base", "<1.0.0")}; },
       kMalformed,
       "/dependencies/conflicts/0/id: \"dev.tessera.base\" is both required and in conflict"},
      {"evidence without its eval set", false,
       [](Json& d) { d["quality"][0]["eval_set_sha256"] = std::string(64, '0'); }, kMalformed,
       "/quality/0/eval_set_sha256: names no artifact with role \"eval-set\""},
      {"interval without its value", false,
       [](Json& d) {
         d["quality"][0]["value"] = 0.9;
         d["quality"][0]["interval95"] = {0.91, 0.99};
       },
       kMalformed, "/quality/0/interval95: [0.91, 0.99] does not contain the value 0.9"},
      {"evidence naming the weights", false,
       [](Json& d) { d["quality"][0]["eval_set_sha256"] = d["artifacts"][0]["sha256"]; },
       kMalformed, "/quality/0/eval_set_sha256: names no artifact with role \"eval-set\""},
      {"rollback to the release of this pre-release", false,
       [](Json& d) { d["rollback"]["known_good"] = "1.2.0"; }, kMalformed,
       "/rollback/known_good: 1.2.0 does not precede the package version 1.2.0-rc.1+build.7"},
      {"rollback to itself", true,
       [](Json& d) {
         d["rollback"] = {{"known_good", "0.3.1"}};
       },
       kMalformed, "/rollback/known_good: 0.3.1 does not precede the package version 0.3.1"},
  });
}

TEST(ManifestSemanticsTest, AcceptsTheEdgesOfTheRules) {
  // Each edit keeps the manifest valid.
  const std::vector<std::pair<bool, std::function<void(Json&)>>> edits = {
      {false, [](Json& d) { d["version"] = "18446744073709551615.0.0"; }},
      {false, [](Json& d) { d["artifacts"][0]["size"] = 9007199254740991ull; }},
      {false, [](Json& d) { d["artifacts"][0]["size"] = 986720.0; }},  // integral: an integer
      {false, [](Json& d) { d["artifacts"][2]["name"] = ".hidden"; }},
      {false, [](Json& d) { d["license"] = "LicenseRef-Tessera-Internal"; }},
      {false, [](Json& d) { d["contract"]["output"]["schema"] = true; }},
      {false, [](Json& d) { d["capabilities"] = Json::array(); }},
      {false, [](Json& d) { d["rollback"]["known_good"] = "1.2.0-rc.0"; }},
      {true, [](Json& d) { d["base"]["alpha"] = 1e-9; }},
      {true, [](Json& d) { d["contract"]["output"]["labels"] = {"\xc3\xa9t\xc3\xa9"}; }},
      {true, [](Json& d) { d["dependencies"]["conflicts"] = {Dep("dev.tessera.other", "*")}; }},
  };
  for (std::size_t k = 0; k < edits.size(); ++k) {
    SCOPED_TRACE(k);
    Json doc = edits[k].first ? fixture::AdapterManifestJson() : fixture::ModelManifestJson();
    edits[k].second(doc);
    Result<Manifest> m = ParseManifest(doc.dump());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    Result<std::string> again = ManifestToJson(*m);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*ParseManifest(*again), *m);
  }
}

}  // namespace
}  // namespace tessera::package
