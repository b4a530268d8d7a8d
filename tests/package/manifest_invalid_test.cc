// Manifests refused before or by the JSON Schema: bytes, JSON, unknown members, types, limits.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "manifest_fixture.h"
#include "package/manifest.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;
using fixture::BrokenManifest;
using fixture::ExpectRefused;
using fixture::ExpectRefusedBytes;

constexpr StatusCode kMalformed = StatusCode::kMalformed;

TEST(ManifestInvalidTest, BytesThatAreNotAManifestObject) {
  std::string big = fixture::ModelManifestJson().dump();
  big += std::string(kMaxManifestBytes + 1 - big.size(), ' ');  // valid JSON, one byte too many
  ExpectRefusedBytes(big, StatusCode::kResourceExhausted,
                     "package: manifest: is 262145 bytes, more than the limit 262144");
  ExpectRefusedBytes("", kMalformed, "package: manifest: not valid JSON");
  ExpectRefusedBytes("{", kMalformed, "package: manifest: not valid JSON (syntax error at byte ");
  ExpectRefusedBytes("{\"schema\": \"tessera.package/v1\",}", kMalformed, "not valid JSON");
  ExpectRefusedBytes("\x89PNG\r\n\x1a\n", kMalformed, "not valid JSON");
  ExpectRefusedBytes("[]", kMalformed,
                     "package: manifest: (root): is an array, expected a JSON object");
  ExpectRefusedBytes("42", kMalformed, "(root): is an integer, expected a JSON object");
  ExpectRefusedBytes("\"tessera.package/v1\"", kMalformed, "(root): is a string");
  ExpectRefusedBytes("null", kMalformed, "(root): is null");
}

TEST(ManifestInvalidTest, DuplicateMembersInTheText) {
  const std::string compact = fixture::ModelManifestJson().dump();
  ExpectRefusedBytes("{\"kind\":\"adapter\"," + compact.substr(1), StatusCode::kDuplicate,
                     "package: manifest: member /kind occurs twice in its object");
  std::string nested = compact;
  const std::string role = "\"role\":\"weights\"";
  nested.replace(nested.find(role), role.size(), role + ",\"role\":\"doc\"");
  ExpectRefusedBytes(nested, StatusCode::kDuplicate, "member /artifacts/0/role occurs twice");
}

TEST(ManifestInvalidTest, DeepNestingIsRefusedWhileReading) {
  Json doc = fixture::ModelManifestJson();
  Json deep = Json::object();
  for (int k = 0; k < 70; ++k) deep = Json{{"items", deep}};
  doc["contract"]["output"]["schema"] = deep;
  ExpectRefusedBytes(doc.dump(), StatusCode::kResourceExhausted,
                     "package: manifest: JSON nests deeper than 64 levels");
}

TEST(ManifestInvalidTest, SchemaVersion) {
  ExpectRefused({
      {"a newer format", false, [](Json& d) { d["schema"] = "tessera.package/v3"; },
       StatusCode::kUnsupported,
       "package: manifest: /schema: \"tessera.package/v3\" is not supported; this runtime reads "
       "tessera.package/v1 and tessera.package/v2"},
      {"not a string", false, [](Json& d) { d["schema"] = 1; }, kMalformed,
       "/schema: is not one of [\"tessera.package/v1\",\"tessera.package/v2\"]"},
      {"v2 without the contract's prompt", false,
       [](Json& d) { d["schema"] = "tessera.package/v2"; }, kMalformed,
       "/contract: required member \"prompt\" is missing"},
      {"v1 with a v2 member", false, [](Json& d) { d["contract"]["prompt"] = "{input}\n"; },
       kMalformed, "/contract/prompt: "},
      {"absent", false, [](Json& d) { d.erase("schema"); }, kMalformed,
       "(root): required member \"schema\" is missing"},
  });
}

TEST(ManifestInvalidTest, UnknownMembersAtEveryLevel) {
  ExpectRefused({
      {"top level", false, [](Json& d) { d["extra"] = 1; }, kMalformed,
       "package: manifest: /extra: unknown member (additionalProperties is false)"},
      {"typo of a member", false, [](Json& d) { d["licence"] = d["license"]; }, kMalformed,
       "/licence: unknown member"},
      {"artifact", false, [](Json& d) { d["artifacts"][0]["color"] = "red"; }, kMalformed,
       "/artifacts/0/color: unknown member"},
      {"sampling", false, [](Json& d) { d["contract"]["sampling"]["beam"] = 4; }, kMalformed,
       "/contract/sampling/beam: unknown member"},
      {"tokenizer", false, [](Json& d) { d["gguf"]["tokenizer"]["merges"] = 1; }, kMalformed,
       "/gguf/tokenizer/merges: unknown member"},
      {"base", true, [](Json& d) { d["base"]["scale"] = 2; }, kMalformed,
       "/base/scale: unknown member"},
      {"dependency", true, [](Json& d) { d["dependencies"]["requires"][0]["optional"] = true; },
       kMalformed, "/dependencies/requires/0/optional: unknown member"},
      {"quality", false, [](Json& d) { d["quality"][0]["subset"] = "eval"; }, kMalformed,
       "/quality/0/subset: unknown member"},
      {"io type", false, [](Json& d) { d["contract"]["input"]["max_chars"] = 10; }, kMalformed,
       "/contract/input/max_chars: unknown member"},
  });
}

