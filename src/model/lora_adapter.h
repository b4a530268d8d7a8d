// LoraAdapter: a LoRA adapter GGUF (llama.cpp's convention) bound in place against a base
// LlamaModel, after checking that every tensor fits the base.
//
// File layout (as llama.cpp's convert_lora_to_gguf.py writes and llama-adapter.cpp reads):
//   general.type          string  "adapter"
//   adapter.type          string  "lora"
//   adapter.lora.alpha    f32     optional; 0 or absent: the scale is the user's scale alone
//   general.architecture  string  the base model's architecture
//   adapter.base.sha256   string  optional, Tessera's extension: SHA-256 (64 lowercase hex) of the
//                                 base GGUF file the adapter was trained on (checked by the
//                                 engine, which knows the base file's hash)
//   for each adapted base matrix W named N (GGUF dims [n_in, n_out]: n_out rows of n_in):
//     N.lora_a  dims [n_in, r]   r rows of n_in elements   (F32 or F16)
//     N.lora_b  dims [r, n_out]  n_out rows of r elements  (F32 or F16)
// Adaptable matrices N: blk.<i>.attn_q/attn_k/attn_v/attn_output/ffn_gate/ffn_up/ffn_down.weight
// and output.weight when the base has its own (untied) output matrix.
// Effect on y = W x:  y += s * B (A x), with s = user_scale * alpha / r (per pair: r is that
// pair's rank), or s = user_scale when alpha is 0, exactly as llama.cpp.
//
// Ownership: the adapter keeps its gguf::File alive (shared_ptr); its matrices borrow the file's
// bytes. It does not reference the base model after Bind(): it records each base matrix's shape
// and position (layer, target), which LoraSet checks again against the model it is used with.
// Thread safety: immutable after Bind(); shareable by any number of sessions and threads.
#ifndef TESSERA_MODEL_LORA_ADAPTER_H_
#define TESSERA_MODEL_LORA_ADAPTER_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "gguf/reader.h"
#include "model/llama.h"
#include "tessera/status.h"

namespace tessera::model {

// Tessera's key naming the base file's SHA-256 (not a llama.cpp key).
inline constexpr std::string_view kAdapterBaseSha256Key = "adapter.base.sha256";

// The base matrices an adapter may modify: the seven per-layer projections, then the output.
enum class LoraTarget : std::uint8_t {
  kAttnQ,
  kAttnK,
  kAttnV,
  kAttnOutput,
  kFfnGate,
  kFfnUp,
  kFfnDown,
  kOutput,  // output.weight (layer -1)
};
inline constexpr int kLoraLayerTargets = 7;  // kAttnQ .. kFfnDown

// One adapted base matrix: W' x = W x + s * B (A x).
struct LoraPair {
  std::int32_t layer = -1;  // -1 for kOutput
  LoraTarget target = LoraTarget::kAttnQ;
  std::int64_t n_in = 0;   // base matrix columns (A's row length)
  std::int64_t n_out = 0;  // base matrix rows (B's row count)
  std::int64_t rank = 0;   // r: A's row count, B's row length
  BoundMatrix a;           // r rows of n_in
  BoundMatrix b;           // n_out rows of r
};

class LoraAdapter {
 public:
  // Checks the file against `base` and binds its tensors. Errors, each naming the key or tensor:
  //   kInvalidArgument  general.type absent or not "adapter" (not an adapter file)
  //   kUnsupported      adapter.type not "lora"; a tensor type other than F32/F16; a target that
  //                     is a base tensor but not an adaptable matrix (norms, token_embd)
  //   kNotFound         adapter.type or general.architecture absent; a target the base lacks
  //   kTypeMismatch     a key of the wrong type
  //   kIncompatible     general.architecture differs from the base's
  //   kMalformed        non-finite alpha; a tensor name without .lora_a/.lora_b; no tensors
  //   kMissingTensor    a lora_a without its lora_b or the reverse
  //   kShapeMismatch    a tensor that is not 2-D, n_in or n_out unlike the base matrix, or
  //                     A's r unlike B's r
  static Result<std::unique_ptr<LoraAdapter>> Bind(std::shared_ptr<const gguf::File> file,
                                                   const LlamaModel& base);

  LoraAdapter(const LoraAdapter&) = delete;
  LoraAdapter& operator=(const LoraAdapter&) = delete;

  const gguf::File& file() const { return *file_; }
  float alpha() const { return alpha_; }  // 0 when absent
  // Pairs ordered by layer, then target (kOutput last).
  const std::vector<LoraPair>& pairs() const { return pairs_; }
  std::int64_t max_rank() const { return max_rank_; }
  std::int64_t n_params() const { return n_params_; }  // elements of every A and B

  // The scale of `pair` for a user scale: user_scale * alpha / r, or user_scale if alpha is 0.
  float Scale(const LoraPair& pair, float user_scale) const;

 private:
  LoraAdapter() = default;
  friend class LoraBinder;

  std::shared_ptr<const gguf::File> file_;
  float alpha_ = 0.0f;
  std::vector<LoraPair> pairs_;
  std::int64_t max_rank_ = 0;
  std::int64_t n_params_ = 0;
};

}  // namespace tessera::model

#endif  // TESSERA_MODEL_LORA_ADAPTER_H_
