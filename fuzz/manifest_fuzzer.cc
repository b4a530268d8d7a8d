// Fuzz target: the package manifest parser (package::ParseManifest: strict JSON, the JSON
// Schema, the semantic rules, contract schemas and patterns).
//
// Properties checked for every manifest the parser accepts (manifest.h):
//   - ManifestToJson succeeds and parses back to an equal Manifest;
//   - its canonical bytes (what is signed) can be computed;
//   - the prompt template is invertible: InputFromPrompt(ApplyPromptTemplate(r)) == r;
//   - its contract examples pass the output type (ParseManifest checked them).
// Seeds: fuzz/corpus/manifest (tests/package/data, v2 model, adapter and policy manifests);
// dictionary fuzz/json.dict.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "package/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Result<package::Manifest> m = package::ParseManifest(bytes);
  if (!m.ok()) return 0;

  Result<std::string> text = package::ManifestToJson(*m);
  FUZZ_EXPECT(text.ok());
  Result<package::Manifest> again = package::ParseManifest(*text);
  FUZZ_EXPECT(again.ok());
  FUZZ_EXPECT(*again == *m);
  FUZZ_EXPECT(package::CanonicalManifestBytes(*m).ok());

  const std::string request = "a {request} with }} braces";
  Result<std::string> prompt = package::ApplyPromptTemplate(m->contract, request);
  FUZZ_EXPECT(prompt.ok());
  const std::optional<std::string> back = package::InputFromPrompt(m->contract, *prompt);
  FUZZ_EXPECT(back.has_value() && *back == request);
  for (const package::ContractExample& e : m->contract.examples) {
    FUZZ_EXPECT(package::CheckOutputType(m->contract.output, e.output).ok());
  }
  return 0;
}
