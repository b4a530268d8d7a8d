// Internal to the kernels layer: the scalar reference tables of the types implemented outside
// reference_kernels.cc, which ReferenceKernels() consults.
//
// Thread safety: the tables are immutable.
#ifndef TESSERA_KERNELS_REFERENCE_TABLES_H_
#define TESSERA_KERNELS_REFERENCE_TABLES_H_

#include "kernels/kernels.h"

namespace tessera::kernels::internal {

// Q4_1, Q5_0, Q5_1 (reference_legacy_kernels.cc); nullptr for other types.
const TypeKernels* ReferenceLegacyKernels(DType type);
// Q4_K, Q5_K, Q6_K (reference_kquant_kernels.cc); nullptr for other types.
const TypeKernels* ReferenceKQuantKernels(DType type);
// Q2_K, Q3_K, IQ4_NL, IQ4_XS (reference_lowbit_kernels.cc); nullptr for other types.
const TypeKernels* ReferenceLowBitKernels(DType type);

}  // namespace tessera::kernels::internal

#endif  // TESSERA_KERNELS_REFERENCE_TABLES_H_
