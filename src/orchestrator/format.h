// Numbers as the orchestrator's reasons and explanations print them.
#ifndef TESSERA_ORCHESTRATOR_FORMAT_H_
#define TESSERA_ORCHESTRATOR_FORMAT_H_

#include <cstdint>
#include <cstdio>
#include <string>

namespace tessera::orchestrator {

// "0.125": three decimals.
inline std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

// "1.25 MB" (10^6 bytes).
inline std::string Mb(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_FORMAT_H_
