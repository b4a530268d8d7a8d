// LoraAdapter: checking a LoRA adapter GGUF against its base and binding its tensors in place.
#include "model/lora_adapter.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "gguf/keys.h"
#include "kernels/kernels.h"

namespace tessera::model {
namespace {

constexpr std::string_view kSuffixA = ".lora_a";
constexpr std::string_view kSuffixB = ".lora_b";

std::string Quoted(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q.push_back('"');
  q.append(s);
  q.push_back('"');
  return q;
}

// An adaptable base matrix.
struct BaseTarget {
  std::int32_t layer = -1;
  LoraTarget target = LoraTarget::kOutput;
  const BoundMatrix* matrix = nullptr;
};

// Every adaptable matrix of `base`, by GGUF tensor name.
std::map<std::string, BaseTarget, std::less<>> AdaptableMatrices(const LlamaModel& base) {
  std::map<std::string, BaseTarget, std::less<>> out;
  for (std::size_t i = 0; i < base.layers().size(); ++i) {
    const LlamaLayer& l = base.layers()[i];
    const BoundMatrix* per_target[kLoraLayerTargets] = {&l.wq,     &l.wk,   &l.wv,    &l.wo,
                                                        &l.w_gate, &l.w_up, &l.w_down};
    for (int t = 0; t < kLoraLayerTargets; ++t) {
      out[per_target[t]->name] =
          BaseTarget{static_cast<std::int32_t>(i), static_cast<LoraTarget>(t), per_target[t]};
    }
  }
  if (!base.tied_output()) {
    out[base.output().name] = BaseTarget{-1, LoraTarget::kOutput, &base.output()};
  }
  return out;
}

}  // namespace

// Fills a LoraAdapter under construction; a friend so the adapter stays immutable.
class LoraBinder {
 public:
  LoraBinder(LoraAdapter& a, const LlamaModel& base) : a_(a), base_(base) {}

  Status BindAll() {
    TS_RETURN_IF_ERROR(CheckKind());
    TS_RETURN_IF_ERROR(ReadAlpha());
    // Group the tensors by base name: name -> {A, B}.
    std::map<std::string, std::pair<const gguf::TensorInfo*, const gguf::TensorInfo*>> groups;
    for (const gguf::TensorInfo& t : a_.file_->tensors()) {
      const std::string_view name = t.name;
      if (name.ends_with(kSuffixA)) {
        groups[std::string(name.substr(0, name.size() - kSuffixA.size()))].first = &t;
      } else if (name.ends_with(kSuffixB)) {
        groups[std::string(name.substr(0, name.size() - kSuffixB.size()))].second = &t;
      } else {
        return Malformed("model: lora: tensor " + Quoted(name) +
                         " is neither <base tensor>.lora_a nor <base tensor>.lora_b");
      }
    }
    if (groups.empty()) return Malformed("model: lora: the adapter has no lora_a/lora_b tensors");
    const auto targets = AdaptableMatrices(base_);
    for (const auto& [base_name, ab] : groups) {
      TS_RETURN_IF_ERROR(BindPair(targets, base_name, ab.first, ab.second));
    }
    std::sort(a_.pairs_.begin(), a_.pairs_.end(), [](const LoraPair& x, const LoraPair& y) {
      // Output (layer -1) last.
      const auto key = [](const LoraPair& p) {
        return std::pair(p.layer < 0 ? INT32_MAX : p.layer, static_cast<int>(p.target));
      };
      return key(x) < key(y);
    });
    return Status::Ok();
  }

 private:
  Status CheckKind() {
    const gguf::File& f = *a_.file_;
    if (f.Find(gguf::keys::kGeneralType) == nullptr) {
      return InvalidArgument("model: lora: not an adapter file: general.type is absent");
    }
    TS_ASSIGN_OR_RETURN(std::string_view type, f.GetString(gguf::keys::kGeneralType));
    if (type != "adapter") {
      return InvalidArgument("model: lora: not an adapter file: general.type is " + Quoted(type) +
                             ", expected \"adapter\"");
    }
    TS_ASSIGN_OR_RETURN(std::string_view adapter_type, f.GetString(gguf::keys::kAdapterType));
    if (adapter_type != "lora") {
      return Unsupported("model: lora: adapter.type is " + Quoted(adapter_type) +
                         ", only \"lora\" is supported");
    }
    TS_ASSIGN_OR_RETURN(std::string_view arch, f.GetString(gguf::keys::kGeneralArchitecture));
    const std::string& base_arch = base_.config().architecture;
    if (arch != base_arch) {
      return Status(StatusCode::kIncompatible, "model: lora: general.architecture is " +
                                                   Quoted(arch) + " but the base model is " +
                                                   Quoted(base_arch));
    }
    return Status::Ok();
  }

  Status ReadAlpha() {
    if (a_.file_->Find(gguf::keys::kAdapterLoraAlpha) == nullptr) return Status::Ok();
    TS_ASSIGN_OR_RETURN(a_.alpha_, a_.file_->GetF32(gguf::keys::kAdapterLoraAlpha));
    if (!std::isfinite(a_.alpha_)) {
      return Malformed("model: lora: adapter.lora.alpha is " + std::to_string(a_.alpha_) +
                       ", expected a finite number");
    }
    return Status::Ok();
  }

