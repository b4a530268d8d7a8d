#include "package/oci_layout.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "base/utf8.h"
#include "package/tar.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

std::string Quote(std::string_view text) { return QuoteTarName(text); }

// "oci: <context>: <message without its own "oci: " prefix>", same code.
Status InContext(const Status& status, std::string_view context) {
  std::string_view message = status.message();
  if (message.rfind("oci: ", 0) == 0) message.remove_prefix(5);
  return Status(status.code(), "oci: " + std::string(context) + ": " + std::string(message));
}

std::string TypeName(const Json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_unsigned()) return "a non-negative integer";
  if (v.is_number_integer()) return "a negative integer";
  // A number parsed as floating point: either it has a fractional part, or it is an integer
  // too large for 64 bits (nlohmann reads 18446744073709551616 as a double).
  if (v.is_number()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d) return "an integer larger than 2^64-1";
    return "a fractional number";
  }
  return "null";
}

// Parses a JSON object, refusing duplicate keys at any depth (nlohmann keeps the last one, which
// would let two readers see different documents).
Result<Json> ParseObject(std::span<const std::uint8_t> bytes, std::string_view what) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  bool has_duplicate = false;
  Json::parser_callback_t callback = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == Json::parse_event_t::key && !open_objects.empty()) {
      const std::string* key = parsed.get_ptr<const std::string*>();
      if (key != nullptr && !open_objects.back().insert(*key).second && !has_duplicate) {
        has_duplicate = true;
        duplicate = *key;
      }
    }
    return true;
  };
  Json json = Json::parse(bytes.begin(), bytes.end(), callback, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Malformed("oci: " + std::string(what) + " is not valid JSON");
  if (has_duplicate) {
    return Status(StatusCode::kDuplicate,
                  "oci: " + std::string(what) + ": key " + Quote(duplicate) + " occurs twice");
  }
  if (!json.is_object()) {
    return Status(StatusCode::kTypeMismatch,
                  "oci: " + std::string(what) + " is " + TypeName(json) + ", expected an object");
  }
  return json;
}

Result<const Json*> Require(const Json& obj, std::string_view key, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return Malformed("oci: " + std::string(what) + ": required field \"" + std::string(key) +
                     "\" is absent");
  }
  return &*it;
}

Status TypeError(const Json& v, std::string_view key, std::string_view what,
                 std::string_view expected) {
  return Status(StatusCode::kTypeMismatch, "oci: " + std::string(what) + ": \"" + std::string(key) +
                                               "\" is " + TypeName(v) + ", expected " +
                                               std::string(expected));
}

Result<std::string> RequireString(const Json& obj, std::string_view key, std::string_view what) {
  TS_ASSIGN_OR_RETURN(const Json* v, Require(obj, key, what));
  const std::string* s = v->get_ptr<const std::string*>();
  if (s == nullptr) return TypeError(*v, key, what, "a string");
  return *s;
}

Result<std::uint64_t> RequireSize(const Json& obj, std::string_view key, std::string_view what) {
  TS_ASSIGN_OR_RETURN(const Json* v, Require(obj, key, what));
  const std::uint64_t* n = v->get_ptr<const std::uint64_t*>();
  if (n == nullptr) return TypeError(*v, key, what, "a non-negative integer");
  return *n;
}

// A field that must hold exactly `expected`.
Status RequireValue(const Json& obj, std::string_view key, std::string_view expected,
                    std::string_view what) {
  TS_ASSIGN_OR_RETURN(std::string value, RequireString(obj, key, what));
  if (value != expected) {
    return Unsupported("oci: " + std::string(what) + ": \"" + std::string(key) + "\" is " +
                       Quote(value) + ", expected \"" + std::string(expected) + "\"");
  }
  return Status::Ok();
}

Status RequireSchemaVersion2(const Json& obj, std::string_view what) {
  TS_ASSIGN_OR_RETURN(std::uint64_t version, RequireSize(obj, "schemaVersion", what));
  if (version != 2) {
    return Unsupported("oci: " + std::string(what) + ": schemaVersion " + std::to_string(version) +
                       ", expected 2");
  }
  return Status::Ok();
}

