#include "runtime/footprint_json.h"

#include <nlohmann/json.hpp>

namespace tessera::runtime {
namespace {

bool Bytes(const nlohmann::json& j, const char* key, std::uint64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return false;
  *out = it->get<std::uint64_t>();
  return true;
}

}  // namespace

std::string FootprintToJson(const resident::Footprint& f) {
  nlohmann::json j;
  j["artifacts"] = nlohmann::json::array();
  for (const resident::ArtifactCharge& a : f.artifacts) {
    j["artifacts"].push_back(
        {{"sha256", a.sha256}, {"host", a.bytes.host}, {"device", a.bytes.device}});
  }
  j["private"] = {{"host", f.private_bytes.host}, {"device", f.private_bytes.device}};
  j["kv_bytes_per_token"] = f.kv_bytes_per_token;
  j["session_bytes"] = f.session_bytes;
  j["session_kv_bytes"] = f.session_kv_bytes;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<resident::Footprint> FootprintFromJson(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const Status bad(StatusCode::kMalformed,
                   "runtime: stored footprint is not valid: " + text.substr(0, 80));
  if (!j.is_object() || !j.contains("artifacts") || !j["artifacts"].is_array() ||
      !j.contains("private") || !j["private"].is_object()) {
    return bad;
  }
  resident::Footprint f;
  f.measured = true;
  for (const nlohmann::json& a : j["artifacts"]) {
    resident::ArtifactCharge c;
    if (!a.is_object() || !a.contains("sha256") || !a["sha256"].is_string() ||
        !Bytes(a, "host", &c.bytes.host) || !Bytes(a, "device", &c.bytes.device)) {
      return bad;
    }
    c.sha256 = a["sha256"].get<std::string>();
    f.artifacts.push_back(std::move(c));
  }
  if (!Bytes(j["private"], "host", &f.private_bytes.host) ||
      !Bytes(j["private"], "device", &f.private_bytes.device) ||
      !Bytes(j, "kv_bytes_per_token", &f.kv_bytes_per_token) ||
      !Bytes(j, "session_bytes", &f.session_bytes)) {
    return bad;
  }
  // Absent from records written before it was measured: then unknown (0).
  if (j.contains("session_kv_bytes") && !Bytes(j, "session_kv_bytes", &f.session_kv_bytes)) {
    return bad;
  }
  return f;
}

}  // namespace tessera::runtime
