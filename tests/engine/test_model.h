// Fixtures for the engine tests: small random llama GGUFs written with model::WriteRandomLlama
// into the test's temporary directory (one file per process and name, removed by the caller).
#ifndef TESSERA_TESTS_ENGINE_TEST_MODEL_H_
#define TESSERA_TESTS_ENGINE_TEST_MODEL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gguf/keys.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "model/synth.h"
#include "tessera/engine.h"

namespace tessera::engine_test {

// The spec every engine test uses: 512 tokens, 2 layers, n_ctx_train 256, seeded.
inline model::SynthSpec TestSpec() {
  model::SynthSpec spec;
  spec.seed = 20261125;
  spec.stddev = 0.1f;  // sharper than the default so that distributions are not flat
  return spec;
}

inline std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "tessera_engine_" + std::to_string(::getpid()) + "_" + name +
         ".gguf";
}

// Writes TestSpec() (or `spec`) to a temp file and returns its path.
inline std::string WriteTestModel(const std::string& name,
                                  const model::SynthSpec& spec = TestSpec()) {
  const std::string path = TempPath(name);
  const Status st = model::WriteRandomLlama(spec, path);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return path;
}

// The same model as `spec` with the metadata keys of `set` replaced (or added, when the model
// lacks them): rewritten key by key with the GGUF writer, tensors unchanged.
inline std::string WriteTestModelWithKeys(
    const std::string& name, const model::SynthSpec& spec,
    const std::vector<std::pair<std::string, gguf::Value>>& set) {
  const std::string path = TempPath(name);
  Result<std::vector<std::uint8_t>> bytes = model::BuildRandomLlama(spec);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!bytes.ok()) return path;
  Result<gguf::File> file = gguf::File::Parse(*bytes);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return path;
  gguf::Writer writer;
  std::vector<bool> used(set.size(), false);
  for (const gguf::KeyValue& kv : file->metadata()) {
    const gguf::Value* value = &kv.value;
    for (std::size_t i = 0; i < set.size(); ++i) {
      if (set[i].first == kv.key) {
        value = &set[i].second;
        used[i] = true;
      }
    }
    EXPECT_TRUE(writer.AddKeyValue(kv.key, *value).ok()) << kv.key;
  }
  for (std::size_t i = 0; i < set.size(); ++i) {
    if (!used[i]) {
      EXPECT_TRUE(writer.AddKeyValue(set[i].first, set[i].second).ok());
    }
  }
  for (const gguf::TensorInfo& t : file->tensors()) {
    EXPECT_TRUE(writer.AddTensor(t.name, t.dims, t.type, t.data).ok());
  }
  const Status st = writer.WriteFile(path);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return path;
}

// The same model as `spec` but with tokenizer.ggml.eos_token_id set to `eos_id`.
inline std::string WriteTestModelWithEos(const std::string& name, const model::SynthSpec& spec,
                                         std::int32_t eos_id) {
  return WriteTestModelWithKeys(
      name, spec,
      {{std::string(gguf::keys::kTokenizerEosId),
        gguf::Value::U32(static_cast<std::uint32_t>(eos_id))}});
}

inline std::unique_ptr<Model> OpenModel(const std::string& path, const ModelOptions& options = {}) {
  Result<std::unique_ptr<Model>> model = Model::Open(path, options);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? std::move(model).value() : nullptr;
}

inline std::unique_ptr<Session> NewSession(const Model& model) {
  Result<std::unique_ptr<Session>> session = model.NewSession();
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  return session.ok() ? std::move(session).value() : nullptr;
}

inline std::vector<std::int32_t> Ids(const GenerateResult& r) {
  std::vector<std::int32_t> ids;
  for (const GeneratedToken& t : r.tokens) ids.push_back(t.id);
  return ids;
}

// A suite that shares one TestSpec() model, written and opened once per test binary:
//   class ScoreTest : public SharedModelTest<ScoreTest> {
//    public:
//     static constexpr const char* kModelName = "score";  // the temp file's name
//   };
// Tests use the static members path_ and model_.
template <typename Suite>
class SharedModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = new std::string(WriteTestModel(Suite::kModelName));
    model_ = OpenModel(*path_).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    std::remove(path_->c_str());
    delete path_;
    model_ = nullptr;
    path_ = nullptr;
  }
  static inline std::string* path_ = nullptr;
  static inline Model* model_ = nullptr;
};

}  // namespace tessera::engine_test

#endif  // TESSERA_TESTS_ENGINE_TEST_MODEL_H_
