#include "convert/convert_model.h"

#include <deque>
#include <set>

#include "convert/checkpoint.h"
#include "convert/hf_config.h"
#include "convert/tensor_convert.h"
#include "convert/tensor_map.h"
#include "convert/tokenizer_convert.h"
#include "convert/type_plan.h"
#include "gguf/keys.h"
#include "gguf/writer.h"

namespace tessera::convert {
namespace {

namespace keys = gguf::keys;
using gguf::Value;

std::string ShapeString(const std::vector<std::uint64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Status AddModelKeys(const HfConfig& config, const TypeTarget& target, const std::string& name,
                    gguf::Writer* w) {
  const model::LlamaConfig& c = config.llama;
  const std::string arch(config.arch->name);
  auto u32 = [&](std::string_view suffix, std::int32_t v) {
    return w->AddKeyValue(keys::ArchKey(arch, suffix), Value::U32(static_cast<std::uint32_t>(v)));
  };
  TS_RETURN_IF_ERROR(w->AddKeyValue(std::string(keys::kGeneralArchitecture), Value::String(arch)));
  TS_RETURN_IF_ERROR(w->AddKeyValue(std::string(keys::kGeneralType), Value::String("model")));
  TS_RETURN_IF_ERROR(w->AddKeyValue(std::string(keys::kGeneralName), Value::String(name)));
  TS_RETURN_IF_ERROR(
      w->AddKeyValue(std::string(keys::kGeneralFileType), Value::U32(target.file_type)));
  TS_RETURN_IF_ERROR(w->AddKeyValue(std::string(keys::kGeneralQuantizationVersion), Value::U32(2)));
  TS_RETURN_IF_ERROR(u32(keys::kContextLength, c.n_ctx_train));
  TS_RETURN_IF_ERROR(u32(keys::kEmbeddingLength, c.n_embd));
  TS_RETURN_IF_ERROR(u32(keys::kBlockCount, c.n_layer));
  TS_RETURN_IF_ERROR(u32(keys::kFeedForwardLength, c.n_ff));
  TS_RETURN_IF_ERROR(u32(keys::kHeadCount, c.n_head));
  TS_RETURN_IF_ERROR(u32(keys::kHeadCountKv, c.n_head_kv));
  if (config.explicit_head_dim) {
    TS_RETURN_IF_ERROR(u32(keys::kKeyLength, c.head_dim));
    TS_RETURN_IF_ERROR(u32(keys::kValueLength, c.head_dim));
  }
  TS_RETURN_IF_ERROR(
      w->AddKeyValue(keys::ArchKey(arch, keys::kLayerNormRmsEpsilon), Value::F32(c.rms_eps)));
  TS_RETURN_IF_ERROR(
      w->AddKeyValue(keys::ArchKey(arch, keys::kRopeFreqBase), Value::F32(c.rope_freq_base)));
  TS_RETURN_IF_ERROR(u32(keys::kRopeDimensionCount, c.n_rot));
  if (config.rope_scaling_factor != 0.0) {
    TS_RETURN_IF_ERROR(w->AddKeyValue(keys::ArchKey(arch, keys::kRopeScalingType),
                                      Value::String("linear")));
    TS_RETURN_IF_ERROR(w->AddKeyValue(keys::ArchKey(arch, keys::kRopeScalingFactor),
                                      Value::F32(static_cast<float>(config.rope_scaling_factor))));
  }
  if (config.arch->sliding_window) {
    if (c.n_swa > 0) TS_RETURN_IF_ERROR(u32(keys::kSlidingWindow, c.n_swa));
    TS_RETURN_IF_ERROR(u32(keys::kSlidingWindowPattern, c.swa_period));
    TS_RETURN_IF_ERROR(w->AddKeyValue(keys::ArchKey(arch, keys::kRopeFreqBaseSwa),
                                      Value::F32(c.rope_freq_base_swa)));
    if (c.final_logit_softcap > 0.0f) {
      TS_RETURN_IF_ERROR(w->AddKeyValue(keys::ArchKey(arch, keys::kFinalLogitSoftcapping),
                                        Value::F32(c.final_logit_softcap)));
    }
  }
  TS_RETURN_IF_ERROR(u32(keys::kVocabSize, c.n_vocab));
  return Status::Ok();
}

}  // namespace

std::string DirectoryName(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  const std::size_t slash = d.rfind('/');
  return slash == std::string::npos ? d : d.substr(slash + 1);
}

Result<ConvertReport> ConvertCheckpoint(const ConvertOptions& opt) {
  TS_ASSIGN_OR_RETURN(TypeTarget target, ParseTypeTarget("convert", opt.type));
  if (opt.out_path.empty()) return InvalidArgument("convert: no output path (-o)");
  TS_ASSIGN_OR_RETURN(HfConfig config, ReadHfConfig(opt.dir));
  TS_ASSIGN_OR_RETURN(Checkpoint ckpt, Checkpoint::Open(opt.dir, "model"));
  TS_ASSIGN_OR_RETURN(GgufVocab vocab, ConvertTokenizer(opt.dir, config));

  // Every expected tensor present with its shape; nothing else.
  const std::vector<TensorSpec> specs = ExpectedTensors(config);
  std::set<std::string> used;
  std::vector<std::pair<const TensorSpec*, const StTensor*>> plan_tensors;
  TypePlan plan;
  plan.target = target;
  for (const TensorSpec& spec : specs) {
    const StTensor* t = ckpt.Find(spec.hf_name);
    if (t == nullptr) {
      if (spec.skip) continue;
      return Status(StatusCode::kMissingTensor, "convert: tensor \"" + spec.hf_name + "\" (" +
                                                    spec.gguf_name +
                                                    ") is absent from the "
                                                    "checkpoint");
    }
    used.insert(spec.hf_name);
    if (t->shape != spec.shape) {
      return Status(StatusCode::kShapeMismatch, "convert: tensor \"" + spec.hf_name +
                                                    "\" has shape " + ShapeString(t->shape) +
                                                    ", expected " + ShapeString(spec.shape));
    }
    if (spec.skip) continue;  // lm_head of a tied model: the engine ties output to token_embd
    plan_tensors.emplace_back(&spec, t);
    plan.Observe(spec.gguf_name);
  }
  for (const auto& [name, t] : ckpt.tensors()) {
    if (used.count(name) != 0 || IsIgnoredHfTensor(name)) continue;
    return Unsupported("convert: unexpected tensor \"" + name + "\" " + ShapeString(t->shape) +
                       ": the " + std::string(config.arch->name) +
                       " architecture has no such tensor");
  }

  ConvertReport report;
  report.architecture = std::string(config.arch->name);
  report.n_vocab = config.llama.n_vocab;
  std::deque<ConvertedTensor> converted;  // stable addresses: the writer borrows the bytes
  gguf::Writer w;
  const std::string name = opt.name.empty() ? DirectoryName(opt.dir) : opt.name;
  TS_RETURN_IF_ERROR(AddModelKeys(config, target, name, &w));
  TS_RETURN_IF_ERROR(AddVocabToWriter(vocab, &w));
  for (const auto& [spec, t] : plan_tensors) {
    tensor::DType type = tensor::DType::kF32;
    if (IsPlannedMatrix(spec->gguf_name, t->shape.size())) {
      const TypeChoice choice = ChooseTensorType(plan, spec->gguf_name, t->row_length());
      type = choice.type;
      if (choice.fallback != TypeFallback::kNone) {
        report.notes.push_back(spec->gguf_name + ": row width " + std::to_string(t->row_length()) +
                               " is not a multiple of the " +
                               std::string(tensor::TypeName(choice.wanted)) + " block size " +
                               std::to_string(tensor::BlockSize(choice.wanted)) + "; using " +
                               std::string(tensor::TypeName(type)));
      }
    }
    converted.emplace_back();
    TS_RETURN_IF_ERROR(ConvertTensor(*t, type, static_cast<std::uint32_t>(spec->permute_heads),
                                     &converted.back(), spec->add));
    std::vector<std::uint64_t> dims(t->shape.rbegin(), t->shape.rend());  // GGUF: innermost first
    TS_RETURN_IF_ERROR(w.AddTensor(spec->gguf_name, dims, type, converted.back().bytes));
    report.bytes_in += t->data.size();
    report.bytes_out += converted.back().bytes.size();
    ++report.n_tensors;
  }
  TS_RETURN_IF_ERROR(w.WriteFile(opt.out_path));
  return report;
}

}  // namespace tessera::convert
