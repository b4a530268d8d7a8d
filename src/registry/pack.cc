#include "registry/pack.h"

#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "package/canonical_json.h"
#include "package/file_io.h"
#include "package/oci_writer.h"
#include "package/signature_envelope.h"
#include "package/strict_json.h"
#include "registry/gguf_facts.h"
#include "registry/policy_check.h"

namespace tessera::registry {
namespace {

using nlohmann::json;

Status Mismatch(const std::string& where, const json& declared, const json& read) {
  // Values read from a GGUF may hold bytes that are not UTF-8: replaced, never thrown on.
  auto text = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  return Status(StatusCode::kIntegrity, "pack: " + where + " is " + text(declared) +
                                            " in manifest.json but " + text(read) +
                                            " in the files");
}

// Sets doc[key] = value, or checks that an existing value equals it.
Status FillOrCheck(json& doc, const std::string& key, const json& value, const std::string& where) {
  if (!doc.contains(key)) {
    doc[key] = value;
    return Status();
  }
  if (doc[key] != value) return Mismatch(where + "/" + key, doc[key], value);
  return Status();
}

Result<PackResult> Finish(const json& doc, const std::string& dir,
                          std::vector<package::ArtifactFile> files, const std::string& output,
                          const package::PrivateKey* key);

json FactsJson(const package::GgufFacts& f) {
  json out = {{"architecture", f.architecture},
              {"version", f.version},
              {"file_type", f.file_type},
              {"parameters", f.parameters},
              {"context_length", f.context_length}};
  if (f.tokenizer) {
    out["tokenizer"] = {{"model", f.tokenizer->model},
                        {"pre", f.tokenizer->pre},
                        {"vocab_size", f.tokenizer->vocab_size},
                        {"sha256", f.tokenizer->sha256}};
  }
  return out;
}

}  // namespace

Result<PackResult> PackDirectory(const std::string& dir, const std::string& output,
                                 const package::PrivateKey* key) {
  const std::string manifest_path = dir + "/manifest.json";
  TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> text,
                      package::ReadSmallFile(manifest_path, package::kMaxManifestBytes));
  TS_ASSIGN_OR_RETURN(json doc,
                      package::ParseStrictJson(
                          std::string_view(reinterpret_cast<const char*>(text.data()), text.size()),
                          manifest_path, package::StrictJsonLimits{}));
  if (!doc.is_object() || !doc.contains("artifacts") || !doc["artifacts"].is_array()) {
    return Status(StatusCode::kMalformed, "pack: " + manifest_path + ": needs an artifacts array");
  }
  std::vector<package::ArtifactFile> files;
  std::string primary;
  for (std::size_t i = 0; i < doc["artifacts"].size(); ++i) {
    json& a = doc["artifacts"][i];
    const std::string where = "/artifacts/" + std::to_string(i);
    if (!a.is_object() || !a.contains("name") || !a["name"].is_string()) {
      return Status(StatusCode::kMalformed,
                    "pack: " + manifest_path + ": " + where + " needs a name");
    }
    const std::string name = a["name"].get<std::string>();
    if (name.find('/') != std::string::npos || name == "." || name == "..") {
      return Status(StatusCode::kMalformed,
                    "pack: " + where + ": '" + name + "' is not a plain file name");
    }
    const std::string path = dir + "/" + name;
    TS_ASSIGN_OR_RETURN(package::BlobRef ref, package::HashFile(path));
    TS_RETURN_IF_ERROR(FillOrCheck(a, "size", ref.size, where));
    TS_RETURN_IF_ERROR(FillOrCheck(a, "sha256", base::ToHex(ref.digest), where));
    const std::string role = a.value("role", "");
    if (role == "weights" || role == "adapter" || role == "policy") primary = path;
    files.push_back({path, name, a.value("media_type", ""), ref});
  }
  if (primary.empty()) {
    return Status(StatusCode::kMalformed,
                  "pack: " + manifest_path + ": no artifact with role weights, adapter or policy");
  }
  if (doc.value("kind", "") == "policy") return Finish(doc, dir, std::move(files), output, key);
  const bool adapter = doc.value("kind", "") == "adapter";
  TS_ASSIGN_OR_RETURN(package::GgufFacts facts,
                      adapter ? ReadAdapterFacts(primary) : ReadModelFacts(primary));
  if (doc.contains("gguf") && doc["gguf"] != FactsJson(facts)) {
    return Mismatch("/gguf", doc["gguf"], FactsJson(facts));
  }
  doc["gguf"] = FactsJson(facts);
  if (adapter) {
    TS_ASSIGN_OR_RETURN(AdapterBinding binding, ReadAdapterBinding(primary));
    if (!doc.contains("base") || !doc["base"].is_object()) {
      return Status(StatusCode::kMalformed, "pack: " + manifest_path +
                                                ": an adapter needs base {id, version, "
                                                "weights_sha256, tokenizer_sha256}");
    }
    json& base = doc["base"];
    if (!binding.base_sha256.empty()) {
      TS_RETURN_IF_ERROR(FillOrCheck(base, "weights_sha256", binding.base_sha256, "/base"));
    }
    TS_RETURN_IF_ERROR(FillOrCheck(base, "targets", binding.targets, "/base"));
    TS_RETURN_IF_ERROR(FillOrCheck(base, "rank", binding.rank, "/base"));
    TS_RETURN_IF_ERROR(FillOrCheck(base, "alpha", binding.alpha, "/base"));
  }
  return Finish(doc, dir, std::move(files), output, key);
}

namespace {

// Parses the completed manifest, checks a policy's documents, signs and writes the file.
Result<PackResult> Finish(const json& doc, const std::string& dir,
                          std::vector<package::ArtifactFile> files, const std::string& output,
                          const package::PrivateKey* key) {
  TS_ASSIGN_OR_RETURN(std::string completed, package::CanonicalJson(doc));
  TS_ASSIGN_OR_RETURN(package::Manifest manifest, package::ParseManifest(completed));
  if (manifest.kind == package::PackageKind::kPolicy) {
    Result<package::Policy> policy = CheckPolicyDocuments(
        manifest, [&dir](const std::string& name) { return dir + "/" + name; });
    if (!policy.ok()) return policy.status().WithContext("pack");
  }
  TS_ASSIGN_OR_RETURN(std::string canonical, package::CanonicalManifestBytes(manifest));
  PackResult result;
  std::string envelope;
  if (key != nullptr) {
    TS_ASSIGN_OR_RETURN(envelope, package::SignManifest(manifest, *key));
    result.key_id = key->public_key().KeyId();
  }
  const auto* config = reinterpret_cast<const std::uint8_t*>(canonical.data());
  package::PackageFileInput input;
  input.config = std::span<const std::uint8_t>(config, canonical.size());
  input.artifacts = std::move(files);
  if (key != nullptr) {
    input.signature = std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(envelope.data()), envelope.size());
  }
  TS_RETURN_IF_ERROR(package::WritePackageFile(output, input).status());
  struct stat st;
  if (::stat(output.c_str(), &st) == 0) result.bytes = static_cast<std::uint64_t>(st.st_size);
  result.manifest_sha256 = base::Sha256Hex(input.config);
  result.manifest = std::move(manifest);
  return result;
}

}  // namespace
}  // namespace tessera::registry
