// Package files through oci_writer.h and oci_reader.h: round trips (signed, unsigned, empty and
// duplicated artifacts), deterministic bytes, the documented layout and JSON, GNU tar listing the
// result, the writer's refusals, and the digest / name / media-type rules of oci_layout.h.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "oci_fixture.h"
#include "package/oci_layout.h"
#include "package/oci_reader.h"
#include "package/oci_writer.h"

namespace tessera::package {
namespace {

using fixture::Bytes;
using Json = nlohmann::json;

Json ParseJson(const Bytes& bytes) {
  Json j = Json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded());
  return j;
}

TEST(OciPackage, RoundTripsConfigArtifactsAndSignature) {
  fixture::SamplePackage sample("oci_roundtrip");
  auto unpacked = ReadPackageFile(sample.package_path, sample.staging);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status().ToString();
  EXPECT_EQ(unpacked->config, sample.config);
  ASSERT_TRUE(unpacked->signature.has_value());
  EXPECT_EQ(*unpacked->signature, sample.signature);
  ASSERT_EQ(unpacked->artifacts.size(), 2u);
  const StagedArtifact& model = unpacked->artifacts[0];
  EXPECT_EQ(model.name, "model.gguf");
  EXPECT_EQ(model.media_type, fixture::kGgufMediaType);
  EXPECT_EQ(model.size, sample.model.size());
  EXPECT_EQ(base::ToHex(model.digest), fixture::Sha256Hex(sample.model));
  EXPECT_EQ(model.staged_path, sample.staging + "/" + fixture::Sha256Hex(sample.model));
  EXPECT_EQ(fixture::ReadFile(model.staged_path), sample.model);
  EXPECT_EQ(unpacked->artifacts[1].name, "eval.jsonl");
  EXPECT_EQ(fixture::ReadFile(unpacked->artifacts[1].staged_path), sample.eval);
  // Only the artifacts stay in staging.
  std::vector<std::string> expected = {fixture::Sha256Hex(sample.model),
                                       fixture::Sha256Hex(sample.eval)};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(fixture::ListDir(sample.staging), expected);
  EXPECT_EQ(base::ToHex(unpacked->manifest.digest), fixture::Sha256Hex(unpacked->oci_manifest));
}

TEST(OciPackage, PackingTwiceGivesIdenticalBytes) {
  fixture::SamplePackage sample("oci_determinism");
  sample.Write(sample.dir.File("again.tpkg"));
  // Precomputed digests read each artifact once, with the same result.
  PackageFileInput input = sample.Input();
  for (ArtifactFile& a : input.artifacts) {
    auto ref = HashFile(a.path);
    ASSERT_TRUE(ref.ok());
    a.known = *ref;
  }
  ASSERT_TRUE(WritePackageFile(sample.dir.File("known.tpkg"), input).ok());
  const std::string first = fixture::Sha256Hex(fixture::ReadFile(sample.package_path));
  EXPECT_EQ(first, fixture::Sha256Hex(fixture::ReadFile(sample.dir.File("again.tpkg"))));
  EXPECT_EQ(first, fixture::Sha256Hex(fixture::ReadFile(sample.dir.File("known.tpkg"))));
}

TEST(OciPackage, LayoutAndDocumentsAreAsDocumented) {
  fixture::SamplePackage sample("oci_layout");
  std::vector<fixture::Part> parts = fixture::ReadParts(sample.package_path);
  const Bytes manifest_bytes = fixture::ToBytes(fixture::CurrentManifest(parts));
  const std::string blob = "blobs/sha256/";
  const std::vector<std::string> names = {"oci-layout",
                                          "index.json",
                                          "blobs",
                                          "blobs/sha256",
                                          blob + fixture::Sha256Hex(manifest_bytes),
                                          blob + fixture::Sha256Hex(sample.config),
                                          blob + fixture::Sha256Hex(sample.model),
                                          blob + fixture::Sha256Hex(sample.eval),
                                          blob + fixture::Sha256Hex(sample.signature)};
  ASSERT_EQ(parts.size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(parts[i].name, names[i]);
  EXPECT_EQ(std::string(parts[0].data.begin(), parts[0].data.end()),
            R"({"imageLayoutVersion":"1.0.0"})");

  Json index = ParseJson(parts[1].data);
  EXPECT_EQ(index["schemaVersion"], 2);
  EXPECT_EQ(index["mediaType"], "application/vnd.oci.image.index.v1+json");
  ASSERT_EQ(index["manifests"].size(), 1u);
  EXPECT_EQ(index["manifests"][0]["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(index["manifests"][0]["digest"], "sha256:" + fixture::Sha256Hex(manifest_bytes));
  EXPECT_EQ(index["manifests"][0]["size"], manifest_bytes.size());

  Json manifest = ParseJson(manifest_bytes);
  EXPECT_EQ(manifest["schemaVersion"], 2);
  EXPECT_EQ(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(manifest["artifactType"], "application/vnd.tessera.package.v1");
  EXPECT_EQ(manifest["config"]["mediaType"], "application/vnd.tessera.package.manifest.v1+json");
  EXPECT_EQ(manifest["config"]["digest"], "sha256:" + fixture::Sha256Hex(sample.config));
  EXPECT_EQ(manifest["config"]["size"], sample.config.size());
  ASSERT_EQ(manifest["layers"].size(), 3u);
  const Json& layer = manifest["layers"][0];
  EXPECT_EQ(layer["mediaType"], fixture::kGgufMediaType);
  EXPECT_EQ(layer["digest"], "sha256:" + fixture::Sha256Hex(sample.model));
  EXPECT_EQ(layer["size"], sample.model.size());
  EXPECT_EQ(layer["annotations"]["org.opencontainers.image.title"], "model.gguf");
  EXPECT_EQ(manifest["layers"][2]["mediaType"], "application/vnd.tessera.package.signature.v1");
  EXPECT_FALSE(manifest["layers"][2].contains("annotations"));
}

TEST(OciPackage, GnuTarListsThePackage) {
  if (!fixture::HaveGnuTar()) GTEST_SKIP() << "GNU tar is not installed";
  fixture::SamplePackage sample("oci_gnu");
  std::string listing;
  ASSERT_EQ(fixture::RunCommand("tar -tvf " + sample.package_path, &listing), 0) << listing;
  EXPECT_EQ(listing.find("tar:"), std::string::npos) << listing;
  for (const std::string& name :
       {std::string(" oci-layout\n"), std::string(" index.json\n"), std::string(" blobs/\n"),
        std::string(" blobs/sha256/\n"),
        " " + std::to_string(sample.model.size()) + " 1970-01-01 00:00 blobs/sha256/" +
            fixture::Sha256Hex(sample.model) + "\n"}) {
    EXPECT_NE(listing.find(name), std::string::npos) << name << "\nin\n" << listing;
  }
}

TEST(OciPackage, UnsignedAndEmptyArtifacts) {
  fixture::SamplePackage sample("oci_unsigned");
  fixture::WriteFile(sample.dir.File("empty.txt"), {});
  PackageFileInput input = sample.Input(/*sign=*/false);
  input.artifacts.push_back({sample.dir.File("empty.txt"), "empty.txt", "text/plain", {}});
  ASSERT_TRUE(WritePackageFile(sample.dir.File("unsigned.tpkg"), input).ok());
  auto unpacked = ReadPackageFile(sample.dir.File("unsigned.tpkg"), sample.staging);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status().ToString();
  EXPECT_FALSE(unpacked->signature.has_value());
  ASSERT_EQ(unpacked->artifacts.size(), 3u);
  EXPECT_EQ(unpacked->artifacts[2].size, 0u);
  EXPECT_TRUE(fixture::ReadFile(unpacked->artifacts[2].staged_path).empty());
}

TEST(OciPackage, EqualArtifactsAreStoredOnce) {
  fixture::SamplePackage sample("oci_dedup");
  fixture::WriteFile(sample.dir.File("copy.gguf"), sample.model);
  PackageFileInput input = sample.Input();
  input.artifacts.push_back(
      {sample.dir.File("copy.gguf"), "copy.gguf", fixture::kGgufMediaType, {}});
  const std::string path = sample.dir.File("dedup.tpkg");
  ASSERT_TRUE(WritePackageFile(path, input).ok());
  std::size_t blobs = 0;
  for (const fixture::Part& part : fixture::ReadParts(path)) {
    blobs += part.name.rfind("blobs/sha256/", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(blobs, 5u);  // manifest, config, model (once), eval, signature
  auto unpacked = ReadPackageFile(path, sample.staging);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status().ToString();
  ASSERT_EQ(unpacked->artifacts.size(), 3u);
  EXPECT_EQ(unpacked->artifacts[2].name, "copy.gguf");
  EXPECT_EQ(unpacked->artifacts[2].staged_path, unpacked->artifacts[0].staged_path);
  EXPECT_EQ(fixture::ListDir(sample.staging).size(), 2u);
}

struct WriterRefusal {
  const char* label;
  void (*edit)(PackageFileInput&, const fixture::SamplePackage&);
  StatusCode code;
};

void PrintTo(const WriterRefusal& c, std::ostream* os) { *os << c.label; }

class OciWriterRefuses : public ::testing::TestWithParam<WriterRefusal> {};

TEST_P(OciWriterRefuses, LeavesNoOutput) {
  fixture::SamplePackage sample(std::string("oci_refuse_") + GetParam().label);
  PackageFileInput input = sample.Input();
  GetParam().edit(input, sample);
  const std::vector<std::string> before = fixture::ListDir(sample.dir.path());
  auto written = WritePackageFile(sample.dir.File("out.tpkg"), input);
  EXPECT_EQ(written.status().code(), GetParam().code) << written.status().ToString();
  EXPECT_EQ(fixture::ListDir(sample.dir.path()), before);
}

INSTANTIATE_TEST_SUITE_P(
    OciInputs, OciWriterRefuses,
    ::testing::Values(WriterRefusal{"duplicate_name",
                                    [](PackageFileInput& in, const fixture::SamplePackage&) {
                                      in.artifacts[1].name = "model.gguf";
                                    },
                                    StatusCode::kDuplicate},
                      WriterRefusal{"path_as_name",
                                    [](PackageFileInput& in, const fixture::SamplePackage&) {
                                      in.artifacts[0].name = "../model.gguf";
                                    },
                                    StatusCode::kMalformed},
                      WriterRefusal{"bad_media_type",
                                    [](PackageFileInput& in, const fixture::SamplePackage&) {
                                      in.artifacts[0].media_type = "gguf";
                                    },
                                    StatusCode::kMalformed},
                      WriterRefusal{"reserved_media_type",
                                    [](PackageFileInput& in, const fixture::SamplePackage&) {
                                      in.artifacts[0].media_type =
                                          std::string(kPackageSignatureMediaType);
                                    },
                                    StatusCode::kInvalidArgument},
                      WriterRefusal{"missing_file",
                                    [](PackageFileInput& in, const fixture::SamplePackage& s) {
                                      in.artifacts[0].path = s.dir.File("absent.gguf");
                                    },
                                    StatusCode::kNotFound},
                      WriterRefusal{"wrong_known_digest",
                                    [](PackageFileInput& in, const fixture::SamplePackage& s) {
                                      in.artifacts[0].known =
                                          BlobRef{base::Sha256(s.eval),
                                                  static_cast<std::uint64_t>(s.model.size())};
                                    },
                                    StatusCode::kIntegrity},
                      WriterRefusal{"wrong_known_size",
                                    [](PackageFileInput& in, const fixture::SamplePackage& s) {
                                      in.artifacts[0].known = BlobRef{base::Sha256(s.model), 5};
                                    },
                                    StatusCode::kIntegrity}),
    [](const ::testing::TestParamInfo<WriterRefusal>& param_info) {
      return param_info.param.label;
    });

TEST(OciLayout, Digests) {
  const std::string hex(64, 'a');
  auto ok = ParseDigest("sha256:" + hex);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(DigestString(*ok), "sha256:" + hex);
  EXPECT_EQ(BlobEntryName(*ok), "blobs/sha256/" + hex);
  EXPECT_EQ(ParseDigest("sha512:" + hex).status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(ParseDigest(hex).status().code(), StatusCode::kMalformed);
  EXPECT_EQ(ParseDigest("sha256:" + std::string(64, 'A')).status().code(), StatusCode::kMalformed);
  EXPECT_EQ(ParseDigest("sha256:" + hex + "0").status().code(), StatusCode::kMalformed);
  EXPECT_EQ(ParseDigestHex(std::string(63, '0') + "g").status().code(), StatusCode::kMalformed);
}

TEST(OciLayout, NamesAndMediaTypes) {
  for (const char* good : {"model.gguf", "a", "mod\xc3\xa8le.gguf", ".hidden"}) {
    EXPECT_TRUE(ValidateArtifactName(good).ok()) << good;
  }
  for (const std::string& bad :
       {std::string(""), std::string("."), std::string(".."), std::string("a/b"),
        std::string("a\\b"), std::string("a\nb"), std::string("\xff"), std::string(256, 'a')}) {
    EXPECT_EQ(ValidateArtifactName(bad).code(), StatusCode::kMalformed) << bad;
  }
  for (const char* good : {"application/vnd.tessera.gguf", "text/plain",
                           "application/vnd.oci.image.manifest.v1+json"}) {
    EXPECT_TRUE(ValidateMediaType(good).ok()) << good;
  }
  for (const char* bad : {"", "text", "text/", "/plain", "text/pla in", "text/plain/x",
                          "-text/plain", "text/\xc3\xa8"}) {
    EXPECT_EQ(ValidateMediaType(bad).code(), StatusCode::kMalformed) << bad;
  }
}

}  // namespace
}  // namespace tessera::package
