// Matrix products and row lookups over borrowed weight matrices (kernels.h).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "base/check.h"
#include "base/thread_pool.h"
#include "kernels/kernels.h"
#include "tensor/blocks.h"
#include "tensor/fp16.h"

namespace tessera::kernels {
namespace {

std::string Num(std::int64_t v) { return std::to_string(v); }

// Bytes of n elements of `type`, assuming n is a multiple of its block size.
std::size_t PackedBytes(DType type, std::int64_t n) {
  return static_cast<std::size_t>(n / tensor::BlockSize(type)) * tensor::TypeSize(type);
}

}  // namespace

std::size_t ActivationBytes(DType weight_type, std::int64_t n_cols) {
  const TypeKernels* k = ReferenceKernels(weight_type);
  if (k == nullptr || n_cols < 0 || n_cols % tensor::BlockSize(k->vec_dot_type) != 0) return 0;
  return PackedBytes(k->vec_dot_type, n_cols);
}

namespace {

// Whether `type` has a packed layout: the reference table has a packed_tile for every type that
// does (its MatMul scratch then holds summaries).
bool HasPackedLayout(DType type) {
  const TypeKernels* ref = ReferenceKernels(type);
  return ref != nullptr && ref->packed_tile != nullptr;
}

// Offset of row i's quant bytes 4k..4k+3 inside a group block of the packed layout (kernels.h):
// after the kPackRows f16 scales, chunk k, lane i. Row i's scale is at 2 * i.
constexpr std::size_t PackedQuantOffset(std::size_t i, std::size_t k) {
  return 2 * kPackRows + k * 4 * kPackRows + i * 4;
}

std::size_t RoundUp64(std::size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

std::size_t MatMulScratchBytes(DType weight_type, std::int64_t n_cols, std::int64_t n_tokens) {
  if (n_tokens < 0) return 0;
  const std::size_t act =
      RoundUp64(ActivationBytes(weight_type, n_cols) * static_cast<std::size_t>(n_tokens));
  if (!HasPackedLayout(weight_type) || act == 0) return act;
  const auto n_blocks = static_cast<std::size_t>(n_cols / tensor::kQK8_0);
  // The summaries start at the first 64-byte boundary after the activations (scratch may sit
  // at any alignment).
  return act + 64 + RoundUp64(n_blocks * static_cast<std::size_t>(n_tokens) * sizeof(Q8Summary));
}

std::size_t PackedWeightBytes(const WeightMatrix& w) {
  if (!HasPackedLayout(w.type)) return 0;
  return static_cast<std::size_t>(PackedRowCount(w.n_rows)) * w.row_bytes;
}

bool PackingHelps(DType type) {
  const TypeKernels* k = Kernels(type);
  return HasPackedLayout(type) && k != nullptr && k->packed_tile != nullptr;
}

WeightMatrix PackWeights(const WeightMatrix& w, std::span<std::uint8_t> out) {
  const std::size_t bytes = PackedWeightBytes(w);
  if (bytes == 0) return w;
  TS_CHECK(out.size() >= bytes);
  // Both layouts: blocks of an f16 d then q_bytes quant bytes (Q4_0: 16, Q8_0: 32), moved 4
  // bytes at a time.
  const std::size_t block = tensor::TypeSize(w.type);
  const std::size_t q_bytes = block - 2;
  constexpr std::size_t kRows = kPackRows;
  const std::size_t nb = static_cast<std::size_t>(w.n_cols / tensor::BlockSize(w.type));
  const std::size_t n_groups = static_cast<std::size_t>(w.n_rows / kPackRows);
  for (std::size_t g = 0; g < n_groups; ++g) {
    for (std::size_t b = 0; b < nb; ++b) {
      std::uint8_t* dst = out.data() + (g * nb + b) * kRows * block;
      for (std::size_t i = 0; i < kRows; ++i) {
        const std::uint8_t* src = w.data + (g * kRows + i) * w.row_bytes + b * block;
        std::memcpy(dst + 2 * i, src, 2);
        for (std::size_t k = 0; k < q_bytes / 4; ++k) {
          std::memcpy(dst + PackedQuantOffset(i, k), src + 2 + 4 * k, 4);
        }
      }
    }
  }
  WeightMatrix packed = w;
  packed.packed = out.data();
  return packed;
}

Result<WeightMatrix> MakeWeightMatrix(DType type, std::span<const std::uint8_t> data,
                                      std::int64_t n_rows, std::int64_t n_cols) {
  if (ReferenceKernels(type) == nullptr) {
    return Unsupported("kernels: weight type " + std::string(tensor::TypeName(type)) +
                       " has no kernels; supported: f32, f16, bf16, q8_0, q4_0");
  }
  if (n_rows < 1 || n_cols < 1) {
    return InvalidArgument("kernels: weight matrix of " + Num(n_rows) + " rows x " +
                           Num(n_cols) + " columns; both must be at least 1");
  }
  const std::int64_t block = tensor::BlockSize(type);
  if (n_cols % block != 0) {
    return InvalidArgument("kernels: row width " + Num(n_cols) + " is not a multiple of the " +
                           std::string(tensor::TypeName(type)) + " block size " + Num(block));
  }
  const std::size_t row_bytes = PackedBytes(type, n_cols);
  // n_rows * row_bytes cannot overflow for any matrix that fits in the span: compare by division.
  if (static_cast<std::size_t>(n_rows) > data.size() / row_bytes) {
    return Truncated("kernels: " + Num(n_rows) + " rows of " + Num(static_cast<std::int64_t>(
                     row_bytes)) + " bytes need more than the " +
                     Num(static_cast<std::int64_t>(data.size())) + " bytes given");
  }
  return WeightMatrix{type, data.data(), n_rows, n_cols, row_bytes};
}

namespace {

// Rows of one ParallelFor task: a multiple of kMatMulRowBlock chosen from the matrix alone (never
// from the thread count), about 32 tasks per matrix so two threads balance dynamically.
std::int64_t RowsPerTask(std::int64_t n_rows) {
  const std::int64_t target = (n_rows + 31) / 32;
  const std::int64_t blocks = (target + kMatMulRowBlock - 1) / kMatMulRowBlock;
  return std::max<std::int64_t>(1, blocks) * kMatMulRowBlock;
}

// Tokens per vec_dot_tile call in a batch (the activation rows of one chunk stay in L1).
constexpr std::int64_t kTileTokenChunk = 32;

// The Q8Summary of n consecutive Q8_0 blocks at q (the activation rows of one call are
// contiguous, so rows need no separate pass).
void SummarizeQ8_0(const std::uint8_t* q, std::size_t n, Q8Summary* out) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* b = q + i * sizeof(tensor::BlockQ8_0);
    std::uint16_t h;
    std::memcpy(&h, b, sizeof(h));
    std::int32_t sum = 0;
    for (int j = 0; j < tensor::kQK8_0; ++j) sum += static_cast<std::int8_t>(b[2 + j]);
    out[i] = Q8Summary{tensor::HalfToFloat(h), sum};
  }
}

// The work of one MatMul call, shared by every task.
struct MatMulJob {
  const TypeKernels* k;
  const WeightMatrix* w;
  const std::uint8_t* act;  // [n_tokens][act_bytes] converted activations
  std::size_t act_bytes;
  const Q8Summary* sums;    // [n_tokens][n_blocks] when the packed copy is used, else nullptr
  std::int64_t n_packed;    // rows read from the packed copy: [0, n_packed)
  std::int64_t n_tokens;
  std::int64_t rows_per_task;
  float* y;  // [n_tokens, w.n_rows]