TEST(ManifestInvalidTest, WrongTypes) {
  ExpectRefused({
      {"size as a string", false, [](Json& d) { d["artifacts"][0]["size"] = "986720"; }, kMalformed,
       "/artifacts/0/size: is a string, expected integer"},
      {"fractional size", false, [](Json& d) { d["artifacts"][0]["size"] = 1.5; }, kMalformed,
       "/artifacts/0/size: is a number, expected integer"},
      {"kind as a number", false, [](Json& d) { d["kind"] = 1; }, kMalformed,
       "/kind: is not one of [\"model\",\"adapter\",\"policy\"]"},
      {"unknown kind", false, [](Json& d) { d["kind"] = "dataset"; }, kMalformed,
       "/kind: is not one of [\"model\",\"adapter\",\"policy\"]"},
      {"capabilities object", false, [](Json& d) { d["capabilities"] = Json::object(); },
       kMalformed, "/capabilities: is an object, expected array"},
      {"annotation value", false, [](Json& d) { d["annotations"]["n"] = 3; }, kMalformed,
       "/annotations/n: is an integer, expected string"},
      {"estimated false", false, [](Json& d) { d["resources"]["estimated"] = false; }, kMalformed,
       "/resources/estimated: is not the constant true"},
      {"artifacts not an array", false, [](Json& d) { d["artifacts"] = d["artifacts"][0]; },
       kMalformed, "/artifacts: is an object, expected array"},
      {"io type unknown", false, [](Json& d) { d["contract"]["output"]["type"] = "image"; },
       kMalformed, "/contract/output/type: is not one of"},
      {"role unknown", false, [](Json& d) { d["artifacts"][1]["role"] = "dataset"; }, kMalformed,
       "/artifacts/1/role: is not one of"},
      {"missing license", false, [](Json& d) { d.erase("license"); }, kMalformed,
       "(root): required member \"license\" is missing"},
      {"missing sha256", false, [](Json& d) { d["artifacts"][1].erase("sha256"); }, kMalformed,
       "/artifacts/1: required member \"sha256\" is missing"},
  });
}

TEST(ManifestInvalidTest, IdentifiersAndHashes) {
  const std::string id_pattern =
      "/id: does not match pattern "
      "^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$";
  ExpectRefused({
      {"uppercase id", false, [](Json& d) { d["id"] = "Dev.Tessera.extract"; }, kMalformed,
       id_pattern},
      {"one label", false, [](Json& d) { d["id"] = "extract"; }, kMalformed, id_pattern},
      {"empty label", false, [](Json& d) { d["id"] = "dev..extract"; }, kMalformed, id_pattern},
      {"leading dash", false, [](Json& d) { d["id"] = "dev.-extract"; }, kMalformed, id_pattern},
      {"trailing dash", false, [](Json& d) { d["id"] = "dev.extract-"; }, kMalformed, id_pattern},
      {"long id", false, [](Json& d) { d["id"] = "dev." + std::string(125, 'x'); }, kMalformed,
       "/id: has 129 characters, more than maxLength 128"},
      {"uppercase sha256", false,
       [](Json& d) { d["artifacts"][0]["sha256"] = std::string(64, 'A'); }, kMalformed,
       "package: manifest: /artifacts/0/sha256: does not match pattern ^[0-9a-f]{64}$"},
      {"short sha256", false, [](Json& d) { d["artifacts"][0]["sha256"] = "c84a428c"; }, kMalformed,
       "/artifacts/0/sha256: does not match pattern ^[0-9a-f]{64}$"},
      {"long sha256", false,
       [](Json& d) { d["gguf"]["tokenizer"]["sha256"] = std::string(65, 'a'); }, kMalformed,
       "/gguf/tokenizer/sha256: does not match pattern ^[0-9a-f]{64}$"},
      {"base sha256", true, [](Json& d) { d["base"]["weights_sha256"] = "sha256:01"; }, kMalformed,
       "/base/weights_sha256: does not match pattern"},
      {"artifact name ..", false, [](Json& d) { d["artifacts"][2]["name"] = ".."; }, kMalformed,
       "/artifacts/2/name: must not match the schema in \"not\": {\"enum\":[\".\",\"..\"]}"},
      {"artifact name with /", false, [](Json& d) { d["artifacts"][2]["name"] = "docs/a.md"; },
       kMalformed, "/artifacts/2/name: does not match pattern ^[A-Za-z0-9._-]+$"},
      {"media type", false, [](Json& d) { d["artifacts"][1]["media_type"] = "ndjson"; }, kMalformed,
       "/artifacts/1/media_type: does not match pattern"},
      {"license expression", false, [](Json& d) { d["license"] = "MIT OR Apache-2.0"; }, kMalformed,
       "/license: does not match pattern"},
      {"capability", false, [](Json& d) { d["capabilities"][0] = "emit json"; }, kMalformed,
       "/capabilities/0: does not match pattern"},
      {"repeated capability", false, [](Json& d) { d["capabilities"].push_back("emit:json"); },
       kMalformed, "/capabilities: items 0 and 1 are equal (uniqueItems)"},
      {"contract role", false, [](Json& d) { d["contract"]["role"] = "Extract"; }, kMalformed,
       "/contract/role: does not match pattern ^[a-z0-9-]+$"},
  });
}

