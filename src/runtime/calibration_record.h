// Calibrations as evidence: the record `tessera calibrate` appends to the ledger (kind
// "calibration", subject "id@version"), signed off by a key, and the thresholds cascades take
// from it.
//
// Body: {"module", "sha256" (the module's primary artifact), "measure", "target", "threshold",
// "reached", "coverage", "accuracy", "accuracy_all", "cases", "eval_sets" [sha256...],
// "curve" [{"threshold", "coverage", "accuracy"}], "runtime_version", "signature"?}.
// "signature": {"algorithm": "ed25519", "key_id", "value" (base64 of 64 bytes)} over the bytes
// "tessera-calibration-v1\n" + the RFC 8785 form of the body without "signature".
//
// A cascade uses the newest calibration of a module that is for the same bytes (sha256) and
// signed by a key the trust policy trusts for the module's id; unsigned or untrusted ones are
// ignored (they are still listed by `tessera evidence`).
//
// Thread safety: LedgerThresholds is used by one orchestrator thread at a time (its cache).
#ifndef TESSERA_RUNTIME_CALIBRATION_RECORD_H_
#define TESSERA_RUNTIME_CALIBRATION_RECORD_H_

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "evidence/ledger.h"
#include "orchestrator/orchestrate.h"
#include "package/signature.h"
#include "registry/trust_policy.h"

namespace tessera::runtime {

inline constexpr std::string_view kCalibrationKind = "calibration";

// `body` with its "signature" member added (key null: returned unsigned).
Result<nlohmann::json> SignCalibration(nlohmann::json body, const package::PrivateKey* key);

// OK when `body` is signed by a key `trust` trusts for `package_id`; kPermissionDenied
// (unsigned, unknown or untrusted key) or kIntegrity (a signature that does not verify).
Status CheckCalibrationSignature(const nlohmann::json& body, const std::string& package_id,
                                 const registry::TrustPolicy& trust);

class LedgerThresholds final : public orchestrator::ThresholdSource {
 public:
  LedgerThresholds(evidence::Ledger* ledger, registry::TrustPolicy trust)
      : ledger_(ledger), trust_(std::move(trust)) {}
  std::optional<orchestrator::Threshold> For(const orchestrator::ModuleFacts& module) override;

 private:
  evidence::Ledger* ledger_;  // may be null: no calibrations
  registry::TrustPolicy trust_;
  std::mutex mu_;
  std::map<std::string, std::optional<orchestrator::Threshold>> cache_;  // by key + sha256
};

}  // namespace tessera::runtime

#endif  // TESSERA_RUNTIME_CALIBRATION_RECORD_H_
