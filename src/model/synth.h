// WriteRandomLlama: writes a llama-, qwen2-, qwen3- or gemma3-architecture GGUF with seeded
// random weights, for tests, benchmarks and the `tessera synth` command.
//
// Weights are drawn from N(0, stddev) with std::mt19937_64 and our own Box-Muller transform, so
// a seed gives the same bytes with every standard library. Matrices are quantized to the chosen
// types with tensor::Quantize; norm vectors are F32 (gain 1.0, or 1 + N(0, norm_stddev) when
// norm_stddev > 0). Tensor names, dims (innermost first) and metadata keys are llama.cpp's (see
// model/llama.h). Tokenizer metadata is copied (every "tokenizer.*" key) from
// `tokenizer_source` when given, and n_vocab must then equal its token count; otherwise a
// trivial "llama" (SentencePiece-style) vocabulary of n_vocab tokens is generated: <unk>, <s>,
// </s>, the 256 byte tokens <0x00>..<0xFF>, then printable pieces (n_vocab >= 259).
//
// Thread safety: reentrant. Generation draws in a fixed order: token_embd, output (if untied),
// then per layer attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down; then, only
// when norm_stddev > 0, output_norm and per layer attn_norm, ffn_norm. Each tensor's values are
// drawn row by row, innermost index fastest, before quantization.
#ifndef TESSERA_MODEL_SYNTH_H_
#define TESSERA_MODEL_SYNTH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "tensor/types.h"
#include "tessera/status.h"

namespace tessera::model {

struct SynthSpec {
  std::int32_t n_vocab = 512;
  std::int32_t n_embd = 64;
  std::int32_t n_layer = 2;
  std::int32_t n_head = 4;
  std::int32_t n_head_kv = 4;
  std::int32_t n_ff = 128;
  std::int32_t n_ctx = 256;
  std::int32_t n_rot = 0;  // 0: head_dim
  // Width of one attention head; 0: n_embd / n_head. Set, the file carries
  // <arch>.attention.key_length and value_length (qwen3 models use 128 whatever n_embd).
  std::int32_t head_dim = 0;
  float rope_freq_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied_output = false;  // true: no output.weight (llama.cpp reuses token_embd)
  tensor::DType matrix_type = tensor::DType::kF32;  // the blk.N.* matrices
  tensor::DType output_type = tensor::DType::kF32;  // output.weight (ignored when tied)
  tensor::DType embd_type = tensor::DType::kF32;    // token_embd.weight
  std::uint64_t seed = 1;
  float stddev = 0.02f;                      // of every matrix element
  float norm_stddev = 0.0f;                  // > 0: norm gains 1 + N(0, norm_stddev); 0: all 1.0
  std::string name = "tessera-synth-llama";  // general.name
  // "llama"; "qwen2": the same tensors plus F32 biases attn_q.bias [n_embd_q], attn_k.bias and
  // attn_v.bias [n_embd_kv] drawn from N(0, bias_stddev) after the norms (so the llama draw order
  // is unchanged), and the metadata under "qwen2."; "qwen3": no biases, and after the norms the
  // per-layer query and key head norms attn_q_norm, attn_k_norm [head_dim] (gains as the other
  // norms), metadata under "qwen3."; "gemma3": qwen3's tensors, then per layer the post norms
  // post_attention_norm and post_ffw_norm [n_embd], metadata under "gemma3." with the
  // sliding-window keys below.
  std::string architecture = "llama";
  // gemma3 only; each key is written when the value is > 0 (else llama.cpp's defaults apply:
  // no window, pattern 6, SWA RoPE base 10000, no soft-capping).
  std::int32_t sliding_window = 0;          // gemma3.attention.sliding_window
  std::int32_t sliding_window_pattern = 0;  // gemma3.attention.sliding_window_pattern
  float rope_freq_base_swa = 0.0f;          // gemma3.rope.freq_base_swa
  float final_logit_softcap = 0.0f;         // gemma3.final_logit_softcapping
  float bias_stddev = 0.02f;
  const gguf::File* tokenizer_source = nullptr;  // borrowed for the call; may be null
};

// Checks the spec (the same bounds as ValidateLlamaConfig, row lengths that are multiples of
// each type's block size, compute-supported types): kInvalidArgument naming the field.
Status ValidateSynthSpec(const SynthSpec& spec);

// The file as bytes, and written to `path` (kIoError if the write fails).
Result<std::vector<std::uint8_t>> BuildRandomLlama(const SynthSpec& spec);
Status WriteRandomLlama(const SynthSpec& spec, const std::string& path);

}  // namespace tessera::model

#endif  // TESSERA_MODEL_SYNTH_H_
