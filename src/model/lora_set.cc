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
  TS_RETURN_IF_ERROR(set.Assign(base, uses));
  return set;
}

Status LoraSet::Assign(const LlamaModel& base, std::span<const LoraUse> uses) {
  // Pass 1 checks every use and pair and changes nothing, so an error leaves the set as it was.
  std::size_t n_terms = 0;
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
      ++n_terms;
    }
  }

  // Pass 2: a counting sort of the terms by slot, stable in the order of uses and pairs, into
  // the existing storage. slot_begin_[s + 1] first counts slot s's terms; after the prefix sum,
  // slot_begin_[s] is the next free index of slot s while placing, which leaves it at the end
  // of slot s, so one shift right restores the begins.
  n_layer_ = base.config().n_layer;
  max_rank_ = 0;
  max_out_ = 0;
  terms_.clear();
  slot_begin_.clear();
  if (n_terms == 0) return Status::Ok();
  const std::size_t n_slots = static_cast<std::size_t>(n_layer_) * kLoraLayerTargets + 1;
  slot_begin_.assign(n_slots + 1, 0);
  terms_.resize(n_terms);
  for (const LoraUse& use : uses) {
    if (use.scale == 0.0f) continue;
    for (const LoraPair& p : use.adapter->pairs()) ++slot_begin_[Slot(p.layer, p.target) + 1];
  }
  for (std::size_t i = 0; i < n_slots; ++i) slot_begin_[i + 1] += slot_begin_[i];
  for (const LoraUse& use : uses) {
    if (use.scale == 0.0f) continue;
    for (const LoraPair& p : use.adapter->pairs()) {
      LoraTerm& t = terms_[slot_begin_[Slot(p.layer, p.target)]++];
      t.a = ToKernel(p.a);
      t.b = ToKernel(p.b);
      t.scale = use.adapter->Scale(p, use.scale);
      max_rank_ = std::max(max_rank_, p.rank);
      max_out_ = std::max(max_out_, p.n_out);
    }
  }
  for (std::size_t i = n_slots; i > 0; --i) slot_begin_[i] = slot_begin_[i - 1];
  slot_begin_[0] = 0;
  return Status::Ok();
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
