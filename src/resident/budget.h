// Budgets, footprints and usage: the quantities the resident-set manager plans with.
//
// Bytes are charged to two pools: host (CPU memory: mapped weights, decoded copies, scratch,
// KV caches) and device (a GPU backend's memory; the CPU backend charges nothing there, the pool
// exists so that a device backend plugs in without changing callers). Three counts are kept
// apart: N_total (packages installed; the registry's), K_active (modules resident) and
// K_parallel (modules generating at this moment).
//
// A module's footprint has a shared part and a private part. Shared: its artifacts (a mapped
// GGUF file), charged once however many resident modules use them (two adapters on one base map
// the base once). Private: what the module alone holds (tokenizer tables, scratch, decoded
// copies). KV caches belong to sessions and are charged while the session exists.
#ifndef TESSERA_RESIDENT_BUDGET_H_
#define TESSERA_RESIDENT_BUDGET_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace tessera::resident {

inline constexpr std::uint64_t kUnlimitedBytes = std::numeric_limits<std::uint64_t>::max();
inline constexpr std::int32_t kUnlimitedCount = std::numeric_limits<std::int32_t>::max();

struct Budgets {
  std::uint64_t host_bytes = kUnlimitedBytes;
  std::uint64_t device_bytes = kUnlimitedBytes;
  std::uint64_t kv_bytes = kUnlimitedBytes;     // KV caches of all sessions (also host bytes)
  std::int32_t max_active = kUnlimitedCount;    // K_active: modules resident
  std::int32_t max_parallel = kUnlimitedCount;  // K_parallel: modules generating at once
  std::int32_t max_sessions = kUnlimitedCount;  // sessions open at once
  // A module resident for less than this is not evicted to make room (against thrashing).
  std::int64_t min_residence_micros = 0;
  // How long a request waits for a K_parallel slot before failing with kUnavailable.
  std::int64_t queue_timeout_micros = 30'000'000;
};

// Bytes held in each pool.
struct Bytes {
  std::uint64_t host = 0;
  std::uint64_t device = 0;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

// One artifact as the manager charges it: identified by its sha256.
struct ArtifactCharge {
  std::string sha256;
  Bytes bytes;
  friend bool operator==(const ArtifactCharge&, const ArtifactCharge&) = default;
};

// What one module costs in memory, apart from its sessions' KV.
struct Footprint {
  std::vector<ArtifactCharge> artifacts;  // shared parts
  Bytes private_bytes;                    // this module's own allocations
  std::uint64_t kv_bytes_per_token = 0;   // one context position of a session
  std::uint64_t session_bytes = 0;        // one session's buffers apart from its KV cache
  std::uint64_t session_kv_bytes = 0;     // one session's whole KV cache; 0: not known
  bool measured = false;                  // false: the manifest's estimate
  // false: part of the measurement was borrowed from an earlier one (the loader could not
  // isolate this load's bytes); good for planning, not worth keeping.
  bool exact = true;
  friend bool operator==(const Footprint&, const Footprint&) = default;
};

// Artifacts plus private bytes: what the footprint holds when nothing is shared.
Bytes FootprintBytes(const Footprint& footprint);

// "12.3 MB", "512 B": bytes in decimal units, for messages.
std::string HumanBytes(std::uint64_t bytes);
// "3.2 s", "250 ms", "40 us".
std::string HumanMicros(std::int64_t micros);

}  // namespace tessera::resident

#endif  // TESSERA_RESIDENT_BUDGET_H_
