// The version string of the `tessera` command (--version, reports).
#ifndef TESSERA_TOOLS_TESSERA_VERSION_H_
#define TESSERA_TOOLS_TESSERA_VERSION_H_

#include <string_view>

#include "tessera/version.h"

namespace tessera::cli {

inline constexpr char kVersion[] = "tessera 0.1.0";
static_assert(std::string_view(kVersion).substr(8) == std::string_view(kRuntimeVersion));

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_VERSION_H_
