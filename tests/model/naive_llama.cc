#include "naive_llama.h"

#include <algorithm>
#include <cmath>

#include "block_decoder.h"

namespace tessera::model::testing {
namespace {

Result<std::vector<double>> Load(const gguf::File& file, const std::string& name) {
  const gguf::TensorInfo* t = file.FindTensor(name);
  if (t == nullptr) return Status(StatusCode::kMissingTensor, "naive: no " + name);
  return DecodeBlocks(static_cast<std::uint32_t>(t->type), t->data, t->n_elements());
}

Result<int> GetInt(const gguf::File& file, const std::string& key, int fallback) {
  if (file.Find(key) == nullptr) return fallback;
  TS_ASSIGN_OR_RETURN(std::uint32_t v, file.GetU32(key));
  return static_cast<int>(v);
}

Result<double> GetFloat(const gguf::File& file, const std::string& key, double fallback) {
  if (file.Find(key) == nullptr) return fallback;
  TS_ASSIGN_OR_RETURN(float v, file.GetF32(key));
  return static_cast<double>(v);
}

}  // namespace

Result<NaiveLlama> NaiveLlama::FromFile(const gguf::File& file) {
  NaiveLlama m;
  TS_ASSIGN_OR_RETURN(std::string_view arch_name, file.GetString("general.architecture"));
  const std::string arch(arch_name);
  m.neox_ = arch == "qwen2" || arch == "qwen3" || arch == "gemma3";
  m.gemma_ = arch == "gemma3";
  TS_ASSIGN_OR_RETURN(m.n_embd_, GetInt(file, arch + ".embedding_length", 0));
  TS_ASSIGN_OR_RETURN(m.n_layer_, GetInt(file, arch + ".block_count", 0));
  TS_ASSIGN_OR_RETURN(m.n_ff_, GetInt(file, arch + ".feed_forward_length", 0));
  TS_ASSIGN_OR_RETURN(m.n_head_, GetInt(file, arch + ".attention.head_count", 0));
  TS_ASSIGN_OR_RETURN(m.n_head_kv_, GetInt(file, arch + ".attention.head_count_kv", m.n_head_));
  TS_ASSIGN_OR_RETURN(m.head_dim_,
                      GetInt(file, arch + ".attention.key_length", m.n_embd_ / m.n_head_));
  TS_ASSIGN_OR_RETURN(m.n_rot_, GetInt(file, arch + ".rope.dimension_count", m.head_dim_));
  TS_ASSIGN_OR_RETURN(m.eps_, GetFloat(file, arch + ".attention.layer_norm_rms_epsilon", 1e-5));
  TS_ASSIGN_OR_RETURN(m.freq_base_, GetFloat(file, arch + ".rope.freq_base", 10000.0));
  // Linear RoPE scaling (the default type): positions divided by the factor, windowed layers
  // excepted.
  const gguf::Value* type = file.Find(arch + ".rope.scaling.type");
  if (type == nullptr || type->string() == "linear") {
    TS_ASSIGN_OR_RETURN(const double factor, GetFloat(file, arch + ".rope.scaling.factor", 0.0));
    if (factor != 0.0) m.pos_scale_ = 1.0 / factor;
  }
  int pattern = 6;
  if (m.gemma_) {
    TS_ASSIGN_OR_RETURN(m.window_, GetInt(file, arch + ".attention.sliding_window", 0));
    TS_ASSIGN_OR_RETURN(pattern, GetInt(file, arch + ".attention.sliding_window_pattern", 6));
    TS_ASSIGN_OR_RETURN(m.freq_base_swa_, GetFloat(file, arch + ".rope.freq_base_swa", 1e4));
    TS_ASSIGN_OR_RETURN(m.softcap_, GetFloat(file, arch + ".final_logit_softcapping", 0.0));
  }
  TS_ASSIGN_OR_RETURN(m.embd_, Load(file, "token_embd.weight"));
  m.n_vocab_ = static_cast<int>(m.embd_.size() / static_cast<std::size_t>(m.n_embd_));
  if (file.FindTensor("output.weight") != nullptr) {
    TS_ASSIGN_OR_RETURN(m.output_, Load(file, "output.weight"));
  } else {
    m.output_ = m.embd_;
    m.tied_ = true;
  }
  TS_ASSIGN_OR_RETURN(m.output_norm_, Load(file, "output_norm.weight"));
  for (int i = 0; i < m.n_layer_; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    Layer l;
    TS_ASSIGN_OR_RETURN(l.attn_norm, Load(file, p + "attn_norm.weight"));
    TS_ASSIGN_OR_RETURN(l.wq, Load(file, p + "attn_q.weight"));
    TS_ASSIGN_OR_RETURN(l.wk, Load(file, p + "attn_k.weight"));
    TS_ASSIGN_OR_RETURN(l.wv, Load(file, p + "attn_v.weight"));
    TS_ASSIGN_OR_RETURN(l.wo, Load(file, p + "attn_output.weight"));
    TS_ASSIGN_OR_RETURN(l.ffn_norm, Load(file, p + "ffn_norm.weight"));
    TS_ASSIGN_OR_RETURN(l.w_gate, Load(file, p + "ffn_gate.weight"));
    TS_ASSIGN_OR_RETURN(l.w_up, Load(file, p + "ffn_up.weight"));
    TS_ASSIGN_OR_RETURN(l.w_down, Load(file, p + "ffn_down.weight"));
    if (arch == "qwen3" || m.gemma_) {
      TS_ASSIGN_OR_RETURN(l.q_norm, Load(file, p + "attn_q_norm.weight"));
      TS_ASSIGN_OR_RETURN(l.k_norm, Load(file, p + "attn_k_norm.weight"));
    }
    if (m.gemma_) {
      TS_ASSIGN_OR_RETURN(l.post_attn_norm, Load(file, p + "post_attention_norm.weight"));
      TS_ASSIGN_OR_RETURN(l.post_ffn_norm, Load(file, p + "post_ffw_norm.weight"));
      l.sliding = m.window_ > 0 && (i + 1) % pattern != 0;
    }
    if (arch == "qwen2") {
      TS_ASSIGN_OR_RETURN(l.bq, Load(file, p + "attn_q.bias"));
      TS_ASSIGN_OR_RETURN(l.bk, Load(file, p + "attn_k.bias"));
      TS_ASSIGN_OR_RETURN(l.bv, Load(file, p + "attn_v.bias"));
    }
    m.layers_.push_back(std::move(l));
  }
  return m;
}

std::vector<double> NaiveLlama::MatVec(const Mat& w, int n_rows, int n_cols,
                                       const std::vector<double>& x) {
  std::vector<double> y(static_cast<std::size_t>(n_rows), 0.0);
  for (int r = 0; r < n_rows; ++r) {
    for (int c = 0; c < n_cols; ++c) y[r] += w[static_cast<std::size_t>(r) * n_cols + c] * x[c];
  }
  return y;
}

std::vector<double> NaiveLlama::RmsNorm(const std::vector<double>& x, const Mat& gain) const {
  double ss = 0.0;
  for (double v : x) ss += v * v;
  const double s = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps_);
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = x[i] * s * gain[i];
  return out;
}

