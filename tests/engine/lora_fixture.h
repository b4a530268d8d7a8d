// Fixtures for LoRA adapter tests (engine and CLI): seeded random A/B factors for matrices of a
// base GGUF, adapter GGUFs in llama.cpp's convention (written with the GGUF writer, as raw
// parts a test may corrupt), and the *merged* model W + s * B A written as a second GGUF, which
// a base + adapter session must reproduce.
#ifndef TESSERA_TESTS_ENGINE_LORA_FIXTURE_H_
#define TESSERA_TESTS_ENGINE_LORA_FIXTURE_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gguf/keys.h"
#include "gguf/reader.h"
#include "gguf/value.h"
#include "gguf/writer.h"
#include "tensor/fp16.h"
#include "tensor/types.h"
#include "tessera/status.h"

namespace tessera::lora_test {

// The LoRA factors of one base matrix W (n_out rows of n_in): A [r, n_in], B [n_out, r],
// row-major, as the values the adapter file holds (already rounded when stored as F16).
struct Factors {
  std::string target;  // base tensor name, e.g. "blk.0.attn_q.weight"
  std::int64_t n_in = 0;
  std::int64_t n_out = 0;
  std::int64_t rank = 0;
  std::vector<float> a;  // [rank, n_in]
  std::vector<float> b;  // [n_out, rank]
};

// Seeded N(0, stddev) factors of rank r for each target of `base` (which must hold it as 2-D).
// With f16, values are rounded to F16 so that the merged model sees what the adapter holds.
inline Result<std::vector<Factors>> MakeFactors(const gguf::File& base,
                                                const std::vector<std::string>& targets,
                                                std::int64_t rank, std::uint64_t seed,
                                                float stddev = 0.1f, bool f16 = false) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);  // fine for tests: one libstdc++
  const auto draw = [&] {
    const float x = dist(rng);
    return f16 ? tensor::HalfToFloat(tensor::FloatToHalf(x)) : x;
  };
  std::vector<Factors> out;
  for (const std::string& name : targets) {
    const gguf::TensorInfo* w = base.FindTensor(name);
    if (w == nullptr || w->dims.size() != 2) return NotFound("lora fixture: no matrix " + name);
    Factors f;
    f.target = name;
    f.n_in = static_cast<std::int64_t>(w->dims[0]);
    f.n_out = static_cast<std::int64_t>(w->dims[1]);
    f.rank = rank;
    f.a.resize(static_cast<std::size_t>(rank * f.n_in));
    f.b.resize(static_cast<std::size_t>(f.n_out * rank));
    for (float& x : f.a) x = draw();
    for (float& x : f.b) x = draw();
    out.push_back(std::move(f));
  }
  return out;
}

// One tensor of a file under construction: dims innermost first, bytes owned.
struct RawTensor {
  std::string name;
  std::vector<std::uint64_t> dims;
  tensor::DType type = tensor::DType::kF32;
  std::vector<std::uint8_t> bytes;
};

