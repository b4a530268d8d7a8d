// Fuzz target: the byte-level BPE tokenizer (tokenizer/bpe_tokenizer.h) and its pre-tokenizers
// on arbitrary text, with the committed gpt-2, starcoder, falcon and deepseek-coder
// vocabularies and the reduced llama-bpe, qwen2, qwen35 and deepseek-llm ones (loaded once;
// each names a different pre-tokenizer), plus the "default"
// pre-tokenizer on its own, which no committed vocabulary uses. Checks the properties in
// fuzz/tokenizer_checks.h: valid UTF-8 encodes and nothing else does, the ids decode, Decode
// gives the text back, and the stream decoder reproduces the pieces; the pre-tokenizer's
// pieces are non-empty and cover the text exactly. Seeds: fuzz/corpus/tokenizer_bpe.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <vector>

#include "fuzz/tokenizer_checks.h"
#include "tokenizer/pre_tokenizer.h"

namespace {

// Loaded in LLVMFuzzerInitialize, before the first input: loading is not part of any input's
// time (four vocabularies take seconds under ASan on a busy machine, against -timeout=10).
tessera::fuzz::TokenizerCase g_cases[8];
const tessera::tokenizer::PreTokenizer* g_default_pre = nullptr;

void CheckDefaultPreTokenizer(const std::uint8_t* data, std::size_t size) {
  using namespace tessera;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<tokenizer::TextPiece> pieces;
  const Status s = g_default_pre->Split(text, &pieces);
  FUZZ_EXPECT(s.ok() == base::ValidateUtf8(text).ok() ||
              s.code() == StatusCode::kResourceExhausted);
  if (!s.ok()) return;
  std::uint64_t next = 0;
  for (const tokenizer::TextPiece& p : pieces) {
    FUZZ_EXPECT(p.offset == next && p.length > 0);
    next += p.length;
  }
  FUZZ_EXPECT(next == text.size());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace tessera;
  using fuzz::LoadVocab;
  g_cases[0] = {LoadVocab("gpt-2").release()};
  g_cases[1] = {LoadVocab("starcoder").release(), true, false, /*every_byte=*/false};
  g_cases[2] = {LoadVocab("falcon").release(), true, false, /*every_byte=*/false};
  g_cases[3] = {LoadVocab("deepseek-coder").release()};
  // Reduced vocabularies keep every byte-level character and every text their merges build.
  g_cases[4] = {LoadVocab("reduced/llama-bpe").release()};
  g_cases[5] = {LoadVocab("reduced/qwen2").release()};
  g_cases[6] = {LoadVocab("reduced/qwen35").release()};
  g_cases[7] = {LoadVocab("reduced/deepseek-llm").release()};
  Result<tokenizer::PreTokenizer> pre = tokenizer::PreTokenizer::Create("default");
  FUZZ_EXPECT(pre.ok());
  g_default_pre = new tokenizer::PreTokenizer(std::move(*pre));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t which = data[0] % (std::size(g_cases) + 1);
  if (which == std::size(g_cases)) {
    CheckDefaultPreTokenizer(data, size);
  } else {
    tessera::fuzz::CheckTokenizerInput(g_cases[which], data, size);
  }
  return 0;
}
