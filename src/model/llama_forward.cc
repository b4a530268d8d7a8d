// The llama forward pass over a batch of tokens, with the KV cache of one session, its matrix
// products and attention heads split across an optional thread pool (llama.h).
#include <algorithm>
#include <cmath>
#include <string>

#include "base/check.h"
#include "base/thread_pool.h"
#include "kernels/kernels.h"
#include "model/llama.h"
#include "model/lora_set.h"

namespace tessera::model {
// Runs the layers; a friend of ForwardScratch.
class LlamaForward {
 public:
  LlamaForward(const LlamaModel& model, KvCache& cache, ForwardScratch& s,
               base::ThreadPool* pool, const LoraSet* lora)
      : m_(model), c_(model.config()), cache_(cache), s_(s), pool_(pool), lora_(lora) {
    rope_.mode = c_.rope_mode;
    rope_.head_dim = c_.head_dim;
    rope_.n_rot = c_.n_rot;
    rope_.freq_base = c_.rope_freq_base;
    rope_.freq_scale = c_.rope_freq_scale;
    rope_swa_ = rope_;
    rope_swa_.freq_base = c_.rope_freq_base_swa;
    rope_swa_.freq_scale = 1.0f;
  }

  static Status CreateScratch(const LlamaModel& model, std::int32_t max_batch, std::int32_t n_ctx,
                              const LoraSet* lora, ForwardScratch& s) {
    const LlamaConfig& c = model.config();
    if (max_batch <= 0 || max_batch > 1 << 16) {
      return Status(StatusCode::kOutOfRange, "model: llama: scratch max_batch " +
                                                 std::to_string(max_batch) +
                                                 " is outside [1, 65536]");
    }
    if (n_ctx <= 0 || n_ctx > c.n_ctx_train) {
      return Status(StatusCode::kOutOfRange, "model: llama: scratch n_ctx " +
                                                 std::to_string(n_ctx) + " is outside [1, " +
                                                 std::to_string(c.n_ctx_train) + "]");
    }
    const std::size_t b = static_cast<std::size_t>(max_batch);
    s.max_batch_ = max_batch;
    s.n_ctx_ = n_ctx;
    s.x_.Reset(b * c.n_embd);
    s.xb_.Reset(b * c.n_embd);
    s.attn_.Reset(b * c.n_embd_q());
    s.q_.Reset(b * c.n_embd_q());
    s.k_.Reset(b * c.n_embd_kv());
    s.v_.Reset(b * c.n_embd_kv());
    s.gate_.Reset(b * c.n_ff);
    s.up_.Reset(b * c.n_ff);
    s.attend_floats_ = kernels::AttendScratchFloats(c.head_dim, n_ctx);
    s.scores_.Reset(static_cast<std::size_t>(c.n_head) * s.attend_floats_);
    std::size_t kernel_bytes = 0;
    auto need = [&](const BoundMatrix& w) {
      kernel_bytes =
          std::max(kernel_bytes, kernels::MatMulScratchBytes(w.type, w.n_cols, max_batch));
    };
    need(model.output());
    for (const LlamaLayer& l : model.layers()) {
      for (const BoundMatrix* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
        need(*w);
      }
    }
    s.kernel_.Reset(kernel_bytes);
    if (lora != nullptr) TS_RETURN_IF_ERROR(ReserveLora(model, *lora, s));
    return Status::Ok();
  }

  // Grows the LoRA buffers and the kernel scratch of `s` to fit `lora` (never shrinks them).
  static Status ReserveLora(const LlamaModel& model, const LoraSet& lora, ForwardScratch& s) {
    if (lora.empty()) return Status::Ok();
    if (lora.n_layer() != model.config().n_layer) {
      return InvalidArgument("model: llama: LoRA set built for " + std::to_string(lora.n_layer()) +
                             " layers, the model has " + std::to_string(model.config().n_layer));
    }
    const std::size_t b = static_cast<std::size_t>(s.max_batch_);
    if (lora.max_rank() > s.lora_rank_) {
      s.lora_rank_ = lora.max_rank();
      s.lora_u_.Reset(b * static_cast<std::size_t>(s.lora_rank_));
    }
    if (lora.max_out() > s.lora_out_) {
      s.lora_out_ = lora.max_out();
      s.lora_y_.Reset(b * static_cast<std::size_t>(s.lora_out_));
    }
    const std::size_t kernel_bytes = lora.KernelScratchBytes(s.max_batch_);
    if (kernel_bytes > s.kernel_.size()) s.kernel_.Reset(kernel_bytes);
    return Status::Ok();
  }

