#include "convert/convert_lora.h"

#include <deque>
#include <map>
#include <set>

#include "base/mapped_file.h"
#include "base/sha256.h"
#include "convert/checkpoint.h"
#include "convert/convert_model.h"
#include "convert/json_file.h"
#include "convert/tensor_convert.h"
#include "convert/tensor_map.h"
#include "gguf/keys.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "model/config.h"

namespace tessera::convert {
namespace {

namespace keys = gguf::keys;
using gguf::Value;

const std::string kWhat = "convert: adapter_config.json";

struct AdapterConfig {
  std::int64_t r = 0;
  double alpha = 0.0;
  std::set<std::string> target_modules;  // last components ("q_proj", ...)
};

Status RequireFalse(const Json& j, const char* key) {
  TS_ASSIGN_OR_RETURN(std::optional<bool> v, GetBool(j, key, kWhat));
  if (v.value_or(false)) return Unsupported(kWhat + ": \"" + key + "\" is true; not supported");
  return Status::Ok();
}

Status RequireEmpty(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null() || ((it->is_object() || it->is_array()) && it->empty())) {
    return Status::Ok();
  }
  return Unsupported(kWhat + ": \"" + key + "\" is set; not supported");
}

Result<AdapterConfig> ReadAdapterConfig(const std::string& dir) {
  TS_ASSIGN_OR_RETURN(Json j, ReadJsonFile(JoinPath(dir, "adapter_config.json")));
  TS_ASSIGN_OR_RETURN(std::optional<std::string> peft, GetString(j, "peft_type", kWhat));
  if (peft.value_or("") != "LORA") {
    return Unsupported(kWhat + ": peft_type \"" + peft.value_or("") + "\" is not LORA");
  }
  AdapterConfig c;
  TS_ASSIGN_OR_RETURN(c.r, RequireInt(j, "r", kWhat));
  if (c.r <= 0 || c.r > 65536) {
    return OutOfRange(kWhat + ": r = " + std::to_string(c.r) + " is outside [1, 65536]");
  }
  TS_ASSIGN_OR_RETURN(c.alpha, RequireNumber(j, "lora_alpha", kWhat));
  TS_RETURN_IF_ERROR(RequireFalse(j, "fan_in_fan_out"));
  TS_RETURN_IF_ERROR(RequireFalse(j, "use_dora"));
  TS_RETURN_IF_ERROR(RequireFalse(j, "use_rslora"));
  TS_ASSIGN_OR_RETURN(std::optional<std::string> bias, GetString(j, "bias", kWhat));
  if (bias.value_or("none") != "none") {
    return Unsupported(kWhat + ": bias \"" + *bias + "\" is not supported (only \"none\")");
  }
  TS_RETURN_IF_ERROR(RequireEmpty(j, "modules_to_save"));
  TS_RETURN_IF_ERROR(RequireEmpty(j, "rank_pattern"));
  TS_RETURN_IF_ERROR(RequireEmpty(j, "alpha_pattern"));
  auto tm = j.find("target_modules");
  if (tm == j.end() || tm->is_null()) {
    return InvalidArgument(kWhat + ": required field \"target_modules\" is absent");
  }
  if (tm->is_string()) {
    c.target_modules.insert(tm->get<std::string>());
  } else if (tm->is_array()) {
    for (const Json& m : *tm) {
      if (!m.is_string()) return Malformed(kWhat + ": target_modules holds a non-string");
      c.target_modules.insert(m.get<std::string>());
    }
  } else {
    return Status(StatusCode::kTypeMismatch, kWhat + ": target_modules is " + JsonTypeName(*tm));
  }
  return c;
}

struct LoraPair {
  const StTensor* a = nullptr;
  const StTensor* b = nullptr;
};

bool StripSuffix(std::string_view* s, std::string_view suffix) {
  if (s->size() < suffix.size() || s->substr(s->size() - suffix.size()) != suffix) return false;
  s->remove_suffix(suffix.size());
  return true;
}

}  // namespace

