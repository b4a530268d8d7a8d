// What the two tokenizer fuzz targets check for every input text: loading a committed
// vocabulary once, and the properties tokenizer.h and stream_decoder.h promise.
//
// Input layout of both targets: byte 0 chooses the vocabulary (modulo the number loaded) and the
// options (bit 6: add_bos, bit 7: parse_special); the rest is the text.
#ifndef TESSERA_FUZZ_TOKENIZER_CHECKS_H_
#define TESSERA_FUZZ_TOKENIZER_CHECKS_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/utf8.h"
#include "fuzz/fuzz_util.h"
#include "gguf/reader.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace tessera::fuzz {

// A tokenizer built from tests/data/vocab/ggml-vocab-<name>.gguf, or aborts. "reduced/<name>"
// is tests/data/vocab/reduced/ggml-vocab-<name>.gguf (a vocabulary cut down to its vectors).
inline std::unique_ptr<tokenizer::Tokenizer> LoadVocab(const std::string& name) {
  const std::string reduced = "reduced/";
  const std::string path = name.rfind(reduced, 0) == 0
                               ? "vocab/reduced/ggml-vocab-" + name.substr(reduced.size()) + ".gguf"
                               : "vocab/ggml-vocab-" + name + ".gguf";
  const std::vector<std::uint8_t> bytes = ReadTestData(path);
  Result<gguf::File> file = gguf::File::Parse(bytes);
  FUZZ_EXPECT(file.ok());
  Result<std::unique_ptr<tokenizer::Tokenizer>> tok = tokenizer::CreateTokenizer(*file);
  FUZZ_EXPECT(tok.ok());
  return std::move(*tok);  // owns copies of the strings: `bytes` may go
}

struct TokenizerCase {
  const tokenizer::Tokenizer* tok = nullptr;
  // Whether Decode(Encode(text)) must give the text back. Not for vocabularies whose special
  // tokens strip the whitespace around them (phi-3), nor, for SentencePiece, texts that hold
  // "▁" itself (it decodes to a space, as in llama.cpp).
  bool round_trip = true;
  bool spm = false;  // a leading space is added (add_space_prefix) and removed by Decode
  // Whether the vocabulary has a token for every byte. Falcon's lacks some control bytes
  // (0x16 ...) and has no UNK token, StarCoder's lacks 0xF1 and its UNK is a control token, and
  // a reduced vocabulary lacks most tokens: Encode refuses such bytes with kNotFound
  // (bpe_tokenizer.h).
  bool every_byte = true;
};

inline void CheckTokenizerInput(const TokenizerCase& c, const std::uint8_t* data,
                                std::size_t size) {
  if (size == 0) return;
  tokenizer::EncodeOptions options;
  options.add_bos = (data[0] & 0x40) != 0;
  options.parse_special = (data[0] & 0x80) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  Result<std::vector<std::int32_t>> ids = c.tok->Encode(text, options);
  // Valid UTF-8 encodes (with a token for every byte) and anything else is refused as such.
  const bool valid = base::ValidateUtf8(text).ok();
  if (!c.every_byte && !ids.ok() && ids.status().code() == StatusCode::kNotFound && valid) return;
  if (ids.ok() != valid) std::fprintf(stderr, "encode: %s\n", ids.status().ToString().c_str());
  FUZZ_EXPECT(ids.ok() == valid);
  if (!ids.ok()) {
    FUZZ_EXPECT(ids.status().code() == StatusCode::kInvalidUtf8);
    return;
  }
  for (std::int32_t id : *ids) FUZZ_EXPECT(c.tok->vocab().Contains(id));

  Result<std::string> decoded = c.tok->Decode(*ids);
  FUZZ_EXPECT(decoded.ok());
  const bool holds_spm_space = text.find("\xE2\x96\x81") != std::string_view::npos;
  // A byte the vocabulary has no token for becomes UNK when UNK is an ordinary unknown token
  // (bpe_tokenizer.h, step 4), which decodes to nothing.
  const std::int32_t unk = c.tok->vocab().unk_id();
  const bool fell_back =
      unk != tokenizer::Vocab::kNoToken && std::find(ids->begin(), ids->end(), unk) != ids->end();
  if (c.round_trip && !options.parse_special && !(c.spm && holds_spm_space) && !fell_back) {
    // SentencePiece with BOS first keeps the prefix space (tokenizer.h, Decode).
    const bool keeps_space = c.spm && options.add_bos && !ids->empty() &&
                             ids->front() == c.tok->bos_id() && !text.empty();
    const std::string expected = keeps_space ? " " + std::string(text) : std::string(text);
    if (*decoded != expected) {
      std::fprintf(stderr, "ids:");
      for (std::int32_t id : *ids) std::fprintf(stderr, " %d", id);
      std::fprintf(stderr, "\ndecoded:");
      for (unsigned char ch : *decoded) std::fprintf(stderr, " %02x", ch);
      std::fprintf(stderr, "\n");
    }
    FUZZ_EXPECT(*decoded == expected);
  }

  // The stream decoder gives the pieces back byte for byte (stream_decoder.h).
  tokenizer::StreamDecoder stream(*c.tok);
  std::string streamed, pieces;
  for (std::int32_t id : *ids) {
    streamed += stream.Push(id);
    pieces += c.tok->TokenToPiece(id);
  }
  streamed += stream.Flush();
  FUZZ_EXPECT(streamed == pieces);
}

}  // namespace tessera::fuzz

#endif  // TESSERA_FUZZ_TOKENIZER_CHECKS_H_
