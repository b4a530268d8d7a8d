// The registry's records: what the index stores about each installed package version, its state
// transitions and the quarantine. Values only; the SQL lives in index.cc.
//
// The stored state is the package's lifecycle only. Whether a module is in memory now (resident,
// or active: leased by a request) is a fact about a running process, not about the package: it
// is published per process under <home>/live/ and read with ReadLiveStates (live_states.h), so
// it never enters the history and never outlives its process (ADR 0016).
#ifndef TESSERA_REGISTRY_RECORDS_H_
#define TESSERA_REGISTRY_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::registry {

// Lifecycle (docs/architecture.md, "Lifecycle of a package"):
//   installed   admitted: every admission step passed, the bytes are in the store
//   verified    the stored bytes were hashed again and match (tessera verify)
//   suspended   temporarily refused (resume returns to the state before)
//   retired     no new activations (kept for rollback; resume does not apply)
//   quarantined the stored bytes failed verification; only remove applies
// Stores written before ADR 0016 may hold "resident" or "active" rows: the index reads them as
// their resume state (installed or verified) and rewrites them so when it is opened.
enum class State : std::uint8_t {
  kInstalled,
  kVerified,
  kSuspended,
  kRetired,
  kQuarantined,
};
std::string_view StateName(State state);
// A lifecycle state's name; nullopt for anything else ("resident" and "active" included).
std::optional<State> ParseState(std::string_view name);
// Installed or verified: a version that may be loaded and satisfy dependencies.
bool IsUsable(State state);

struct ArtifactRecord {
  std::string name;
  std::string role;
  std::string media_type;
  std::uint64_t size = 0;
  std::string sha256;
};

struct DependencyRecord {
  std::string kind;  // "requires", "conflicts", "replaces"
  std::string id;
  std::string range;  // version range text
};

struct PackageRecord {
  std::string id;
  std::string version;
  std::string kind;  // "model", "adapter"
  State state = State::kInstalled;
  State resume_state = State::kInstalled;  // the state `resume` returns to
  std::string manifest_sha256;             // blob of the manifest (canonical bytes as shipped)
  std::string signature_sha256;            // blob of the signature envelope; empty: unsigned
  std::string signer;                      // trusted key name; empty: unsigned
  std::string key_id;
  std::vector<std::string> granted;  // capabilities granted by the trust policy
  std::string license;
  std::string known_good;         // rollback.known_good, empty if none
  std::string base;               // adapters: "id@version" of the base
  std::int64_t installed_at = 0;  // Unix ms
  std::vector<ArtifactRecord> artifacts;
  std::vector<DependencyRecord> dependencies;
};

struct Transition {
  std::int64_t seq = 0;
  std::string id;
  std::string version;
  std::string from;  // "" for the first
  std::string to;    // a state name or "removed"
  std::int64_t at = 0;
  std::string reason;
};

struct QuarantineRecord {
  std::int64_t seq = 0;
  std::int64_t at = 0;
  std::string source;       // the file the user gave
  std::string file_sha256;  // of the rejected bytes
  std::string package;      // "id@version" when the manifest was readable, else ""
  std::string step;         // the admission step that refused it
  std::string code;         // StatusCode name
  std::string reason;       // the full error message
  std::string path;         // where the rejected bytes are kept, relative to the store; ""
                            // when no copy was kept (the reason then says why)
};

// Bounds on the quarantine (docs/formats/quarantine.md), kept in the store's settings and set
// with `tessera quarantine limits`. Adding a record prunes the oldest records (with their
// copies) until both hold; a refused file larger than max_bytes gets a record without a copy.
inline constexpr std::uint64_t kDefaultQuarantineBytes = 1ull << 30;  // 1 GiB
inline constexpr std::uint64_t kDefaultQuarantineRecords = 100;
inline constexpr std::uint64_t kMaxQuarantineRecords = 1'000'000;
struct QuarantineBounds {
  std::uint64_t max_bytes = kDefaultQuarantineBytes;      // copies kept, all together
  std::uint64_t max_records = kDefaultQuarantineRecords;  // records, with or without a copy; >= 1
  friend bool operator==(const QuarantineBounds&, const QuarantineBounds&) = default;
};

// Which records `tessera quarantine purge` removes: the listed ones, or every record made
// before a time (INT64_MAX: all of them).
struct QuarantinePurge {
  std::vector<std::int64_t> seqs;  // when not empty: exactly these (kNotFound for one missing)
  std::int64_t before_unix_ms = 0;
};

}  // namespace tessera::registry

#endif  // TESSERA_REGISTRY_RECORDS_H_