  // kInvalidArgument unless `lora` was built for a model of this depth and `scratch` was sized
  // for its terms.
  static Status CheckLoraScratch(const LlamaModel& model, const LoraSet& lora,
                                 const ForwardScratch& s) {
    if (!lora.empty() && lora.n_layer() != model.config().n_layer) {
      return InvalidArgument("model: llama: LoRA set built for " +
                             std::to_string(lora.n_layer()) + " layers, the model has " +
                             std::to_string(model.config().n_layer));
    }
    if (lora.max_rank() > s.lora_rank_ || lora.max_out() > s.lora_out_ ||
        lora.KernelScratchBytes(s.max_batch_) > s.kernel_.size()) {
      return InvalidArgument(
          "model: llama: the forward scratch was not created for these LoRA adapters (rank " +
          std::to_string(lora.max_rank()) + ", scratch rank " + std::to_string(s.lora_rank_) +
          ")");
    }
    return Status::Ok();
  }

  // Tokens already validated; n <= max_batch; positions fit the cache.
  // logits: [n, n_vocab] for kAll, [n_vocab] for kLast, [n, n_embd] for kHidden; nullptr
  // computes none (a chunk before the last one in kLast mode).
  void Chunk(std::span<const std::int32_t> tokens, std::int32_t pos0, LogitsMode mode,
             float* logits) {
    const std::int64_t n = static_cast<std::int64_t>(tokens.size());
    const std::int64_t d = c_.n_embd;
    float* x = s_.x_.data();    // [n, n_embd] residual stream
    float* xb = s_.xb_.data();  // [n, n_embd] normed input / projection output
    const kernels::WeightMatrix embd = ToKernel(m_.token_embd());
    for (std::int64_t t = 0; t < n; ++t) {
      Status st = kernels::GetRow(embd, tokens[t], std::span<float>(x + t * d, d));
      TS_CHECK(st.ok());  // token ids were validated by Forward()
    }
    if (c_.embd_scale != 1.0f) kernels::Scale(x, c_.embd_scale, n * d);
    for (std::int32_t il = 0; il < c_.n_layer; ++il) {
      const LlamaLayer& l = m_.layers()[static_cast<std::size_t>(il)];
      Attention(l, il, n, pos0);
      FeedForward(l, il, n);
    }
    if (logits == nullptr) return;
    if (mode == LogitsMode::kHidden) {
      NormRows(x, m_.output_norm(), n, logits);  // [n, n_embd]
      return;
    }
    const std::span<const LoraTerm> out_lora = Lora(-1, LoraTarget::kOutput);
    std::int64_t n_logits = c_.n_vocab;
    if (mode == LogitsMode::kAll) {
      NormRows(x, m_.output_norm(), n, xb);
      Product(m_.output(), out_lora, xb, n, logits);
      n_logits *= n;
    } else {
      kernels::RmsNorm(x + (n - 1) * d, m_.output_norm().data(), d, c_.rms_eps, xb);
      Product(m_.output(), out_lora, xb, 1, logits);
    }
    if (c_.final_logit_softcap > 0.0f) {
      const float cap = c_.final_logit_softcap;
      const float inv = 1.0f / cap;
      for (std::int64_t i = 0; i < n_logits; ++i) logits[i] = cap * std::tanh(logits[i] * inv);
    }
  }

