// Run-time x86-64 CPU feature detection for kernel dispatch, and the choice of kernel variant.
//
// DetectCpuFeatures() asks CPUID which instruction set extensions the processor has and XGETBV
// whether the operating system saves the wider registers (YMM for AVX2, ZMM and mask registers
// for AVX-512); a feature counts only when both agree. On other architectures every flag is false.
//
// Variants (each needs every feature listed; the dispatcher picks the best one once):
//   kReference  scalar C++, runs everywhere.
//   kAvx2       AVX2 + FMA + F16C (Haswell, Zen 1 and later).
//   kAvx512     AVX2 + FMA + F16C + AVX-512 F/BW/VL/DQ (Skylake-X, Zen 4 and later). Inside it,
//               Q8_0/Q4_0 dots use AVX512-VNNI (vpdpbusd) when present and BF16 dots use
//               AVX512-BF16 (vdpbf16ps) when present; the variant names of those tables say so.
//
// The environment variable TESSERA_KERNELS=reference|avx2|avx512 forces a variant (for tests and
// benchmarks). It is read once, the first time the active tables are needed. A forced variant
// the CPU lacks, or an unknown value, falls back to the best supported variant; the choice and
// the reason are kept in VariantChoice::note (and printed once to stderr by the dispatcher).
//
// Thread safety: pure functions over their arguments (DetectCpuFeatures only reads CPUID).
#ifndef TESSERA_KERNELS_CPU_FEATURES_H_
#define TESSERA_KERNELS_CPU_FEATURES_H_

#include <cstdint>
#include <string>

namespace tessera::kernels {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;

  // The variant requirements above.
  bool HasAvx2Variant() const { return avx2 && fma && f16c; }
  bool HasAvx512Variant() const {
    return HasAvx2Variant() && avx512f && avx512bw && avx512vl && avx512dq;
  }
  // "avx2 fma f16c avx512f ..." for logs and benchmark context.
  std::string ToString() const;
};

// Features of the processor this runs on (CPUID + XGETBV). Cheap but not free: call once.
CpuFeatures DetectCpuFeatures();

enum class KernelVariant : std::uint8_t { kReference = 0, kAvx2 = 1, kAvx512 = 2 };

// "reference", "avx2", "avx512".
const char* VariantName(KernelVariant v);
// Whether the CPU with `f` can run variant v.
bool CpuSupports(const CpuFeatures& f, KernelVariant v);

struct VariantChoice {
  KernelVariant variant = KernelVariant::kReference;
  std::string note;  // empty when the choice needs no explanation (no override, or honoured)
};

// The variant to run on a CPU with features `f` given the value of TESSERA_KERNELS (nullptr or
// "" when unset): the best supported variant, or the forced one if it is supported. An
// unsupported or unknown forced value falls back to the best supported variant and says why in
// `note`, e.g. `kernels: TESSERA_KERNELS=avx512 but the CPU lacks avx512bw; using avx2`.
VariantChoice ChooseVariant(const CpuFeatures& f, const char* env_value);

}  // namespace tessera::kernels

#endif  // TESSERA_KERNELS_CPU_FEATURES_H_
