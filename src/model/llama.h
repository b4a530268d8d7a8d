// The llama architecture (llama.cpp GGUFs of the llama family: llama2.c "stories" conversions,
// TinyLlama, SmolLM): weight binding by llama.cpp's tensor names and the forward pass.
//
// Tensors (dims innermost first, as GGUF stores them; [a, b] is b rows of a elements):
//   token_embd.weight        [n_embd, n_vocab]
//   output_norm.weight       [n_embd]
//   output.weight            [n_embd, n_vocab]   optional: tied to token_embd when absent
//   blk.N.attn_norm.weight   [n_embd]
//   blk.N.attn_q.weight      [n_embd, n_embd_q]    n_embd_q = n_head * head_dim
//   blk.N.attn_k.weight      [n_embd, n_embd_kv]   n_embd_kv = n_head_kv * head_dim
//   blk.N.attn_v.weight      [n_embd, n_embd_kv]
//   blk.N.attn_output.weight [n_embd_q, n_embd]
//   blk.N.ffn_norm.weight    [n_embd]
//   blk.N.ffn_gate.weight    [n_embd, n_ff]
//   blk.N.ffn_up.weight      [n_embd, n_ff]
//   blk.N.ffn_down.weight    [n_ff, n_embd]
//   blk.N.attn_{q,k,v}.bias  [n_embd_q], [n_embd_kv], [n_embd_kv]   qwen2 only
//   blk.N.attn_{q,k}_norm.weight [head_dim]                        qwen3, gemma3
//   blk.N.post_attention_norm.weight, blk.N.post_ffw_norm.weight [n_embd]   gemma3
// Matrices are used in place from the GGUF bytes (any type the kernels compute, mixed freely);
// the 1-D norm vectors (F32, F16 or BF16 in files) are converted to F32 once at load.
//
// The math, exactly as llama.cpp computes `llama` GGUFs, per token at position p:
//   x = token_embd[token]
//   per layer: h = RMSNorm(x) * attn_norm; q = Wq h, k = Wk h, v = Wv h
//              RoPE "normal" mode (adjacent pairs (2i, 2i+1), theta = p * base^(-2i/n_rot),
//              i < n_rot/2) on every head of q and k; k, v stored in the KV cache at p
//              causal attention over positions 0..p, scale 1/sqrt(head_dim), query head h reads
//              kv head h / (n_head / n_head_kv); x += Wo attn
//              h = RMSNorm(x) * ffn_norm; x += Wdown(silu(Wgate h) * Wup h)
//   logits = Wout (RMSNorm(x) * output_norm)
// LogitsMode::kHidden stops one step earlier and returns RMSNorm(x) * output_norm itself (the
// vector Wout would multiply), for embeddings.
//
// The same pass serves the architectures of model/architecture.h through LlamaConfig's options
// and LlamaLayer's optional vectors: Q/K/V biases added after the projection (qwen2);
// rope_mode (kNormal for llama, kNeox rotates (x[i], x[i + n_rot/2])); per-head query and key
// RMSNorms before RoPE (qwen3, gemma3); and gemma3's embedding scale, GELU, post-attention and
// post-FFN norms (h = RMSNorm(Wo attn) * post_attention_norm before x += h, likewise for the
// FFN), sliding-window layers (query at p attends to positions p - n_swa + 1 .. p, RoPE base
// rope_freq_base_swa), query width query_width and final logit soft-capping
// (model/gemma3_arch.cc).
//
// LoRA adapters (model/lora_set.h): with a LoraSet, every adapted product W h above becomes
// W h + sum over the set's terms of scale * B (A h), before the bias; without one (or for the
// matrices it does not adapt) the pass is unchanged, bit for bit.
//
// Batching and threads: Forward() pushes up to max_batch tokens through each layer as a matrix
// (RMSNorm of every row, one MatMul per projection with n_tokens rows, RoPE per row, K/V rows
// written to the cache for every position, causal attention per head over the batch, output
// projection and FFN as MatMuls). Decode is the same path with one row. Matrix rows and
// attention heads are split across the ThreadPool passed to Forward() (nullptr: the calling
// thread only); results are bit-identical for any pool size.
//
// Ownership: LlamaModel keeps the gguf::File alive (shared_ptr) because its matrices borrow the
// file's bytes. Thread safety: LlamaModel is immutable after Load(); any number of sessions may
// call Forward() concurrently on one model, each with its own KvCache and ForwardScratch, as
// long as they do not pass the same ThreadPool at the same time (a pool runs one ParallelFor
// at a time; the engine serialises Forward calls that share the model's pool with a mutex).
// Forward takes no locks and touches no global state.
#ifndef TESSERA_MODEL_LLAMA_H_
#define TESSERA_MODEL_LLAMA_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/zeroed_array.h"
#include "gguf/reader.h"
#include "kernels/kernels.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "tensor/types.h"
#include "tessera/status.h"

