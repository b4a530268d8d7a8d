// Internal: the SIMD kernel tables defined in the *_avx2.cc / *_avx512.cc files, for dispatch.cc.
//
// Each file compiles its kernels for its instruction set with `#pragma GCC target` placed after
// every #include, so inline functions from headers stay generic and nothing outside those
// regions uses the wider instructions; the functions here only hand out pointers to constant
// tables and run on any x86-64. Calling a kernel from a table needs the CPU features of its
// variant (cpu_features.h): the dispatcher checks them.
//
// On a compiler or architecture without x86 SIMD every function returns nullptr.
// Thread safety: the tables are immutable.
#ifndef TESSERA_KERNELS_SIMD_TABLES_H_
#define TESSERA_KERNELS_SIMD_TABLES_H_

#include "kernels/kernels.h"

namespace tessera::kernels::simd {

// AVX2 + FMA + F16C tables for F32, F16, BF16, Q8_0, Q4_0 and, through Avx2KQuantKernels,
// Avx2LegacyKernels and Avx2LowBitKernels, Q4_K, Q5_K, Q6_K, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K,
// IQ4_NL, IQ4_XS; nullptr for other types.
const TypeKernels* Avx2Kernels(DType type);
// Q2_K, Q3_K, IQ4_NL, IQ4_XS (lowbit_kernels_avx2.cc); nullptr for other types.
const TypeKernels* Avx2LowBitKernels(DType type);
// Q4_K, Q5_K, Q6_K (kquant_kernels_avx2.cc); nullptr for other types.
const TypeKernels* Avx2KQuantKernels(DType type);
// Q4_1, Q5_0, Q5_1 (legacy_kernels_avx2.cc); nullptr for other types.
const TypeKernels* Avx2LegacyKernels(DType type);
// AVX-512 F/BW/VL/DQ tables. With use_vnni, Q8_0, Q4_0 and Q5_0 use vpdpbusd (needs AVX512-VNNI);
// without it they are the AVX2 tables. With use_bf16, BF16 uses vdpbf16ps (needs AVX512-BF16).
// Q4_K, Q5_K and Q6_K have 512-bit tables. Types without an AVX-512 table get their AVX2 table.
const TypeKernels* Avx512Kernels(DType type, bool use_vnni, bool use_bf16);

// Q8_0, Q4_0 and Q5_0 with vpdpbusd, rows and tile kernels (vnni_kernels_avx512.cc; needs AVX-512
// F/BW/VL/DQ + VNNI); nullptr for other types.
const TypeKernels* Avx512VnniKernels(DType type);
// The AVX-512 Q8_0 activation conversion (kernels_avx512.cc; needs AVX-512 F/BW/VL/DQ), the
// act_from_float of every AVX-512 table whose vec dot type is Q8_0.
void ActQ8_0Avx512(const float* x, void* y, std::int64_t n);
// Q4_K, Q5_K and Q6_K on 512-bit registers (kquant_kernels_avx512.cc; needs AVX-512
// F/BW/VL/DQ); nullptr for other types.
const TypeKernels* Avx512KQuantKernels(DType type);
// The AVX2 Q8_K activation conversion (kquant_kernels_avx2.cc; needs AVX2), the act_from_float
// of every SIMD K-quant table: the reference QuantizeRowQ8_K's bytes.
void ActQ8_KAvx2(const float* x, void* y, std::int64_t n);

// The packed_tile of the AVX2 Q4_0 and Q8_0 tables over the Q4_0x8 and Q8_0x8 layouts
// (packed_kernels_avx2.cc; need AVX2 + F16C; x86-64 with GCC/Clang only).
void PackedTileQ4_0Avx2(std::int64_t n, std::int64_t n_groups, const void* packed,
                        std::int64_t n_tok, const void* x, std::size_t x_stride,
                        const Q8Summary* sums, std::size_t sums_stride, float* y,
                        std::size_t y_stride);
void PackedTileQ8_0Avx2(std::int64_t n, std::int64_t n_groups, const void* packed,
                        std::int64_t n_tok, const void* x, std::size_t x_stride,
                        const Q8Summary* sums, std::size_t sums_stride, float* y,
                        std::size_t y_stride);

// Float operations: AVX2 + FMA (also the AVX-512 variant's, except attend: these vectors are
// short and memory-bound, and 512-bit registers gain nothing measurable on them).
const FloatOps* Avx2Ops();

// FloatOps::attend of Avx2Ops (attention_avx2.cc). Needs AVX2 + FMA.
void AttendAvx2(const AttendArgs& a);
// The AVX-512 variant's float operations: Avx2Ops with attend = AttendAvx512 (attention_avx512.cc,
// tiles of queries for prefill; needs AVX-512 F/BW/VL/DQ). nullptr without x86 SIMD.
const FloatOps* Avx512Ops();
void AttendAvx512(const AttendArgs& a);

// y[i] = e^x[i] with the AVX2 approximation used by Avx2Ops' softmax and silu_mul (documented
// and error-tested beside it). Needs AVX2 + FMA; for tests.
void ExpAvx2(const float* x, float* y, std::int64_t n);

}  // namespace tessera::kernels::simd

#endif  // TESSERA_KERNELS_SIMD_TABLES_H_
