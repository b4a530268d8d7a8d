// Fuzz target: the SentencePiece-style tokenizer (tokenizer/spm_tokenizer.h) on arbitrary text,
// with the committed llama-spm and phi-3 vocabularies (loaded once). Checks the properties in
// fuzz/tokenizer_checks.h: valid UTF-8 encodes and nothing else does, the ids decode, Decode
// gives the text back (llama-spm, without special-token parsing), and the stream decoder
// reproduces the pieces. Seeds: fuzz/corpus/tokenizer_spm (the llama.cpp test texts).
#include <cstddef>
#include <cstdint>
#include <iterator>

#include "fuzz/tokenizer_checks.h"

namespace {

// Loaded in LLVMFuzzerInitialize, before the first input: loading is not part of any input's
// time (a vocabulary takes seconds under ASan on a busy machine, against -timeout=10).
tessera::fuzz::TokenizerCase g_cases[2];

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using tessera::fuzz::LoadVocab;
  g_cases[0] = {LoadVocab("llama-spm").release(), /*round_trip=*/true, /*spm=*/true};
  g_cases[1] = {LoadVocab("phi-3").release(), /*round_trip=*/false, /*spm=*/true};
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  tessera::fuzz::CheckTokenizerInput(g_cases[data[0] % std::size(g_cases)], data, size);
  return 0;
}
