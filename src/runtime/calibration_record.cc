#include "runtime/calibration_record.h"

#include "package/base64.h"
#include "package/canonical_json.h"

#include <cmath>

namespace tessera::runtime {
namespace {

using Json = nlohmann::json;
constexpr std::string_view kPrefix = "tessera-calibration-v1\n";

Result<std::string> SignedBytes(Json body) {
  body.erase("signature");
  TS_ASSIGN_OR_RETURN(std::string canonical, package::CanonicalJson(body));
  return std::string(kPrefix) + canonical;
}

std::span<const std::uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The measure a calibration of `m` must have been made with.
std::string MeasureOf(const orchestrator::ModuleFacts& m) {
  if (m.contract.output.kind == package::IoKind::kEnum) return "label-probability";
  return std::string(package::ConfidenceKindName(m.contract.confidence));
}

bool IsString(const Json& body, const char* key, const std::string& want) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() && it->get<std::string>() == want;
}

// A calibration of exactly `m` (its id@version, its bytes, its measure), with a finite
// threshold, signed by a key trusted for its id. Never throws, whatever the body holds.
bool Usable(const evidence::Record& r, const orchestrator::ModuleFacts& m,
            const registry::TrustPolicy& trust) {
  Json body = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !IsString(body, "module", m.key()) ||
      !IsString(body, "sha256", m.sha256) || !IsString(body, "measure", MeasureOf(m))) {
    return false;
  }
  auto t = body.find("threshold");
  if (t == body.end() || !t->is_number() || !std::isfinite(t->get<double>())) return false;
  return CheckCalibrationSignature(body, m.id, trust).ok();
}

}  // namespace

Result<Json> SignCalibration(Json body, const package::PrivateKey* key) {
  if (key == nullptr) return body;
  TS_ASSIGN_OR_RETURN(std::string message, SignedBytes(body));
  TS_ASSIGN_OR_RETURN(package::Ed25519Signature sig, key->Sign(Bytes(message)));
  body["signature"] = {{"algorithm", "ed25519"},
                       {"key_id", key->public_key().KeyId()},
                       {"value", package::Base64Encode(sig)}};
  return body;
}

Status CheckCalibrationSignature(const Json& body, const std::string& package_id,
                                 const registry::TrustPolicy& trust) {
  auto sig = body.find("signature");
  if (sig == body.end() || !sig->is_object() || !sig->contains("key_id") ||
      !sig->contains("value") || !(*sig)["key_id"].is_string() || !(*sig)["value"].is_string()) {
    return Status(StatusCode::kPermissionDenied, "calibration: unsigned");
  }
  const std::string key_id = (*sig)["key_id"].get<std::string>();
  TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> value,
                      package::Base64Decode((*sig)["value"].get<std::string>(), "signature"));
  TS_ASSIGN_OR_RETURN(std::string message, SignedBytes(body));
  bool known = false;
  for (const registry::TrustedKey& k : trust.keys) {
    if (k.key.KeyId() != key_id) continue;
    bool covers = false;
    for (const std::string& p : k.id_prefixes) covers |= registry::IdPatternMatches(p, package_id);
    if (!covers) continue;
    known = true;
    if (k.key.Verify(Bytes(message), value).ok()) return Status::Ok();
  }
  if (!known) {
    return Status(StatusCode::kPermissionDenied,
                  "calibration: key " + key_id + " is not trusted for " + package_id);
  }
  return Status(StatusCode::kIntegrity, "calibration: the signature does not match the record");
}

std::optional<orchestrator::Threshold> LedgerThresholds::For(
    const orchestrator::ModuleFacts& m) {
  if (ledger_ == nullptr) return std::nullopt;
  const std::string cache_key = m.key() + "#" + m.sha256;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = cache_.find(cache_key); it != cache_.end()) return it->second;
  std::optional<orchestrator::Threshold> found;
  evidence::ListFilter filter;
  filter.kind = std::string(kCalibrationKind);
  filter.subject = m.key();
  filter.limit = 100;
  // Newest first, page by page, until a usable record: unsigned or untrusted calibrations
  // (anyone may append them) never hide a signed one.
  for (;;) {
    Result<std::vector<evidence::Record>> records = ledger_->List(filter);
    if (!records.ok() || records->empty()) break;
    for (const evidence::Record& r : *records) {
      if (Usable(r, m, trust_)) {
        Json body = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
        found = orchestrator::Threshold{body["threshold"].get<double>(),
                                        "calibration #" + std::to_string(r.seq)};
        break;
      }
    }
    if (found || records->size() < filter.limit) break;
    filter.before_seq = records->back().seq;
  }
  cache_[cache_key] = found;
  return found;
}

}  // namespace tessera::runtime
