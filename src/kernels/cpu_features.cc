// CPUID / XGETBV feature detection and the variant choice (cpu_features.h).
#include "kernels/cpu_features.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define TESSERA_X86 1
#endif

namespace tessera::kernels {
namespace {

#if defined(TESSERA_X86)
struct Regs {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// CPUID leaf/subleaf; all zero if the leaf is beyond the processor's maximum.
Regs CpuId(unsigned leaf, unsigned subleaf) {
  Regs r;
  if (__get_cpuid_max(leaf & 0x80000000u, nullptr) < leaf) return r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

// XCR0: which register states the OS saves on context switch. Only valid when OSXSAVE is set.
std::uint64_t Xcr0() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

bool Bit(unsigned reg, int bit) { return ((reg >> bit) & 1u) != 0; }
#endif

}  // namespace

CpuFeatures DetectCpuFeatures() {
  CpuFeatures f;
#if defined(TESSERA_X86)
  const Regs l1 = CpuId(1, 0);
  const bool osxsave = Bit(l1.ecx, 27);
  const bool avx = Bit(l1.ecx, 28);
  if (!osxsave || !avx) return f;
  const std::uint64_t xcr0 = Xcr0();
  // Bits 1 (SSE) and 2 (AVX upper halves) for YMM; 5, 6, 7 (opmask, ZMM0-15 upper, ZMM16-31).
  const bool os_ymm = (xcr0 & 0x6u) == 0x6u;
  const bool os_zmm = os_ymm && (xcr0 & 0xE0u) == 0xE0u;
  if (!os_ymm) return f;
  const Regs l7 = CpuId(7, 0);
  const Regs l7s1 = CpuId(7, 1);
  f.fma = Bit(l1.ecx, 12);
  f.f16c = Bit(l1.ecx, 29);
  f.avx2 = Bit(l7.ebx, 5);
  if (os_zmm) {
    f.avx512f = Bit(l7.ebx, 16);
    f.avx512dq = Bit(l7.ebx, 17);
    f.avx512bw = Bit(l7.ebx, 30);
    f.avx512vl = Bit(l7.ebx, 31);
    f.avx512vnni = f.avx512f && Bit(l7.ecx, 11);
    f.avx512bf16 = f.avx512f && Bit(l7s1.eax, 5);
  }
#endif
  return f;
}

std::string CpuFeatures::ToString() const {
  std::string s;
  const auto add = [&s](bool has, const char* name) {
    if (!has) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512dq, "avx512dq");
  add(avx512vnni, "avx512vnni");
  add(avx512bf16, "avx512bf16");
  return s.empty() ? "none" : s;
}

const char* VariantName(KernelVariant v) {
  switch (v) {
    case KernelVariant::kReference:
      return "reference";
    case KernelVariant::kAvx2:
      return "avx2";
    case KernelVariant::kAvx512:
      return "avx512";
  }
  return "reference";
}

bool CpuSupports(const CpuFeatures& f, KernelVariant v) {
  switch (v) {
    case KernelVariant::kReference:
      return true;
    case KernelVariant::kAvx2:
      return f.HasAvx2Variant();
    case KernelVariant::kAvx512:
      return f.HasAvx512Variant();
  }
  return false;
}

namespace {

// The first feature variant v needs that f lacks ("" if none).
const char* MissingFeature(const CpuFeatures& f, KernelVariant v) {
  if (v == KernelVariant::kReference) return "";
  if (!f.avx2) return "avx2";
  if (!f.fma) return "fma";
  if (!f.f16c) return "f16c";
  if (v == KernelVariant::kAvx2) return "";
  if (!f.avx512f) return "avx512f";
  if (!f.avx512bw) return "avx512bw";
  if (!f.avx512vl) return "avx512vl";
  if (!f.avx512dq) return "avx512dq";
  return "";
}

}  // namespace

VariantChoice ChooseVariant(const CpuFeatures& f, const char* env_value) {
  VariantChoice c;
  c.variant = CpuSupports(f, KernelVariant::kAvx512) ? KernelVariant::kAvx512
              : CpuSupports(f, KernelVariant::kAvx2) ? KernelVariant::kAvx2
                                                     : KernelVariant::kReference;
  if (env_value == nullptr || env_value[0] == '\0') return c;
  for (KernelVariant v :
       {KernelVariant::kReference, KernelVariant::kAvx2, KernelVariant::kAvx512}) {
    if (std::strcmp(env_value, VariantName(v)) != 0) continue;
    if (CpuSupports(f, v)) {
      c.variant = v;
      return c;
    }
    c.note = std::string("kernels: TESSERA_KERNELS=") + env_value + " but the CPU lacks " +
             MissingFeature(f, v) + "; using " + VariantName(c.variant);
    return c;
  }
  c.note = std::string("kernels: TESSERA_KERNELS=") + env_value +
           " is not one of reference, avx2, avx512; using " + VariantName(c.variant);
  return c;
}

}  // namespace tessera::kernels
