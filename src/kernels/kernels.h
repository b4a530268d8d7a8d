// The math of the forward pass, as tables of plain functions that a SIMD variant can replace.
//
// Two tables:
//   TypeKernels  one per weight type (F32, F16, BF16, Q8_0, Q4_0): convert a float row into the
//                type, convert a row of the type back to float, and dot a weight row with an
//                activation row already converted into the type's "vec dot type".
//   FloatOps     the element-wise float operations (RMS norm, softmax, SiLU-gated product, add,
//                scale, axpy, RoPE).
// Reference*() returns the scalar reference, which always exists and is what tests compare
// against; Kernels()/Ops() return the active table, chosen once per process from the CPU's
// features (reference, AVX2 or AVX-512; see cpu_features.h and TESSERA_KERNELS there). The free
// functions below (MatMul, RmsNorm, Rope, ...) use the active tables. SIMD variants keep the
// reference's activation bytes and integer block sums but accumulate in float lanes (their
// files say exactly how); tests/kernels/simd_*_test.cc hold them to named error budgets.
//
// Numerics follow llama.cpp's CPU backend:
//   * A matrix-vector product converts the float activation ONCE into the weight type's vec dot
//     type (F32->F32, F16->F16, BF16->BF16, Q8_0->Q8_0, Q4_0->Q8_0), then dots every weight row
//     with it. Quantized dots multiply integers inside a block (exact int32 sum) and accumulate
//     the per-block results in float: sum += isum * d_w * d_x. Float-type dots accumulate
//     products in double, as ggml's scalar path does.
//   * RmsNorm sums squares in double, takes mean = float(sum / n), scale = 1 / sqrtf(mean + eps),
//     out[i] = (x[i] * scale) * weight[i].
//   * Softmax subtracts the max, exponentiates with expf, sums in double, multiplies by
//     float(1 / sum).
//   * RoPE computes theta_i = pos * freq_scale * freq_base^(-2i / n_rot) (by repeated float
//     multiplication, as ggml does) and rotates pairs by (cos theta_i, sin theta_i).
//
// Layout and shapes: "row" means n_cols contiguous elements (GGUF's innermost dimension ne[0]).
// A GGUF weight tensor with dims (ne0 = n_cols, ne1 = n_rows) is a WeightMatrix with n_rows rows;
// y = W x gives y[r] = dot(W row r, x). Activations are row-major [n_tokens, n_cols] float.
//
// Ownership: nothing here owns memory. WeightMatrix borrows bytes (typically the mapped GGUF);
// callers own every input, output and scratch buffer. No function allocates.
// Thread safety: all tables are immutable and all functions are pure over their arguments, so
// any number of threads may call them concurrently on disjoint outputs.
// Errors: the hot functions (MatMul, ops) take already-validated shapes and only TS_DCHECK them;
// MakeWeightMatrix() and GetRow() validate input that comes from files and return a Status.
#ifndef TESSERA_KERNELS_KERNELS_H_
#define TESSERA_KERNELS_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "tensor/types.h"
#include "tessera/status.h"

namespace tessera::base {
class ThreadPool;  // base/thread_pool.h
}  // namespace tessera::base

namespace tessera::kernels {

using tensor::DType;

// ----------------------------------------------------------------------------------------------
// Per-type table.

// One Q8_0 activation block as the packed kernels read it beside its bytes: the scale as a float
// and the sum of the 32 quants (for the offset of Q4_0's levels). MatMul computes them once per
// call.
struct Q8Summary {
  float d = 0.0f;
  std::int32_t sum = 0;
};

struct TypeKernels {
  DType type;           // the weight type this table is for
  DType vec_dot_type;   // the type the activation is converted into before vec_dot
  const char* variant;  // "reference", later "avx2", "avx512": for logs and benchmarks