Result<LoraConvertReport> ConvertLora(const LoraConvertOptions& opt) {
  if (opt.type != "f32" && opt.type != "f16") {
    return InvalidArgument("convert: --type \"" + opt.type +
                           "\" is not valid for a LoRA adapter (f32 or f16)");
  }
  if (opt.out_path.empty()) return InvalidArgument("convert: no output path (-o)");
  const tensor::DType type = opt.type == "f16" ? tensor::DType::kF16 : tensor::DType::kF32;
  TS_ASSIGN_OR_RETURN(AdapterConfig ac, ReadAdapterConfig(opt.dir));

  // The base: its hyper-parameters and tensor dims, and the hash of its bytes.
  TS_ASSIGN_OR_RETURN(gguf::File base, gguf::File::Open(opt.base_path));
  Result<model::LlamaConfig> base_config = model::ReadLlamaConfig(base);
  if (!base_config.ok()) return base_config.status().WithContext("convert: --base");
  TS_ASSIGN_OR_RETURN(base::MappedFile base_bytes, base::MappedFile::Open(opt.base_path));
  const std::string base_sha = base::Sha256Hex(base_bytes.bytes());

  TS_ASSIGN_OR_RETURN(Checkpoint ckpt, Checkpoint::Open(opt.dir, "adapter_model"));
  std::map<std::string, LoraPair> modules;  // by HF module name
  for (const auto& [name, t] : ckpt.tensors()) {
    std::string_view rest = name;
    constexpr std::string_view kPrefix = "base_model.model.";
    const bool prefixed = rest.substr(0, kPrefix.size()) == kPrefix;
    if (prefixed) rest.remove_prefix(kPrefix.size());
    const bool is_a = prefixed && StripSuffix(&rest, ".lora_A.weight");
    const bool is_b = prefixed && !is_a && StripSuffix(&rest, ".lora_B.weight");
    if (!is_a && !is_b) {
      return Unsupported("convert: unexpected adapter tensor \"" + name +
                         "\" (expected base_model.model.<module>.lora_{A,B}.weight)");
    }
    LoraPair& p = modules[std::string(rest)];
    (is_a ? p.a : p.b) = t;
  }
  if (modules.empty()) return NotFound("convert: the adapter holds no LoRA tensors");

  const bool permute = base_config->rope_mode == kernels::RopeMode::kNormal;
  std::deque<ConvertedTensor> converted;
  gguf::Writer w;
  const std::string arch = base_config->architecture;
  TS_RETURN_IF_ERROR(w.AddKeyValue(std::string(keys::kGeneralArchitecture), Value::String(arch)));
  TS_RETURN_IF_ERROR(w.AddKeyValue(std::string(keys::kGeneralType), Value::String("adapter")));
  TS_RETURN_IF_ERROR(
      w.AddKeyValue(std::string(keys::kGeneralName),
                    Value::String(opt.name.empty() ? DirectoryName(opt.dir) : opt.name)));
  TS_RETURN_IF_ERROR(w.AddKeyValue(std::string(keys::kGeneralFileType),
                                   Value::U32(type == tensor::DType::kF16 ? 1 : 0)));
  TS_RETURN_IF_ERROR(w.AddKeyValue(std::string(keys::kAdapterType), Value::String("lora")));
  TS_RETURN_IF_ERROR(w.AddKeyValue(std::string(keys::kAdapterLoraAlpha),
                                   Value::F32(static_cast<float>(ac.alpha))));
  TS_RETURN_IF_ERROR(w.AddKeyValue(std::string(kAdapterBaseSha256), Value::String(base_sha)));

  const auto r = static_cast<std::uint64_t>(ac.r);
  for (const auto& [module, pair] : modules) {
    TS_ASSIGN_OR_RETURN(LinearModule lm, MapLinearModule(module));
    const std::string role_name = module.substr(module.rfind('.') + 1);
    if (ac.target_modules.count(role_name) == 0) {
      return Status(StatusCode::kIncompatible, "convert: module \"" + module +
                                                   "\" has LoRA tensors but \"" + role_name +
                                                   "\" is not in target_modules");
    }
    if (pair.a == nullptr || pair.b == nullptr) {
      return Status(StatusCode::kMissingTensor, "convert: tensor \"base_model.model." + module +
                                                    ".lora_" + (pair.a == nullptr ? "A" : "B") +
                                                    ".weight\" is absent");
    }
    const gguf::TensorInfo* target = base.FindTensor(lm.gguf_weight);
    if (target == nullptr) {
      return Status(StatusCode::kIncompatible, "convert: the base has no tensor \"" +
                                                   lm.gguf_weight + "\" for module \"" + module +
                                                   "\"");
    }
    if (target->dims.size() != 2) {
      return Status(StatusCode::kShapeMismatch,
                    "convert: base tensor \"" + lm.gguf_weight + "\" is not a matrix");
    }
    const std::uint64_t in = target->dims[0], out = target->dims[1];
    const StTensor& a = *pair.a;
    const StTensor& b = *pair.b;
    if (a.shape != std::vector<std::uint64_t>{r, in} ||
        b.shape != std::vector<std::uint64_t>{out, r}) {
      return Status(
          StatusCode::kShapeMismatch,
          "convert: module \"" + module + "\": lora_A [" +
              (a.shape.size() == 2 ? std::to_string(a.shape[0]) + ", " + std::to_string(a.shape[1])
                                   : "?") +
              "] and lora_B [" +
              (b.shape.size() == 2 ? std::to_string(b.shape[0]) + ", " + std::to_string(b.shape[1])
                                   : "?") +
              "] do not fit base tensor \"" + lm.gguf_weight + "\" (in " + std::to_string(in) +
              ", out " + std::to_string(out) + ") with r " + std::to_string(r) + ": expected [" +
              std::to_string(r) + ", " + std::to_string(in) + "] and [" + std::to_string(out) +
              ", " + std::to_string(r) + "]");
    }
    std::uint32_t heads = 0;
    if (permute && lm.role == "q") heads = static_cast<std::uint32_t>(base_config->n_head);
    if (permute && lm.role == "k") heads = static_cast<std::uint32_t>(base_config->n_head_kv);
    converted.emplace_back();
    TS_RETURN_IF_ERROR(ConvertTensor(a, type, 0, &converted.back()));
    TS_RETURN_IF_ERROR(
        w.AddTensor(lm.gguf_weight + ".lora_a", {in, r}, type, converted.back().bytes));
    converted.emplace_back();
    TS_RETURN_IF_ERROR(ConvertTensor(b, type, heads, &converted.back()));
    TS_RETURN_IF_ERROR(
        w.AddTensor(lm.gguf_weight + ".lora_b", {r, out}, type, converted.back().bytes));
  }
  TS_RETURN_IF_ERROR(w.WriteFile(opt.out_path));
  LoraConvertReport report;
  report.architecture = arch;
  report.n_modules = static_cast<std::int32_t>(modules.size());
  report.rank = static_cast<std::int32_t>(ac.r);
  report.alpha = static_cast<float>(ac.alpha);
  report.base_sha256 = base_sha;
  return report;
}

}  // namespace tessera::convert