  // Rows [r0, r1) of the packed copy (multiples of kPackRows): blocks of kMatMulRowBlock rows
  // outer, chunks of tokens inner, as below.
  void PackedRows(std::int64_t r0, std::int64_t r1) const {
    const std::int64_t n_cols = w->n_cols;
    const auto n_blocks = static_cast<std::size_t>(n_cols / tensor::kQK8_0);
    for (std::int64_t b0 = r0; b0 < r1; b0 += kMatMulRowBlock) {
      const std::int64_t n_groups = (std::min(kMatMulRowBlock, r1 - b0)) / kPackRows;
      const std::uint8_t* p = w->packed + static_cast<std::size_t>(b0) * w->row_bytes;
      for (std::int64_t t0 = 0; t0 < n_tokens; t0 += kTileTokenChunk) {
        const std::int64_t nt = std::min(kTileTokenChunk, n_tokens - t0);
        k->packed_tile(n_cols, n_groups, p, nt, act + static_cast<std::size_t>(t0) * act_bytes,
                       act_bytes, sums + static_cast<std::size_t>(t0) * n_blocks, n_blocks,
                       y + t0 * w->n_rows + b0, static_cast<std::size_t>(w->n_rows));
      }
    }
  }

  // Rows [r0, r1): blocks of kMatMulRowBlock rows outer, tokens inner.
  void Rows(std::int64_t r0, std::int64_t r1) const {
    const std::int64_t n_cols = w->n_cols;
    const std::int64_t n_rows = w->n_rows;
    if (r0 < n_packed) {
      PackedRows(r0, std::min(r1, n_packed));
      r0 = std::min(r1, n_packed);
    }
    for (std::int64_t b0 = r0; b0 < r1; b0 += kMatMulRowBlock) {
      const std::int64_t nb = std::min(kMatMulRowBlock, r1 - b0);
      const std::uint8_t* w_block = w->data + static_cast<std::size_t>(b0) * w->row_bytes;
      if (k->vec_dot_tile != nullptr && n_tokens > 1) {
        // Chunks of tokens small enough for their activations to stay in L1 while the block's
        // rows sweep them.
        for (std::int64_t t0 = 0; t0 < n_tokens; t0 += kTileTokenChunk) {
          const std::int64_t nt = std::min(kTileTokenChunk, n_tokens - t0);
          k->vec_dot_tile(n_cols, nb, w_block, w->row_bytes, nt,
                          act + static_cast<std::size_t>(t0) * act_bytes, act_bytes,
                          y + t0 * n_rows + b0, static_cast<std::size_t>(n_rows));
        }
        continue;
      }
      for (std::int64_t t = 0; t < n_tokens; ++t) {
        const std::uint8_t* xt = act + static_cast<std::size_t>(t) * act_bytes;
        float* yt = y + t * n_rows + b0;
        if (k->vec_dot_rows != nullptr) {
          k->vec_dot_rows(n_cols, nb, w_block, w->row_bytes, xt, yt);
        } else {
          for (std::int64_t r = 0; r < nb; ++r) {
            yt[r] = k->vec_dot(n_cols, w_block + static_cast<std::size_t>(r) * w->row_bytes, xt);
          }
        }
      }
    }
  }

