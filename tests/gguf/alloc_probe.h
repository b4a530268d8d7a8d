// Test-only allocation probe: records the largest single operator-new request made while armed,
// so tests can assert that corrupt counts fail before any large allocation.
// The global operator new/delete replacements live in alloc_probe.cc (a separate translation
// unit, so the compiler never sees new and free paired inline). Thread safety: atomics.
#ifndef TESSERA_TESTS_GGUF_ALLOC_PROBE_H_
#define TESSERA_TESTS_GGUF_ALLOC_PROBE_H_

#include <cstddef>

namespace tessera::gguf::test_support {

// Resets the maximum and starts recording.
void ArmAllocProbe();
// Stops recording; returns the largest request seen since ArmAllocProbe().
std::size_t DisarmAllocProbe();

}  // namespace tessera::gguf::test_support

#endif  // TESSERA_TESTS_GGUF_ALLOC_PROBE_H_