void NaiveLlama::HeadNorm(std::vector<double>& x, int n_heads, const Mat& gain) const {
  for (int h = 0; h < n_heads; ++h) {
    const auto first = x.begin() + static_cast<std::ptrdiff_t>(h) * head_dim_;
    const std::vector<double> head(first, first + head_dim_);
    const std::vector<double> normed = RmsNorm(head, gain);
    std::copy(normed.begin(), normed.end(), first);
  }
}

// llama.cpp "normal" RoPE: pairs (2i, 2i+1) of the first n_rot dims of each head rotate by
// pos * base^(-2i / n_rot). NEOX (qwen2): pairs (i, i + n_rot/2), same angles.
void NaiveLlama::Rope(std::vector<double>& x, int n_heads, double pos, double freq_base) const {
  for (int h = 0; h < n_heads; ++h) {
    for (int i = 0; i < n_rot_ / 2; ++i) {
      const double theta = pos * std::pow(freq_base, -2.0 * i / n_rot_);
      const std::size_t base = static_cast<std::size_t>(h) * head_dim_;
      double& a = x[base + (neox_ ? i : 2 * i)];
      double& b = x[base + (neox_ ? i + n_rot_ / 2 : 2 * i + 1)];
      const double a0 = a, b0 = b;
      a = a0 * std::cos(theta) - b0 * std::sin(theta);
      b = a0 * std::sin(theta) + b0 * std::cos(theta);
    }
  }
}

namespace {

// x rounded to the nearest IEEE half-precision value, ties to even (|x| < 65504 assumed).
double RoundToHalf(double x) {
  if (x == 0.0) return x;
  int e = 0;
  std::frexp(x, &e);  // |x| in [2^(e-1), 2^e)
  const double ulp = std::ldexp(1.0, std::max(e - 1, -14) - 10);  // subnormals below 2^-14
  return std::nearbyint(x / ulp) * ulp;
}

double GeluTanh(double g) {
  return 0.5 * g * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (g + 0.044715 * g * g * g)));
}

}  // namespace