namespace tessera::base {
class ThreadPool;  // base/thread_pool.h
}  // namespace tessera::base

namespace tessera::model {

class LoraSet;  // model/lora_set.h

// A weight matrix bound in place: n_rows rows of n_cols elements (GGUF dims [n_cols, n_rows]),
// row r at data[r * row_bytes]. y = W x maps n_cols inputs to n_rows outputs.
struct BoundMatrix {
  std::string name;  // the GGUF tensor name, for messages
  tensor::DType type = tensor::DType::kF32;
  std::span<const std::uint8_t> data;  // borrowed from the gguf::File
  std::int64_t n_rows = 0;
  std::int64_t n_cols = 0;
  std::uint64_t row_bytes = 0;
  // Optional packed copy of the first n_rows / 8 * 8 rows (kernels.h PackWeights), owned by the
  // LlamaModel; empty = none (LoadOptions::pack_weights).
  std::span<const std::uint8_t> packed;
};

struct LoadOptions {
  // Give every matrix the forward pass multiplies (not token_embd when the output is untied) a
  // packed copy when the active kernels read one for its type (kernels::PackingHelps; Q4_0 and
  // Q8_0 on AVX2), and release the file's resident pages of the packed rows, chunk by chunk as
  // they are copied (the copy replaces them; a tied output's embedding lookups read the copy
  // too). Costs one pass over those bytes at load, and the copy is private memory, not page
  // cache shared with other processes mapping the file (docs/adr/0023-packed-weights.md).
  bool pack_weights = false;
};

// The kernels' view of a bound matrix (the bytes stay borrowed).
kernels::WeightMatrix ToKernel(const BoundMatrix& b);

// GGUF dims for messages: "[64, 32]" (innermost first).
std::string ShapeString(std::span<const std::uint64_t> dims);

struct LlamaLayer {
  std::vector<float> attn_norm;  // [n_embd], F32 copy
  BoundMatrix wq;                // [n_embd] -> [n_embd_q]
  BoundMatrix wk;                // [n_embd] -> [n_embd_kv]
  BoundMatrix wv;                // [n_embd] -> [n_embd_kv]
  // Optional projection biases (qwen2): [n_embd_q], [n_embd_kv], [n_embd_kv] F32; empty = none.
  std::vector<float> bq, bk, bv;
  // Optional per-head RMSNorm gains of queries and keys (qwen3): [head_dim] F32; empty = none.
  std::vector<float> q_norm, k_norm;
  BoundMatrix wo;                // [n_embd_q] -> [n_embd]
  // Optional RMSNorm gains of the attention output and the FFN output (gemma3): [n_embd] F32;
  // empty = none.
  std::vector<float> post_attn_norm, post_ffn_norm;
  std::vector<float> ffn_norm;   // [n_embd], F32 copy
  BoundMatrix w_gate;            // [n_embd] -> [n_ff]
  BoundMatrix w_up;              // [n_embd] -> [n_ff]
  BoundMatrix w_down;            // [n_ff] -> [n_embd]
};

class LlamaModel {
 public:
  // Reads the config, binds every tensor and checks names, shapes and types. Errors: those of
  // ReadLlamaConfig; kMissingTensor naming the tensor; kShapeMismatch naming the tensor, the
  // expected and the found shape; kUnsupported naming the tensor and a type the kernels cannot
  // compute. Nothing is copied but the norm vectors.
  static Result<std::unique_ptr<LlamaModel>> Load(std::shared_ptr<const gguf::File> file,
                                                   const LoadOptions& options = {});

