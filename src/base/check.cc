#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace tessera::base {

void CheckFailed(const char* file, int line, const char* condition) {
  std::fprintf(stderr, "tessera: check failed at %s:%d: %s\n", file, line, condition);
  std::fflush(stderr);
  std::abort();
}

}  // namespace tessera::base
