// gguf::Writer::WriteFile writes through base::FileEnv (ADR 0019): every operation of writing a
// GGUF file is failed with every fault that applies, and the writer is killed at every operation
// (tests/base/atomic_write_checks.h). The output path holds the old file or the complete new one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../base/atomic_write_checks.h"
#include "gguf/writer.h"

namespace tessera::gguf {
namespace {

TEST(WriterFaultTest, TheOutputIsOldOrNewWhateverOperationFailsOrWhereverKilled) {
  const std::filesystem::path dir = std::filesystem::path(TESSERA_BINARY_DIR) /
                                    "gguf_writer_fault_test" / std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::vector<std::uint8_t> weights(4096 * 4);
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<std::uint8_t>(i * 7);
  Writer w;
  ASSERT_TRUE(w.AddKeyValue("general.architecture", Value::String("llama")).ok());
  ASSERT_TRUE(w.AddTensor("a", {4096}, tensor::DType::kF32, weights).ok());
  ASSERT_TRUE(w.AddTensor("b", {1000}, tensor::DType::kF32, std::span(weights).first(4000)).ok());
  Result<std::vector<std::uint8_t>> bytes = w.WriteToBuffer();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  const std::string expected(bytes->begin(), bytes->end());
  const std::string path = (dir / "model.gguf").string();
  auto write = [&](base::FileEnv& env) { return w.WriteFile(path, env); };
  const int faulted =
      fault::FailEveryOperation("gguf file", path, std::string("old"), expected, write);
  const int killed =
      fault::KillAtEveryOperation("gguf file", path, std::string("old"), expected, write);
  EXPECT_GE(faulted, 8);
  EXPECT_GE(killed, 8);
  std::filesystem::remove_all(dir.parent_path());
}

}  // namespace
}  // namespace tessera::gguf
