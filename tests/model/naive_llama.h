// A deliberately naive llama / qwen2 / qwen3 / gemma3 forward pass for tests: every weight decoded to double by
// block_decoder.h (written apart from the engine's decoders, so it sees the weights exactly as
// stored without trusting src/tensor), plain loops in double precision,
// and no KV cache: LastLogits() recomputes every position of the prefix from scratch.
// It reads the metadata itself (not through model/config.h) so that a bug there shows up.
// qwen2 differs from llama in three places: its keys are under "qwen2.", Q/K/V projections add a
// bias (blk.N.attn_{q,k,v}.bias), and RoPE rotates NEOX pairs (i, i + n_rot/2). qwen3 (keys
// under "qwen3.") has no biases; each query and key head is RMS-normalized with the gains
// blk.N.attn_q_norm / attn_k_norm before RoPE (NEOX), and heads are attention.key_length wide,
// which need not be n_embd / n_head (Q and the attention output are n_head * head_dim wide).
// gemma3 is written from Hugging Face's Gemma3 definition (keys under "gemma3."): qwen3's
// attention block, embeddings times sqrt(n_embd), GELU (tanh form) in the gated FFN, an RMSNorm
// of the attention output and of the FFN output before each residual add, and layer i is a
// sliding-window layer unless (i + 1) is a multiple of the pattern (default 6): its queries see
// keys less than `sliding_window` positions back and rotate with base rope.freq_base_swa
// (default 10000). Final logits are soft-capped when final_logit_softcapping is set.
// A LoRA adapter is applied the naive way too: merged into the double weights, W += s * B A.
#ifndef TESSERA_TESTS_MODEL_NAIVE_LLAMA_H_
#define TESSERA_TESTS_MODEL_NAIVE_LLAMA_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "tessera/status.h"

namespace tessera::model::testing {

class NaiveLlama {
 public:
  static Result<NaiveLlama> FromFile(const gguf::File& file);

  // Logits [n_vocab] of the last token of `tokens` (positions 0..n-1).
  std::vector<double> LastLogits(std::span<const std::int32_t> tokens) const;
  // The final hidden state after the output norm, RMSNorm(x) * output_norm, of every position:
  // [n][n_embd].
  std::vector<std::vector<double>> NormedHidden(std::span<const std::int32_t> tokens) const;

  // Merges a LoRA adapter GGUF (llama.cpp's convention: N.lora_a dims [n_in, r], N.lora_b dims
  // [r, n_out], adapter.lora.alpha) into the weights: W += s * B A for each adapted matrix N,
  // s = user_scale * alpha / r, or user_scale when alpha is 0 or absent.
  Status MergeLora(const gguf::File& adapter, double user_scale);

  // gemma3: computes GELU as llama.cpp's CPU backend does (ggml's GGML_GELU_FP16 table): the
  // input rounded to half precision, GELU of that, the result rounded to half precision (0 below
  // -10, the input itself above 10). Off by default; tests use it to show that a difference from
  // llama.cpp comes from that table alone.
  void set_ggml_gelu_table(bool on) { ggml_gelu_table_ = on; }

  int n_vocab() const { return n_vocab_; }
  int n_embd() const { return n_embd_; }

 private:
  using Mat = std::vector<double>;  // row-major [n_rows][n_cols]
  struct Layer {
    Mat attn_norm, wq, wk, wv, wo, ffn_norm, w_gate, w_up, w_down;
    Mat bq, bk, bv;  // empty for llama
    Mat q_norm, k_norm;  // qwen3's per-head gains [head_dim]; empty otherwise
    Mat post_attn_norm, post_ffn_norm;  // gemma3's; empty otherwise
    bool sliding = false;               // gemma3: a sliding-window layer
  };
  // y[r] = sum_c w[r][c] x[c].
  static std::vector<double> MatVec(const Mat& w, int n_rows, int n_cols,
                                    const std::vector<double>& x);
  std::vector<double> RmsNorm(const std::vector<double>& x, const Mat& gain) const;
  void Rope(std::vector<double>& x, int n_heads, double pos, double base) const;
  // RMSNorm of each head_dim-wide head of x with the same gains.
  void HeadNorm(std::vector<double>& x, int n_heads, const Mat& gain) const;
  // The residual stream after the last layer, every position: [n][n_embd].
  std::vector<std::vector<double>> Residual(std::span<const std::int32_t> tokens) const;
  // The weights named by a GGUF matrix name ("blk.3.ffn_up.weight", "output.weight") with
  // their rows and columns; nullptr when the name is not a matrix of this model.
  Mat* Matrix(const std::string& name, int& n_rows, int& n_cols);

  int n_vocab_ = 0, n_embd_ = 0, n_layer_ = 0, n_ff_ = 0, n_head_ = 0, n_head_kv_ = 0;
  int head_dim_ = 0, n_rot_ = 0;
  double eps_ = 1e-5, freq_base_ = 10000.0;
  bool neox_ = false;  // qwen2, qwen3, gemma3
  bool gemma_ = false;
  bool ggml_gelu_table_ = false;
  double Gelu(double g) const;
  int window_ = 0;  // gemma3.attention.sliding_window
  double freq_base_swa_ = 10000.0, softcap_ = 0.0;
  double pos_scale_ = 1.0;  // 1 / rope.scaling.factor (linear)
  bool tied_ = false;  // no output.weight: output_ is a copy of embd_
  Mat embd_, output_, output_norm_;
  std::vector<Layer> layers_;
};

}  // namespace tessera::model::testing

#endif  // TESSERA_TESTS_MODEL_NAIVE_LLAMA_H_
