#include "model/architecture.h"

#include <array>

namespace tessera::model {
namespace {

const std::array<const ArchitectureTraits*, 4>& All() {
  static const std::array<const ArchitectureTraits*, 4> all = {
      &LlamaArchitecture(), &Qwen2Architecture(), &Qwen3Architecture(), &Gemma3Architecture()};
  return all;
}

}  // namespace

const ArchitectureTraits* FindArchitecture(std::string_view name) {
  for (const ArchitectureTraits* a : All()) {
    if (a->name == name) return a;
  }
  return nullptr;
}

std::string SupportedArchitectureNames() {
  std::string out;
  for (const ArchitectureTraits* a : All()) {
    if (!out.empty()) out.append(", ");
    out.push_back('"');
    out.append(a->name);
    out.push_back('"');
  }
  return out;
}

}  // namespace tessera::model
