// Shared by the tests of registry/gguf_facts.h: the shipped models (models/README.md) and
// damaged copies of them, written with gguf::Writer into a per-test temporary folder.
#ifndef TESSERA_TESTS_REGISTRY_GGUF_EDIT_FIXTURE_H_
#define TESSERA_TESTS_REGISTRY_GGUF_EDIT_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "gguf/value.h"
#include "tensor/types.h"

namespace tessera::registry::gguf_fixture {

inline const std::string kModels = std::string(TESSERA_SOURCE_DIR) + "/models/";
inline const std::string kDate = kModels + "specialists/date.gguf";
inline const std::string kSentiment = kModels + "specialists/sentiment.gguf";
inline const std::string kBase = kModels + "base.gguf";
inline const std::string kDateLora = kModels + "adapters/date.lora.gguf";

// Every shipped model, relative to kModels; the shipped adapters' names
// (adapters/<name>.lora.gguf).
inline const std::vector<std::string> kShippedModels = {
    "base.gguf",
    "generalist.gguf",
    "router.gguf",
    "specialists/arith.gguf",
    "specialists/date.gguf",
    "specialists/extract.gguf",
    "specialists/reverse.gguf",
    "specialists/sentiment.gguf",
    "specialists/unit.gguf",
};
inline const std::vector<std::string> kShippedAdapters = {"arith",   "date",      "extract",
                                                          "reverse", "sentiment", "unit"};

// gguf::File::Open, failing the test on an error.
gguf::File OpenOrDie(const std::string& path);
// sha256 of the file's bytes, lowercase hex.
std::string FileSha256(const std::string& path);
// The hash models/SHA256SUMS records for `file` (relative to models/), "" if none.
std::string RecordedSha256(const std::string& file);
// Elements of every tensor.
std::uint64_t SumOfElements(const gguf::File& f);

// A tensor added by an Edit; owns its bytes.
struct NewTensor {
  std::string name;
  std::vector<std::uint64_t> dims;
  tensor::DType type = tensor::DType::kF32;
  std::vector<std::uint8_t> bytes;
};
// An F32 tensor of zeros.
NewTensor ZerosF32(std::string name, std::vector<std::uint64_t> dims);

// Changes applied while copying a GGUF.
struct Edit {
  std::map<std::string, gguf::Value> set_keys;  // replaced in place, or appended
  std::set<std::string> drop_keys;
  std::set<std::string> drop_tensors;
  // New dims for a tensor; its bytes are the leading bytes of the original (must be no larger).
  std::map<std::string, std::vector<std::uint64_t>> reshape;
  std::vector<NewTensor> add_tensors;  // appended after the (kept) tensors of the source
};

// Writes `src` with `edit` applied to `dst` (failing the test on an error).
void Rewrite(const std::string& src, const std::string& dst, const Edit& edit);

// Writes the first `size` bytes of `src` to `dst`.
void WriteTruncated(const std::string& src, const std::string& dst, std::size_t size);

// A fresh temporary folder per test, removed afterwards: dir_ ends with '/'.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::string dir_;
};

}  // namespace tessera::registry::gguf_fixture

#endif  // TESSERA_TESTS_REGISTRY_GGUF_EDIT_FIXTURE_H_
