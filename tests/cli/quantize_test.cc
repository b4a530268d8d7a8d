// End-to-end tests of `tessera quantize`: the output loads and generates, tensors get the types
// of the chosen recipe, unfit widths fall back to f16 with a note on stderr, metadata is copied,
// and errors leave no output file.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "gguf/writer.h"
#include "run_cli.h"
#include "tensor/types.h"

namespace tessera {
namespace {

using tensor::DType;
using testing::CliRun;
using testing::RunCli;

bool Exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f != nullptr) std::fclose(f);
  return f != nullptr;
}

// An F32 llama with rows of 256 (fit for K-quants) and an ffn_down of width 520 (fits no
// blocked type: 520 % 32 == 8), untied output.
const std::string& SourceModel() {
  static const std::string path = [] {
    const std::string p = ::testing::TempDir() + "quantize_src_f32.gguf";
    CliRun run = RunCli({"synth", "-o",        p,     "--shape",     "tiny",   "--type",
                         "f32",   "--n-vocab", "300", "--n-embd",    "256",    "--n-layer",
                         "2",     "--n-head",  "4",   "--n-head-kv", "2",      "--n-ff",
                         "520",   "--n-ctx",   "64",  "--untied",    "--seed", "5"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return p;
  }();
  return path;
}

DType TypeOf(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo* t = f.FindTensor(name);
  EXPECT_NE(t, nullptr) << name;
  return t == nullptr ? DType::kI8 : t->type;
}

void ExpectGenerates(const std::string& path) {
  CliRun gen = RunCli({"generate", "-m", path, "-p", "Once upon", "-n", "4"});
  EXPECT_EQ(gen.exit_code, 0) << gen.err;
}

TEST(CliQuantizeTest, Q4_KMMixFollowsTheRecipeAndGenerates) {
  const std::string out = ::testing::TempDir() + "quantize_q4km.gguf";
  CliRun run = RunCli({"quantize", SourceModel(), out, "q4_k_m"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("q4_k_m"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("MiB"), std::string::npos) << run.out;
  // ffn_down (width 520) falls back to f16, one stderr line per tensor.
  EXPECT_NE(run.err.find("blk.0.ffn_down.weight"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("blk.1.ffn_down.weight"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("520"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("f16"), std::string::npos) << run.err;

  Result<gguf::File> f = gguf::File::Open(out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(TypeOf(*f, "output.weight"), DType::kQ6_K);
  EXPECT_EQ(TypeOf(*f, "token_embd.weight"), DType::kQ4_K);
  // use_more_bits(i, 2): i >= 7 * 2 / 8 = 1 -> layer 1's attn_v is Q6_K, layer 0's is not.
  EXPECT_EQ(TypeOf(*f, "blk.0.attn_v.weight"), DType::kQ4_K);
  EXPECT_EQ(TypeOf(*f, "blk.1.attn_v.weight"), DType::kQ6_K);
  EXPECT_EQ(TypeOf(*f, "blk.0.attn_q.weight"), DType::kQ4_K);
  EXPECT_EQ(TypeOf(*f, "blk.1.ffn_gate.weight"), DType::kQ4_K);
  EXPECT_EQ(TypeOf(*f, "blk.0.ffn_down.weight"), DType::kF16);
  EXPECT_EQ(TypeOf(*f, "blk.1.ffn_down.weight"), DType::kF16);
  EXPECT_EQ(TypeOf(*f, "blk.0.attn_norm.weight"), DType::kF32);
  EXPECT_EQ(TypeOf(*f, "output_norm.weight"), DType::kF32);
  EXPECT_EQ(f->GetU32("general.file_type").value(), 15u);  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  EXPECT_EQ(f->GetU32("general.quantization_version").value(), 2u);

  // Every other metadata pair is copied unchanged, in order.
  Result<gguf::File> src = gguf::File::Open(SourceModel());
  ASSERT_TRUE(src.ok());
  std::vector<std::string> copied;
  for (const gguf::KeyValue& kv : src->metadata()) {
    if (kv.key == "general.file_type" || kv.key == "general.quantization_version") continue;
    const gguf::Value* v = f->Find(kv.key);
    ASSERT_NE(v, nullptr) << kv.key;
    EXPECT_TRUE(*v == kv.value) << kv.key;
  }
  EXPECT_EQ(f->tensors().size(), src->tensors().size());
  ExpectGenerates(out);
}

TEST(CliQuantizeTest, EverySingleTypeLoadsAndGenerates) {
  struct Want {
    const char* arg;
    DType matrix;  // blk.0.attn_q.weight (width 256)
    DType down;    // blk.0.ffn_down.weight (width 520: f16 unless the type has no blocks)
    std::uint32_t file_type;
  };
  for (const Want& w :
       {Want{"f32", DType::kF32, DType::kF32, 0}, Want{"f16", DType::kF16, DType::kF16, 1},
        Want{"bf16", DType::kBF16, DType::kBF16, 32}, Want{"q8_0", DType::kQ8_0, DType::kF16, 7},
        Want{"q4_0", DType::kQ4_0, DType::kF16, 2}, Want{"q4_1", DType::kQ4_1, DType::kF16, 3},
        Want{"q5_0", DType::kQ5_0, DType::kF16, 8}, Want{"Q5_1", DType::kQ5_1, DType::kF16, 9},
        Want{"q4_k", DType::kQ4_K, DType::kF16, 14}, Want{"q5_k", DType::kQ5_K, DType::kF16, 16},
        Want{"q6_k", DType::kQ6_K, DType::kF16, 18},
        Want{"q5_k_m", DType::kQ5_K, DType::kF16, 17}}) {
    SCOPED_TRACE(w.arg);
    const std::string out = ::testing::TempDir() + "quantize_" + w.arg + ".gguf";
    CliRun run = RunCli({"quantize", SourceModel(), out, w.arg});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    Result<gguf::File> f = gguf::File::Open(out);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(TypeOf(*f, "blk.0.attn_q.weight"), w.matrix);
    EXPECT_EQ(TypeOf(*f, "blk.0.ffn_down.weight"), w.down);
    EXPECT_EQ(TypeOf(*f, "blk.0.ffn_norm.weight"), DType::kF32);
    EXPECT_EQ(f->GetU32("general.file_type").value(), w.file_type);
    ExpectGenerates(out);
    std::remove(out.c_str());
  }
}

TEST(CliQuantizeTest, OutputAndEmbeddingOverrides) {
  const std::string out = ::testing::TempDir() + "quantize_overrides.gguf";
  CliRun run = RunCli(
      {"quantize", SourceModel(), out, "q4_k_m", "--output-type", "q8_0", "--embd-type", "f16"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Result<gguf::File> f = gguf::File::Open(out);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(TypeOf(*f, "output.weight"), DType::kQ8_0);
  EXPECT_EQ(TypeOf(*f, "token_embd.weight"), DType::kF16);
  ExpectGenerates(out);
}

// In a mix, K-quant matrices whose rows fit 32 but not 256 take llama.cpp's fallbacks
// (Q4_K -> Q5_0, Q6_K -> Q8_0), each named on stderr; a single-type request keeps F16.
TEST(CliQuantizeTest, MixFallsBackLikeLlamaCppForRowsOf32) {
  const std::string src = ::testing::TempDir() + "quantize_src_w96.gguf";
  CliRun synth = RunCli({"synth", "-o",        src,   "--shape",     "tiny", "--type",
                         "f32",   "--n-vocab", "300", "--n-embd",    "96",   "--n-layer",
                         "2",     "--n-head",  "2",   "--n-head-kv", "2",    "--n-ff",
                         "160",   "--n-ctx",   "64",  "--untied",    "--seed", "6"});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  const std::string out = ::testing::TempDir() + "quantize_w96_q4km.gguf";
  CliRun run = RunCli({"quantize", src, out, "q4_k_m"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("blk.0.attn_q.weight: row width 96 is not a multiple of the q4_K block "
                         "size 256; using q5_0 (llama.cpp's fallback in this mix)"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("output.weight: row width 96 is not a multiple of the q6_K block size "
                         "256; using q8_0"),
            std::string::npos)
      << run.err;
  Result<gguf::File> f = gguf::File::Open(out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(TypeOf(*f, "blk.0.attn_q.weight"), DType::kQ5_0);
  EXPECT_EQ(TypeOf(*f, "blk.0.ffn_down.weight"), DType::kQ5_0);  // width 160, layer 0 of 2
  EXPECT_EQ(TypeOf(*f, "blk.1.attn_v.weight"), DType::kQ8_0);    // Q6_K by use_more_bits
  EXPECT_EQ(TypeOf(*f, "output.weight"), DType::kQ8_0);
  EXPECT_EQ(TypeOf(*f, "token_embd.weight"), DType::kQ5_0);
  ExpectGenerates(out);

  const std::string single = ::testing::TempDir() + "quantize_w96_q4k.gguf";
  CliRun strict = RunCli({"quantize", src, single, "q4_k"});
  ASSERT_EQ(strict.exit_code, 0) << strict.err;
  Result<gguf::File> g = gguf::File::Open(single);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(TypeOf(*g, "blk.0.attn_q.weight"), DType::kF16);
}

// The shipped tiny model has rows of 64 and 192: every K-quant matrix falls back to f16.
TEST(CliQuantizeTest, ShippedTinyModelFallsBackToF16ForKQuants) {
  const std::string model = std::string(TESSERA_SOURCE_DIR) + "/models/tiny/tiny-random.gguf";
  const std::string out = ::testing::TempDir() + "quantize_tiny_q6k.gguf";
  CliRun run = RunCli({"quantize", model, out, "q6_k"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("blk.0.attn_q.weight: row width 64 is not a multiple of the q6_K "
                         "block size 256; keeping it as f16"),
            std::string::npos)
      << run.err;
  Result<gguf::File> f = gguf::File::Open(out);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(TypeOf(*f, "blk.0.attn_q.weight"), DType::kF16);
  ExpectGenerates(out);
}

TEST(CliQuantizeTest, UnknownTypeIsInvalidArgument) {
  const std::string out = ::testing::TempDir() + "quantize_never.gguf";
  std::remove(out.c_str());  // left by an earlier run that failed
  for (const char* bad : {"q3_k_m", "q4_k_s", "int4"}) {
    CliRun run = RunCli({"quantize", SourceModel(), out, bad});
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_NE(run.err.find("invalid_argument"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(bad), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("q4_k_m"), std::string::npos) << run.err;  // lists the valid ones
  }
  CliRun mix_override = RunCli({"quantize", SourceModel(), out, "q4_0", "--output-type", "q4_k_m"});
  EXPECT_EQ(mix_override.exit_code, 1);
  EXPECT_NE(mix_override.err.find("--output-type"), std::string::npos) << mix_override.err;
  EXPECT_FALSE(Exists(out));
}

TEST(CliQuantizeTest, UndequantizableSourceIsUnsupported) {
  // A matrix of IQ2_XXS, a type we can read but not dequantize.
  gguf::Writer w;
  ASSERT_TRUE(w.AddKeyValue("general.architecture", gguf::Value::String("llama")).ok());
  const std::vector<std::uint8_t> q2k(66 * 2, 0);
  ASSERT_TRUE(w.AddTensor("blk.0.attn_q.weight", {256, 2}, DType::kIQ2_XXS, q2k).ok());
  const std::string src = ::testing::TempDir() + "quantize_q2k_src.gguf";
  ASSERT_TRUE(w.WriteFile(src).ok());
  const std::string out = ::testing::TempDir() + "quantize_q2k_out.gguf";
  std::remove(out.c_str());
  CliRun run = RunCli({"quantize", src, out, "q8_0"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("unsupported"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("blk.0.attn_q.weight"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("iq2_xxs"), std::string::npos) << run.err;
  EXPECT_FALSE(Exists(out));
}

TEST(CliQuantizeTest, MissingInputIsNotFound) {
  CliRun run =
      RunCli({"quantize", "/nonexistent/in.gguf", ::testing::TempDir() + "x.gguf", "q8_0"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("not_found"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace tessera
