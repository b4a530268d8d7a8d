// Manifest v2: the contract's prompt template, domain, signed examples and output patterns, and
// packages of kind "policy"; v1 manifests still read as before.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "manifest_fixture.h"
#include "package/canonical_json.h"
#include "package/manifest.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;
using fixture::ExpectRefusedBytes;

constexpr StatusCode kV2Malformed = StatusCode::kMalformed;

// The model manifest of tests/package/data as v2: a text output with a pattern (the extract
// skill's JSON schema is replaced by a date skill's shape).
Json V2Model() {
  Json d = fixture::ModelManifestJson();
  d["schema"] = "tessera.package/v2";
  d["contract"]["role"] = "date-normalise";
  d["contract"]["output"] = {{"type", "text"}, {"pattern", "^\\d{4}-\\d{2}-\\d{2}$"}};
  d["contract"]["prompt"] = "{input}\n";
  d["contract"]["domain"] = "Calendar dates from 1950 to 2049 in nine written forms.";
  d["contract"]["examples"] = Json::array(
      {{{"input", "date: 5th of March, 2021"}, {"output", "2021-03-05"}},
       {{"input", "March 3, 2021 in ISO format"}, {"output", "2021-03-03"}}});
  return d;
}

Json V2Policy() {
  Json d = fixture::ModelManifestJson();
  d["schema"] = "tessera.package/v2";
  d["id"] = "dev.tessera.policy.skills";
  d["kind"] = "policy";
  for (const char* key : {"gguf", "contract", "resources", "quality", "rollback"}) d.erase(key);
  d["capabilities"] = Json::array();
  d["artifacts"] = Json::array(
      {{{"role", "policy"},
        {"name", "policy.json"},
        {"media_type", "application/vnd.tessera.policy+json"},
        {"size", 10},
        {"sha256", std::string(64, 'a')}},
       {{"role", "router-exemplars"},
        {"name", "exemplars.jsonl"},
        {"media_type", "application/x-ndjson"},
        {"size", 10},
        {"sha256", std::string(64, 'b')}}});
  return d;
}

Result<Manifest> ParseV2(const Json& d) { return ParseManifest(d.dump()); }

void ExpectRefusedJson(const Json& d, StatusCode code, const std::string& message) {
  ExpectRefusedBytes(d.dump(), code, message);
}

TEST(ManifestV2Test, ContractRoundTrips) {
  Result<Manifest> m = ParseV2(V2Model());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->schema_version, 2u);
  EXPECT_EQ(m->contract.prompt, "{input}\n");
  EXPECT_EQ(m->contract.output.pattern, "^\\d{4}-\\d{2}-\\d{2}$");
  ASSERT_EQ(m->contract.examples.size(), 2u);
  EXPECT_EQ(m->contract.examples[1].output, "2021-03-03");
  Result<std::string> text = ManifestToJson(*m);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  Result<Manifest> again = ParseManifest(*text);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *m);
  Result<std::string> canonical = CanonicalManifestBytes(*m);
  ASSERT_TRUE(canonical.ok());
  EXPECT_NE(canonical->find("\"schema\":\"tessera.package/v2\""), std::string::npos);
}

TEST(ManifestV2Test, V1StillReadsWithoutATemplate) {
  Result<Manifest> m = ParseV2(fixture::ModelManifestJson());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->schema_version, 1u);
  Result<std::string> prompt = ApplyPromptTemplate(m->contract, "date: 1/2/2003\n");
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(*prompt, "date: 1/2/2003\n");  // v1: the request is the prompt, as given
}

TEST(ManifestV2Test, TemplatesAreChecked) {
  const struct {
    const char* prompt;
    const char* message;
  } cases[] = {
      {"route: {input} {input}\n", "has 2 \"{input}\", expected exactly one"},
      {"{input} {x}\n", "a lone \"{\" at 8"},
      {"}{input}", "a lone \"}\" at 0"},
      {"{inputs}", "/contract/prompt: does not match pattern"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.prompt);
    Json d = V2Model();
    d["contract"]["prompt"] = c.prompt;
    ExpectRefusedJson(d, kV2Malformed, c.message);
  }
  Json d = V2Model();
  d["contract"]["prompt"] = "{{literal}} {input}\n";
  Result<Manifest> m = ParseV2(d);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*ApplyPromptTemplate(m->contract, "x"), "{literal} x\n");
}

TEST(ManifestV2Test, InputFromPromptInvertsTheTemplate) {
  Contract c;
  c.prompt = "route: {input}\n";
  EXPECT_EQ(InputFromPrompt(c, "route: what is 2+2\n"), std::optional<std::string>("what is 2+2"));
  EXPECT_EQ(InputFromPrompt(c, "route: \n"), std::optional<std::string>(""));
  EXPECT_EQ(InputFromPrompt(c, "what is 2+2\n"), std::nullopt);
  EXPECT_EQ(InputFromPrompt(c, "route: x"), std::nullopt);
  c.prompt = "{{{input}}}";
  EXPECT_EQ(InputFromPrompt(c, "{abc}"), std::optional<std::string>("abc"));
  c.prompt = "";  // v1
  EXPECT_EQ(InputFromPrompt(c, "as is\n"), std::optional<std::string>("as is\n"));
}

