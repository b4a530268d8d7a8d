// StreamDecoder: multi-byte characters split across byte tokens are held back until complete.
#include "tokenizer/stream_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gguf/reader.h"
#include "test_vocab.h"
#include "tokenizer/tokenizer.h"

namespace tessera::tokenizer {
namespace {

class StreamDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto file = gguf::File::Open(testing::VocabPath("llama-spm"));
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto tok = CreateTokenizer(*file);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    tok_ = std::move(tok).value();
  }
  static std::int32_t Byte(int b) { return 3 + b; }  // <0xHH> ids in the llama vocabulary
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(StreamDecoderTest, HoldsBackSplitCharacter) {
  StreamDecoder dec(*tok_);
  EXPECT_EQ(dec.Push(15043), " Hello");  // ▁Hello
  EXPECT_EQ(dec.Push(Byte(0xF0)), "");
  EXPECT_EQ(dec.Push(Byte(0x9F)), "");
  EXPECT_EQ(dec.Push(Byte(0xA6)), "");
  EXPECT_EQ(dec.Push(Byte(0x99)), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(dec.Push(Byte(0xC3)), "");
  EXPECT_EQ(dec.Push(Byte(0xA4)), "\xC3\xA4");
  EXPECT_EQ(dec.Flush(), "");
}

TEST_F(StreamDecoderTest, TextBeforeAnIncompleteTailIsReleased) {
  StreamDecoder dec(*tok_);
  EXPECT_EQ(dec.Push(Byte('x')), "x");
  EXPECT_EQ(dec.Push(Byte(0xE2)), "");
  EXPECT_EQ(dec.Push(Byte(0x96)), "");
  // A complete token after an incomplete tail: the tail cannot complete, so all is released.
  EXPECT_EQ(dec.Push(15043), "\xE2\x96 Hello");
}

TEST_F(StreamDecoderTest, InvalidBytesPassThroughAndFlushReturnsTail) {
  StreamDecoder dec(*tok_);
  EXPECT_EQ(dec.Push(Byte(0x80)), "\x80");  // stray continuation byte: never completes
  EXPECT_EQ(dec.Push(Byte(0xFF)), "\xFF");
  EXPECT_EQ(dec.Push(Byte(0xE0)), "");
  EXPECT_EQ(dec.Push(Byte(0x80)), "\xE0\x80");  // overlong: cannot become valid
  EXPECT_EQ(dec.Push(Byte(0xF0)), "");
  EXPECT_EQ(dec.Flush(), "\xF0");
  EXPECT_EQ(dec.Flush(), "");
  EXPECT_EQ(dec.Push(1), "");  // control token: empty piece
}

TEST_F(StreamDecoderTest, ConcatenationEqualsPiecesAndEveryChunkIsValid) {
  const std::string text =
      "\xF0\x9F\x9A\x80 (normal) \xF0\x9F\x98\xB6\xE2\x80\x8D\xF0\x9F\x8C\xAB\xEF\xB8\x8F "
      "\xE1\x9E\x80\xE1\x9E\xB6\xE1\x9E\x93 \xD0\xBD\xD0\xB5\xD1\x89\xD0\xBE \xF0\x9F\xA6\x99.cpp";
  auto ids = tok_->Encode(text, {.add_bos = false, .parse_special = false});
  ASSERT_TRUE(ids.ok());
  StreamDecoder dec(*tok_);
  std::string streamed;
  std::string pieces;
  for (std::int32_t id : *ids) {
    const std::string chunk = dec.Push(id);
    // Each chunk is valid UTF-8 by itself.
    EXPECT_TRUE(tok_->Encode(chunk, {.add_bos = false}).ok()) << chunk;
    streamed += chunk;
    pieces += tok_->TokenToPiece(id);
  }
  streamed += dec.Flush();
  EXPECT_EQ(streamed, pieces);
  EXPECT_EQ(streamed, " " + text);
}

}  // namespace
}  // namespace tessera::tokenizer
