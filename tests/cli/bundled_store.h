// A store of the bundled packages, as scripts/bootstrap makes it (without calibrations), for the
// end-to-end CLI tests: a generated key "local" trusted for dev.tessera. (emit:*, route:skills),
// every model of models/ and the bundled policy packed by scripts/package-models and installed,
// then verified.
#ifndef TESSERA_TESTS_CLI_BUNDLED_STORE_H_
#define TESSERA_TESTS_CLI_BUNDLED_STORE_H_

#include <string>

namespace tessera::testing {

// Makes `home` (a new directory under `work`); fails the current test on any error.
void MakeBundledStore(const std::string& work, const std::string& home);

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_CLI_BUNDLED_STORE_H_