  LlamaModel(const LlamaModel&) = delete;
  LlamaModel& operator=(const LlamaModel&) = delete;

  const LlamaConfig& config() const { return config_; }
  const gguf::File& file() const { return *file_; }
  const std::shared_ptr<const gguf::File>& shared_file() const { return file_; }

  const BoundMatrix& token_embd() const { return token_embd_; }  // [n_embd] x n_vocab rows
  const BoundMatrix& output() const { return output_; }          // == token_embd when tied
  bool tied_output() const { return tied_output_; }
  const std::vector<float>& output_norm() const { return output_norm_; }  // [n_embd]
  const std::vector<LlamaLayer>& layers() const { return layers_; }

  // Bytes of weights used in place from the mapping, and bytes copied (norm vectors).
  std::uint64_t mapped_weight_bytes() const { return mapped_weight_bytes_; }
  std::uint64_t copied_weight_bytes() const { return copied_weight_bytes_; }
  // Bytes of the packed copies (LoadOptions::pack_weights), and of the file's resident pages
  // released after packing (whole pages inside the packed rows; 0 for an unmapped file).
  std::uint64_t packed_weight_bytes() const { return packed_weight_bytes_; }
  std::uint64_t released_file_bytes() const { return released_file_bytes_; }

 private:
  LlamaModel() = default;
  friend class LlamaBinder;

  std::shared_ptr<const gguf::File> file_;
  LlamaConfig config_;
  BoundMatrix token_embd_;
  BoundMatrix output_;
  bool tied_output_ = false;
  std::vector<float> output_norm_;
  std::vector<LlamaLayer> layers_;
  std::uint64_t mapped_weight_bytes_ = 0;
  std::uint64_t copied_weight_bytes_ = 0;
  std::vector<std::unique_ptr<std::uint8_t[]>> packed_;  // the packed copies
  std::uint64_t packed_weight_bytes_ = 0;
  std::uint64_t released_file_bytes_ = 0;
};

// Per-session activations for Forward(), allocated once; Forward() allocates nothing.
// Shapes (B = max_batch, rows innermost last):
//   x, xb, attn    [B, n_embd]     residual stream, normed input, attention output
//   q              [B, n_embd]     queries (after RoPE)
//   k, v           [B, n_embd_kv]  new keys (after RoPE) and values
//   gate, up       [B, n_ff]       feed-forward hidden
//   scores         [n_head, AttendScratchFloats(head_dim, n_ctx)] attention scratch of each
//                                  query head (heads run concurrently): scores, transposed keys
//   kernel         bytes the matrix kernels need for B rows (activation quantization)
//   lora_u         [B, max_rank]  A x of a LoRA term      (empty without a LoraSet)
//   lora_y         [B, max_out]   B (A x) of a LoRA term  (empty without a LoraSet)
// Move-only; not thread-safe (one session uses it at a time).
class ForwardScratch {
 public:
  // max_batch: tokens processed per matrix multiply (>= 1; longer inputs are processed in
  // chunks). n_ctx: the KvCache size it will be used with. lora: the adapters Forward() will
  // apply (sizes the LoRA buffers; nullptr or empty: none). kOutOfRange on bad sizes;
  // kInvalidArgument for a LoRA set built for a model of another depth.
  static Result<ForwardScratch> Create(const LlamaModel& model, std::int32_t max_batch,
                                       std::int32_t n_ctx, const LoraSet* lora = nullptr);

