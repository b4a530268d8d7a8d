// LoraSet: the LoRA terms one session applies in Forward(), from any number of adapters, each
// with its own user scale, over one base LlamaModel.
//
// For each adapted matrix W (a layer's projection, or the output matrix) the set holds the terms
// of every adapter that modifies it, in the order the adapters were given; Forward() computes
//   y = W x;  for each term: y += scale * B (A x)
// (after the matrix product, before a Q/K/V bias). A term's scale is LoraAdapter::Scale(pair,
// user_scale); adapters with user scale 0 contribute no terms at all, so they leave the forward
// pass bit-identical to the base.
//
// Ownership: borrows the adapters' bytes (their LoraAdapter, and so their gguf::File, must
// outlive the set and every Forward() that uses it). Move-only; changed only by Build() and
// Assign(); shareable read-only across threads between those.
#ifndef TESSERA_MODEL_LORA_SET_H_
#define TESSERA_MODEL_LORA_SET_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/kernels.h"
#include "model/llama.h"
#include "model/lora_adapter.h"
#include "tessera/status.h"

namespace tessera::model {

// y += scale * B (A x) for every row x.
struct LoraTerm {
  kernels::WeightMatrix a;  // r rows of n_in
  kernels::WeightMatrix b;  // n_out rows of r
  float scale = 0.0f;
};

// One adapter and the user's scale for it.
struct LoraUse {
  const LoraAdapter* adapter = nullptr;
  float scale = 1.0f;
};

class LoraSet {
 public:
  LoraSet() = default;  // empty: no terms anywhere
  LoraSet(LoraSet&&) noexcept = default;
  LoraSet& operator=(LoraSet&&) noexcept = default;
  LoraSet(const LoraSet&) = delete;
  LoraSet& operator=(const LoraSet&) = delete;

  // Builds the terms of `uses` over `base`. Errors: kInvalidArgument (a null adapter, a
  // non-finite scale, or an adapter whose pairs do not fit `base`: layer outside the model,
  // n_in/n_out unlike the base matrix, or an output pair on a tied output).
  static Result<LoraSet> Build(const LlamaModel& base, std::span<const LoraUse> uses);
  // The same into this set, reusing its storage: replaces its terms with those of `uses` over
  // `base`. Every use is checked before anything changes, so on error (Build's) the set is
  // unchanged. Allocates only when the new set has more terms, or `base` more layers, than this
  // set's storage has held before.
  Status Assign(const LlamaModel& base, std::span<const LoraUse> uses);

  bool empty() const { return terms_.empty(); }
  std::int32_t n_layer() const { return n_layer_; }  // of the base model it was built over
  // The terms of layer `layer`'s matrix `target` (layer ignored for kOutput); empty when none.
  std::span<const LoraTerm> Terms(std::int32_t layer, LoraTarget target) const;

  // Scratch sizes for ForwardScratch: the largest r, the largest n_out of an adapted matrix,
  // and the kernel scratch bytes for both products of every term over max_batch rows.
  std::int64_t max_rank() const { return max_rank_; }
  std::int64_t max_out() const { return max_out_; }
  std::size_t KernelScratchBytes(std::int32_t max_batch) const;

 private:
  std::size_t Slot(std::int32_t layer, LoraTarget target) const;

  std::int32_t n_layer_ = 0;
  std::vector<LoraTerm> terms_;  // grouped by slot, in slot order
  // Terms of slot i are terms_[slot_begin_[i], slot_begin_[i + 1]); slots are
  // layer * kLoraLayerTargets + target, then the output. Empty when the set is empty.
  std::vector<std::uint32_t> slot_begin_;
  std::int64_t max_rank_ = 0;
  std::int64_t max_out_ = 0;
};

}  // namespace tessera::model

#endif  // TESSERA_MODEL_LORA_SET_H_
