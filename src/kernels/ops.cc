// Scalar reference float operations: the table returned by ReferenceOps() (kernels.h).
#include <cmath>
#include <limits>
#include <string>

#include "base/check.h"
#include "kernels/kernels.h"

namespace tessera::kernels {
namespace {

void RmsNormRef(const float* x, const float* weight, std::int64_t n, float eps, float* out) {
  TS_DCHECK(n >= 1);
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const auto mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (weight == nullptr) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = x[i] * scale;
  } else {
    for (std::int64_t i = 0; i < n; ++i) out[i] = (x[i] * scale) * weight[i];
  }
}

void SoftmaxRef(float* x, std::int64_t n) {
  TS_DCHECK(n >= 1);
  float max = x[0];
  for (std::int64_t i = 1; i < n; ++i) max = std::fmax(max, x[i]);
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float e = std::exp(x[i] - max);
    x[i] = e;
    sum += static_cast<double>(e);
  }
  const auto inv = static_cast<float>(1.0 / sum);
  for (std::int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void SiluMulRef(const float* gate, const float* up, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

// GELU with the tanh approximation (gelu_pytorch_tanh, Gemma's activation), evaluated in double
// from the float inputs and rounded once. 0.5 g (1 + tanh(u)) is computed as the equal
// g / (1 + e^(-2u)), u = sqrt(2/pi) (g + 0.044715 g^3): the tanh form cancels to 0 for g below
// about -6 even in double, where the exact value is still far above float's smallest.
void GeluMulRef(const float* gate, const float* up, float* out, std::int64_t n) {
  constexpr double kSqrt2OverPi = 0.79788456080286535588;
  for (std::int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    const double u = kSqrt2OverPi * (g + 0.044715 * g * g * g);
    out[i] = static_cast<float>(g / (1.0 + std::exp(-2.0 * u)) * static_cast<double>(up[i]));
  }
}

void AddRef(const float* a, const float* b, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void ScaleRef(float* x, float s, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) x[i] *= s;
}

void AxpyRef(float a, const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Angles as ggml computes them: theta starts at the position and is multiplied by
// freq_base^(-2 / n_rot) once per pair, in float; the angle used is freq_scale * theta.
// The pair loop is outermost so each (cos, sin) is computed once for all heads.
void RopeRef(float* x, std::int64_t n_heads, std::int64_t pos, const RopeParams& p) {
  TS_DCHECK(p.n_rot >= 2 && p.n_rot % 2 == 0 && p.n_rot <= p.head_dim);
  const std::int64_t half = p.n_rot / 2;
  const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_rot));
  float theta = static_cast<float>(pos);
  for (std::int64_t i = 0; i < half; ++i) {
    const float angle = p.freq_scale * theta;
    const float c = std::cos(angle);
    const float s = std::sin(angle);
    // Normal: pair (2i, 2i + 1). NeoX: pair (i, i + n_rot / 2).
    const std::int64_t i0 = p.mode == RopeMode::kNormal ? 2 * i : i;
    const std::int64_t i1 = p.mode == RopeMode::kNormal ? 2 * i + 1 : i + half;
    for (std::int64_t h = 0; h < n_heads; ++h) {
      float* head = x + h * p.head_dim;
      const float x0 = head[i0];
      const float x1 = head[i1];
      head[i0] = x0 * c - x1 * s;
      head[i1] = x0 * s + x1 * c;
    }
    theta *= theta_scale;
  }
}

void AttendRef(const AttendArgs& a) {
  TS_DCHECK(a.n_q >= 1 && a.pos0 >= 0 && a.head_dim >= 1);
  for (std::int64_t t = 0; t < a.n_q; ++t) {
    const float* q = a.q + static_cast<std::size_t>(t) * a.q_stride;
    const std::int64_t n_pos = a.pos0 + t + 1;
    for (std::int64_t p = 0; p < n_pos; ++p) {
      const float* k = a.k + static_cast<std::size_t>(p) * a.kv_stride;
      double sum = 0.0;
      for (std::int64_t i = 0; i < a.head_dim; ++i) {
        sum += static_cast<double>(k[i] * q[i]);  // as the F32 reference vec_dot
      }
      a.scratch[p] = static_cast<float>(sum) * a.scale;
    }
    SoftmaxRef(a.scratch, n_pos);
    float* out = a.out + static_cast<std::size_t>(t) * a.out_stride;
    for (std::int64_t i = 0; i < a.head_dim; ++i) out[i] = 0.0f;
    for (std::int64_t p = 0; p < n_pos; ++p) {
      AxpyRef(a.scratch[p], a.v + static_cast<std::size_t>(p) * a.kv_stride, out, a.head_dim);
    }
  }
}

double LogSumExpRef(const float* x, std::int64_t n) {
  float max = -std::numeric_limits<float>::infinity();
  for (std::int64_t i = 0; i < n; ++i) {
    if (x[i] > max) max = x[i];  // false for NaN
  }
  if (!std::isfinite(max)) return static_cast<double>(max);
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (!std::isnan(x[i])) sum += std::exp(static_cast<double>(x[i]) - max);
  }
  return static_cast<double>(max) + std::log(sum);
}

constexpr FloatOps kReferenceOps = {"reference", RmsNormRef, SoftmaxRef, SiluMulRef, GeluMulRef,
                                    AddRef,      ScaleRef,   AxpyRef,    RopeRef,    AttendRef,
                                    LogSumExpRef};

}  // namespace

const FloatOps& ReferenceOps() { return kReferenceOps; }


Status ValidateRopeParams(const RopeParams& p) {
  if (p.head_dim < 2) {
    return InvalidArgument("kernels: rope head_dim " + std::to_string(p.head_dim) +
                           " is below the minimum 2");
  }
  if (p.n_rot < 2 || p.n_rot % 2 != 0 || p.n_rot > p.head_dim) {
    return InvalidArgument("kernels: rope n_rot " + std::to_string(p.n_rot) +
                           " must be even and in [2, head_dim " + std::to_string(p.head_dim) +
                           "]");
  }
  if (!(std::isfinite(p.freq_base) && p.freq_base > 0.0f)) {
    return InvalidArgument("kernels: rope freq_base " + std::to_string(p.freq_base) +
                           " must be finite and above 0");
  }
  if (!(std::isfinite(p.freq_scale) && p.freq_scale > 0.0f)) {
    return InvalidArgument("kernels: rope freq_scale " + std::to_string(p.freq_scale) +
                           " must be finite and above 0");
  }
  return Status::Ok();
}

}  // namespace tessera::kernels