  // Makes this scratch fit `lora` (a set built over `model`, the model it was created for), so
  // that a session can change adapters without a new scratch. Grows only: the LoRA buffers and
  // the kernel scratch are reallocated when `lora` needs a larger rank, a wider adapted matrix
  // or more kernel bytes than they hold; otherwise nothing is allocated. Buffers never shrink.
  // kInvalidArgument (nothing changed) when `lora` was built for a model of another depth.
  Status ReserveLora(const LlamaModel& model, const LoraSet& lora);

  ForwardScratch(ForwardScratch&&) noexcept = default;
  ForwardScratch& operator=(ForwardScratch&&) noexcept = default;
  ForwardScratch(const ForwardScratch&) = delete;
  ForwardScratch& operator=(const ForwardScratch&) = delete;

  std::int32_t max_batch() const { return max_batch_; }
  std::int32_t n_ctx() const { return n_ctx_; }
  std::size_t size_bytes() const;

 private:
  ForwardScratch() = default;
  friend class LlamaForward;

  std::int32_t max_batch_ = 0;
  std::int32_t n_ctx_ = 0;
  // base::ZeroedArray: zero, and paid for page by page as rows are used (opening a session
  // for a short request touches a few rows of each).
  base::ZeroedArray<float> x_, xb_, attn_, q_, k_, v_, gate_, up_, scores_;
  base::ZeroedArray<float> lora_u_, lora_y_;
  std::int64_t lora_rank_ = 0;  // lora_u_ row width: the largest r it was sized for
  std::int64_t lora_out_ = 0;   // lora_y_ row width: the largest n_out it was sized for
  std::size_t attend_floats_ = 0;  // AttendScratchFloats(head_dim, n_ctx): scores_ per head
  base::ZeroedArray<std::uint8_t> kernel_;
};

enum class LogitsMode {
  kLast,  // logits of the last token only: logits_out holds >= n_vocab floats
  kAll,   // logits of every token: logits_out holds >= tokens.size() * n_vocab floats
  // The final hidden state of every token after the output norm, RMSNorm(x) * output_norm
  // (what the output matrix would multiply; the output matrix and its LoRA terms are not
  // applied): logits_out holds >= tokens.size() * n_embd floats.
  kHidden,
};

// Runs `tokens` at positions start_pos .. start_pos + n - 1, writing their keys and values into
// `cache` (positions before start_pos must already hold this session's history), and writes
// logits_out [n_out, n_vocab] (n_out = 1 for kLast, n for kAll; row i = token i), or for kHidden
// [n, n_embd]. In kLast mode the output matrix is applied to the last row only. A row depends
// on how the tokens are batched by rounding only (the kernels may sum in another order for
// another number of rows: batched attention tiles). Work is split across `pool` (nullptr: the
// calling thread alone; the pool must not be running another ParallelFor). `lora` (nullptr:
// none) adds its terms after each adapted matrix product (model/lora_set.h); it must be built
// over `model`, and `scratch` created with it or grown by ForwardScratch::ReserveLora (or
// sized for a set of no smaller sizes).
// Errors (nothing is written to logits_out on error; the cache may hold partial rows for the
// positions being computed): kInvalidArgument (empty tokens, logits_out too small, a cache or
// scratch built for another shape or smaller context or for smaller LoRA terms), kOutOfRange (a
// token id outside [0, n_vocab), start_pos < 0, or start_pos + n > cache.n_ctx(), naming both).
Status Forward(const LlamaModel& model, KvCache& cache, ForwardScratch& scratch,
               std::span<const std::int32_t> tokens, std::int32_t start_pos, LogitsMode mode,
               std::span<float> logits_out, base::ThreadPool* pool = nullptr,
               const LoraSet* lora = nullptr);

}  // namespace tessera::model

#endif  // TESSERA_MODEL_LLAMA_H_