inline std::vector<std::uint8_t> Bytes(const std::vector<float>& v, bool f16) {
  std::vector<std::uint8_t> out;
  if (f16) {
    out.resize(v.size() * 2);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::uint16_t h = tensor::FloatToHalf(v[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  } else {
    out.resize(v.size() * 4);
    std::memcpy(out.data(), v.data(), out.size());
  }
  return out;
}

// An adapter file as parts: metadata in order, then tensors.
struct AdapterFile {
  std::vector<std::pair<std::string, gguf::Value>> metadata;
  std::vector<RawTensor> tensors;

  gguf::Value* Find(const std::string& key) {
    for (auto& [k, v] : metadata) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  void Erase(const std::string& key) {
    std::erase_if(metadata, [&](const auto& kv) { return kv.first == key; });
  }
  RawTensor* FindTensor(const std::string& name) {
    for (RawTensor& t : tensors) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }
  void EraseTensor(const std::string& name) {
    std::erase_if(tensors, [&](const RawTensor& t) { return t.name == name; });
  }
};

// llama.cpp's layout: general.type "adapter", adapter.type "lora", adapter.lora.alpha,
// general.architecture; <target>.lora_a dims [n_in, r] and <target>.lora_b dims [r, n_out].
inline AdapterFile MakeAdapter(const std::vector<Factors>& factors, float alpha,
                               const std::string& architecture = "llama", bool f16 = false,
                               const std::string& base_sha256 = "") {
  AdapterFile f;
  f.metadata.emplace_back(std::string(gguf::keys::kGeneralArchitecture),
                          gguf::Value::String(architecture));
  f.metadata.emplace_back(std::string(gguf::keys::kGeneralType), gguf::Value::String("adapter"));
  f.metadata.emplace_back(std::string(gguf::keys::kAdapterType), gguf::Value::String("lora"));
  f.metadata.emplace_back(std::string(gguf::keys::kAdapterLoraAlpha), gguf::Value::F32(alpha));
  if (!base_sha256.empty()) {
    f.metadata.emplace_back("adapter.base.sha256", gguf::Value::String(base_sha256));
  }
  const tensor::DType type = f16 ? tensor::DType::kF16 : tensor::DType::kF32;
  for (const Factors& x : factors) {
    f.tensors.push_back(
        RawTensor{x.target + ".lora_a",
                  {static_cast<std::uint64_t>(x.n_in), static_cast<std::uint64_t>(x.rank)},
                  type,
                  Bytes(x.a, f16)});
    f.tensors.push_back(
        RawTensor{x.target + ".lora_b",
                  {static_cast<std::uint64_t>(x.rank), static_cast<std::uint64_t>(x.n_out)},
                  type,
                  Bytes(x.b, f16)});
  }
  return f;
}

inline Status WriteAdapter(const AdapterFile& f, const std::string& path) {
  gguf::Writer w;
  for (const auto& [key, value] : f.metadata) TS_RETURN_IF_ERROR(w.AddKeyValue(key, value));
  for (const RawTensor& t : f.tensors) {
    TS_RETURN_IF_ERROR(w.AddTensor(t.name, t.dims, t.type, t.bytes));
  }
  return w.WriteFile(path);
}

// The scale llama.cpp applies: user_scale * alpha / r, or user_scale when alpha is 0.
inline float LoraScale(float user_scale, float alpha, std::int64_t rank) {
  return alpha == 0.0f ? user_scale : user_scale * alpha / static_cast<float>(rank);
}

// Writes `base` (an F32 model file) with every target W replaced by W + s * B A (s per
// LoraScale), computed in double and stored as F32.
inline Status WriteMergedModel(const std::string& base_path, const std::vector<Factors>& factors,
                               float alpha, float user_scale, const std::string& path) {
  TS_ASSIGN_OR_RETURN(gguf::File base, gguf::File::Open(base_path));
  gguf::Writer w;
  for (const gguf::KeyValue& kv : base.metadata())
    TS_RETURN_IF_ERROR(w.AddKeyValue(kv.key, kv.value));
  std::vector<std::vector<std::uint8_t>> merged;  // owned bytes of replaced tensors
  merged.reserve(factors.size());
  for (const gguf::TensorInfo& t : base.tensors()) {
    const Factors* f = nullptr;
    for (const Factors& x : factors) {
      if (x.target == t.name) f = &x;
    }
    if (f == nullptr) {
      TS_RETURN_IF_ERROR(w.AddTensor(t.name, t.dims, t.type, t.data));
      continue;
    }
    if (t.type != tensor::DType::kF32)
      return Unsupported("lora fixture: merge needs F32 " + t.name);
    const double s = LoraScale(user_scale, alpha, f->rank);
    std::vector<float> wv(static_cast<std::size_t>(f->n_out * f->n_in));
    std::memcpy(wv.data(), t.data.data(), wv.size() * sizeof(float));
    for (std::int64_t o = 0; o < f->n_out; ++o) {
      for (std::int64_t i = 0; i < f->n_in; ++i) {
        double ba = 0.0;
        for (std::int64_t k = 0; k < f->rank; ++k) {
          ba += static_cast<double>(f->b[o * f->rank + k]) * f->a[k * f->n_in + i];
        }
        float& x = wv[static_cast<std::size_t>(o * f->n_in + i)];
        x = static_cast<float>(x + s * ba);
      }
    }
    merged.push_back(Bytes(wv, false));
    TS_RETURN_IF_ERROR(w.AddTensor(t.name, t.dims, t.type, merged.back()));
  }
  return w.WriteFile(path);
}

}  // namespace tessera::lora_test

#endif  // TESSERA_TESTS_ENGINE_LORA_FIXTURE_H_
