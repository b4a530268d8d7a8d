// make_seeds: writes the generated seeds of the fuzz corpora, small files that the committed
// test data has no small equivalent of (the vocabularies and models are megabytes):
//   gguf/          a SentencePiece and a byte-level BPE vocabulary of a few hundred tokens, a
//                  file with tensors of several types and alignment 64, a file holding every
//                  metadata value type and nested arrays
//   package_file/  package files with two tiny artifacts, signed and unsigned
//   tar/           the same package files, an archive of directories and odd-sized files, and
//                  an empty archive
// Usage: make_seeds CORPUS_DIR (fuzz/corpus; `scripts/fuzz seeds` runs it). The output is
// deterministic, so rerunning it changes nothing that is committed.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/reader.h"
#include "gguf/value.h"
#include "gguf/writer.h"
#include "package/oci_reader.h"
#include "package/oci_writer.h"
#include "package/tar_writer.h"

namespace tessera::fuzz {
namespace {

using Bytes = std::vector<std::uint8_t>;

void Check(const Status& s, std::string_view what) {
  if (s.ok()) return;
  std::fprintf(stderr, "make_seeds: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               s.ToString().c_str());
  std::exit(1);
}

Bytes AsBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Writes the file and reads it back: a seed the reader refuses would start the fuzzer off the
// paths worth exploring.
void WriteGguf(const gguf::Writer& w, const std::string& path) {
  Check(w.WriteFile(path), path);
  Check(gguf::File::Open(path).status(), path);
}

// "llama": <unk> <s> </s>, the 256 byte tokens, then a few pieces with scores.
void SpmVocab(const std::string& path) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  std::vector<std::int32_t> types = {2, 3, 3};
  static const char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">");
    scores.push_back(0);
    types.push_back(6);
  }
  const char* pieces[] = {"\xE2\x96\x81",
                          "a",
                          "b",
                          "ab",
                          "\xE2\x96\x81"
                          "a",
                          "\xE2\x96\x81"
                          "ab",
                          "he",
                          "llo",
                          "hello",
                          "\xE2\x96\x81hello",
                          "\xC3\xB6"};
  float score = -1;
  for (const char* p : pieces) {
    tokens.push_back(p);
    scores.push_back(score--);
    types.push_back(1);
  }
  tokens.push_back("<tool>");  // user-defined
  scores.push_back(0);
  types.push_back(4);
  gguf::Writer w;
  Check(w.AddKeyValue("general.architecture", gguf::Value::String("llama")), "arch");
  Check(w.AddKeyValue("general.name", gguf::Value::String("fuzz-spm")), "name");
  Check(w.AddKeyValue("tokenizer.ggml.model", gguf::Value::String("llama")), "model");
  Check(w.AddKeyValue("tokenizer.ggml.tokens", gguf::Value::StringArray(tokens)), "tokens");
  Check(w.AddKeyValue("tokenizer.ggml.scores", gguf::Value::F32Array(scores)), "scores");
  Check(w.AddKeyValue("tokenizer.ggml.token_type", gguf::Value::I32Array(types)), "types");
  Check(w.AddKeyValue("tokenizer.ggml.bos_token_id", gguf::Value::U32(1)), "bos");
  Check(w.AddKeyValue("tokenizer.ggml.eos_token_id", gguf::Value::U32(2)), "eos");
  Check(w.AddKeyValue("tokenizer.ggml.add_bos_token", gguf::Value::Bool(true)), "add_bos");
  WriteGguf(w, path);
}

