// LoraSet: the per-session LoRA terms of a set of adapters over one base model.
#include "model/lora_set.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

namespace tessera::model {
namespace {

// The base matrix a pair modifies, or nullptr when it is not in `base`.
const BoundMatrix* BaseMatrix(const LlamaModel& base, const LoraPair& p) {
  if (p.target == LoraTarget::kOutput) return base.tied_output() ? nullptr : &base.output();
  if (p.layer < 0 || static_cast<std::size_t>(p.layer) >= base.layers().size()) return nullptr;
  const LlamaLayer& l = base.layers()[static_cast<std::size_t>(p.layer)];
  switch (p.target) {
    case LoraTarget::kAttnQ:
      return &l.wq;
    case LoraTarget::kAttnK:
      return &l.wk;
    case LoraTarget::kAttnV:
      return &l.wv;
    case LoraTarget::kAttnOutput:
      return &l.wo;
    case LoraTarget::kFfnGate:
      return &l.w_gate;
    case LoraTarget::kFfnUp:
      return &l.w_up;
    case LoraTarget::kFfnDown:
      return &l.w_down;
    case LoraTarget::kOutput:
      break;
  }
  return nullptr;
}

}  // namespace

std::size_t LoraSet::Slot(std::int32_t layer, LoraTarget target) const {
  if (target == LoraTarget::kOutput) {
    return static_cast<std::size_t>(n_layer_) * kLoraLayerTargets;
  }
  return static_cast<std::size_t>(layer) * kLoraLayerTargets + static_cast<std::size_t>(target);
}

Result<LoraSet> LoraSet::Build(const LlamaModel& base, std::span<const LoraUse> uses) {
  LoraSet set;
  set.n_layer_ = base.config().n_layer;
  std::vector<std::pair<std::size_t, LoraTerm>> slotted;  // (slot, term)
  for (std::size_t u = 0; u < uses.size(); ++u) {
    const LoraUse& use = uses[u];
    if (use.adapter == nullptr) {
      return InvalidArgument("model: lora: adapter " + std::to_string(u) + " is null");
    }
    if (!std::isfinite(use.scale)) {
      return InvalidArgument("model: lora: adapter " + std::to_string(u) + " has scale " +
                             std::to_string(use.scale) + ", expected a finite number");
    }
    if (use.scale == 0.0f) continue;  // no effect: keep the base pass bit-identical
    for (const LoraPair& p : use.adapter->pairs()) {
      const BoundMatrix* w = BaseMatrix(base, p);
      if (w == nullptr || w->n_cols != p.n_in || w->n_rows != p.n_out) {
        return InvalidArgument("model: lora: adapter tensor \"" + p.a.name +
                               "\" does not fit this base model");
      }
      LoraTerm t;
      t.a = ToKernel(p.a);
      t.b = ToKernel(p.b);
      t.scale = use.adapter->Scale(p, use.scale);
      slotted.emplace_back(set.Slot(p.layer, p.target), t);
      set.max_rank_ = std::max(set.max_rank_, p.rank);
      set.max_out_ = std::max(set.max_out_, p.n_out);
    }
  }
  if (slotted.empty()) return set;
  std::stable_sort(slotted.begin(), slotted.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  const std::size_t n_slots = static_cast<std::size_t>(set.n_layer_) * kLoraLayerTargets + 1;
  set.slot_begin_.assign(n_slots + 1, 0);
  set.terms_.reserve(slotted.size());
  for (const auto& [slot, term] : slotted) {
    set.terms_.push_back(term);
    ++set.slot_begin_[slot + 1];
  }
  for (std::size_t i = 0; i < n_slots; ++i) set.slot_begin_[i + 1] += set.slot_begin_[i];
  return set;
}

std::span<const LoraTerm> LoraSet::Terms(std::int32_t layer, LoraTarget target) const {
  if (terms_.empty()) return {};
  const std::size_t slot = Slot(layer, target);
  return std::span<const LoraTerm>(terms_).subspan(slot_begin_[slot],
                                                   slot_begin_[slot + 1] - slot_begin_[slot]);
}

std::size_t LoraSet::KernelScratchBytes(std::int32_t max_batch) const {
  std::size_t bytes = 0;
  for (const LoraTerm& t : terms_) {
    bytes = std::max(bytes, kernels::MatMulScratchBytes(t.a.type, t.a.n_cols, max_batch));
    bytes = std::max(bytes, kernels::MatMulScratchBytes(t.b.type, t.b.n_cols, max_batch));
  }
  return bytes;
}

}  // namespace tessera::model