Result<Descriptor> ParseDescriptor(const Json& v, const std::string& what) {
  if (!v.is_object()) {
    return Status(StatusCode::kTypeMismatch,
                  "oci: " + what + " is " + TypeName(v) + ", expected an object");
  }
  Descriptor d;
  TS_ASSIGN_OR_RETURN(d.media_type, RequireString(v, "mediaType", what));
  Status media_ok = ValidateMediaType(d.media_type);
  if (!media_ok.ok()) return InContext(media_ok, what);
  TS_ASSIGN_OR_RETURN(std::string digest, RequireString(v, "digest", what));
  Result<base::Sha256Digest> parsed = ParseDigest(digest);
  if (!parsed.ok()) return InContext(parsed.status(), what);
  d.digest = *parsed;
  TS_ASSIGN_OR_RETURN(d.size, RequireSize(v, "size", what));
  auto annotations = v.find("annotations");
  if (annotations != v.end()) {
    if (!annotations->is_object()) return TypeError(*annotations, "annotations", what, "an object");
    for (auto it = annotations->begin(); it != annotations->end(); ++it) {
      if (!it->is_string()) return TypeError(*it, it.key(), what + " annotations", "a string");
    }
    auto title = annotations->find(kOciTitleAnnotation);
    if (title != annotations->end()) d.title = *title->get_ptr<const std::string*>();
  }
  return d;
}

Json DescriptorJson(const Descriptor& d) {
  Json j = Json::object();
  j["mediaType"] = d.media_type;
  j["digest"] = DigestString(d.digest);
  j["size"] = d.size;
  if (!d.title.empty()) j["annotations"][std::string(kOciTitleAnnotation)] = d.title;
  return j;
}

std::string Dump(const Json& j) {
  // Every string written was validated as UTF-8; `replace` only guarantees dump() cannot throw.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsRestrictedNameChar(char c, bool first) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  if (alnum || !first) {
    return alnum || std::string_view("!#$&^_.+-").find(c) != std::string_view::npos;
  }
  return false;
}

bool IsRestrictedName(std::string_view s) {
  if (s.empty() || s.size() > 127) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!IsRestrictedNameChar(s[i], i == 0)) return false;
  }
  return true;
}

}  // namespace

std::string DigestString(const base::Sha256Digest& digest) {
  return "sha256:" + base::ToHex(digest);
}

Result<base::Sha256Digest> ParseDigestHex(std::string_view hex) {
  base::Sha256Digest digest{};
  if (hex.size() != 2 * digest.size()) {
    return Malformed("oci: digest " + Quote(hex) + " does not have 64 hex digits");
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < digest.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Malformed("oci: digest " + Quote(hex) + " is not lowercase hexadecimal");
    }
    digest[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return digest;
}

Result<base::Sha256Digest> ParseDigest(std::string_view text) {
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Malformed("oci: digest " + Quote(text) + " has no algorithm prefix");
  }
  if (text.substr(0, colon) != "sha256") {
    return Unsupported("oci: digest " + Quote(text) + " uses an algorithm other than sha256");
  }
  return ParseDigestHex(text.substr(colon + 1));
}

std::string BlobEntryName(const base::Sha256Digest& digest) {
  return std::string(kOciSha256Dir) + "/" + base::ToHex(digest);
}

Status ValidateArtifactName(std::string_view name) {
  auto bad = [&](const std::string& problem) {
    return Malformed("oci: artifact name " + Quote(name) + ": " + problem);
  };
  if (name.empty() || name.size() > 255) return bad("must be 1 to 255 bytes");
  if (name == "." || name == "..") return bad("is not a file name");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return bad("has a control character");
    if (c == '/' || c == '\\') return bad("has a path separator");
  }
  if (!base::ValidateUtf8(name).ok()) return bad("is not valid UTF-8");
  return Status::Ok();
}

Status ValidateMediaType(std::string_view media_type) {
  std::size_t slash = media_type.find('/');
  if (slash == std::string_view::npos || !IsRestrictedName(media_type.substr(0, slash)) ||
      !IsRestrictedName(media_type.substr(slash + 1))) {
    return Malformed("oci: media type " + Quote(media_type) + " is not type/subtype (RFC 6838)");
  }
  return Status::Ok();
}

std::string OciLayoutJson() {
  Json j = Json::object();
  j["imageLayoutVersion"] = std::string(kOciImageLayoutVersion);
  return Dump(j);
}

