// Internal to src/runtime: the orchestrator's way to the runtime's internals (its registry,
// resident set and loader) through the public Runtime object it was given.
#ifndef TESSERA_RUNTIME_RUNTIME_ACCESS_H_
#define TESSERA_RUNTIME_RUNTIME_ACCESS_H_

#include "runtime/runtime_impl.h"

namespace tessera {

struct RuntimeAccess {
  static Runtime::Impl& Get(Runtime& runtime) { return *runtime.impl_; }
};

}  // namespace tessera

#endif  // TESSERA_RUNTIME_RUNTIME_ACCESS_H_
