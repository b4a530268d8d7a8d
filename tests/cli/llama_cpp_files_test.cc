// Files as llama.cpp's own tools write them, run through the `tessera` command.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "gguf/keys.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "run_cli.h"

namespace tessera {
namespace {

using testing::CliRun;
using testing::RunCli;

const std::string kTinyModel = std::string(TESSERA_SOURCE_DIR) + "/models/tiny/tiny-random.gguf";

// `kTinyModel` rewritten with the special-token keys llama.cpp's convert-llama2c-to-ggml writes:
// padding and separator ids 0xFFFFFFFF (LLAMA_TOKEN_NULL in a u32).
std::string WriteLlama2cStyleCopy() {
  const std::string path =
      ::testing::TempDir() + "tessera_llama2c_" + std::to_string(::getpid()) + ".gguf";
  Result<gguf::File> file = gguf::File::Open(kTinyModel);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return path;
  gguf::Writer writer;
  for (const gguf::KeyValue& kv : file->metadata()) {
    if (kv.key == gguf::keys::kTokenizerPaddingId || kv.key == gguf::keys::kTokenizerSeparatorId) {
      continue;
    }
    EXPECT_TRUE(writer.AddKeyValue(kv.key, kv.value).ok());
  }
  EXPECT_TRUE(writer
                  .AddKeyValue(std::string(gguf::keys::kTokenizerSeparatorId),
                               gguf::Value::U32(0xFFFFFFFFu))
                  .ok());
  EXPECT_TRUE(
      writer
          .AddKeyValue(std::string(gguf::keys::kTokenizerPaddingId), gguf::Value::U32(0xFFFFFFFFu))
          .ok());
  for (const gguf::TensorInfo& t : file->tensors()) {
    EXPECT_TRUE(writer.AddTensor(t.name, t.dims, t.type, t.data).ok());
  }
  const Status st = writer.WriteFile(path);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return path;
}

TEST(LlamaCppFilesTest, Llama2cConversionsRunWithAWarningPerIgnoredId) {
  const std::string odd = WriteLlama2cStyleCopy();
  CliRun want = RunCli({"generate", "-m", kTinyModel, "-p", "Once upon a time", "-n", "12"});
  CliRun got = RunCli({"generate", "-m", odd, "-p", "Once upon a time", "-n", "12"});
  ASSERT_EQ(want.exit_code, 0) << want.err;
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, want.out);
  EXPECT_EQ(want.err.find("warning"), std::string::npos) << want.err;
  EXPECT_NE(got.err.find("tessera: warning: tokenizer: tokenizer.ggml.seperator_token_id = "
                         "4294967295 is outside the vocabulary"),
            std::string::npos)
      << got.err;
  EXPECT_NE(got.err.find("tessera: warning: tokenizer: tokenizer.ggml.padding_token_id = "
                         "4294967295"),
            std::string::npos)
      << got.err;

  CliRun tokenized = RunCli({"tokenize", "-m", odd, "-p", "Once upon a time", "--ids"});
  EXPECT_EQ(tokenized.exit_code, 0) << tokenized.err;
  EXPECT_NE(tokenized.err.find("tessera: warning:"), std::string::npos) << tokenized.err;
  std::remove(odd.c_str());
}

}  // namespace
}  // namespace tessera
