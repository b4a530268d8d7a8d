// The version string of the `tessera` command (--version, reports).
#ifndef TESSERA_TOOLS_TESSERA_VERSION_H_
#define TESSERA_TOOLS_TESSERA_VERSION_H_

namespace tessera::cli {

inline constexpr char kVersion[] = "tessera 0.1.0";

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_VERSION_H_
