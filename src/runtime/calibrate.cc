// tessera::Calibrate (include/tessera/orchestrator.h): a module's eval sets answered under its
// contract, its confidence threshold chosen, the result signed and recorded as evidence.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "evidence/ledger.h"
#include "orchestrator/calibration.h"
#include "package/file_io.h"
#include "runtime/calibration_record.h"
#include "runtime/runtime_access.h"
#include "tessera/orchestrator.h"
#include "tessera/version.h"

namespace tessera {
namespace {

using Json = nlohmann::json;

constexpr std::uint64_t kMaxEvalSetBytes = 64ull << 20;

struct EvalCase {
  std::string prompt;
  std::string answer;
};

// JSONL: one object per line with string "prompt" and "answer" (other members ignored). The
// bytes must be the ones the manifest names (`sha256`): a calibration signs what it ran on.
Result<std::vector<EvalCase>> ReadEvalSet(const std::string& path, const std::string& name,
                                          const std::string& sha256, std::size_t limit) {
  TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes,
                      package::ReadSmallFile(path, kMaxEvalSetBytes));
  if (base::Sha256Hex(bytes) != sha256) {
    return Status(StatusCode::kIntegrity, "calibrate: the stored bytes of " + name +
                                              " do not match their sha256 (run tessera verify)");
  }
  std::vector<EvalCase> out;
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::size_t line_no = 0;
  while (!text.empty() && (limit == 0 || out.size() < limit)) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("prompt") || !j["prompt"].is_string() ||
        !j.contains("answer") || !j["answer"].is_string()) {
      return Malformed("calibrate: " + name + ": line " + std::to_string(line_no) +
                       ": expected an object with string \"prompt\" and \"answer\"");
    }
    out.push_back({j["prompt"].get<std::string>(), j["answer"].get<std::string>()});
  }
  return out;
}

}  // namespace