 private:
  // fn(t0, t1) over token ranges covering [0, n): across the pool in chunks of kTokensPerTask
  // for a batch, on this thread for short ones (decode), where a barrier costs more than the
  // work. Element-wise work only: each token's result does not depend on the split.
  template <typename Fn>
  void ForTokens(std::int64_t n, Fn&& fn) {
    constexpr std::int64_t kTokensPerTask = 8;
    if (pool_ == nullptr || n < 2 * kTokensPerTask) {
      fn(std::int64_t{0}, n);
      return;
    }
    pool_->ParallelFor((n + kTokensPerTask - 1) / kTokensPerTask, [&](std::int64_t task) {
      const std::int64_t t0 = task * kTokensPerTask;
      fn(t0, std::min(n, t0 + kTokensPerTask));
    });
  }

  // The session's LoRA terms for a matrix of layer il (empty without adapters).
  std::span<const LoraTerm> Lora(std::int32_t il, LoraTarget target) const {
    return lora_ == nullptr ? std::span<const LoraTerm>() : lora_->Terms(il, target);
  }

  // y[t] = W h[t], then y[t] += scale * B (A h[t]) for each LoRA term, for the n rows of h.
  void Product(const BoundMatrix& w, std::span<const LoraTerm> lora, const float* h,
               std::int64_t n, float* y) {
    kernels::MatMul(ToKernel(w), h, n, y, s_.kernel_, pool_);
    for (const LoraTerm& term : lora) ApplyLora(term, h, n, y);
  }

  // y[t] += scale * B (A h[t]) for the n rows: u = A h  [n, r], z = B u  [n, n_out].
  void ApplyLora(const LoraTerm& term, const float* h, std::int64_t n, float* y) {
    float* u = s_.lora_u_.data();  // [n, r]
    float* z = s_.lora_y_.data();  // [n, n_out]
    kernels::MatMul(term.a, h, n, u, s_.kernel_, pool_);
    kernels::MatMul(term.b, u, n, z, s_.kernel_, pool_);
    const std::int64_t n_out = term.b.n_rows;
    ForTokens(n, [&](std::int64_t t0, std::int64_t t1) {
      kernels::Axpy(term.scale, z + t0 * n_out, y + t0 * n_out, (t1 - t0) * n_out);
    });
  }

  // y[t] = W h[t] (+ LoRA terms) (+ bias when the layer has one) for the n rows of h.
  void Project(const BoundMatrix& w, std::span<const LoraTerm> lora, const std::vector<float>& bias,
               const float* h, std::int64_t n, float* y) {
    Product(w, lora, h, n, y);
    if (bias.empty()) return;
    ForTokens(n, [&](std::int64_t t0, std::int64_t t1) {
      for (std::int64_t t = t0; t < t1; ++t) {
        float* yt = y + t * w.n_rows;  // [n_rows]
        kernels::Add(yt, bias.data(), yt, w.n_rows);
      }
    });
  }

