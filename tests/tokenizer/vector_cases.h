// Test helpers for llama.cpp's tokenizer test vectors (tests/data/vocab/<vocab>.gguf.inp/.out):
// reading the cases, loading a committed vocabulary as a Tokenizer, and printing ids and text.
#ifndef TESSERA_TESTS_TOKENIZER_VECTOR_CASES_H_
#define TESSERA_TESTS_TOKENIZER_VECTOR_CASES_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gguf/reader.h"
#include "test_vocab.h"
#include "tokenizer/tokenizer.h"

namespace tessera::tokenizer::testing {

using Ids = std::vector<std::int32_t>;

// The settings of llama.cpp's tests/test-tokenizer-0.cpp: no BOS/EOS, no special parsing.
inline constexpr EncodeOptions kNoBos{.add_bos = false, .parse_special = false};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Case {
  std::string text;
  Ids ids;
};

// Reads <vocab>.inp / .out the way llama.cpp's tests/test-tokenizer-0.cpp does.
inline std::vector<Case> ReadCases(const std::string& vocab_path) {
  const std::string inp = ReadAll(vocab_path + ".inp");
  const std::string out = ReadAll(vocab_path + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (std::size_t pos = 0; pos < inp.size();) {
    const std::size_t next = inp.find(sep, pos);
    if (next == std::string::npos) {
      texts.push_back(inp.substr(pos));
      break;
    }
    texts.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::vector<Case> cases;
  std::istringstream lines(out);
  std::size_t i = 0;
  for (std::string line; std::getline(lines, line); ++i) {
    Case c;
    if (i < texts.size()) c.text = texts[i];
    std::istringstream nums(line);
    for (std::int32_t id; nums >> id;) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  EXPECT_EQ(cases.size(), texts.size()) << vocab_path;
  return cases;
}

inline std::string Join(const Ids& ids) {
  std::string s;
  for (std::int32_t id : ids) {
    if (!s.empty()) s += ' ';
    s += std::to_string(id);
  }
  return s;
}

inline std::string Escape(const std::string& text) {
  std::string s;
  for (unsigned char c : text) {
    if (c == '\n') {
      s += "\\n";
    } else if (c == '\t') {
      s += "\\t";
    } else {
      s += static_cast<char>(c);
    }
  }
  return s;
}

// The committed vocabulary tests/data/vocab/ggml-vocab-<name>.gguf as a Tokenizer, or nullptr
// (with a test failure).
inline std::unique_ptr<Tokenizer> LoadVocab(const std::string& name) {
  auto file = gguf::File::Open(VocabPath(name));
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return nullptr;
  auto tok = CreateTokenizer(*file);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  if (!tok.ok()) return nullptr;
  return std::move(tok).value();
}

// Encodes every case of vocabulary `name` with kNoBos and expects llama.cpp's ids exactly.
// Returns the number of cases checked.
inline std::size_t ExpectAllCasesMatch(const Tokenizer& tok, const std::string& name) {
  const auto cases = ReadCases(VocabPath(name));
  int failures = 0;
  for (const Case& c : cases) {
    auto ids = tok.Encode(c.text, kNoBos);
    if (!ids.ok()) {
      ++failures;
      ADD_FAILURE() << "text: '" << Escape(c.text) << "': " << ids.status().ToString();
      continue;
    }
    if (*ids != c.ids) {
      ++failures;
      ADD_FAILURE() << "text: '" << Escape(c.text) << "'\n  expected: " << Join(c.ids)
                    << "\n  got:      " << Join(*ids);
    }
  }
  EXPECT_EQ(failures, 0) << name;
  return cases.size();
}

// A readable test-name suffix for a vocabulary name ("llama-spm" -> "llama_spm").
inline std::string ParamName(const ::testing::TestParamInfo<const char*>& info) {
  std::string n = info.param;
  for (char& ch : n) {
    if (ch == '-' || ch == '/') ch = '_';
  }
  return n;
}

}  // namespace tessera::tokenizer::testing

#endif  // TESSERA_TESTS_TOKENIZER_VECTOR_CASES_H_
