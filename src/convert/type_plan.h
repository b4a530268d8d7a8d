// TypePlan: which element type each tensor of a llama-family GGUF gets when a file is written
// with a target type (`tessera quantize IN OUT TYPE`, `tessera convert DIR --type TYPE`).
//
// Targets (TYPE), with the general.file_type llama.cpp writes for each (LLAMA_FTYPE_*):
//   f32 0, f16 1, bf16 32, q8_0 7, q4_0 2, q4_1 3, q5_0 8, q5_1 9, q2_k 10, q3_k 11 (Q3_K_S),
//   q4_k 14, q5_k 16, q6_k 18, iq4_nl 25, iq4_xs 30 (one type for every matrix), q4_k_m 15,
//   q5_k_m 17 (llama.cpp-style mixes).
//
// Which tensors: matrices, i.e. tensors whose name ends in "weight" and that have at least 2
// dimensions (as llama.cpp). Everything else (norm gains, biases, any 1-D tensor) keeps its type
// (the converter writes them as F32).
//
// The mixes, a documented simplification of llama.cpp's llama_tensor_get_type():
//   base type Q4_K (q4_k_m) or Q5_K (q5_k_m) for every matrix, except
//   * output.weight, or token_embd.weight when there is no output.weight (tied): Q6_K;
//   * attn_v.weight and ffn_down.weight of layer i of n: Q6_K when llama.cpp's use_more_bits
//     holds: i < n / 8, or i >= 7 n / 8, or (i - n / 8) % 3 == 2.
//   Not reproduced: llama.cpp's architecture-specific rules (falcon, MoE experts, fused qkv,
//   GQA-dependent bumps for the 2/3-bit types, importance matrices).
// Overrides (quantize's --output-type / --embd-type) replace the type of output.weight /
// token_embd.weight.
//
// Rows that do not fit: a matrix whose row width is not a multiple of the chosen type's block
// size (32, or 256 for K-quants) is stored as F16 instead. In the mixes only, a K-quant first
// falls back as llama.cpp's recipe does, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, when the
// width is a multiple of 32. ChooseTensorType reports which fallback was taken so that the
// caller can say so.
//
// Thread safety: plain data and pure functions.
#ifndef TESSERA_CONVERT_TYPE_PLAN_H_
#define TESSERA_CONVERT_TYPE_PLAN_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "tensor/types.h"
#include "tessera/status.h"

namespace tessera::convert {

// A TYPE argument: the base type of the matrices, whether it is a k-quant mix, and the
// general.file_type llama.cpp writes for it.
struct TypeTarget {
  std::string_view name;
  tensor::DType base = tensor::DType::kF16;
  bool mix = false;
  std::uint32_t file_type = 1;
};

// "f32, f16, bf16, ..." for messages and help texts.
std::string ValidTypeTargets();
// The target named `name` (case-insensitive). kInvalidArgument "<context>: unknown type ...
// valid: ..." otherwise.
Result<TypeTarget> ParseTypeTarget(std::string_view context, std::string_view name);
// A single type (not a mix), for overrides; `flag` names the option in the message.
Result<tensor::DType> ParseSingleType(std::string_view context, std::string_view flag,
                                      std::string_view name);

// The layer index of "blk.<i>.<rest>", or -1.
int LayerOfTensor(std::string_view name);
// A tensor the plan converts: name ends in "weight" and it has >= 2 dims.
bool IsPlannedMatrix(std::string_view name, std::size_t n_dims);
// True for the quantized (blocked) types, false for F32/F16/BF16.
bool IsQuantizedType(tensor::DType type);

struct TypePlan {
  TypeTarget target;
  bool override_output = false;
  tensor::DType output_type = tensor::DType::kF32;
  bool override_embd = false;
  tensor::DType embd_type = tensor::DType::kF32;
  // Facts about the file, needed by the mixes.
  bool has_output = false;  // output.weight exists (untied)
  int n_attn_v = 0;         // tensors named blk.*.attn_v.weight
  int n_ffn_down = 0;       // tensors named blk.*.ffn_down.weight

  // Counts `name` into has_output / n_attn_v / n_ffn_down.
  void Observe(std::string_view name);
};

enum class TypeFallback : std::uint8_t {
  kNone,  // the recipe's type fits
  kMix,   // a K-quant replaced by the mix's 32-wide type
  kF16,   // no blocked type fits: F16
};

struct TypeChoice {
  tensor::DType type = tensor::DType::kF16;
  tensor::DType wanted = tensor::DType::kF16;  // the recipe's type before any fallback
  TypeFallback fallback = TypeFallback::kNone;
};

// The type of matrix `name` with rows of `row_length` elements.
TypeChoice ChooseTensorType(const TypePlan& plan, std::string_view name, std::uint64_t row_length);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_TYPE_PLAN_H_
