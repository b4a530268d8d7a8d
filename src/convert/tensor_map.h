// Tensor names: Hugging Face llama / qwen2 / qwen3 / gemma3 checkpoint names to llama.cpp GGUF names, with the
// shape each must have and whether its rows are permuted for RoPE.
//
//   model.embed_tokens.weight                  [n_vocab, n_embd]     token_embd.weight
//   model.norm.weight                          [n_embd]              output_norm.weight
//   lm_head.weight                             [n_vocab, n_embd]     output.weight (absent when
//                                                                    tied: the engine ties it)
//   model.layers.N.input_layernorm.weight      [n_embd]              blk.N.attn_norm.weight
//   model.layers.N.self_attn.q_proj.weight     [n_embd, n_embd]      blk.N.attn_q.weight *
//   model.layers.N.self_attn.k_proj.weight     [n_embd_kv, n_embd]   blk.N.attn_k.weight *
//   model.layers.N.self_attn.v_proj.weight     [n_embd_kv, n_embd]   blk.N.attn_v.weight
//   model.layers.N.self_attn.o_proj.weight     [n_embd, n_embd]      blk.N.attn_output.weight
//   model.layers.N.self_attn.{q,k,v}_proj.bias (qwen2 only)          blk.N.attn_{q,k,v}.bias
//   model.layers.N.post_attention_layernorm.weight [n_embd]          blk.N.ffn_norm.weight
//   model.layers.N.mlp.gate_proj.weight        [n_ff, n_embd]        blk.N.ffn_gate.weight
//   model.layers.N.mlp.up_proj.weight          [n_ff, n_embd]        blk.N.ffn_up.weight
//   model.layers.N.mlp.down_proj.weight        [n_embd, n_ff]        blk.N.ffn_down.weight
//   model.layers.N.self_attn.{q,k}_norm.weight [head_dim]            blk.N.attn_{q,k}_norm.weight
//                                                                    (qwen3, gemma3)
// gemma3 instead: post_attention_layernorm -> blk.N.post_attention_norm (it normalizes the
// attention output), pre_feedforward_layernorm -> blk.N.ffn_norm, post_feedforward_layernorm ->
// blk.N.post_ffw_norm; and every norm weight w is stored as 1 + w (Gemma's RMSNorm multiplies
// by 1 + w; the engine, like llama.cpp, by the stored gain).
// Shapes are Hugging Face's, outermost first ([out, in] for a linear layer); GGUF dims are the
// reverse. * llama only: rows permuted from Hugging Face's rotate-half order to interleaved
// pairs (tensor_convert.h), over n_head heads for q and n_head_kv for k. qwen2 keeps HF order
// (the engine rotates NEOX pairs for it).
// Ignored on purpose: model.layers.N.self_attn.rotary_emb.inv_freq (a buffer HF recomputes).
//
// Thread safety: pure functions.
#ifndef TESSERA_CONVERT_TENSOR_MAP_H_
#define TESSERA_CONVERT_TENSOR_MAP_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "convert/hf_config.h"
#include "tessera/status.h"

namespace tessera::convert {

struct TensorSpec {
  std::string hf_name;
  std::string gguf_name;
  std::vector<std::uint64_t> shape;  // Hugging Face order, outermost first
  std::int32_t permute_heads = 0;    // > 0: rows permuted over this many heads
  bool skip = false;                 // accepted but not written (lm_head of a tied model)
  float add = 0.0f;                  // added to every element (gemma3 norms: 1)
};

// Every tensor the checkpoint must (or, for lm_head of a tied model, may) hold, in GGUF order.
std::vector<TensorSpec> ExpectedTensors(const HfConfig& config);

// A tensor name the converter ignores on purpose.
bool IsIgnoredHfTensor(std::string_view name);

// A linear layer of the block, as PEFT names its module: "model.layers.3.self_attn.q_proj" ->
// layer 3, GGUF weight "blk.3.attn_q.weight", role "q".
struct LinearModule {
  int layer = -1;
  std::string role;  // q, k, v, o, gate, up, down
  std::string gguf_weight;
};
// kUnsupported naming the module when it is not one of the seven linear layers of a block.
Result<LinearModule> MapLinearModule(std::string_view module);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_TENSOR_MAP_H_