  // x += Wo · attention(RoPE(Wq h), RoPE(Wk h), Wv h), h = RMSNorm(x) * attn_norm (with qk_norm,
  // each query and key head is RMS-normalized with its gains before RoPE; with post norms, the
  // product is RMS-normalized with post_attention_norm before the add). Windowed layers rotate
  // with their own RoPE base.
  void Attention(const LlamaLayer& l, std::int32_t il, std::int64_t n, std::int32_t pos0) {
    const std::int64_t d = c_.n_embd_q();
    const std::int64_t d_kv = c_.n_embd_kv();
    const std::int64_t hd = c_.head_dim;
    float* x = s_.x_.data();        // [n, n_embd]
    float* xb = s_.xb_.data();      // [n, n_embd]
    float* q = s_.q_.data();        // [n, n_head * head_dim]
    float* k = s_.k_.data();        // [n, n_head_kv * head_dim]
    float* v = s_.v_.data();        // [n, n_head_kv * head_dim]
    float* attn = s_.attn_.data();  // [n, n_head * head_dim]
    const kernels::RopeParams& rope = c_.IsSwaLayer(il) ? rope_swa_ : rope_;
    NormRows(x, l.attn_norm, n, xb);
    Project(l.wq, Lora(il, LoraTarget::kAttnQ), l.bq, xb, n, q);
    Project(l.wk, Lora(il, LoraTarget::kAttnK), l.bk, xb, n, k);
    Project(l.wv, Lora(il, LoraTarget::kAttnV), l.bv, xb, n, v);
    ForTokens(n, [&](std::int64_t t0, std::int64_t t1) {
      for (std::int64_t t = t0; t < t1; ++t) {
        const std::int32_t pos = pos0 + static_cast<std::int32_t>(t);
        if (!l.q_norm.empty()) {
          for (std::int32_t h = 0; h < c_.n_head; ++h) {
            float* qh = q + t * d + h * hd;
            kernels::RmsNorm(qh, l.q_norm.data(), hd, c_.rms_eps, qh);
          }
          for (std::int32_t h = 0; h < c_.n_head_kv; ++h) {
            float* kh = k + t * d_kv + h * hd;
            kernels::RmsNorm(kh, l.k_norm.data(), hd, c_.rms_eps, kh);
          }
        }
        kernels::Rope(q + t * d, c_.n_head, pos, rope);
        kernels::Rope(k + t * d_kv, c_.n_head_kv, pos, rope);
        std::copy_n(k + t * d_kv, d_kv, cache_.k(il, pos));
        std::copy_n(v + t * d_kv, d_kv, cache_.v(il, pos));
      }
    });
    // One task per query head: every query row of the batch, each over positions <= its own.
    auto head_task = [&](std::int64_t h) {
      AttendHead(il, static_cast<std::int32_t>(h), n, pos0);
    };
    if (pool_ != nullptr) {
      pool_->ParallelFor(c_.n_head, head_task);
    } else {
      for (std::int32_t h = 0; h < c_.n_head; ++h) head_task(h);
    }
    Product(l.wo, Lora(il, LoraTarget::kAttnOutput), attn, n, xb);
    if (!l.post_attn_norm.empty()) NormRows(xb, l.post_attn_norm, n, xb);
    AddRows(x, xb, n);
  }

  // out[t] = RMSNorm(x[t]) * weight for the n rows.
  void NormRows(const float* x, const std::vector<float>& weight, std::int64_t n, float* out) {
    const std::int64_t d = c_.n_embd;
    ForTokens(n, [&](std::int64_t t0, std::int64_t t1) {
      for (std::int64_t t = t0; t < t1; ++t) {
        kernels::RmsNorm(x + t * d, weight.data(), d, c_.rms_eps, out + t * d);
      }
    });
  }

  // x[t] += y[t] for the n rows of n_embd.
  void AddRows(float* x, const float* y, std::int64_t n) {
    const std::int64_t d = c_.n_embd;
    ForTokens(n, [&](std::int64_t t0, std::int64_t t1) {
      kernels::Add(x + t0 * d, y + t0 * d, x + t0 * d, (t1 - t0) * d);
    });
  }

