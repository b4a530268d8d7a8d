#include "hf_reference.h"

#include <cmath>
#include <string>

namespace tessera::convert::testing {
namespace {

using Vec = std::vector<double>;

// y = W x for W [rows, cols] row-major (HF linear weight [out, in]).
Vec Linear(const FixtureTensor& w, const Vec& x) {
  const std::uint64_t rows = w.shape[0], cols = w.shape[1];
  Vec y(rows, 0.0);
  for (std::uint64_t r = 0; r < rows; ++r) {
    double s = 0.0;
    for (std::uint64_t c = 0; c < cols; ++c)
      s += static_cast<double>(w.values[r * cols + c]) * x[c];
    y[r] = s;
  }
  return y;
}

// offset: 0 for LlamaRMSNorm (x * w), 1 for Gemma3RMSNorm (x * (1 + w)).
Vec RmsNorm(const Vec& x, const FixtureTensor& g, double eps, double offset = 0.0) {
  double ss = 0.0;
  for (double v : x) ss += v * v;
  const double scale = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
  Vec y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * (offset + g.values[i]);
  return y;
}

// transformers' rotate_half: (x[i], x[i + d/2]) rotated by pos * base^(-2i/d).
void RopeHalf(Vec& x, int n_heads, int head_dim, double pos, double base) {
  const int half = head_dim / 2;
  for (int h = 0; h < n_heads; ++h) {
    double* v = x.data() + h * head_dim;
    for (int i = 0; i < half; ++i) {
      const double theta = pos * std::pow(base, -2.0 * i / head_dim);
      const double c = std::cos(theta), s = std::sin(theta);
      const double a = v[i], b = v[i + half];
      v[i] = a * c - b * s;
      v[i + half] = b * c + a * s;
    }
  }
}

// RMSNorm of each hd-wide head of x with the same gains.
void HeadRmsNorm(Vec& x, int n_heads, int hd, const FixtureTensor& gain, double eps,
                 double offset) {
  for (int h = 0; h < n_heads; ++h) {
    double ss = 0.0;
    for (int i = 0; i < hd; ++i) ss += x[h * hd + i] * x[h * hd + i];
    const double scale = 1.0 / std::sqrt(ss / hd + eps);
    for (int i = 0; i < hd; ++i) {
      x[h * hd + i] *= scale * (offset + gain.values[static_cast<std::size_t>(i)]);
    }
  }
}

void AddBias(Vec& x, const TensorMap& t, const std::string& name) {
  auto it = t.find(name);
  if (it == t.end()) return;
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += it->second.values[i];
}

}  // namespace

double LogProb(const std::vector<double>& logits, std::int32_t id) {
  double mx = logits[0];
  for (double v : logits) mx = std::max(mx, v);
  double sum = 0.0;
  for (double v : logits) sum += std::exp(v - mx);
  return logits[static_cast<std::size_t>(id)] - mx - std::log(sum);
}

std::vector<std::vector<double>> ReferenceLogits(const ModelShape& s, const TensorMap& t,
                                                 const std::vector<std::int32_t>& tokens) {
  const int hd = s.head_dim > 0 ? s.head_dim : s.n_embd / s.n_head;
  const int group = s.n_head / s.n_head_kv;
  // Gemma3ForCausalLM: (1 + w) norms, embeddings times sqrt(hidden_size), scores times
  // query_pre_attn_scalar^-0.5 (head_dim here), layer i sliding unless layer_types says full
  // ((i + 1) % pattern == 0), local RoPE base there, linear scaling in the others, GELU (tanh),
  // norms of the attention and MLP outputs, final soft-capping.
  const bool gemma = s.arch == "gemma3";
  const double eps = gemma ? 1e-6 : 1e-5;
  const double off = gemma ? 1.0 : 0.0;
  const auto n = tokens.size();
  const FixtureTensor& embd = t.at("model.embed_tokens.weight");
  const FixtureTensor& out_w = s.tied ? embd : t.at("lm_head.weight");
  std::vector<Vec> x(n, Vec(static_cast<std::size_t>(s.n_embd)));
  for (std::size_t p = 0; p < n; ++p) {
    for (int i = 0; i < s.n_embd; ++i) {
      x[p][static_cast<std::size_t>(i)] =
          embd.values[static_cast<std::size_t>(tokens[p]) * s.n_embd + i] *
          (gemma ? std::sqrt(static_cast<double>(s.n_embd)) : 1.0);
    }
  }
  for (int l = 0; l < s.n_layer; ++l) {
    const std::string pre = "model.layers." + std::to_string(l) + ".";
    const bool sliding = gemma && (l + 1) % s.pattern != 0;
    const double base = !gemma ? 10000.0 : sliding ? s.local_base : 1000000.0;
    const double pos_scale = gemma && !sliding && s.rope_linear > 0 ? 1.0 / s.rope_linear : 1.0;
    std::vector<Vec> q(n), k(n), v(n);
    for (std::size_t p = 0; p < n; ++p) {
      const Vec h = RmsNorm(x[p], t.at(pre + "input_layernorm.weight"), eps, off);
      q[p] = Linear(t.at(pre + "self_attn.q_proj.weight"), h);
      k[p] = Linear(t.at(pre + "self_attn.k_proj.weight"), h);
      v[p] = Linear(t.at(pre + "self_attn.v_proj.weight"), h);
      AddBias(q[p], t, pre + "self_attn.q_proj.bias");
      AddBias(k[p], t, pre + "self_attn.k_proj.bias");
      AddBias(v[p], t, pre + "self_attn.v_proj.bias");
      if (s.arch == "qwen3" || gemma) {  // RMSNorm over each head, before the rotary embedding
        HeadRmsNorm(q[p], s.n_head, hd, t.at(pre + "self_attn.q_norm.weight"), eps, off);
        HeadRmsNorm(k[p], s.n_head_kv, hd, t.at(pre + "self_attn.k_norm.weight"), eps, off);
      }
      RopeHalf(q[p], s.n_head, hd, static_cast<double>(p) * pos_scale, base);
      RopeHalf(k[p], s.n_head_kv, hd, static_cast<double>(p) * pos_scale, base);
    }
    for (std::size_t p = 0; p < n; ++p) {
      Vec attn(static_cast<std::size_t>(hd * s.n_head), 0.0);
      for (int h = 0; h < s.n_head; ++h) {
        const int kvh = h / group;
        std::vector<double> scores(p + 1);
        double mx = -1e300;
        for (std::size_t j = 0; j <= p; ++j) {
          double d = 0.0;
          for (int i = 0; i < hd; ++i) d += q[p][h * hd + i] * k[j][kvh * hd + i];
          scores[j] = d / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, scores[j]);
        }
        // transformers' sliding mask: key j visible iff p - j < sliding_window.
        const bool masked_any = sliding && p + 1 > static_cast<std::size_t>(s.window);
        const std::size_t first = masked_any ? p + 1 - static_cast<std::size_t>(s.window) : 0;
        double sum = 0.0;
        for (std::size_t j = 0; j <= p; ++j) {
          scores[j] = j < first ? 0.0 : std::exp(scores[j] - mx);
          sum += scores[j];
        }
        for (std::size_t j = 0; j <= p; ++j) {
          for (int i = 0; i < hd; ++i) attn[h * hd + i] += scores[j] / sum * v[j][kvh * hd + i];
        }
      }
      Vec o = Linear(t.at(pre + "self_attn.o_proj.weight"), attn);
      if (gemma) o = RmsNorm(o, t.at(pre + "post_attention_layernorm.weight"), eps, off);
      for (int i = 0; i < s.n_embd; ++i) x[p][i] += o[i];
      const Vec h = RmsNorm(
          x[p], t.at(pre + (gemma ? "pre_feedforward_layernorm.weight"
                                   : "post_attention_layernorm.weight")),
          eps, off);
      const Vec g = Linear(t.at(pre + "mlp.gate_proj.weight"), h);
      const Vec u = Linear(t.at(pre + "mlp.up_proj.weight"), h);
      Vec a(g.size());
      for (std::size_t i = 0; i < g.size(); ++i) {
        const double gi = g[i];
        const double act =
            gemma ? 0.5 * gi * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (gi + 0.044715 * gi * gi * gi)))
                  : gi / (1.0 + std::exp(-gi));
        a[i] = act * u[i];
      }
      Vec d = Linear(t.at(pre + "mlp.down_proj.weight"), a);
      if (gemma) d = RmsNorm(d, t.at(pre + "post_feedforward_layernorm.weight"), eps, off);
      for (int i = 0; i < s.n_embd; ++i) x[p][i] += d[i];
    }
  }
  std::vector<Vec> logits;
  for (std::size_t p = 0; p < n; ++p) {
    Vec l = Linear(out_w, RmsNorm(x[p], t.at("model.norm.weight"), eps, off));
    if (s.softcap > 0) {
      for (double& v : l) v = s.softcap * std::tanh(v / s.softcap);
    }
    logits.push_back(l);
  }
  return logits;
}

}  // namespace tessera::convert::testing