double NaiveLlama::Gelu(double g) const {
  if (!ggml_gelu_table_) return GeluTanh(g);
  if (g <= -10.0) return 0.0;
  if (g >= 10.0) return g;
  return RoundToHalf(GeluTanh(RoundToHalf(g)));
}

std::vector<double> NaiveLlama::LastLogits(std::span<const std::int32_t> tokens) const {
  const std::vector<std::vector<double>> x = Residual(tokens);
  std::vector<double> logits = MatVec(output_, n_vocab_, n_embd_, RmsNorm(x.back(), output_norm_));
  if (softcap_ > 0.0) {
    for (double& l : logits) l = softcap_ * std::tanh(l / softcap_);
  }
  return logits;
}

std::vector<std::vector<double>> NaiveLlama::NormedHidden(
    std::span<const std::int32_t> tokens) const {
  std::vector<std::vector<double>> x = Residual(tokens);
  for (std::vector<double>& row : x) row = RmsNorm(row, output_norm_);
  return x;
}

NaiveLlama::Mat* NaiveLlama::Matrix(const std::string& name, int& n_rows, int& n_cols) {
  const int kv = n_head_kv_ * head_dim_;
  const int nq = n_head_ * head_dim_;
  if (name == "output.weight") {
    n_rows = n_vocab_;
    n_cols = n_embd_;
    return &output_;
  }
  for (int i = 0; i < n_layer_; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    if (name.rfind(p, 0) != 0) continue;
    const std::string rest = name.substr(p.size());
    Layer& l = layers_[static_cast<std::size_t>(i)];
    struct Entry {
      const char* name;
      Mat* w;
      int rows, cols;
    };
    const Entry entries[] = {{"attn_q.weight", &l.wq, nq, n_embd_},
                             {"attn_k.weight", &l.wk, kv, n_embd_},
                             {"attn_v.weight", &l.wv, kv, n_embd_},
                             {"attn_output.weight", &l.wo, n_embd_, nq},
                             {"ffn_gate.weight", &l.w_gate, n_ff_, n_embd_},
                             {"ffn_up.weight", &l.w_up, n_ff_, n_embd_},
                             {"ffn_down.weight", &l.w_down, n_embd_, n_ff_}};
    for (const Entry& e : entries) {
      if (rest == e.name) {
        n_rows = e.rows;
        n_cols = e.cols;
        return e.w;
      }
    }
  }
  return nullptr;
}

