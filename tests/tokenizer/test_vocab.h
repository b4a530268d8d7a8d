// Test helpers: small synthetic "llama" vocabularies written with gguf::Writer and parsed back,
// and loading of the committed llama.cpp vocabulary files.
#ifndef TESSERA_TESTS_TOKENIZER_TEST_VOCAB_H_
#define TESSERA_TESTS_TOKENIZER_TEST_VOCAB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gguf/reader.h"
#include "gguf/value.h"
#include "gguf/writer.h"
#include "tessera/status.h"

namespace tessera::tokenizer::testing {

// A parsed GGUF together with the bytes it borrows.
struct OwnedGguf {
  std::vector<std::uint8_t> bytes;
  std::unique_ptr<gguf::File> file;
};

struct VocabSpec {
  std::string model = "llama";
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<std::int32_t> types;
  bool write_scores = true;
  bool write_types = true;
  std::vector<std::pair<std::string, gguf::Value>> extra;  // added after the arrays
};

// <unk> <s> </s>, the 256 byte tokens <0x00>..<0xFF> (ids 3..258), then a few pieces:
// 259 "▁" 260 "a" 261 "b" 262 "ab" 263 "▁a" 264 "▁ab" 265 "<tool>" (user-defined) 266 "c".
inline VocabSpec SmallSpec() {
  VocabSpec s;
  s.tokens = {"<unk>", "<s>", "</s>"};
  s.types = {2, 3, 3};
  s.scores = {0, 0, 0};
  static const char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    s.tokens.push_back(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">");
    s.types.push_back(6);
    s.scores.push_back(0);
  }
  const std::pair<const char*, float> pieces[] = {
      {"\xE2\x96\x81", -1}, {"a", -2}, {"b", -3}, {"ab", -4}, {"\xE2\x96\x81" "a", -5},
      {"\xE2\x96\x81" "ab", -6}};
  for (const auto& [text, score] : pieces) {
    s.tokens.push_back(text);
    s.types.push_back(1);
    s.scores.push_back(score);
  }
  s.tokens.push_back("<tool>");
  s.types.push_back(4);
  s.scores.push_back(0);
  s.tokens.push_back("c");
  s.types.push_back(1);
  s.scores.push_back(-7);
  return s;
}

inline Result<OwnedGguf> BuildGguf(const VocabSpec& spec) {
  gguf::Writer w;
  TS_RETURN_IF_ERROR(w.AddKeyValue("tokenizer.ggml.model", gguf::Value::String(spec.model)));
  TS_RETURN_IF_ERROR(
      w.AddKeyValue("tokenizer.ggml.tokens", gguf::Value::StringArray(spec.tokens)));
  if (spec.write_scores) {
    TS_RETURN_IF_ERROR(
        w.AddKeyValue("tokenizer.ggml.scores", gguf::Value::F32Array(spec.scores)));
  }
  if (spec.write_types) {
    TS_RETURN_IF_ERROR(
        w.AddKeyValue("tokenizer.ggml.token_type", gguf::Value::I32Array(spec.types)));
  }
  for (const auto& [key, value] : spec.extra) TS_RETURN_IF_ERROR(w.AddKeyValue(key, value));
  TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, w.WriteToBuffer());
  OwnedGguf out;
  out.bytes = std::move(bytes);
  TS_ASSIGN_OR_RETURN(gguf::File file, gguf::File::Parse(out.bytes));
  out.file = std::make_unique<gguf::File>(std::move(file));
  return out;
}

// tests/data/vocab/ggml-vocab-<name>.gguf; "reduced/<name>" is
// tests/data/vocab/reduced/ggml-vocab-<name>.gguf (vocabularies cut down to their test vectors,
// tests/data/vocab/reduced/README.md).
inline std::string VocabPath(const std::string& name) {
  const std::string reduced = "reduced/";
  if (name.rfind(reduced, 0) == 0) {
    return std::string(TESSERA_TEST_DATA_DIR) + "/vocab/reduced/ggml-vocab-" +
           name.substr(reduced.size()) + ".gguf";
  }
  return std::string(TESSERA_TEST_DATA_DIR) + "/vocab/ggml-vocab-" + name + ".gguf";
}

}  // namespace tessera::tokenizer::testing

#endif  // TESSERA_TESTS_TOKENIZER_TEST_VOCAB_H_