// "gpt2": the byte-level characters of printable ASCII and "Ġ" (space), a few merges, and an
// end-of-text control token (a seed need not cover every byte).
void BpeVocab(const std::string& path) {
  std::vector<std::string> tokens;
  std::vector<std::int32_t> types;
  for (char c = '!'; c <= '~'; ++c) {
    tokens.emplace_back(1, c);
    types.push_back(1);
  }
  tokens.push_back("\xC4\xA0");  // Ġ: the byte-level character of ' '
  types.push_back(1);
  const std::vector<std::string> merges = {"h e",          "l l",        "he ll",
                                           "hell o",       "\xC4\xA0 w", "o r",
                                           "\xC4\xA0w or", "l d",        "\xC4\xA0wor ld"};
  for (const std::string& m : merges) {
    tokens.push_back(m.substr(0, m.find(' ')) + m.substr(m.find(' ') + 1));
    types.push_back(1);
  }
  tokens.push_back("<|endoftext|>");
  types.push_back(3);
  gguf::Writer w;
  Check(w.AddKeyValue("general.architecture", gguf::Value::String("gpt2")), "arch");
  Check(w.AddKeyValue("tokenizer.ggml.model", gguf::Value::String("gpt2")), "model");
  Check(w.AddKeyValue("tokenizer.ggml.pre", gguf::Value::String("gpt-2")), "pre");
  Check(w.AddKeyValue("tokenizer.ggml.tokens", gguf::Value::StringArray(tokens)), "tokens");
  Check(w.AddKeyValue("tokenizer.ggml.token_type", gguf::Value::I32Array(types)), "types");
  Check(w.AddKeyValue("tokenizer.ggml.merges", gguf::Value::StringArray(merges)), "merges");
  Check(w.AddKeyValue("tokenizer.ggml.bos_token_id",
                      gguf::Value::U32(static_cast<std::uint32_t>(tokens.size() - 1))),
        "bos");
  WriteGguf(w, path);
}

void Tensors(const std::string& path) {
  gguf::Writer w;
  w.SetAlignment(64);
  Check(w.AddKeyValue("general.architecture", gguf::Value::String("llama")), "arch");
  Check(w.AddKeyValue("llama.block_count", gguf::Value::U32(1)), "blocks");
  Check(w.AddKeyValue("llama.context_length", gguf::Value::U32(64)), "ctx");
  Check(w.AddKeyValue("llama.embedding_length", gguf::Value::U32(32)), "embd");
  static const Bytes f32(4 * 8, 0x3f), f16(2 * 32 * 2, 0x3c), q8(34 * 2, 0x11), q4k(144, 0x22);
  Check(w.AddTensor("token_embd.weight", {8}, tensor::DType::kF32, f32), "f32");
  Check(w.AddTensor("blk.0.attn_q.weight", {32, 2}, tensor::DType::kF16, f16), "f16");
  Check(w.AddTensor("blk.0.ffn_up.weight", {32, 2}, tensor::DType::kQ8_0, q8), "q8_0");
  Check(w.AddTensor("output.weight", {256}, tensor::DType::kQ4_K, q4k), "q4_K");
  WriteGguf(w, path);
}

void EveryValueType(const std::string& path) {
  gguf::Writer w;
  Check(w.AddKeyValue("general.architecture", gguf::Value::String("test")), "arch");
  Check(w.AddKeyValue("t.u8", gguf::Value::U8(200)), "u8");
  Check(w.AddKeyValue("t.i8", gguf::Value::I8(-100)), "i8");
  Check(w.AddKeyValue("t.u16", gguf::Value::U16(60000)), "u16");
  Check(w.AddKeyValue("t.i16", gguf::Value::I16(-30000)), "i16");
  Check(w.AddKeyValue("t.u32", gguf::Value::U32(4000000000u)), "u32");
  Check(w.AddKeyValue("t.i32", gguf::Value::I32(-2000000000)), "i32");
  Check(w.AddKeyValue("t.u64", gguf::Value::U64(~0ull)), "u64");
  Check(w.AddKeyValue("t.i64", gguf::Value::I64(-1)), "i64");
  Check(w.AddKeyValue("t.f32", gguf::Value::F32(1.5f)), "f32");
  Check(w.AddKeyValue("t.f64", gguf::Value::F64(-2.25)), "f64");
  Check(w.AddKeyValue("t.bool", gguf::Value::Bool(true)), "bool");
  Check(w.AddKeyValue("t.string", gguf::Value::String("w\xC3\xB6rld")), "string");
  gguf::Array inner;
  inner.element_type = gguf::ValueType::kI32;
  inner.items = {gguf::Value::I32(1), gguf::Value::I32(2)};
  gguf::Array outer;
  outer.element_type = gguf::ValueType::kArray;
  outer.items = {gguf::Value::MakeArray(inner), gguf::Value::MakeArray(inner)};
  Check(w.AddKeyValue("t.nested", gguf::Value::MakeArray(outer)), "nested");
  Check(w.AddKeyValue("t.strings", gguf::Value::StringArray({"a", "", "ccc"})), "strings");
  WriteGguf(w, path);
}

