// Element types of tensors, numbered exactly as ggml numbers them in GGUF files.
//
// A tensor row of `n` elements of type t occupies n / BlockSize(t) blocks of TypeSize(t) bytes
// (n must be a multiple of the block size). The table covers every type that llama.cpp writes, so
// that files with types we cannot compute on still parse and inspect; IsComputeSupported() says
// which ones the kernels implement.
//
// Thread safety: all functions are pure.
#ifndef TESSERA_TENSOR_TYPES_H_
#define TESSERA_TENSOR_TYPES_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "tessera/status.h"

namespace tessera::tensor {

enum class DType : std::uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
};

struct TypeTraits {
  DType type;
  std::string_view name;  // as llama.cpp prints it: "f32", "q4_0", "q6_K", ...
  std::uint32_t block_size;  // elements per block
  std::uint32_t type_size;   // bytes per block
};

// Traits of a raw type number read from a file; nullopt if the number names no known type.
std::optional<TypeTraits> TraitsOf(std::uint32_t raw_type);
// Traits of a known type (always succeeds).
const TypeTraits& Traits(DType type);

inline std::uint32_t BlockSize(DType t) { return Traits(t).block_size; }
inline std::uint32_t TypeSize(DType t) { return Traits(t).type_size; }
inline std::string_view TypeName(DType t) { return Traits(t).name; }

// Case-insensitive lookup by name ("q8_0", "Q8_0", "f16", "bf16").
std::optional<DType> TypeFromName(std::string_view name);

// Bytes of one row of `n_elements`; kInvalidArgument if n is not a multiple of the block size.
Result<std::uint64_t> RowBytes(DType type, std::uint64_t n_elements);

// True for the weight types the kernels can compute on (dequantize, dot with an activation):
// F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS.
// The activation-only types Q8_1 and Q8_K (quantize.h converts to and from them) are not weight
// types here.
bool IsComputeSupported(DType type);

}  // namespace tessera::tensor

#endif  // TESSERA_TENSOR_TYPES_H_
