// ReadPackageFile against hostile package files: flipped bytes, missing, extra and misnamed
// blobs, unexpected entries, oversized and malformed JSON documents, tar-level attacks after blobs
// were already staged, and exceeded limits. Every case must be refused with its code and a clear
// message, and must leave the staging directory empty.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "oci_edit.h"
#include "oci_fixture.h"
#include "package/oci_layout.h"
#include "package/oci_reader.h"

namespace tessera::package {
namespace {

using fixture::AddPart;
using fixture::Append;
using fixture::Bytes;
using fixture::EditIndex;
using fixture::EditManifest;
using fixture::EditManifestText;
using fixture::EditParts;
using fixture::Env;
using fixture::FlipDataByte;
using fixture::Maker;
using fixture::ModelBlob;
using fixture::Part;
using fixture::RemovePart;
using fixture::Repack;
using fixture::SetPart;
using Json = nlohmann::json;

struct Hostile {
  const char* label;
  Maker make;
  StatusCode code;
  std::vector<std::string> needles;
  PackageFileLimits limits = {};
};

void PrintTo(const Hostile& c, std::ostream* os) { *os << c.label; }

class OciHostile : public ::testing::TestWithParam<Hostile> {};

TEST_P(OciHostile, IsRefusedAndStagingStaysEmpty) {
  const Hostile& c = GetParam();
  fixture::SamplePackage sample(std::string("oci_hostile_") + c.label);
  Env env{sample, fixture::ReadParts(sample.package_path), fixture::ReadFile(sample.package_path)};
  const Bytes evil = c.make(env);
  const std::string path = sample.dir.File("evil.tpkg");
  fixture::WriteFile(path, evil);
  auto unpacked = ReadPackageFile(path, sample.staging, c.limits);
  ASSERT_FALSE(unpacked.ok()) << c.label << " was accepted";
  EXPECT_EQ(unpacked.status().code(), c.code) << unpacked.status().ToString();
  for (const std::string& needle : c.needles) {
    EXPECT_NE(unpacked.status().message().find(needle), std::string::npos)
        << "\"" << needle << "\" not in: " << unpacked.status().message();
  }
  EXPECT_TRUE(fixture::ListDir(sample.staging).empty());
}

const std::string kHex(64, 'a');
const std::string kPad(1100 * 1024, ' ');

std::vector<Hostile> Cases() {
  using C = StatusCode;
  auto model_blob = [](const Env& env) { return ModelBlob(env); };
  auto config_blob = [](const Env& env) {
    return "blobs/sha256/" + fixture::Sha256Hex(env.sample.config);
  };
  auto signature_blob = [](const Env& env) {
    return "blobs/sha256/" + fixture::Sha256Hex(env.sample.signature);
  };
  auto manifest_blob = [](const Env& env) {
    return "blobs/sha256/" +
           fixture::Sha256Hex(fixture::ToBytes(fixture::CurrentManifest(env.parts)));
  };
  PackageFileLimits small_blobs;
  small_blobs.max_blob_bytes = 100000;
  PackageFileLimits few_entries;
  few_entries.max_entries = 5;
  PackageFileLimits small_total;
  small_total.max_total_bytes = 200000;
  return {
      // Blob integrity.
      {"flipped_artifact_byte",
       FlipDataByte(model_blob, 1000),
       C::kIntegrity,
       {"holds bytes whose digest is"}},
      {"flipped_config_byte", FlipDataByte(config_blob, 3), C::kIntegrity, {"holds bytes"}},
      {"flipped_signature_byte", FlipDataByte(signature_blob, 63), C::kIntegrity, {}},
      {"missing_artifact",
       RemovePart(model_blob),
       C::kIntegrity,
       {"artifact \"model.gguf\" blob sha256:", "is missing"}},
      {"missing_config", RemovePart(config_blob), C::kIntegrity, {"config blob", "is missing"}},
      {"missing_manifest",
       RemovePart(manifest_blob),
       C::kIntegrity,
       {"manifest blob", "is missing"}},
      {"missing_signature", RemovePart(signature_blob), C::kIntegrity, {"signature blob"}},
      {"extra_blob",
       AddPart("blobs/sha256/" + fixture::Sha256Hex(fixture::ToBytes("extra")), "extra"),
       C::kIntegrity,
       {"(5 bytes) is not referenced by the manifest"}},
      // Appended after the manifest, a blob the manifest does not declare is refused at its
      // header (issue 17), before its bytes could be found not to match its name.
      {"blob_named_wrong",
       AddPart("blobs/sha256/" + std::string(64, '0'), "x"),
       C::kIntegrity,
       {"blob sha256:0000", "is not referenced by the manifest (refused at its header"}},
      // Entry names.
      {"uppercase_blob_name",
       AddPart("blobs/sha256/" + std::string(64, 'A'), "x"),
       C::kMalformed,
       {"not a lowercase 64-digit sha256 hex digest"}},
      {"short_blob_name",
       AddPart("blobs/sha256/abc", "x"),
       C::kMalformed,
       {"\"blobs/sha256/abc\""}},
      {"sha512_blob", AddPart("blobs/sha512/" + kHex, "x"), C::kUnsupported, {"only sha256 blobs"}},
      {"unexpected_file",
       AddPart("README", "hi"),
       C::kMalformed,
       {"entry \"README\": unexpected entry"}},
      {"unexpected_blobs_file",
       AddPart("blobs/README", "hi"),
       C::kMalformed,
       {"\"blobs/README\": unexpected entry"}},
      {"unexpected_directory", AddPart("extra", "", true), C::kMalformed, {"unexpected directory"}},
      {"missing_oci_layout",
       RemovePart([](const Env&) { return "oci-layout"; }),
       C::kMalformed,
       {"has no oci-layout"}},
      {"missing_index",
       RemovePart([](const Env&) { return "index.json"; }),
       C::kMalformed,
       {"has no index.json"}},
      // oci-layout.
      {"layout_version",
       SetPart("oci-layout", R"({"imageLayoutVersion":"2.0.0"})"),
       C::kUnsupported,
       {"\"2.0.0\""}},
      {"layout_not_json",
       SetPart("oci-layout", "imageLayoutVersion=1.0.0"),
       C::kMalformed,
       {"oci-layout is not valid JSON"}},
      // Sizes of the documents.
      {"huge_index",
       EditIndex([](Json& j) { j["annotations"]["pad"] = kPad; }),
       C::kResourceExhausted,
       {"\"index.json\" is", "limit 1048576"}},
      {"huge_manifest",
       EditManifest([](Json& j) { j["annotations"]["pad"] = kPad; }),
       C::kResourceExhausted,
       {"manifest blob", "limit 1048576"}},
      {"huge_config",
       Repack([](PackageFileInput& in) {
         static const Bytes big((1 << 20) + 1, '{');
         in.config = big;
       }),
       C::kResourceExhausted,
       {"config blob", "is 1048577 bytes, limit 1048576"}},
      {"huge_signature",
       Repack([](PackageFileInput& in) {
         static const Bytes big((64 << 10) + 1, 's');
         in.signature = std::span<const std::uint8_t>(big);
       }),
       C::kResourceExhausted,
       {"signature blob", "limit 65536"}},
      // index.json.
      {"index_not_json",
       SetPart("index.json", "{"),
       C::kMalformed,
       {"index.json is not valid JSON"}},
      {"index_array", SetPart("index.json", "[]"), C::kTypeMismatch, {"expected an object"}},
      {"index_two_manifests",
       EditIndex([](Json& j) { j["manifests"].push_back(j["manifests"][0]); }),
       C::kUnsupported,
       {"lists 2 manifests"}},
      {"index_no_manifests",
       EditIndex([](Json& j) { j["manifests"] = Json::array(); }),
       C::kUnsupported,
       {"lists 0 manifests"}},
      {"index_docker_manifest",
       EditIndex([](Json& j) {
         j["manifests"][0]["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json";
       }),
       C::kUnsupported,
       {"vnd.docker"}},
      {"index_wrong_media_type",
       EditIndex([](Json& j) { j["mediaType"] = "application/json"; }),
       C::kUnsupported,
       {}},
      {"index_duplicate_key",
       EditParts([](Env&, std::vector<Part>& parts) {
         Bytes& data = parts[static_cast<std::size_t>(fixture::FindPart(parts, "index.json"))].data;
         data.insert(data.begin() + 1,
                     {'"', 'x', '"', ':', '1', ',', '"', 'x', '"', ':', '2', ','});
       }),
       C::kDuplicate,
       {"key \"x\" occurs twice"}},
      {"index_schema_string",
       EditIndex([](Json& j) { j["schemaVersion"] = "2"; }),
       C::kTypeMismatch,
       {"\"schemaVersion\" is a string"}},
      {"index_schema_3",
       EditIndex([](Json& j) { j["schemaVersion"] = 3; }),
       C::kUnsupported,
       {"schemaVersion 3"}},
      {"index_sha512",
       EditIndex([](Json& j) { j["manifests"][0]["digest"] = "sha512:" + kHex + kHex; }),
       C::kUnsupported,
       {"algorithm other than sha256"}},
      {"index_negative_size",
       EditIndex([](Json& j) { j["manifests"][0]["size"] = -1; }),
       C::kTypeMismatch,
       {"\"size\" is a negative integer"}},
      {"index_fractional_size",
       EditIndex([](Json& j) { j["manifests"][0]["size"] = 1.5; }),
       C::kTypeMismatch,
       {}},
      {"index_size_2_pow_64",  // parsed as a double: an integer too large, not "fractional"
       EditIndex([](Json& j) { j["manifests"][0]["size"] = 18446744073709551616.0; }),
       C::kTypeMismatch,
       {"\"size\" is an integer larger than 2^64-1"}},
      {"index_size_mismatch",
       EditIndex([](Json& j) {
         j["manifests"][0]["size"] = j["manifests"][0]["size"].get<std::uint64_t>() + 1;
       }),
       C::kIntegrity,
       {"its descriptor says"}},
      {"index_no_digest",
       EditIndex([](Json& j) { j["manifests"][0].erase("digest"); }),
       C::kMalformed,
       {"required field \"digest\" is absent"}},
      // The OCI manifest.
      {"manifest_artifact_type",
       EditManifest([](Json& j) { j["artifactType"] = "application/vnd.other.v1"; }),
       C::kUnsupported,
       {"artifactType"}},
      {"manifest_docker",
       EditManifest([](Json& j) {
         j["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json";
       }),
       C::kUnsupported,
       {}},
      {"manifest_no_config",
       EditManifest([](Json& j) { j.erase("config"); }),
       C::kMalformed,
       {"required field \"config\""}},
      {"manifest_config_media_type",
       EditManifest([](Json& j) { j["config"]["mediaType"] = "application/json"; }),
       C::kUnsupported,
       {"config has media type"}},
      {"manifest_layers_object",
       EditManifest([](Json& j) { j["layers"] = Json::object(); }),
       C::kTypeMismatch,
       {"\"layers\" is an object"}},
      {"layer_title_path",
       EditManifest([](Json& j) {
         j["layers"][0]["annotations"]["org.opencontainers.image.title"] = "../../etc/passwd";
       }),
       C::kMalformed,
       {"layer 0 title", "path separator"}},
      {"layer_title_missing",
       EditManifest([](Json& j) { j["layers"][1].erase("annotations"); }),
       C::kMalformed,
       {"layer 1 title"}},
      {"layer_title_duplicate",
       EditManifest([](Json& j) {
         j["layers"][1]["annotations"]["org.opencontainers.image.title"] = "model.gguf";
       }),
       C::kDuplicate,
       {"\"model.gguf\" occurs twice"}},
      {"layer_annotation_not_string",
       EditManifest([](Json& j) { j["layers"][0]["annotations"]["x"] = 5; }),
       C::kTypeMismatch,
       {}},
      {"layer_bad_media_type",
       EditManifest([](Json& j) { j["layers"][0]["mediaType"] = "gguf"; }),
       C::kMalformed,
       {"media type"}},
      {"two_signatures",
       EditManifest([](Json& j) { j["layers"].push_back(j["layers"][2]); }),
       C::kDuplicate,
       {"second signature"}},
      {"layer_size_mismatch",
       EditManifest([](Json& j) { j["layers"][0]["size"] = 299999; }),
       C::kIntegrity,
       {"\"model.gguf\"", "300000 bytes, its descriptor says 299999"}},
      {"layer_duplicate_key",
       EditManifestText([](std::string text) {
         const std::string from = "\"mediaType\":\"application/vnd.gguf\"";
         std::size_t at = text.find(from);
         EXPECT_NE(at, std::string::npos);
         return text.insert(at + from.size(), ",\"size\":1");
       }),
       C::kDuplicate,
       {"key \"size\" occurs twice"}},
      // Tar-level attacks after blobs were staged, and broken archives.
      {"symlink_after_blobs",
       Append([](const Env&) {
         fixture::RawEntry e = fixture::File("evil", "");
         e.type = '2';
         e.linkname = "/etc/passwd";
         return std::vector<fixture::RawEntry>{e};
       }),
       C::kUnsupported,
       {"symbolic link"}},
      {"dotdot_after_blobs",
       Append([](const Env&) { return std::vector{fixture::File("../evil", "x")}; }),
       C::kMalformed,
       {"\"..\""}},
      {"duplicate_blob",
       Append([](const Env& env) {
         const Bytes& m = env.sample.model;
         return std::vector{fixture::File(ModelBlob(env), std::string(m.begin(), m.end()))};
       }),
       C::kDuplicate,
       {"duplicate name"}},
      {"truncated",
       [](Env& env) { return Bytes(env.bytes.begin(), env.bytes.begin() + 200000); },
       C::kTruncated,
       {}},
      {"garbage_after_end",
       [](Env& env) {
         Bytes b = env.bytes;
         b.push_back('x');
         return b;
       },
       C::kMalformed,
       {"after the end-of-archive marker"}},
      // Limits.
      {"blob_over_limit",
       [](Env& env) { return env.bytes; },
       C::kResourceExhausted,
       {"is 300000 bytes, limit 100000"},
       small_blobs},
      {"too_many_entries",
       [](Env& env) { return env.bytes; },
       C::kResourceExhausted,
       {"more than 5 entries"},
       few_entries},
      {"total_over_limit",
       [](Env& env) { return env.bytes; },
       C::kResourceExhausted,
       {"limit 200000"},
       small_total},
  };
}

INSTANTIATE_TEST_SUITE_P(OciPackages, OciHostile, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Hostile>& param_info) {
                           return param_info.param.label;
                         });

TEST(OciStaging, MustExistAndBeEmpty) {
  fixture::SamplePackage sample("oci_staging");
  fixture::WriteFile(sample.staging + "/mine", fixture::ToBytes("keep me"));
  auto busy = ReadPackageFile(sample.package_path, sample.staging);
  EXPECT_EQ(busy.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(fixture::ListDir(sample.staging), std::vector<std::string>{"mine"});
  EXPECT_EQ(ReadPackageFile(sample.package_path, sample.dir.File("absent")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(
      ReadPackageFile(sample.dir.File("absent.tpkg"), sample.dir.File("absent")).status().code(),
      StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera::package
