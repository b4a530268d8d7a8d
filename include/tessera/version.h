// The runtime's version, and the package ABI it reads: what package manifests' `runtime`
// requirements are checked against (docs/formats/package.md, section 2.4).
#ifndef TESSERA_VERSION_H_
#define TESSERA_VERSION_H_

namespace tessera {

inline constexpr char kRuntimeVersion[] = "0.1.0";  // SemVer 2.0.0
inline constexpr int kPackageAbi = 1;

}  // namespace tessera

#endif  // TESSERA_VERSION_H_