TEST(ManifestV2Test, ExamplesMustPassTheOutputType) {
  Json d = V2Model();
  d["contract"]["examples"][1]["output"] = "03/03/2021";
  ExpectRefusedJson(d, kV2Malformed,
                    "/contract/examples/1/output: \"03/03/2021\" does not match the pattern");
  d = V2Model();
  d["contract"]["output"] = {{"type", "enum"}, {"labels", {"negative", "positive"}}};
  d["contract"]["examples"] = Json::array({{{"input", "review: great"}, {"output", "good"}}});
  ExpectRefusedJson(d, kV2Malformed, "\"good\" is not one of the labels negative, positive");
  d = V2Model();
  d["contract"]["output"] = {{"type", "number"}};
  d["contract"]["examples"] = Json::array({{{"input", "3 km in m"}, {"output", "3000 m"}}});
  ExpectRefusedJson(d, kV2Malformed, "\"3000 m\" is not a number");
  d = V2Model();
  d["contract"]["output"] = {{"type", "number"}, {"pattern", "^\\d+$"}};
  ExpectRefusedJson(d, kV2Malformed, "/contract/output/pattern: ");
  d = V2Model();
  d["contract"]["output"]["pattern"] = "(?=x)";
  ExpectRefusedJson(d, StatusCode::kUnsupported, "/contract/output/pattern");
  d = V2Model();
  d["contract"]["input"] = {{"type", "text"}, {"pattern", "^date: "}};
  ExpectRefusedJson(d, kV2Malformed,
                    "/contract/examples/1/input: \"March 3, 2021 in ISO format\" does not match");
  d = V2Model();
  d["contract"].erase("examples");
  ExpectRefusedJson(d, kV2Malformed, "/contract: required member \"examples\" is missing");
}

TEST(ManifestV2Test, CheckOutputType) {
  IoType number{IoKind::kNumber, {}, "", ""};
  for (const char* ok : {"0", "-12", "12.5", "1e3", "-0.25E-2"}) {
    EXPECT_TRUE(CheckOutputType(number, ok).ok()) << ok;
  }
  for (const char* bad : {"", "01", "1.", ".5", "+1", "12 ", "1,000", "NaN"}) {
    EXPECT_EQ(CheckOutputType(number, bad).code(), kV2Malformed) << bad;
  }
  IoType json{IoKind::kJson, {}, R"({"type":"object","required":["age"]})", ""};
  EXPECT_TRUE(CheckOutputType(json, R"({"age":3})").ok());
  EXPECT_EQ(CheckOutputType(json, R"({"name":"x"})").code(), kV2Malformed);
  EXPECT_EQ(CheckOutputType(json, R"({"age":3)").code(), kV2Malformed);
  EXPECT_EQ(CheckOutputType(json, R"({"age":3,"age":4})").code(), kV2Malformed);
  IoType text{IoKind::kText, {}, "", ""};
  EXPECT_TRUE(CheckOutputType(text, "anything at all").ok());
}

TEST(ManifestV2Test, PolicyPackages) {
  Result<Manifest> m = ParseV2(V2Policy());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->kind, PackageKind::kPolicy);
  EXPECT_EQ(m->primary_artifact().name, "policy.json");
  ASSERT_NE(m->FindArtifact("exemplars.jsonl"), nullptr);
  EXPECT_EQ(m->FindArtifact("nothing"), nullptr);
  Result<Manifest> again = ParseManifest(*ManifestToJson(*m));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *m);

  Json d = V2Policy();
  d["gguf"] = fixture::ModelManifestJson()["gguf"];
  ExpectRefusedJson(d, kV2Malformed, "/gguf: ");
  d = V2Policy();
  d["artifacts"][0]["role"] = "weights";
  ExpectRefusedJson(d, kV2Malformed, "a policy package cannot have a \"weights\" artifact");
  d = V2Policy();
  d["artifacts"][0]["role"] = "doc";
  ExpectRefusedJson(d, kV2Malformed, "a policy package has 0 \"policy\" artifacts");
  d = V2Policy();
  d["artifacts"][0]["media_type"] = "application/json";
  ExpectRefusedJson(d, kV2Malformed, "/artifacts/0/media_type: the policy artifact is");
  d = V2Policy();
  d["schema"] = "tessera.package/v1";  // v1 knows neither policies nor "policy" artifacts
  ExpectRefusedJson(d, kV2Malformed, "/artifacts/0/role: must not match");
  d["artifacts"][0]["role"] = "doc";
  ExpectRefusedJson(d, kV2Malformed, "/kind: ");
  d = V2Model();
  d["artifacts"].push_back(V2Policy()["artifacts"][0]);
  ExpectRefusedJson(d, kV2Malformed, "only a policy package has a \"policy\" artifact");
  d = V2Model();
  d["kind"] = "policy";
  ExpectRefusedJson(d, kV2Malformed, "/contract: ");
}

}  // namespace
}  // namespace tessera::package