  // attn[t, head h] = sum_p softmax_p(scale * q[t, h] . K[p, kv(h)]) V[p, kv(h)] over p <= pos0 +
  // t (causal; in a windowed layer also p > pos0 + t - n_swa), for the n query rows of the
  // chunk, by kernels::Attend; scale = LlamaConfig::AttentionScale(). Uses only head h's slice
  // of the attention scratch, so heads run concurrently.
  void AttendHead(std::int32_t il, std::int32_t h, std::int64_t n, std::int32_t pos0) {
    const std::int64_t hd = c_.head_dim;
    const std::int64_t kv_off = (h / c_.n_group()) * hd;  // kv head h / group
    kernels::AttendArgs a;
    a.q = s_.q_.data() + h * hd;  // [n, n_embd_q]
    a.q_stride = static_cast<std::size_t>(c_.n_embd_q());
    a.n_q = n;
    a.pos0 = pos0;
    a.k = cache_.k(il, 0) + kv_off;
    a.v = cache_.v(il, 0) + kv_off;
    a.kv_stride = static_cast<std::size_t>(c_.n_embd_kv());
    a.head_dim = hd;
    a.scale = c_.AttentionScale();
    a.scratch = s_.scores_.data() + static_cast<std::size_t>(h) * s_.attend_floats_;
    a.out = s_.attn_.data() + h * hd;  // [n, n_embd_q]
    a.out_stride = static_cast<std::size_t>(c_.n_embd_q());
    const std::int64_t window = c_.IsSwaLayer(il) ? c_.n_swa : 0;
    if (window == 0 || pos0 + n <= window) {
      kernels::Attend(a);
      return;
    }
    // Rows at positions below the window see the cache from position 0, as a causal batch; each
    // later row sees exactly its last `window` positions: the cache from its first one, as a
    // single query at relative position window - 1.
    const std::int64_t full = std::clamp<std::int64_t>(window - pos0, 0, n);
    if (full > 0) {
      a.n_q = full;
      kernels::Attend(a);
    }
    for (std::int64_t t = full; t < n; ++t) {
      const std::int64_t first = pos0 + t - window + 1;
      kernels::AttendArgs r = a;
      r.q = a.q + static_cast<std::size_t>(t) * a.q_stride;
      r.out = a.out + static_cast<std::size_t>(t) * a.out_stride;
      r.n_q = 1;
      r.pos0 = window - 1;
      r.k = a.k + static_cast<std::size_t>(first) * a.kv_stride;
      r.v = a.v + static_cast<std::size_t>(first) * a.kv_stride;
      kernels::Attend(r);
    }
  }

  // x += Wdown(act(Wgate h) * Wup h), h = RMSNorm(x) * ffn_norm, act silu or gelu (with post
  // norms, the product is RMS-normalized with post_ffw_norm before the add).
  void FeedForward(const LlamaLayer& l, std::int32_t il, std::int64_t n) {
    float* x = s_.x_.data();        // [n, n_embd]
    float* xb = s_.xb_.data();      // [n, n_embd]
    float* gate = s_.gate_.data();  // [n, n_ff]
    float* up = s_.up_.data();      // [n, n_ff]
    NormRows(x, l.ffn_norm, n, xb);
    Product(l.w_gate, Lora(il, LoraTarget::kFfnGate), xb, n, gate);
    Product(l.w_up, Lora(il, LoraTarget::kFfnUp), xb, n, up);
    const std::int64_t ff = c_.n_ff;
    ForTokens(n, [&](std::int64_t t0, std::int64_t t1) {
      if (c_.ffn_activation == FfnActivation::kGelu) {
        kernels::GeluMul(gate + t0 * ff, up + t0 * ff, gate + t0 * ff, (t1 - t0) * ff);
      } else {
        kernels::SiluMul(gate + t0 * ff, up + t0 * ff, gate + t0 * ff, (t1 - t0) * ff);
      }
    });
    Product(l.w_down, Lora(il, LoraTarget::kFfnDown), gate, n, xb);
    if (!l.post_ffn_norm.empty()) NormRows(xb, l.post_ffn_norm, n, xb);
    AddRows(x, xb, n);
  }