  // Checks the type and 2-D shape of one of A/B and binds it (rows = dims[1], cols = dims[0]).
  Result<BoundMatrix> BindMatrix(const gguf::TensorInfo& t) {
    if (t.type != tensor::DType::kF32 && t.type != tensor::DType::kF16) {
      return Unsupported("model: lora: tensor " + Quoted(t.name) + " has type " +
                         std::string(tensor::TypeName(t.type)) + ", expected f32 or f16");
    }
    if (t.dims.size() != 2) {
      return Status(StatusCode::kShapeMismatch, "model: lora: tensor " + Quoted(t.name) +
                                                    " has shape " + ShapeString(t.dims) +
                                                    ", expected 2 dimensions");
    }
    const auto n_cols = static_cast<std::int64_t>(t.dims[0]);
    const auto n_rows = static_cast<std::int64_t>(t.dims[1]);
    Result<kernels::WeightMatrix> w = kernels::MakeWeightMatrix(t.type, t.data, n_rows, n_cols);
    if (!w.ok()) return w.status().WithContext("model: lora: tensor " + Quoted(t.name));
    BoundMatrix b;
    b.name = t.name;
    b.type = t.type;
    b.data = t.data;
    b.n_rows = n_rows;
    b.n_cols = n_cols;
    b.row_bytes = w->row_bytes;
    return b;
  }

  Status BindPair(const std::map<std::string, BaseTarget, std::less<>>& targets,
                  const std::string& base_name, const gguf::TensorInfo* ta,
                  const gguf::TensorInfo* tb) {
    if (ta == nullptr || tb == nullptr) {
      const std::string have = base_name + std::string(ta == nullptr ? kSuffixB : kSuffixA);
      const std::string lack = base_name + std::string(ta == nullptr ? kSuffixA : kSuffixB);
      return Status(StatusCode::kMissingTensor,
                    "model: lora: tensor " + Quoted(have) + " has no partner " + Quoted(lack));
    }
    const auto it = targets.find(base_name);
    if (it == targets.end()) {
      if (base_.file().FindTensor(base_name) != nullptr) {
        return Unsupported("model: lora: tensor " + Quoted(ta->name) + " targets " +
                           Quoted(base_name) + ", which is not an adaptable projection matrix");
      }
      return NotFound("model: lora: tensor " + Quoted(ta->name) + " targets " + Quoted(base_name) +
                      ", which the base model does not have");
    }
    const BoundMatrix& w = *it->second.matrix;
    TS_ASSIGN_OR_RETURN(BoundMatrix a, BindMatrix(*ta));
    TS_ASSIGN_OR_RETURN(BoundMatrix b, BindMatrix(*tb));
    const auto mismatch = [](const std::string& what) {
      return Status(StatusCode::kShapeMismatch, "model: lora: " + what);
    };
    if (a.n_cols != w.n_cols) {
      return mismatch("tensor " + Quoted(a.name) + " has shape " + ShapeString(ta->dims) + " but " +
                      Quoted(base_name) + " takes " + std::to_string(w.n_cols) +
                      " inputs (expected [" + std::to_string(w.n_cols) + ", r])");
    }
    if (b.n_rows != w.n_rows) {
      return mismatch("tensor " + Quoted(b.name) + " has shape " + ShapeString(tb->dims) + " but " +
                      Quoted(base_name) + " has " + std::to_string(w.n_rows) +
                      " outputs (expected [r, " + std::to_string(w.n_rows) + "])");
    }
    if (a.n_rows != b.n_cols) {
      return mismatch("rank of " + Quoted(a.name) + " (" + std::to_string(a.n_rows) +
                      ") differs from the rank of " + Quoted(b.name) + " (" +
                      std::to_string(b.n_cols) + ")");
    }
    LoraPair p;
    p.layer = it->second.layer;
    p.target = it->second.target;
    p.n_in = w.n_cols;
    p.n_out = w.n_rows;
    p.rank = a.n_rows;
    p.a = std::move(a);
    p.b = std::move(b);
    a_.max_rank_ = std::max(a_.max_rank_, p.rank);
    a_.n_params_ += p.rank * (p.n_in + p.n_out);
    a_.pairs_.push_back(std::move(p));
    return Status::Ok();
  }

  LoraAdapter& a_;
  const LlamaModel& base_;
};

Result<std::unique_ptr<LoraAdapter>> LoraAdapter::Bind(std::shared_ptr<const gguf::File> file,
                                                       const LlamaModel& base) {
  if (file == nullptr) {
    return InvalidArgument("model: lora: Bind() given a null file");
  }
  std::unique_ptr<LoraAdapter> adapter(new LoraAdapter());
  adapter->file_ = std::move(file);
  LoraBinder binder(*adapter, base);
  TS_RETURN_IF_ERROR(binder.BindAll());
  return adapter;
}

float LoraAdapter::Scale(const LoraPair& pair, float user_scale) const {
  if (alpha_ == 0.0f) return user_scale;
  return user_scale * alpha_ / static_cast<float>(pair.rank);
}

}  // namespace tessera::model