TEST(ManifestInvalidTest, NumbersAndLimits) {
  ExpectRefused({
      {"2^53", false, [](Json& d) { d["artifacts"][0]["size"] = 9007199254740992ull; }, kMalformed,
       "/artifacts/0/size: 9007199254740992 is greater than the maximum 9007199254740991"},
      {"2^64-1", false, [](Json& d) { d["resources"]["weights_bytes"] = 18446744073709551615ull; },
       kMalformed, "/resources/weights_bytes: 18446744073709551615 is greater than the maximum"},
      {"1e300", false, [](Json& d) { d["resources"]["scratch_bytes"] = 1e300; }, kMalformed,
       "/resources/scratch_bytes: 1e+300 is greater than the maximum 9007199254740991"},
      {"negative", false, [](Json& d) { d["gguf"]["parameters"] = -1; }, kMalformed,
       "/gguf/parameters: -1 is less than the minimum 0"},
      {"zero tokens", false, [](Json& d) { d["contract"]["max_output_tokens"] = 0; }, kMalformed,
       "/contract/max_output_tokens: 0 is less than the minimum 1"},
      {"gguf version 0", false, [](Json& d) { d["gguf"]["version"] = 0; }, kMalformed,
       "/gguf/version: 0 is less than the minimum 1"},
      {"top_p 0", false, [](Json& d) { d["contract"]["sampling"]["top_p"] = 0; }, kMalformed,
       "/contract/sampling/top_p: 0 is not greater than the exclusive minimum 0"},
      {"top_p above 1", false, [](Json& d) { d["contract"]["sampling"]["top_p"] = 1.01; },
       kMalformed, "/contract/sampling/top_p: 1.01 is greater than the maximum 1"},
      {"negative temperature", false,
       [](Json& d) { d["contract"]["sampling"]["temperature"] = -0.5; }, kMalformed,
       "/contract/sampling/temperature: -0.5 is less than the minimum 0"},
      {"alpha 0", true, [](Json& d) { d["base"]["alpha"] = 0; }, kMalformed,
       "/base/alpha: 0 is not greater than the exclusive minimum 0"},
      {"rank 0", true, [](Json& d) { d["base"]["rank"] = 0; }, kMalformed,
       "/base/rank: 0 is less than the minimum 1"},
      {"quality above 1", false, [](Json& d) { d["quality"][0]["value"] = 1.5; }, kMalformed,
       "/quality/0/value: 1.5 is greater than the maximum 1"},
      {"empty title", false, [](Json& d) { d["title"] = ""; }, kMalformed,
       "/title: has 0 characters, fewer than minLength 1"},
      {"long description", false, [](Json& d) { d["description"] = std::string(4001, 'a'); },
       kMalformed, "/description: has 4001 characters, more than maxLength 4000"},
      {"empty annotations", false, [](Json& d) { d["annotations"] = Json::object(); }, kMalformed,
       "/annotations: has 0 members, fewer than minProperties 1"},
      {"empty quality", false, [](Json& d) { d["quality"] = Json::array(); }, kMalformed,
       "/quality: has 0 items, fewer than minItems 1"},
      {"empty dependencies", false, [](Json& d) { d["dependencies"] = Json::object(); }, kMalformed,
       "/dependencies: has 0 members, fewer than minProperties 1"},
      {"no artifacts", false, [](Json& d) { d["artifacts"] = Json::array(); }, kMalformed,
       "/artifacts: has 0 items, fewer than minItems 1"},
      {"no targets", true, [](Json& d) { d["base"]["targets"] = Json::array(); }, kMalformed,
       "/base/targets: has 0 items, fewer than minItems 1"},
  });
}

TEST(ManifestInvalidTest, CodePointLimitsAreNotByteLimits) {
  Json doc = fixture::ModelManifestJson();
  std::string accents;
  for (int k = 0; k < 4000; ++k) accents += "\xc3\xa9";  // 4000 characters, 8000 bytes
  doc["description"] = accents;
  Result<Manifest> m = ParseManifest(doc.dump());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->description.size(), 8000u);
}

}  // namespace
}  // namespace tessera::package
