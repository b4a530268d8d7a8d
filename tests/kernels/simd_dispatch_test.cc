// Variant choice (cpu_features.h): ChooseVariant over fake feature sets, the active tables'
// consistency with it, and TESSERA_KERNELS honoured in a fresh process of this test binary.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels/cpu_features.h"
#include "kernels/kernels.h"

namespace tessera::kernels {
namespace {

CpuFeatures Avx2Only() {
  CpuFeatures f;
  f.avx2 = f.fma = f.f16c = true;
  return f;
}

CpuFeatures Avx512() {
  CpuFeatures f = Avx2Only();
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = true;
  return f;
}

TEST(ChooseVariantTest, PicksTheBestSupportedVariant) {
  EXPECT_EQ(ChooseVariant(CpuFeatures{}, nullptr).variant, KernelVariant::kReference);
  EXPECT_EQ(ChooseVariant(Avx2Only(), nullptr).variant, KernelVariant::kAvx2);
  EXPECT_EQ(ChooseVariant(Avx512(), nullptr).variant, KernelVariant::kAvx512);
  EXPECT_EQ(ChooseVariant(Avx512(), "").variant, KernelVariant::kAvx512);
  EXPECT_TRUE(ChooseVariant(Avx512(), nullptr).note.empty());
  CpuFeatures no_fma = Avx2Only();
  no_fma.fma = false;
  EXPECT_EQ(ChooseVariant(no_fma, nullptr).variant, KernelVariant::kReference);
  CpuFeatures no_bw = Avx512();
  no_bw.avx512bw = false;
  EXPECT_EQ(ChooseVariant(no_bw, nullptr).variant, KernelVariant::kAvx2);
}

TEST(ChooseVariantTest, HonoursASupportedForcedVariant) {
  for (const char* name : {"reference", "avx2", "avx512"}) {
    const VariantChoice c = ChooseVariant(Avx512(), name);
    EXPECT_STREQ(VariantName(c.variant), name);
    EXPECT_TRUE(c.note.empty()) << c.note;
  }
  EXPECT_EQ(ChooseVariant(Avx2Only(), "reference").variant, KernelVariant::kReference);
}

TEST(ChooseVariantTest, UnsupportedOrUnknownForcedVariantFallsBackWithANote) {
  const VariantChoice lacks = ChooseVariant(Avx2Only(), "avx512");
  EXPECT_EQ(lacks.variant, KernelVariant::kAvx2);
  EXPECT_EQ(lacks.note, "kernels: TESSERA_KERNELS=avx512 but the CPU lacks avx512f; using avx2");
  CpuFeatures no_vl = Avx512();
  no_vl.avx512vl = false;
  EXPECT_NE(ChooseVariant(no_vl, "avx512").note.find("lacks avx512vl"), std::string::npos);
  const VariantChoice none = ChooseVariant(CpuFeatures{}, "avx2");
  EXPECT_EQ(none.variant, KernelVariant::kReference);
  EXPECT_NE(none.note.find("lacks avx2; using reference"), std::string::npos) << none.note;
  const VariantChoice unknown = ChooseVariant(Avx512(), "sse9");
  EXPECT_EQ(unknown.variant, KernelVariant::kAvx512);
  EXPECT_NE(unknown.note.find("sse9 is not one of reference, avx2, avx512"), std::string::npos)
      << unknown.note;
}

TEST(CpuFeaturesTest, ToStringNamesFeatures) {
  EXPECT_EQ(CpuFeatures{}.ToString(), "none");
  EXPECT_EQ(Avx2Only().ToString(), "avx2 fma f16c");
  // Whatever this CPU has, detection must be self-consistent.
  const CpuFeatures f = DetectCpuFeatures();
  EXPECT_TRUE(!f.HasAvx512Variant() || f.HasAvx2Variant());
  EXPECT_TRUE(!(f.avx512vnni || f.avx512bf16) || f.avx512f);
}

// The active tables are those ChooseVariant picks for this CPU and this process's environment.
TEST(DispatchTest, ActiveTablesFollowTheChoice) {
  const VariantChoice c = ChooseVariant(DetectCpuFeatures(), std::getenv("TESSERA_KERNELS"));
  EXPECT_STREQ(ActiveVariant(), VariantName(c.variant));
  EXPECT_EQ(ActiveVariantNote(), c.note);
  // Every compute type has a SIMD table (the activation-only types Q8_1 and Q8_K have none).
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_1,
                  DType::kQ5_0, DType::kQ5_1, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                  DType::kQ2_K, DType::kQ3_K, DType::kIQ4_NL, DType::kIQ4_XS}) {
    EXPECT_EQ(Kernels(t), VariantKernels(t, c.variant)) << tensor::TypeName(t);
    if (c.variant != KernelVariant::kReference) {
      EXPECT_NE(Kernels(t), ReferenceKernels(t)) << tensor::TypeName(t) << " has no SIMD table";
    }
  }
  // The float operations of the chosen variant (one table per variant).
  EXPECT_STREQ(Ops().variant, VariantName(c.variant));
  if (c.variant == KernelVariant::kReference) {
    EXPECT_EQ(&Ops(), &ReferenceOps());
  }
  std::printf("active=%s\n", ActiveVariant());
}

// Runs this binary again with TESSERA_KERNELS set and reads the variant it reports.
std::string ActiveIn(const std::string& env_value) {
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) return "readlink failed";
  self[len] = '\0';
  const std::string cmd = "TESSERA_KERNELS=" + env_value + " '" + self +
                          "' --gtest_filter=DispatchTest.ActiveTablesFollowTheChoice 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "popen failed";
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int rc = pclose(p);
  return "rc=" + std::to_string(rc) + "\n" + out;
}

TEST(DispatchTest, EnvironmentForcesAVariantInAFreshProcess) {
  const CpuFeatures f = DetectCpuFeatures();
  for (KernelVariant v :
       {KernelVariant::kReference, KernelVariant::kAvx2, KernelVariant::kAvx512}) {
    const std::string out = ActiveIn(VariantName(v));
    EXPECT_NE(out.find("rc=0\n"), std::string::npos) << out;
    const KernelVariant expected = CpuSupports(f, v) ? v : ChooseVariant(f, nullptr).variant;
    EXPECT_NE(out.find(std::string("active=") + VariantName(expected) + "\n"), std::string::npos)
        << out;
  }
  const std::string bogus = ActiveIn("bogus");
  EXPECT_NE(bogus.find("kernels: TESSERA_KERNELS=bogus is not one of"), std::string::npos) << bogus;
  EXPECT_NE(bogus.find(std::string("active=") + VariantName(ChooseVariant(f, nullptr).variant)),
            std::string::npos)
      << bogus;
}

}  // namespace
}  // namespace tessera::kernels