  const LlamaModel& m_;
  const LlamaConfig& c_;
  KvCache& cache_;
  ForwardScratch& s_;
  base::ThreadPool* pool_;  // nullptr: everything on the calling thread
  const LoraSet* lora_;     // nullptr: no adapters
  kernels::RopeParams rope_;      // global layers
  kernels::RopeParams rope_swa_;  // sliding-window layers
};

Result<ForwardScratch> ForwardScratch::Create(const LlamaModel& model, std::int32_t max_batch,
                                              std::int32_t n_ctx, const LoraSet* lora) {
  ForwardScratch s;
  TS_RETURN_IF_ERROR(LlamaForward::CreateScratch(model, max_batch, n_ctx, lora, s));
  return s;
}

Status ForwardScratch::ReserveLora(const LlamaModel& model, const LoraSet& lora) {
  return LlamaForward::ReserveLora(model, lora, *this);
}

std::size_t ForwardScratch::size_bytes() const {
  std::size_t floats = 0;
  for (const base::ZeroedArray<float>* b :
       {&x_, &xb_, &attn_, &q_, &k_, &v_, &gate_, &up_, &scores_, &lora_u_, &lora_y_}) {
    floats += b->size();
  }
  return floats * sizeof(float) + kernel_.size();
}

Status Forward(const LlamaModel& model, KvCache& cache, ForwardScratch& scratch,
               std::span<const std::int32_t> tokens, std::int32_t start_pos, LogitsMode mode,
               std::span<float> logits_out, base::ThreadPool* pool, const LoraSet* lora) {
  const LlamaConfig& c = model.config();
  if (tokens.empty()) {
    return Status(StatusCode::kInvalidArgument, "model: llama: Forward() given no tokens");
  }
  if (cache.n_layer() != c.n_layer || cache.n_embd_kv() != c.n_embd_kv()) {
    return Status(StatusCode::kInvalidArgument,
                  "model: llama: kv cache shape (" + std::to_string(cache.n_layer()) +
                      " layers, kv width " + std::to_string(cache.n_embd_kv()) +
                      ") does not match the model (" + std::to_string(c.n_layer) + ", " +
                      std::to_string(c.n_embd_kv()) + ")");
  }
  if (scratch.max_batch() <= 0 || scratch.n_ctx() < cache.n_ctx()) {
    return Status(StatusCode::kInvalidArgument,
                  "model: llama: scratch for n_ctx " + std::to_string(scratch.n_ctx()) +
                      " is smaller than the kv cache n_ctx " + std::to_string(cache.n_ctx()));
  }
  const std::int64_t n = static_cast<std::int64_t>(tokens.size());
  if (start_pos < 0 || n > cache.n_ctx() || start_pos > cache.n_ctx() - n) {
    return Status(StatusCode::kOutOfRange, "model: llama: start_pos " + std::to_string(start_pos) +
                                               " + " + std::to_string(n) +
                                               " tokens exceeds the context n_ctx " +
                                               std::to_string(cache.n_ctx()));
  }
  for (std::int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= c.n_vocab) {
      return Status(StatusCode::kOutOfRange, "model: llama: token id " + std::to_string(tokens[i]) +
                                                 " at index " + std::to_string(i) +
                                                 " is outside [0, n_vocab " +
                                                 std::to_string(c.n_vocab) + ")");
    }
  }
  const std::uint64_t n_out = mode == LogitsMode::kLast ? 1 : static_cast<std::uint64_t>(n);
  const std::int64_t row_floats = mode == LogitsMode::kHidden ? c.n_embd : c.n_vocab;
  const std::uint64_t need = n_out * static_cast<std::uint64_t>(row_floats);
  if (logits_out.size() < need) {
    return Status(StatusCode::kInvalidArgument, "model: llama: logits_out holds " +
                                                    std::to_string(logits_out.size()) +
                                                    " floats, needs " + std::to_string(need));
  }

  if (lora != nullptr) TS_RETURN_IF_ERROR(LlamaForward::CheckLoraScratch(model, *lora, scratch));

  LlamaForward forward(model, cache, scratch, pool, lora);
  const std::int64_t b = std::max<std::int64_t>(1, scratch.max_batch());  // checked above
  for (std::int64_t first = 0; first < n; first += b) {
    const std::int64_t count = std::min(b, n - first);
    const bool last_chunk = first + count == n;
    const std::int32_t pos0 = start_pos + static_cast<std::int32_t>(first);
    const std::span<const std::int32_t> chunk = tokens.subspan(first, count);
    float* logits = nullptr;
    if (mode != LogitsMode::kLast) {
      logits = logits_out.data() + first * row_floats;
    } else if (last_chunk) {
      logits = logits_out.data();
    }
    forward.Chunk(chunk, pos0, mode, logits);
  }
  return Status::Ok();
}

}  // namespace tessera::model
