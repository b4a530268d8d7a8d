// Fuzz target: the GGUF reader (gguf::File::Parse over the input bytes) and what the runtime
// builds from a parsed file's metadata: the vocabulary and tokenizer (tokenizer::CreateTokenizer,
// so vocabulary loading is fuzzed through the GGUF path) and the writer's copy of the file.
//
// Properties checked beyond "no crash, no leak, no undefined behaviour, no abort":
//   - a file the reader accepts and the writer can copy (AddAllFrom: the writer refuses a few
//     things the reader allows, such as tensor names of 64 bytes or more) is written back to
//     bytes that the reader accepts again, with the same metadata keys and tensors;
//   - a tokenizer built from the file encodes a short text, and the ids it returns decode.
// Seeds: fuzz/corpus/gguf (small files written by fuzz/make_seeds.cc); dictionary fuzz/gguf.dict.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "tokenizer/tokenizer.h"

namespace tessera::fuzz {
namespace {

void CheckCopy(const gguf::File& file) {
  gguf::Writer writer;
  if (!writer.AddAllFrom(file).ok()) return;
  Result<std::vector<std::uint8_t>> bytes = writer.WriteToBuffer();
  if (!bytes.ok()) return;
  Result<gguf::File> copy = gguf::File::Parse(*bytes);
  FUZZ_EXPECT(copy.ok());
  FUZZ_EXPECT(copy->metadata().size() == file.metadata().size());
  FUZZ_EXPECT(copy->tensors().size() == file.tensors().size());
  for (std::size_t i = 0; i < file.metadata().size(); ++i) {
    FUZZ_EXPECT(copy->metadata()[i].key == file.metadata()[i].key);
  }
  for (std::size_t i = 0; i < file.tensors().size(); ++i) {
    const gguf::TensorInfo& a = file.tensors()[i];
    const gguf::TensorInfo& b = copy->tensors()[i];
    FUZZ_EXPECT(a.name == b.name && a.dims == b.dims && a.type == b.type);
    FUZZ_EXPECT(std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end()));
  }
}

void CheckTokenizer(const gguf::File& file) {
  if (file.Find("tokenizer.ggml.model") == nullptr) return;
  Result<std::unique_ptr<tokenizer::Tokenizer>> tok = tokenizer::CreateTokenizer(file);
  if (!tok.ok()) return;
  tokenizer::EncodeOptions options;
  options.parse_special = true;
  constexpr std::string_view kText = " Hello wörld 12345 <s></s> \xE2\x96\x81x\n\tok";
  Result<std::vector<std::int32_t>> ids = (*tok)->Encode(kText, options);
  if (!ids.ok()) return;
  FUZZ_EXPECT((*tok)->Decode(*ids).ok());
  for (std::int32_t id = -1; id <= (*tok)->n_vocab() && id < 64; ++id) (*tok)->TokenToPiece(id);
}

}  // namespace
}  // namespace tessera::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera;
  Result<gguf::File> file = gguf::File::Parse(std::span<const std::uint8_t>(data, size));
  if (!file.ok()) return 0;
  fuzz::CheckCopy(*file);
  fuzz::CheckTokenizer(*file);
  return 0;
}