// A package file with two tiny artifacts (bytes only: the reader does not parse them).
void Package(const std::string& dir, const std::string& path, bool sign) {
  const std::string model = dir + "/model.gguf", eval = dir + "/eval.jsonl";
  for (const auto& [file, text] :
       {std::pair{model, std::string("GGUF\x03\0\0\0", 8)},
        std::pair{eval, std::string("{\"prompt\":\"1+1\",\"expected\":\"2\"}\n")}}) {
    std::FILE* f = std::fopen(file.c_str(), "wb");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  const Bytes config = AsBytes(
      R"({"schema":"tessera.package/v1","id":"dev.fuzz.seed","version":"1.0.0","kind":"model"})");
  const Bytes signature = AsBytes(R"({"keyid":"fuzz","sig":"AAAA"})");
  package::PackageFileInput input;
  input.config = config;
  input.artifacts = {{model, "model.gguf", "application/vnd.gguf", std::nullopt},
                     {eval, "eval.jsonl", "application/vnd.tessera.eval.jsonl", std::nullopt}};
  if (sign) input.signature = std::span<const std::uint8_t>(signature);
  Check(package::WritePackageFile(path, input).status(), path);
  const std::string staging = dir + "/staging";
  std::filesystem::create_directories(staging);
  Check(package::ReadPackageFile(path, staging).status(), path);
  std::filesystem::remove_all(staging);
}

void Archive(const std::string& path, bool empty) {
  Result<package::TarWriter> w = package::TarWriter::Create(path);
  Check(w.status(), path);
  if (!empty) {
    Check(w->AddDirectory("dir"), "dir");
    Check(w->AddDirectory("dir/sub"), "dir/sub");
    Check(w->AddFile("dir/sub/odd.txt", AsBytes(std::string(513, 'x'))), "odd");
    Check(w->AddFile("dir/empty", {}), "empty");
    Check(w->AddFile("top.bin", AsBytes(std::string("\0\1\2\3", 4))), "top");
  }
  Check(w->Finish(), path);
}

}  // namespace
}  // namespace tessera::fuzz

int main(int argc, char** argv) {
  using namespace tessera::fuzz;
  namespace fs = std::filesystem;
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
    return 2;
  }
  const std::string out = argv[1];
  for (const char* d : {"gguf", "package_file", "tar"}) fs::create_directories(out + "/" + d);
  SpmVocab(out + "/gguf/seed-spm-vocab.gguf");
  BpeVocab(out + "/gguf/seed-bpe-vocab.gguf");
  Tensors(out + "/gguf/seed-tensors.gguf");
  EveryValueType(out + "/gguf/seed-value-types.gguf");
  const std::string scratch = fs::temp_directory_path() / "tessera-make-seeds";
  fs::create_directories(scratch);
  Package(scratch, out + "/package_file/seed-signed.tpkg", true);
  Package(scratch, out + "/package_file/seed-unsigned.tpkg", false);
  fs::copy_file(out + "/package_file/seed-signed.tpkg", out + "/tar/seed-package.tar",
                fs::copy_options::overwrite_existing);
  Archive(out + "/tar/seed-files.tar", false);
  Archive(out + "/tar/seed-empty.tar", true);
  fs::remove_all(scratch);
  return 0;
}
