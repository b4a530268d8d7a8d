#include "base/zeroed_array.h"

#include <sys/mman.h>

#include <cstdlib>

#include "base/check.h"

namespace tessera::base {

void* AllocateZeroed(std::size_t bytes) {
  if (bytes >= kMapBytes) {
    void* block = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TS_CHECK(block != MAP_FAILED && "out of memory");
    return block;
  }
  void* block = std::calloc(bytes, 1);
  TS_CHECK(block != nullptr && "out of memory");
  return block;
}

void FreeZeroed(void* block, std::size_t bytes) {
  if (bytes >= kMapBytes) {
    ::munmap(block, bytes);
  } else {
    std::free(block);
  }
}

}  // namespace tessera::base