std::string OciIndexJson(const Descriptor& manifest) {
  Json j = Json::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = std::string(kOciIndexMediaType);
  j["manifests"] = Json::array({DescriptorJson(manifest)});
  return Dump(j);
}

std::string OciManifestJson(const OciManifest& manifest) {
  Json j = Json::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = std::string(kOciManifestMediaType);
  j["artifactType"] = std::string(kPackageArtifactType);
  j["config"] = DescriptorJson(manifest.config);
  j["layers"] = Json::array();
  for (const Descriptor& layer : manifest.layers) j["layers"].push_back(DescriptorJson(layer));
  return Dump(j);
}

Status ParseOciLayout(std::span<const std::uint8_t> bytes) {
  TS_ASSIGN_OR_RETURN(Json j, ParseObject(bytes, kOciLayoutFile));
  return RequireValue(j, "imageLayoutVersion", kOciImageLayoutVersion, kOciLayoutFile);
}

Result<Descriptor> ParseOciIndex(std::span<const std::uint8_t> bytes) {
  const std::string what(kOciIndexFile);
  TS_ASSIGN_OR_RETURN(Json j, ParseObject(bytes, what));
  TS_RETURN_IF_ERROR(RequireSchemaVersion2(j, what));
  if (j.contains("mediaType"))
    TS_RETURN_IF_ERROR(RequireValue(j, "mediaType", kOciIndexMediaType, what));
  TS_ASSIGN_OR_RETURN(const Json* manifests, Require(j, "manifests", what));
  if (!manifests->is_array()) return TypeError(*manifests, "manifests", what, "an array");
  if (manifests->size() != 1) {
    return Unsupported("oci: index.json lists " + std::to_string(manifests->size()) +
                       " manifests, expected exactly 1");
  }
  TS_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(manifests->front(), what + " manifest"));
  if (d.media_type != kOciManifestMediaType) {
    return Unsupported("oci: index.json manifest has media type " + Quote(d.media_type) +
                       ", expected \"" + std::string(kOciManifestMediaType) + "\"");
  }
  return d;
}

Result<OciManifest> ParseOciManifest(std::span<const std::uint8_t> bytes) {
  const std::string what = "manifest";
  TS_ASSIGN_OR_RETURN(Json j, ParseObject(bytes, what));
  TS_RETURN_IF_ERROR(RequireSchemaVersion2(j, what));
  TS_RETURN_IF_ERROR(RequireValue(j, "mediaType", kOciManifestMediaType, what));
  TS_RETURN_IF_ERROR(RequireValue(j, "artifactType", kPackageArtifactType, what));
  OciManifest manifest;
  TS_ASSIGN_OR_RETURN(const Json* config, Require(j, "config", what));
  TS_ASSIGN_OR_RETURN(manifest.config, ParseDescriptor(*config, "manifest config"));
  if (manifest.config.media_type != kPackageManifestMediaType) {
    return Unsupported("oci: manifest config has media type " + Quote(manifest.config.media_type) +
                       ", expected \"" + std::string(kPackageManifestMediaType) + "\"");
  }
  TS_ASSIGN_OR_RETURN(const Json* layers, Require(j, "layers", what));
  if (!layers->is_array()) return TypeError(*layers, "layers", what, "an array");
  std::set<std::string> titles;
  bool signed_package = false;
  for (std::size_t i = 0; i < layers->size(); ++i) {
    const std::string layer_what = "manifest layer " + std::to_string(i);
    TS_ASSIGN_OR_RETURN(Descriptor layer, ParseDescriptor((*layers)[i], layer_what));
    if (layer.media_type == kPackageSignatureMediaType) {
      if (signed_package) {
        return Status(StatusCode::kDuplicate, "oci: " + layer_what + " is a second signature");
      }
      signed_package = true;
    } else {
      Status name_ok = ValidateArtifactName(layer.title);
      if (!name_ok.ok()) return InContext(name_ok, layer_what + " title");
      if (!titles.insert(layer.title).second) {
        return Status(StatusCode::kDuplicate, "oci: " + layer_what + ": artifact name " +
                                                  Quote(layer.title) + " occurs twice");
      }
    }
    manifest.layers.push_back(std::move(layer));
  }
  return manifest;
}

}  // namespace tessera::package