  void operator()(std::int64_t task) const {
    const std::int64_t r0 = task * rows_per_task;
    Rows(r0, std::min(w->n_rows, r0 + rows_per_task));
  }
};

}  // namespace

void MatMulWith(const TypeKernels& k, const WeightMatrix& w, const float* x,
                std::int64_t n_tokens, float* y, std::span<std::uint8_t> scratch,
                base::ThreadPool* pool) {
  TS_DCHECK(k.type == w.type);
  TS_DCHECK(n_tokens >= 1);
  TS_DCHECK(w.n_cols % tensor::BlockSize(w.type) == 0);
  const std::size_t act_bytes = PackedBytes(k.vec_dot_type, w.n_cols);
  TS_DCHECK(scratch.size() >= act_bytes * static_cast<std::size_t>(n_tokens));
  std::uint8_t* act = scratch.data();
  // Convert every activation row once; across the pool when there are enough rows to pay for
  // the extra barrier (prefill), on the caller otherwise (decode: one row).
  auto convert = [&](std::int64_t t) {
    k.act_from_float(x + t * w.n_cols, act + static_cast<std::size_t>(t) * act_bytes, w.n_cols);
  };
  if (pool != nullptr && n_tokens >= 8) {
    pool->ParallelFor(n_tokens, convert);
  } else {
    for (std::int64_t t = 0; t < n_tokens; ++t) convert(t);
  }
  const bool use_packed = w.packed != nullptr && k.packed_tile != nullptr;
  Q8Summary* sums = nullptr;
  if (use_packed) {
    TS_DCHECK(k.vec_dot_type == DType::kQ8_0);
    const std::size_t act_end = act_bytes * static_cast<std::size_t>(n_tokens);
    const auto addr = reinterpret_cast<std::uintptr_t>(scratch.data() + act_end);
    const std::size_t at = act_end + (64 - addr % 64) % 64;
    const auto n_blocks = static_cast<std::size_t>(w.n_cols / tensor::kQK8_0);
    TS_DCHECK(scratch.size() >= at + n_blocks * static_cast<std::size_t>(n_tokens) *
                                         sizeof(Q8Summary));
    sums = reinterpret_cast<Q8Summary*>(scratch.data() + at);
    SummarizeQ8_0(act, n_blocks * static_cast<std::size_t>(n_tokens), sums);
  }
  const MatMulJob job{&k,
                      &w,
                      act,
                      act_bytes,
                      sums,
                      use_packed ? PackedRowCount(w.n_rows) : 0,
                      n_tokens,
                      RowsPerTask(w.n_rows),
                      y};
  const std::int64_t n_tasks = (w.n_rows + job.rows_per_task - 1) / job.rows_per_task;
  if (pool != nullptr) {
    pool->ParallelFor(n_tasks, job);
  } else {
    job.Rows(0, w.n_rows);
  }
}

void MatMul(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y,
            std::span<std::uint8_t> scratch, base::ThreadPool* pool) {
  const TypeKernels* k = Kernels(w.type);
  TS_DCHECK(k != nullptr);
  MatMulWith(*k, w, x, n_tokens, y, scratch, pool);
}

Status GetRow(const WeightMatrix& w, std::int64_t row, std::span<float> out) {
  if (row < 0 || row >= w.n_rows) {
    return OutOfRange("kernels: row " + Num(row) + " is out of range [0, " + Num(w.n_rows) + ")");
  }
  if (static_cast<std::int64_t>(out.size()) != w.n_cols) {
    return InvalidArgument("kernels: output of " + Num(static_cast<std::int64_t>(out.size())) +
                           " floats for a row of " + Num(w.n_cols));
  }
  const TypeKernels* k = Kernels(w.type);
  if (k == nullptr) {
    return Unsupported("kernels: weight type " + std::string(tensor::TypeName(w.type)) +
                       " has no kernels");
  }
  if (w.packed != nullptr && row < PackedRowCount(w.n_rows)) {
    // From the packed copy (the file's pages of these rows may have been released): each block
    // gathered back into file order, then converted.
    const std::size_t block = tensor::TypeSize(w.type);
    const std::int64_t per_block = tensor::BlockSize(w.type);
    const std::size_t nb = static_cast<std::size_t>(w.n_cols / per_block);
    const auto g = static_cast<std::size_t>(row / kPackRows);
    const auto i = static_cast<std::size_t>(row % kPackRows);
    std::uint8_t file_block[64];
    TS_CHECK(block <= sizeof(file_block));
    for (std::size_t b = 0; b < nb; ++b) {
      const std::uint8_t* gb = w.packed + (g * nb + b) * kPackRows * block;
      std::memcpy(file_block, gb + 2 * i, 2);
      for (std::size_t c = 0; c < (block - 2) / 4; ++c) {
        std::memcpy(file_block + 2 + 4 * c, gb + PackedQuantOffset(i, c), 4);
      }
      k->to_float(file_block, out.data() + b * static_cast<std::size_t>(per_block), per_block);
    }
    return Status::Ok();
  }
  k->to_float(w.data + static_cast<std::size_t>(row) * w.row_bytes, out.data(), w.n_cols);
  return Status::Ok();
}

}  // namespace tessera::kernels
