// Valid manifests: typed fields, round trips, canonical bytes against golden files.
#include "package/manifest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "manifest_fixture.h"
#include "package/canonical_json.h"
#include "package/json_schema.h"
#include "package/manifest_schema.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

std::string Data(const std::string& name) { return fixture::ReadTestData(name); }

Manifest MustParse(const std::string& bytes) {
  Result<Manifest> m = ParseManifest(bytes);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : Manifest();
}

TEST(ManifestTest, ParsesAModelManifest) {
  const Manifest m = MustParse(Data("model_manifest.json"));
  EXPECT_EQ(m.id, "dev.tessera.skills.extract");
  EXPECT_EQ(m.version, *Version::Parse("1.2.0-rc.1+build.7"));
  EXPECT_EQ(m.kind, PackageKind::kModel);
  EXPECT_EQ(m.title, "Field extractor");
  EXPECT_NE(m.description.find("Z\xc3\xbcrich"), std::string::npos);
  EXPECT_EQ(m.license, "Apache-2.0");
  ASSERT_EQ(m.annotations.size(), 2u);
  EXPECT_EQ(m.annotations.at("dev.tessera.training.steps"), "1000");
  ASSERT_EQ(m.artifacts.size(), 3u);
  EXPECT_EQ(m.artifacts[1].role, ArtifactRole::kEvalSet);
  EXPECT_EQ(m.artifacts[1].size, 98904u);
  EXPECT_EQ(m.primary_artifact().name, "extract.gguf");
  EXPECT_EQ(m.gguf.architecture, "llama");
  EXPECT_EQ(m.gguf.version, 3u);
  EXPECT_EQ(m.gguf.file_type, "F16");
  EXPECT_EQ(m.gguf.context_length, 256u);
  ASSERT_TRUE(m.gguf.tokenizer.has_value());
  EXPECT_EQ(m.gguf.tokenizer->vocab_size, 336u);
  EXPECT_EQ(m.gguf.tokenizer->pre, "default");
  EXPECT_TRUE(m.runtime.versions.range.Matches(*Version::Parse("0.1.5")));
  EXPECT_FALSE(m.runtime.versions.range.Matches(*Version::Parse("0.2.0")));
  EXPECT_EQ(m.runtime.package_abi, 1u);
  EXPECT_FALSE(m.base.has_value());
  EXPECT_EQ(m.contract.role, "extract-person");
  EXPECT_EQ(m.contract.input.kind, IoKind::kText);
  EXPECT_EQ(m.contract.output.kind, IoKind::kJson);
  EXPECT_EQ(m.contract.output.json_schema.substr(0, 60),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","a)");
  EXPECT_EQ(m.contract.max_output_tokens, 64u);
  EXPECT_EQ(m.contract.confidence, ConfidenceKind::kMeanTokenLogprob);
  EXPECT_EQ(m.contract.sampling, (Sampling{0, 0, 1, 0}));
  EXPECT_TRUE(m.dependencies.requirements.empty());
  ASSERT_EQ(m.dependencies.replaces.size(), 1u);
  EXPECT_EQ(m.dependencies.replaces[0].version.range.text(), "<1.0.0");
  EXPECT_EQ(m.capabilities, std::vector<std::string>{"emit:json"});
  EXPECT_EQ(m.resources.kv_bytes_per_token, 4096u);
  EXPECT_TRUE(m.resources.estimated);
  ASSERT_EQ(m.quality.size(), 1u);
  EXPECT_EQ(m.quality[0].value, 0.994);
  EXPECT_EQ(m.quality[0].cases, 500u);
  EXPECT_EQ(m.rollback_known_good, *Version::Parse("1.1.3"));
}

TEST(ManifestTest, ParsesAnAdapterManifest) {
  const Manifest m = MustParse(Data("adapter_manifest.json"));
  EXPECT_EQ(m.kind, PackageKind::kAdapter);
  EXPECT_TRUE(m.description.empty());
  EXPECT_TRUE(m.annotations.empty());
  EXPECT_EQ(m.primary_artifact().name, "sentiment.lora.gguf");
  EXPECT_FALSE(m.gguf.tokenizer.has_value());
  EXPECT_EQ(m.gguf.context_length, 0u);
  ASSERT_TRUE(m.base.has_value());
  EXPECT_EQ(m.base->id, "dev.tessera.base");
  EXPECT_EQ(m.base->version, Version(1, 0, 0));
  EXPECT_EQ(m.base->targets.size(), 3u);
  EXPECT_EQ(m.base->rank, 16u);
  EXPECT_EQ(m.base->alpha, 32.0);
  EXPECT_EQ(m.contract.output.kind, IoKind::kEnum);
  EXPECT_EQ(m.contract.output.labels,
            (std::vector<std::string>{"positive", "negative", "neutral"}));
  EXPECT_EQ(m.contract.sampling.top_p, 0.95);
  ASSERT_EQ(m.dependencies.requirements.size(), 1u);
  EXPECT_EQ(m.dependencies.requirements[0].id, "dev.tessera.base");
  EXPECT_FALSE(m.rollback_known_good.has_value());
}