Status NaiveLlama::MergeLora(const gguf::File& adapter, double user_scale) {
  double alpha = 0.0;
  if (adapter.Find("adapter.lora.alpha") != nullptr) {
    TS_ASSIGN_OR_RETURN(float a, adapter.GetF32("adapter.lora.alpha"));
    alpha = a;
  }
  const std::string suffix = ".lora_a";
  for (const gguf::TensorInfo& t : adapter.tensors()) {
    if (t.name.size() <= suffix.size() ||
        t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string target = t.name.substr(0, t.name.size() - suffix.size());
    int n_rows = 0, n_cols = 0;
    Mat* w = Matrix(target, n_rows, n_cols);
    if (w == nullptr) return Status(StatusCode::kNotFound, "naive: no matrix " + target);
    if (tied_ && w == &output_) {
      return Status(StatusCode::kInvalidArgument, "naive: output is tied");
    }
    TS_ASSIGN_OR_RETURN(Mat a, Load(adapter, target + ".lora_a"));  // [r][n_cols]
    TS_ASSIGN_OR_RETURN(Mat b, Load(adapter, target + ".lora_b"));  // [n_rows][r]
    const int r = static_cast<int>(a.size() / static_cast<std::size_t>(n_cols));
    if (a.size() != static_cast<std::size_t>(r) * n_cols ||
        b.size() != static_cast<std::size_t>(n_rows) * r) {
      return Status(StatusCode::kShapeMismatch, "naive: LoRA shapes of " + target);
    }
    const double s = alpha == 0.0 ? user_scale : user_scale * alpha / r;
    for (int o = 0; o < n_rows; ++o) {
      for (int i = 0; i < n_cols; ++i) {
        double ba = 0.0;
        for (int k = 0; k < r; ++k) {
          ba +=
              b[static_cast<std::size_t>(o) * r + k] * a[static_cast<std::size_t>(k) * n_cols + i];
        }
        (*w)[static_cast<std::size_t>(o) * n_cols + i] += s * ba;
      }
    }
  }
  return Status::Ok();
}

std::vector<std::vector<double>> NaiveLlama::Residual(std::span<const std::int32_t> tokens) const {
  const int n = static_cast<int>(tokens.size());
  const int kv = n_head_kv_ * head_dim_;
  const int nq = n_head_ * head_dim_;
  std::vector<std::vector<double>> x(n);
  for (int t = 0; t < n; ++t) {
    const auto row = embd_.begin() + static_cast<std::ptrdiff_t>(tokens[t]) * n_embd_;
    x[t].assign(row, row + n_embd_);
    if (gemma_) {  // Gemma3TextScaledWordEmbedding: times sqrt(hidden_size)
      for (double& e : x[t]) e *= std::sqrt(static_cast<double>(n_embd_));
    }
  }
  for (const Layer& l : layers_) {
    std::vector<std::vector<double>> q(n), k(n), v(n);
    for (int t = 0; t < n; ++t) {
      const std::vector<double> h = RmsNorm(x[t], l.attn_norm);
      q[t] = MatVec(l.wq, nq, n_embd_, h);
      k[t] = MatVec(l.wk, kv, n_embd_, h);
      v[t] = MatVec(l.wv, kv, n_embd_, h);
      for (std::size_t i = 0; i < l.bq.size(); ++i) q[t][i] += l.bq[i];
      for (std::size_t i = 0; i < l.bk.size(); ++i) k[t][i] += l.bk[i];
      for (std::size_t i = 0; i < l.bv.size(); ++i) v[t][i] += l.bv[i];
      if (!l.q_norm.empty()) {  // qwen3: every head RMS-normalized with its gains
        HeadNorm(q[t], n_head_, l.q_norm);
        HeadNorm(k[t], n_head_kv_, l.k_norm);
      }
      const double base = l.sliding ? freq_base_swa_ : freq_base_;
      const double pos = l.sliding ? t : t * pos_scale_;
      Rope(q[t], n_head_, pos, base);
      Rope(k[t], n_head_kv_, pos, base);
    }
    for (int t = 0; t < n; ++t) {
      std::vector<double> attn(static_cast<std::size_t>(nq), 0.0);
      for (int h = 0; h < n_head_; ++h) {
        const int g = h / (n_head_ / n_head_kv_);
        std::vector<double> s(static_cast<std::size_t>(t + 1));
        // A sliding-window layer masks keys window_ or more positions back.
        const int first = l.sliding ? std::max(0, t - window_ + 1) : 0;
        for (int p = 0; p <= t; ++p) {
          double dot = 0.0;
          for (int i = 0; i < head_dim_; ++i) {
            dot += q[t][h * head_dim_ + i] * k[p][g * head_dim_ + i];
          }
          s[p] = p < first ? -INFINITY : dot / std::sqrt(static_cast<double>(head_dim_));
        }
        const double mx = *std::max_element(s.begin(), s.end());
        double sum = 0.0;
        for (double& e : s) sum += (e = std::exp(e - mx));
        for (int p = 0; p <= t; ++p) {
          for (int i = 0; i < head_dim_; ++i) {
            attn[h * head_dim_ + i] += s[p] / sum * v[p][g * head_dim_ + i];
          }
        }
      }
      std::vector<double> o = MatVec(l.wo, n_embd_, nq, attn);
      if (!l.post_attn_norm.empty()) o = RmsNorm(o, l.post_attn_norm);
      for (int i = 0; i < n_embd_; ++i) x[t][i] += o[i];
    }
    for (int t = 0; t < n; ++t) {
      const std::vector<double> h = RmsNorm(x[t], l.ffn_norm);
      const std::vector<double> gate = MatVec(l.w_gate, n_ff_, n_embd_, h);
      std::vector<double> up = MatVec(l.w_up, n_ff_, n_embd_, h);
      for (int i = 0; i < n_ff_; ++i) {
        const double g = gate[i];
        up[i] *= gemma_ ? Gelu(g) : g / (1.0 + std::exp(-g));
      }
      std::vector<double> down = MatVec(l.w_down, n_embd_, n_ff_, up);
      if (!l.post_ffn_norm.empty()) down = RmsNorm(down, l.post_ffn_norm);
      for (int i = 0; i < n_embd_; ++i) x[t][i] += down[i];
    }
  }
  return x;
}

}  // namespace tessera::model::testing
