// The active kernel tables: which variant (reference, AVX2, AVX-512) serves each type. Chosen
// once per process from the CPU's features; today every type uses its scalar reference.
#include "kernels/kernels.h"

namespace tessera::kernels {

const TypeKernels* Kernels(DType type) { return ReferenceKernels(type); }

const FloatOps& Ops() { return ReferenceOps(); }

}  // namespace tessera::kernels