Result<CalibrateResult> Calibrate(Runtime& runtime, std::string_view ref,
                                  const CalibrateOptions& options) {
  if (!(options.target_accuracy > 0 && options.target_accuracy <= 1)) {
    return InvalidArgument("calibrate: the target accuracy must be in (0, 1], not " +
                           std::to_string(options.target_accuracy));
  }
  const auto t0 = std::chrono::steady_clock::now();
  Runtime::Impl& rt = RuntimeAccess::Get(runtime);
  TS_ASSIGN_OR_RETURN(runtime::PackageInfo package, rt.Resolve(ref));
  const package::Manifest& m = *package.manifest;
  std::string home;
  struct Set {
    std::string name, path, sha256;
  };
  std::vector<Set> sets;
  std::vector<std::string> set_shas;
  {
    std::lock_guard<std::mutex> lock(rt.registry_mu);
    home = rt.registry->home();
    std::string available;
    for (const package::Artifact& a : m.artifacts) {
      if (a.role != package::ArtifactRole::kEvalSet) continue;
      available += (available.empty() ? "" : ", ") + a.name;
      if (!options.sets.empty() &&
          std::find(options.sets.begin(), options.sets.end(), a.name) == options.sets.end()) {
        continue;
      }
      sets.push_back({a.name, rt.registry->BlobPath(a.sha256), a.sha256});
      set_shas.push_back(a.sha256);
    }
    for (const std::string& wanted : options.sets) {
      if (std::none_of(sets.begin(), sets.end(), [&](const Set& s) { return s.name == wanted; })) {
        return NotFound("calibrate: " + package.spec.key + " has no eval set named \"" + wanted +
                        "\" (its eval sets: " + (available.empty() ? "none" : available) + ")");
      }
    }
  }
  if (sets.empty()) {
    return NotFound("calibrate: " + package.spec.key + " ships no eval set to calibrate on");
  }
  std::optional<package::PrivateKey> key;
  if (!options.key.empty()) {
    Result<package::PrivateKey> k =
        package::PrivateKey::Load(home + "/keys/" + options.key + ".key");
    if (!k.ok()) return k.status().WithContext("calibrate: key " + options.key);
    key = std::move(k).value();
  }
  TS_ASSIGN_OR_RETURN(ModuleHandle module, runtime.Acquire(package.spec.key));
  if (Result<ModuleInfo> info = runtime.Describe(module);
      !info.ok() || info->id + "@" + info->version != package.spec.key) {
    (void)runtime.Release(module);
    return Status(StatusCode::kFailedPrecondition,
                  "calibrate: " + package.spec.key +
                      " could not be loaded (the runtime fell back to another version)");
  }
  Result<SessionHandle> session = runtime.OpenSession(module);
  (void)runtime.Release(module);
  if (!session.ok()) return session.status();
  std::vector<orchestrator::ScoredCase> scored;
  std::string measure;
  Status failed;
  for (const Set& set : sets) {
    Result<std::vector<EvalCase>> cases =
        ReadEvalSet(set.path, set.name, set.sha256, options.limit);
    if (!cases.ok()) {
      failed = cases.status();
      break;
    }
    for (const EvalCase& c : *cases) {
      // Eval sets hold prompts in the model's form: the request is what the template wrapped.
      const std::optional<std::string> input = package::InputFromPrompt(m.contract, c.prompt);
      Result<SkillAnswer> a = runtime.Answer(*session, input ? *input : c.prompt);
      if (!a.ok()) {
        // An input the contract refuses is not an answer: it is counted as unanswered.
        if (a.status().code() == StatusCode::kOutOfRange) {
          scored.push_back({0, false, false});
          continue;
        }
        failed = a.status();
        break;
      }
      measure = a->measure;
      const bool finite = std::isfinite(a->confidence);  // a non-finite score is no answer
      scored.push_back({finite ? a->confidence : 0.0, a->valid && finite,
                        a->valid && finite && a->text == c.answer});
    }
    if (!failed.ok()) break;
  }
  (void)runtime.CloseSession(*session);
  TS_RETURN_IF_ERROR(failed);
  const orchestrator::Calibration c = orchestrator::Calibrate(scored, options.target_accuracy);
  CalibrateResult out;
  out.module = package.spec.key;
  out.sha256 = package.info.sha256;
  out.measure = measure;
  out.target = c.target;
  out.threshold = c.threshold;
  out.reached = c.reached;
  out.coverage = c.coverage;
  out.accuracy = c.accuracy;
  out.accuracy_all = c.accuracy_all;
  out.cases = c.cases;
  for (const Set& set : sets) out.eval_sets.push_back(set.name);
  Json curve = Json::array();
  for (const orchestrator::CurvePoint& p : c.curve) {
    out.curve.push_back({p.threshold, p.coverage, p.accuracy});
    curve.push_back(
        {{"threshold", p.threshold}, {"coverage", p.coverage}, {"accuracy", p.accuracy}});
  }
  if (key) out.signer = key->public_key().KeyId();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!options.record) return out;
  Json body = {{"module", out.module},
               {"sha256", out.sha256},
               {"measure", out.measure},
               {"target", out.target},
               {"threshold", out.threshold},
               {"reached", out.reached},
               {"coverage", out.coverage},
               {"accuracy", out.accuracy},
               {"accuracy_all", out.accuracy_all},
               {"cases", out.cases},
               {"limit_per_set", options.limit},
               {"eval_sets", set_shas},
               {"curve", curve},
               {"runtime_version", std::string(kRuntimeVersion)}};
  TS_ASSIGN_OR_RETURN(body, runtime::SignCalibration(std::move(body), key ? &*key : nullptr));
  TS_ASSIGN_OR_RETURN(std::unique_ptr<evidence::Ledger> ledger,
                      evidence::Ledger::Open(evidence::LedgerPath(home)));
  TS_ASSIGN_OR_RETURN(evidence::Record rec,
                      ledger->Append(runtime::kCalibrationKind, out.module,
                                     body.dump(-1, ' ', false, Json::error_handler_t::replace)));
  out.evidence = rec.seq;
  return out;
}

}  // namespace tessera
