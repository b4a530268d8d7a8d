// The active kernel tables: which variant (reference, AVX2, AVX-512) serves each type, chosen
// once per process from the CPU's features and TESSERA_KERNELS (cpu_features.h). A type without
// a SIMD table in the chosen variant keeps its scalar reference.
#include <array>
#include <cstdio>
#include <cstdlib>

#include "kernels/cpu_features.h"
#include "kernels/kernels.h"
#include "kernels/simd_tables.h"

namespace tessera::kernels {
namespace {

constexpr std::size_t kMaxTypeValue = 64;  // DType values are below this (tensor/types.h)

// The table of `type` for variant v on a CPU with features f, falling back to the reference for
// types the variant has no kernels for; nullptr if the type has no reference either.
const TypeKernels* TableFor(DType type, KernelVariant v, const CpuFeatures& f) {
  const TypeKernels* simd = nullptr;
  if (v == KernelVariant::kAvx2) simd = simd::Avx2Kernels(type);
  if (v == KernelVariant::kAvx512) simd = simd::Avx512Kernels(type, f.avx512vnni, f.avx512bf16);
  return simd != nullptr ? simd : ReferenceKernels(type);
}

const FloatOps& OpsFor(KernelVariant v) {
  if (v == KernelVariant::kAvx512 && simd::Avx512Ops() != nullptr) return *simd::Avx512Ops();
  if (v != KernelVariant::kReference && simd::Avx2Ops() != nullptr) return *simd::Avx2Ops();
  return ReferenceOps();
}

struct Active {
  CpuFeatures features;
  VariantChoice choice;
  std::array<const TypeKernels*, kMaxTypeValue> tables{};
  const FloatOps* ops = nullptr;
};

Active MakeActive() {
  Active a;
  a.features = DetectCpuFeatures();
  a.choice = ChooseVariant(a.features, std::getenv("TESSERA_KERNELS"));
  for (std::size_t t = 0; t < kMaxTypeValue; ++t) {
    a.tables[t] = TableFor(static_cast<DType>(t), a.choice.variant, a.features);
  }
  a.ops = &OpsFor(a.choice.variant);
  // The only way a forced variant that cannot be honoured becomes visible without an API call.
  if (!a.choice.note.empty()) std::fprintf(stderr, "%s\n", a.choice.note.c_str());
  return a;
}

// Chosen on first use, then constant for the life of the process.
const Active& GetActive() {
  static const Active active = MakeActive();
  return active;
}

}  // namespace

const TypeKernels* Kernels(DType type) {
  const auto t = static_cast<std::size_t>(type);
  return t < kMaxTypeValue ? GetActive().tables[t] : nullptr;
}

const FloatOps& Ops() { return *GetActive().ops; }

const char* ActiveVariant() { return VariantName(GetActive().choice.variant); }

const std::string& ActiveVariantNote() { return GetActive().choice.note; }

const TypeKernels* VariantKernels(DType type, KernelVariant v) {
  const CpuFeatures& f = GetActive().features;
  if (!CpuSupports(f, v)) return nullptr;
  return TableFor(type, v, f);
}

std::vector<const TypeKernels*> AllKernels(DType type) {
  std::vector<const TypeKernels*> out;
  const auto add = [&out](const TypeKernels* k) {
    if (k == nullptr) return;
    for (const TypeKernels* seen : out) {
      if (seen == k) return;
    }
    out.push_back(k);
  };
  const CpuFeatures& f = GetActive().features;
  add(ReferenceKernels(type));
  if (out.empty()) return out;
  if (CpuSupports(f, KernelVariant::kAvx2)) add(simd::Avx2Kernels(type));
  if (CpuSupports(f, KernelVariant::kAvx512)) {
    add(simd::Avx512Kernels(type, false, false));
    add(simd::Avx512Kernels(type, f.avx512vnni, f.avx512bf16));
  }
  return out;
}

std::vector<const FloatOps*> AllOps() {
  std::vector<const FloatOps*> out = {&ReferenceOps()};
  if (CpuSupports(GetActive().features, KernelVariant::kAvx2) && simd::Avx2Ops() != nullptr) {
    out.push_back(simd::Avx2Ops());
  }
  if (CpuSupports(GetActive().features, KernelVariant::kAvx512) && simd::Avx512Ops() != nullptr) {
    out.push_back(simd::Avx512Ops());
  }
  return out;
}

}  // namespace tessera::kernels
