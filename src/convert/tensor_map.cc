#include "convert/tensor_map.h"

namespace tessera::convert {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct LinearRole {
  std::string_view hf;  // module suffix after "model.layers.N."
  std::string_view role;
  std::string_view gguf;  // after "blk.N."
};

constexpr LinearRole kLinear[] = {
    {"self_attn.q_proj", "q", "attn_q"},   {"self_attn.k_proj", "k", "attn_k"},
    {"self_attn.v_proj", "v", "attn_v"},   {"self_attn.o_proj", "o", "attn_output"},
    {"mlp.gate_proj", "gate", "ffn_gate"}, {"mlp.up_proj", "up", "ffn_up"},
    {"mlp.down_proj", "down", "ffn_down"},
};

}  // namespace

std::vector<TensorSpec> ExpectedTensors(const HfConfig& config) {
  const model::LlamaConfig& c = config.llama;
  const auto embd = static_cast<std::uint64_t>(c.n_embd);
  const auto embd_kv = static_cast<std::uint64_t>(c.n_embd_kv());
  const auto embd_q = static_cast<std::uint64_t>(c.n_embd_q());
  const auto head = static_cast<std::uint64_t>(c.head_dim);
  const auto ff = static_cast<std::uint64_t>(c.n_ff);
  const auto vocab = static_cast<std::uint64_t>(c.n_vocab);
  const bool permute = c.rope_mode == kernels::RopeMode::kNormal;  // llama
  // Gemma's RMSNorm multiplies by (1 + weight): the GGUF stores 1 + weight, as llama.cpp's
  // converter does.
  const float norm_add = c.post_norms ? 1.0f : 0.0f;
  std::vector<TensorSpec> specs;
  auto norm = [&](const std::string& hf, const std::string& gguf, std::uint64_t n) {
    TensorSpec t{hf, gguf, {n}};
    t.add = norm_add;
    specs.push_back(t);
  };
  specs.push_back({"model.embed_tokens.weight", "token_embd.weight", {vocab, embd}});
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string hf = "model.layers." + std::to_string(i) + ".";
    const std::string g = "blk." + std::to_string(i) + ".";
    norm(hf + "input_layernorm.weight", g + "attn_norm.weight", embd);
    specs.push_back({hf + "self_attn.q_proj.weight",
                     g + "attn_q.weight",
                     {embd_q, embd},
                     permute ? c.n_head : 0});
    specs.push_back({hf + "self_attn.k_proj.weight",
                     g + "attn_k.weight",
                     {embd_kv, embd},
                     permute ? c.n_head_kv : 0});
    specs.push_back({hf + "self_attn.v_proj.weight", g + "attn_v.weight", {embd_kv, embd}});
    if (c.qkv_bias) {
      specs.push_back({hf + "self_attn.q_proj.bias", g + "attn_q.bias", {embd_q}});
      specs.push_back({hf + "self_attn.k_proj.bias", g + "attn_k.bias", {embd_kv}});
      specs.push_back({hf + "self_attn.v_proj.bias", g + "attn_v.bias", {embd_kv}});
    }
    if (c.qk_norm) {
      norm(hf + "self_attn.q_norm.weight", g + "attn_q_norm.weight", head);
      norm(hf + "self_attn.k_norm.weight", g + "attn_k_norm.weight", head);
    }
    specs.push_back({hf + "self_attn.o_proj.weight", g + "attn_output.weight", {embd, embd_q}});
    if (c.post_norms) {  // gemma3: post_attention_layernorm normalizes the attention output
      norm(hf + "post_attention_layernorm.weight", g + "post_attention_norm.weight", embd);
      norm(hf + "pre_feedforward_layernorm.weight", g + "ffn_norm.weight", embd);
      norm(hf + "post_feedforward_layernorm.weight", g + "post_ffw_norm.weight", embd);
    } else {
      norm(hf + "post_attention_layernorm.weight", g + "ffn_norm.weight", embd);
    }
    specs.push_back({hf + "mlp.gate_proj.weight", g + "ffn_gate.weight", {ff, embd}});
    specs.push_back({hf + "mlp.up_proj.weight", g + "ffn_up.weight", {ff, embd}});
    specs.push_back({hf + "mlp.down_proj.weight", g + "ffn_down.weight", {embd, ff}});
  }
  norm("model.norm.weight", "output_norm.weight", embd);
  TensorSpec output{"lm_head.weight", "output.weight", {vocab, embd}};
  output.skip = config.tied;
  specs.push_back(output);
  return specs;
}

bool IsIgnoredHfTensor(std::string_view name) {
  return name.substr(0, 13) == "model.layers." && EndsWith(name, ".self_attn.rotary_emb.inv_freq");
}

Result<LinearModule> MapLinearModule(std::string_view module) {
  constexpr std::string_view kPrefix = "model.layers.";
  auto refuse = [&] {
    return Unsupported("convert: module \"" + std::string(module) +
                       "\" is not a linear layer of a block (model.layers.N.self_attn.{q,k,v,o}"
                       "_proj or model.layers.N.mlp.{gate,up,down}_proj)");
  };
  if (module.substr(0, kPrefix.size()) != kPrefix) return refuse();
  std::size_t p = kPrefix.size();
  int layer = 0;
  const std::size_t digits_start = p;
  while (p < module.size() && module[p] >= '0' && module[p] <= '9' && p - digits_start < 6) {
    layer = layer * 10 + (module[p] - '0');
    ++p;
  }
  if (p == digits_start || p >= module.size() || module[p] != '.') return refuse();
  const std::string_view rest = module.substr(p + 1);
  for (const LinearRole& r : kLinear) {
    if (rest == r.hf) {
      LinearModule m;
      m.layer = layer;
      m.role = std::string(r.role);
      m.gguf_weight = "blk." + std::to_string(layer) + "." + std::string(r.gguf) + ".weight";
      return m;
    }
  }
  return refuse();
}

}  // namespace tessera::convert
