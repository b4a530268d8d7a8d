// Fuzz target: the orchestration policy parser (package::ParsePolicy: strict JSON, the policy
// JSON Schema, the semantic rules, rule patterns and route domains compiled with safe_regex.h)
// and the router exemplars parser (package::ParseExemplars, JSONL), each given every input.
//
// Properties: no crash, leak, undefined behaviour or abort; an accepted policy lists its
// package ids (PolicyPackageIds) sorted and without duplicates,; every exemplar has a label and a
// text. Seeds: fuzz/corpus/policy (the bundled skills policy, its exemplars, and small policies of
// each router kind); dictionary fuzz/json.dict.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "package/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (Result<package::Policy> p = package::ParsePolicy(bytes); p.ok()) {
    const std::vector<std::string> ids = package::PolicyPackageIds(*p);
    FUZZ_EXPECT(std::is_sorted(ids.begin(), ids.end()));
    FUZZ_EXPECT(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
  }
  if (Result<std::vector<package::Exemplar>> e = package::ParseExemplars(bytes); e.ok()) {
    FUZZ_EXPECT(e->size() <= package::kMaxExemplars);
    for (const package::Exemplar& x : *e) FUZZ_EXPECT(!x.label.empty() && !x.text.empty());
  }
  return 0;
}
