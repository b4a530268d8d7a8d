// Helpers shared by the model tests: GGUF bytes kept alive with their parsed File, and a way to
// rewrite a file with edits (drop a tensor, reshape one, change a key) for admission tests.
#ifndef TESSERA_TESTS_MODEL_MODEL_TEST_UTIL_H_
#define TESSERA_TESTS_MODEL_MODEL_TEST_UTIL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "model/synth.h"
#include "tessera/status.h"

namespace tessera::model::testing {

// Parses `bytes` and returns a File that owns them (through the shared_ptr's control block).
Result<std::shared_ptr<const gguf::File>> ParseOwned(std::vector<std::uint8_t> bytes);

// BuildRandomLlama + ParseOwned.
Result<std::shared_ptr<const gguf::File>> SynthFile(const SynthSpec& spec);

// A tensor as the rewriter sees it; edits may change any field or drop it.
struct TensorEdit {
  std::string name;
  std::vector<std::uint64_t> dims;
  tensor::DType type;
  std::vector<std::uint8_t> bytes;
  bool drop = false;
};
struct KeyEdit {
  std::string key;
  gguf::Value value;
  bool drop = false;
};

// Copies `file` into a new GGUF, passing each key and tensor through the edit callbacks (either
// may be null), then parses the result.
Result<std::shared_ptr<const gguf::File>> Rewrite(
    const gguf::File& file, const std::function<void(KeyEdit&)>& edit_key,
    const std::function<void(TensorEdit&)>& edit_tensor,
    const std::vector<KeyEdit>& extra_keys = {});

}  // namespace tessera::model::testing

#endif  // TESSERA_TESTS_MODEL_MODEL_TEST_UTIL_H_