  // Converts n floats into n elements of `type` at y (n / BlockSize(type) blocks).
  // Requires n % BlockSize(type) == 0. x and y must not overlap.
  void (*from_float)(const float* x, void* y, std::int64_t n);
  // Converts n elements of `type` at x into n floats. Requires n % BlockSize(type) == 0.
  void (*to_float)(const void* x, float* y, std::int64_t n);
  // Converts n floats of an activation into n elements of `vec_dot_type` (the from_float of
  // the vec dot type's table of the same variant). Requires n % BlockSize(type) == 0.
  void (*act_from_float)(const float* x, void* y, std::int64_t n);
  // Dot product of one weight row of n elements of `type` with an activation row of n elements
  // already converted by act_from_float. Requires n % BlockSize(type) == 0.
  float (*vec_dot)(std::int64_t n, const void* w_row, const void* x_converted);
  // Optional (nullptr = not provided; then call vec_dot per row): n_rows dot products of
  // consecutive weight rows with ONE converted activation,
  //   y[r] = vec_dot(n, w + r * row_bytes, x_converted) for r < n_rows,
  // bit-identical to those vec_dot calls, but the activation stays in registers across a few
  // rows and the call overhead is paid once. Rows may sit at any alignment. n_rows >= 0.
  void (*vec_dot_rows)(std::int64_t n, std::int64_t n_rows, const void* w, std::size_t row_bytes,
                       const void* x_converted, float* y);
  // Optional (nullptr = not provided; then call vec_dot_rows per activation row): a tile of
  // n_rows consecutive weight rows by n_tok converted activation rows (prefill),
  //   y[t * y_stride + r] = vec_dot(n, w + r * row_bytes, x + t * x_stride)
  // for r < n_rows and t < n_tok, bit-identical to those vec_dot calls, but each weight block is
  // loaded and unpacked once for a few tokens and kept in registers. n_rows, n_tok >= 0.
  void (*vec_dot_tile)(std::int64_t n, std::int64_t n_rows, const void* w, std::size_t row_bytes,
                       std::int64_t n_tok, const void* x, std::size_t x_stride, float* y,
                       std::size_t y_stride) = nullptr;
  // Optional (nullptr = the type has no packed layout in this variant): products over a packed
  // copy of the weights (PackWeights below): n_groups groups of kPackRows consecutive rows, the
  // first at `packed`, by n_tok converted activation rows (x_stride bytes apart) whose blocks
  // are summarised in `sums` (Q8Summary, n / 32 per token, sums_stride entries apart):
  //   y[t * y_stride + r] = the product of row r and activation t, r < n_groups * kPackRows.
  // Each (row, token) result is the same whatever n_groups and n_tok, so a batch gives the
  // logits of one token at a time; how it relates to vec_dot is the type's to document (Q4_0
  // and Q8_0: bit-identical to the reference vec_dot).
  void (*packed_tile)(std::int64_t n, std::int64_t n_groups, const void* packed,
                      std::int64_t n_tok, const void* x, std::size_t x_stride,
                      const Q8Summary* sums, std::size_t sums_stride, float* y,
                      std::size_t y_stride) = nullptr;
};


// The scalar reference table of `type`; nullptr if the type is not supported
// (tensor::IsComputeSupported(type) is false).
const TypeKernels* ReferenceKernels(DType type);
// The active table of `type`; nullptr if the type is not supported.
const TypeKernels* Kernels(DType type);

// Every table of `type` that runs on this CPU, best last: the reference first, then each SIMD
// variant the CPU supports (cpu_features.h), including sub-tables that use optional extensions
// (e.g. "avx512_vnni"). Empty if the type is not supported. For tests and benchmarks (allocates).
std::vector<const TypeKernels*> AllKernels(DType type);
// The table of `type` for variant v (for AVX-512: the one Kernels() would use with that
// variant); nullptr if the type is not supported or the CPU cannot run v.
const TypeKernels* VariantKernels(DType type, KernelVariant v);
// Name of the variant the active tables were chosen from ("reference", "avx2", "avx512"), and
// the note explaining a TESSERA_KERNELS override that could not be honoured ("" if none).
// The choice is made once per process (cpu_features.h documents TESSERA_KERNELS).
const char* ActiveVariant();
const std::string& ActiveVariantNote();

// Bytes of one activation row of n_cols floats converted into the vec dot type of
// `weight_type` (e.g. Q4_0 with 288 columns -> 9 Q8_0 blocks -> 306 bytes). 0 if the type is
// not supported or n_cols is not a multiple of its block size.
std::size_t ActivationBytes(DType weight_type, std::int64_t n_cols);

// ----------------------------------------------------------------------------------------------
// Matrix products.

// A borrowed weight matrix of n_rows rows of n_cols elements each, row r starting at
// data + r * row_bytes. GGUF order: ne[0] = n_cols (innermost), ne[1] = n_rows.
struct WeightMatrix {
  DType type = DType::kF32;
  const std::uint8_t* data = nullptr;
  std::int64_t n_rows = 0;
  std::int64_t n_cols = 0;
  std::size_t row_bytes = 0;  // == n_cols / BlockSize(type) * TypeSize(type)
  // Optional packed copy of rows [0, n_rows / kPackRows * kPackRows) made by PackWeights;
  // nullptr = none. MatMul reads it instead of `data` for those rows when the table has a
  // packed_tile, GetRow always; the remaining rows are read from `data`.
  const std::uint8_t* packed = nullptr;
};

// ---- Packed weights: a copy of a matrix made once at load in an order the SIMD kernels read
// faster than the file's (docs/adr/0023-packed-weights.md). Q4_0 and Q8_0 have one ("Q4_0x8",
// "Q8_0x8"): rows in groups of kPackRows; per group, its n_cols / 32 blocks one after another,
// each 16 bytes of scales (the f16 d of rows 0..7) then chunks of 32 bytes (Q4_0: 4, Q8_0: 8),
// chunk k holding bytes 4k..4k+3 of the quant bytes (Q4_0's 16 nibble bytes, Q8_0's 32 int8) of
// rows 0..7 in row order. A group's block has the bytes of the 8 file blocks it replaces (144,
// 272), so the copy is as large as those rows.
inline constexpr std::int64_t kPackRows = 8;
// Rows of a matrix of n_rows that a packed copy holds: the whole groups of kPackRows.
inline constexpr std::int64_t PackedRowCount(std::int64_t n_rows) {
  return n_rows / kPackRows * kPackRows;
}

// Bytes of w's packed copy: those of its first n_rows / kPackRows * kPackRows rows when w.type
// has a packed layout (Q4_0, Q8_0), else 0.
std::size_t PackedWeightBytes(const WeightMatrix& w);
// Whether MatMul with the active kernels reads a packed copy of `type` (Kernels(type) has a
// packed_tile): when false, packing only costs memory.
bool PackingHelps(DType type);
// Writes the packed copy of w into out (at least PackedWeightBytes(w) bytes, any alignment)
// and returns w with `packed` = out.data(); returns w unchanged when PackedWeightBytes(w) is 0.
WeightMatrix PackWeights(const WeightMatrix& w, std::span<std::uint8_t> out);

// Builds a packed WeightMatrix over `data` after validating it: the type is supported
// (kUnsupported otherwise), n_rows >= 1 and n_cols >= 1, n_cols is a multiple of the block size
// (kInvalidArgument naming both), and data holds at least n_rows * row_bytes bytes (kTruncated).
Result<WeightMatrix> MakeWeightMatrix(DType type, std::span<const std::uint8_t> data,
                                      std::int64_t n_rows, std::int64_t n_cols);

// Scratch bytes MatMul needs for n_tokens activation rows of n_cols against `weight_type`:
// n_tokens * ActivationBytes(weight_type, n_cols), rounded up to a multiple of 64, plus for
// types with a packed layout (Q4_0, Q8_0) 64 bytes and one Q8Summary per activation block.
std::size_t MatMulScratchBytes(DType weight_type, std::int64_t n_cols, std::int64_t n_tokens);

// y[t, r] = sum_c W[r, c] * x[t, c] for t < n_tokens, r < w.n_rows.
//   x: [n_tokens, w.n_cols] float, row-major.   y: [n_tokens, w.n_rows] float, row-major.
//   scratch: at least MatMulScratchBytes(w.type, w.n_cols, n_tokens) bytes (any alignment);
//            receives the converted activations.
//   pool:    splits the output rows across its threads in blocks of kMatMulRowBlock rows
//            (nullptr: the calling thread alone). The activation rows are converted once, before
//            the split. Each output element is one vec_dot of the same bytes whatever the
//            thread count, so results are bit-identical for any pool size. For n_tokens > 1 the
//            loop is row-block outer, token inner: a block of weight rows is read from memory
//            once per call and reused from cache for every token; tables with vec_dot_tile
//            compute each block in register tiles over chunks of tokens (bit-identical to
//            vec_dot, so a batch gives the same logits as one token at a time).
// Preconditions (TS_DCHECK only): w built by MakeWeightMatrix (or equivalent), n_tokens >= 1,
// x and y do not overlap each other, scratch or the weights; the pool is not in use (it runs
// one ParallelFor at a time, base/thread_pool.h).
inline constexpr std::int64_t kMatMulRowBlock = 16;
void MatMul(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y,
            std::span<std::uint8_t> scratch, base::ThreadPool* pool = nullptr);
// The same with an explicit table for w.type (e.g. *ReferenceKernels(w.type) in tests and
// benchmarks).
void MatMulWith(const TypeKernels& k, const WeightMatrix& w, const float* x, std::int64_t n_tokens,
                float* y, std::span<std::uint8_t> scratch, base::ThreadPool* pool = nullptr);

// out[0..n_cols) = row `row` of `w` converted to float (embedding lookup, any supported type),
// read from the packed copy when w has one and the row is in it (the same floats).
// kOutOfRange if row is not in [0, w.n_rows) (naming the row and the limit); kInvalidArgument
// if out.size() != w.n_cols; kUnsupported if w.type has no kernels.
Status GetRow(const WeightMatrix& w, std::int64_t row, std::span<float> out);

// ----------------------------------------------------------------------------------------------
// Float operations.

enum class RopeMode : std::uint8_t {
  kNormal,  // rotates adjacent pairs (x[2i], x[2i+1]); llama.cpp mode 0, used by `llama` GGUFs
  kNeox,    // rotates (x[i], x[i + n_rot/2]); llama.cpp mode 2 (NEOX), used by qwen2 and others
};

struct RopeParams {
  RopeMode mode = RopeMode::kNormal;
  std::int32_t head_dim = 0;   // elements per head
  std::int32_t n_rot = 0;      // rotated dims at the start of each head; even, <= head_dim
  float freq_base = 10000.0f;  // GGUF <arch>.rope.freq_base
  float freq_scale = 1.0f;     // 1 / linear scaling factor (GGUF rope.scaling.factor), 1 = none
};

// Causal attention of one head over the KV cache for n_q consecutive query rows: query row t
// sits at position pos0 + t and attends to cache positions p = 0 .. pos0 + t,
//   out[t] = sum_p softmax_p(scale * (q[t] . k[p])) v[p].
struct AttendArgs {
  const float* q = nullptr;  // row t at q + t * q_stride, head_dim floats
  std::size_t q_stride = 0;
  std::int64_t n_q = 0;      // query rows, >= 1
  std::int64_t pos0 = 0;     // position of query row 0, >= 0
  const float* k = nullptr;  // key row p at k + p * kv_stride, head_dim floats
  const float* v = nullptr;  // value row p at v + p * kv_stride
  std::size_t kv_stride = 0;
  std::int64_t head_dim = 0;  // >= 1
  float scale = 1.0f;         // usually 1 / sqrt(head_dim)
  float* scratch = nullptr;   // AttendScratchFloats(head_dim, pos0 + n_q) floats
  float* out = nullptr;       // row t at out + t * out_stride, head_dim floats (overwritten)
  std::size_t out_stride = 0;
};

// Query rows per tile of the batched (prefill) attention kernels.
inline constexpr std::int64_t kAttendTileQueries = 4;
// Floats of AttendArgs::scratch for n_keys = pos0 + n_q keys of head_dim: scores of a tile of
// queries and the keys transposed, rows padded to 16 floats.
inline constexpr std::size_t AttendScratchFloats(std::int64_t head_dim, std::int64_t n_keys) {
  return static_cast<std::size_t>((kAttendTileQueries + head_dim) * ((n_keys + 15) / 16 * 16 + 16));
}

struct FloatOps {
  const char* variant;  // "reference", ...
  // out[i] = (x[i] * s) * weight[i], s = 1 / sqrt(mean(x^2) + eps). weight may be nullptr
  // (then out[i] = x[i] * s). out may alias x.
  void (*rms_norm)(const float* x, const float* weight, std::int64_t n, float eps, float* out);
  // x[i] = exp(x[i] - max) / sum, in place. n >= 1.
  void (*softmax)(float* x, std::int64_t n);
  // out[i] = silu(gate[i]) * up[i], silu(v) = v / (1 + exp(-v)). out may alias gate or up.
  void (*silu_mul)(const float* gate, const float* up, float* out, std::int64_t n);
  // out[i] = gelu(gate[i]) * up[i] with GELU's tanh approximation, gelu(v) = 0.5 v (1 +
  // tanh(sqrt(2/pi) (v + 0.044715 v^3))) (gemma3). out may alias gate or up.
  void (*gelu_mul)(const float* gate, const float* up, float* out, std::int64_t n);
  // out[i] = a[i] + b[i]. out may alias a or b.
  void (*add)(const float* a, const float* b, float* out, std::int64_t n);
  // x[i] *= s.
  void (*scale)(float* x, float s, std::int64_t n);
  // y[i] += a * x[i] (attention: accumulate a weighted value row).
  void (*axpy)(float a, const float* x, float* y, std::int64_t n);
  // Rotates in place the first p.n_rot dims of each of n_heads heads of x
  // ([n_heads, head_dim] float) for position `pos`; dims n_rot..head_dim pass through.
  void (*rope)(float* x, std::int64_t n_heads, std::int64_t pos, const RopeParams& p);
  // AttendArgs above. The reference computes each score as the F32 reference dot (double sum)
  // times scale, then softmax and axpy of the value rows in position order.
  void (*attend)(const AttendArgs& a);
  // log(sum_i exp(x[i])) of n >= 1 logits, NaN counting as -inf: the maximum m (returned as
  // is when it is not finite), then m + log(sum exp(x[i] - m)) with the sum in double. The
  // reference exponentiates in double; SIMD variants in float (ExpAvx2), summed in double.
  double (*log_sum_exp)(const float* x, std::int64_t n);
};

const FloatOps& ReferenceOps();
const FloatOps& Ops();  // the active table, chosen with the TypeKernels (ActiveVariant())
// Every FloatOps table that runs on this CPU, the reference first (tests, benchmarks).
std::vector<const FloatOps*> AllOps();

// Shorthands for the active table.
inline void RmsNorm(const float* x, const float* weight, std::int64_t n, float eps, float* out) {
  Ops().rms_norm(x, weight, n, eps, out);
}
inline void Softmax(float* x, std::int64_t n) { Ops().softmax(x, n); }
inline void SiluMul(const float* gate, const float* up, float* out, std::int64_t n) {
  Ops().silu_mul(gate, up, out, n);
}
inline void GeluMul(const float* gate, const float* up, float* out, std::int64_t n) {
  Ops().gelu_mul(gate, up, out, n);
}
inline void Add(const float* a, const float* b, float* out, std::int64_t n) {
  Ops().add(a, b, out, n);
}
inline void Scale(float* x, float s, std::int64_t n) { Ops().scale(x, s, n); }
inline void Axpy(float a, const float* x, float* y, std::int64_t n) { Ops().axpy(a, x, y, n); }
inline void Rope(float* x, std::int64_t n_heads, std::int64_t pos, const RopeParams& p) {
  Ops().rope(x, n_heads, pos, p);
}
inline void Attend(const AttendArgs& a) { Ops().attend(a); }
inline double LogSumExp(const float* x, std::int64_t n) { return Ops().log_sum_exp(x, n); }

// Validates RoPE parameters read from a GGUF: head_dim >= 2, n_rot even with 2 <= n_rot <=
// head_dim, freq_base > 0 and finite, freq_scale > 0 and finite (kInvalidArgument otherwise,
// naming the value and the limit).
Status ValidateRopeParams(const RopeParams& p);

}  // namespace tessera::kernels

#endif  // TESSERA_KERNELS_KERNELS_H_