TEST(ManifestTest, RoundTripsThroughJsonAndCanonicalBytes) {
  for (const char* name : {"model_manifest.json", "adapter_manifest.json"}) {
    SCOPED_TRACE(name);
    const Manifest m = MustParse(Data(name));
    Result<std::string> text = ManifestToJson(m);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    EXPECT_EQ(MustParse(*text), m);
    Result<std::string> canonical = CanonicalManifestBytes(m);
    ASSERT_TRUE(canonical.ok()) << canonical.status().ToString();
    EXPECT_EQ(MustParse(*canonical), m);
    EXPECT_EQ(*CanonicalManifestBytes(MustParse(*text)), *canonical);
  }
}

TEST(ManifestTest, CanonicalBytesMatchTheGoldenFiles) {
  for (const char* name : {"model_manifest", "adapter_manifest"}) {
    SCOPED_TRACE(name);
    const std::string document = Data(std::string(name) + ".json");
    const std::string golden = Data(std::string(name) + ".canonical.json");
    Result<std::string> canonical = CanonicalManifestBytes(MustParse(document));
    ASSERT_TRUE(canonical.ok()) << canonical.status().ToString();
    if (*canonical != golden) {
      const std::string actual = std::string(TESSERA_BINARY_DIR) + "/" + name + ".canonical.json";
      std::ofstream(actual, std::ios::binary) << *canonical;
      ADD_FAILURE() << "canonical bytes differ from tests/package/data/" << name
                    << ".canonical.json; actual bytes written to " << actual;
    }
    // The same bytes as canonicalising the document itself: the typed form loses nothing.
    Json doc = Json::parse(document, nullptr, /*allow_exceptions=*/false);
    EXPECT_EQ(*CanonicalJson(doc), golden);
  }
}

TEST(ManifestTest, LayoutDoesNotChangeTheCanonicalBytes) {
  const std::string document = Data("model_manifest.json");
  Json doc = Json::parse(document, nullptr, /*allow_exceptions=*/false);
  const std::string compact = doc.dump();
  const std::string escaped = doc.dump(1, '\t', /*ensure_ascii=*/true);  // \u00fc for ü
  EXPECT_EQ(*CanonicalManifestBytes(MustParse(compact)),
            *CanonicalManifestBytes(MustParse(document)));
  EXPECT_EQ(*CanonicalManifestBytes(MustParse(escaped)),
            *CanonicalManifestBytes(MustParse(document)));
}

TEST(ManifestTest, SigningMessageIsThePrefixedCanonicalBytes) {
  const Manifest m = MustParse(Data("adapter_manifest.json"));
  Result<std::string> message = SigningMessage(m);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(*message, "tessera-package-v1\n" + Data("adapter_manifest.canonical.json"));
}

TEST(ManifestTest, WritingRefusesWhatParsingWouldRefuse) {
  const Manifest valid = MustParse(Data("model_manifest.json"));
  Manifest m = valid;
  m.id = "Not A Reverse DNS";
  Result<std::string> text = ManifestToJson(m);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kMalformed);
  EXPECT_NE(text.status().message().find("/id: does not match pattern"), std::string::npos);

  m = valid;
  m.artifacts[0].role = ArtifactRole::kDoc;  // no weights left
  EXPECT_EQ(CanonicalManifestBytes(m).status().code(), StatusCode::kMalformed);

  m = valid;
  m.title = "bad \xff utf-8";
  EXPECT_EQ(SigningMessage(m).status().code(), StatusCode::kInvalidUtf8);

  m = valid;
  m.contract.output.json_schema = "{not json";
  EXPECT_EQ(ManifestToJson(m).status().code(), StatusCode::kInvalidArgument);

  m = valid;
  m.quality[0].value = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(ManifestToJson(m).status().code(), StatusCode::kOutOfRange);
}

TEST(ManifestTest, TheEmbeddedSchemaIsTheDocumentedOne) {
  std::ifstream in(std::string(TESSERA_SOURCE_DIR) + "/docs/formats/package-manifest.schema.json",
                   std::ios::binary);
  std::stringstream on_disk;
  on_disk << in.rdbuf();
  EXPECT_EQ(ManifestSchemaJson(), on_disk.str());
  const std::string_view text = ManifestSchemaJson();
  Json schema = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(schema.is_discarded());
  Result<JsonSchema> compiled = JsonSchema::Compile(schema);
  EXPECT_TRUE(compiled.ok()) << compiled.status().ToString();
}

TEST(ManifestTest, EnumNamesAreTheJsonSpellings) {
  EXPECT_EQ(PackageKindName(PackageKind::kAdapter), "adapter");
  EXPECT_EQ(ArtifactRoleName(ArtifactRole::kRouterExemplars), "router-exemplars");
  EXPECT_EQ(ArtifactRoleName(ArtifactRole::kEvalSet), "eval-set");
  EXPECT_EQ(IoKindName(IoKind::kJson), "json");
  EXPECT_EQ(ConfidenceKindName(ConfidenceKind::kMinTokenLogprob), "min-token-logprob");
  EXPECT_EQ(QualityMetricName(QualityMetric::kExactMatch), "exact_match");
}

}  // namespace
}  // namespace tessera::package
