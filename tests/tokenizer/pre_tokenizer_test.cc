// Pre-tokenizer expressions (Unicode categories, White_Space, lookahead, sequences of
// expressions) and the byte-level alphabet.
#include "tokenizer/pre_tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/byte_level.h"

namespace tessera::tokenizer {
namespace {

using Words = std::vector<std::string>;

Words Split(const std::string& pre, const std::string& text) {
  auto p = PreTokenizer::Create(pre);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  if (!p.ok()) return {};
  std::vector<TextPiece> pieces;
  Status s = p->Split(text, &pieces);
  EXPECT_TRUE(s.ok()) << s.ToString();
  Words words;
  std::size_t covered = 0;
  for (const TextPiece& piece : pieces) {
    EXPECT_EQ(piece.offset, covered);
    EXPECT_GT(piece.length, 0u);
    covered += piece.length;
    words.push_back(text.substr(piece.offset, piece.length));
  }
  EXPECT_EQ(covered, text.size());
  return words;
}

TEST(PreTokenizerTest, Gpt2WordsContractionsAndSpaces) {
  EXPECT_EQ(Split("gpt-2", "Hello world's  test\n\n"),
            (Words{"Hello", " world", "'s", " ", " test", "\n\n"}));
  // Contractions are case-sensitive in the GPT-2 expression: "'S" is punctuation then a word.
  EXPECT_EQ(Split("gpt-2", "IT'S it's we'll"),
            (Words{"IT", "'", "S", " it", "'s", " we", "'ll"}));
  // \s+(?!\S) leaves the last space for the next word; a lone \n before a word stands alone.
  EXPECT_EQ(Split("gpt-2", "a   b\nc \n d"),
            (Words{"a", "  ", " b", "\n", "c", " \n", " d"}));
  EXPECT_EQ(Split("gpt-2", "3.14 + 42!!"), (Words{"3", ".", "14", " +", " 42", "!!"}));
  EXPECT_EQ(Split("gpt-2", ""), Words{});
}

TEST(PreTokenizerTest, UnicodeCategories) {
  // Cyrillic and Greek letters are \p{L}; CJK ideographs are \p{L} (Lo).
  EXPECT_EQ(Split("gpt-2", "Привет мир αβγ 中文"),
            (Words{"Привет", " мир", " αβγ", " 中文"}));
  // Arabic-Indic digits (Nd) and "½" (No) are \p{N}.
  EXPECT_EQ(Split("gpt-2", "x\u0661\u0662\u0663 \u00BD"),
            (Words{"x", "\u0661\u0662\u0663", " \u00BD"}));
  // Combining marks (Mn) are not \p{L}: "é" written e + U+0301 splits.
  EXPECT_EQ(Split("gpt-2", "e\u0301t"), (Words{"e", "\u0301", "t"}));
  // An emoji (So) is neither letter, digit nor space.
  EXPECT_EQ(Split("gpt-2", "hi \U0001F999\U0001F999!"), (Words{"hi", " \U0001F999\U0001F999!"}));
}

TEST(PreTokenizerTest, WhiteSpaceIsTheUnicodeProperty) {
  // U+00A0 (Zs), U+2028 (Zl) and U+0085 (NEL, a Cc with White_Space) are spaces.
  EXPECT_EQ(Split("gpt-2", "a\u00A0b"), (Words{"a", "\u00A0", "b"}));
  EXPECT_EQ(Split("gpt-2", "a\u0085\u0085b"), (Words{"a", "\u0085", "\u0085", "b"}));
  EXPECT_EQ(Split("gpt-2", "a\u2028"), (Words{"a", "\u2028"}));
  // U+200B (zero width space, Cf) is not.
  EXPECT_EQ(Split("gpt-2", "a\u200Bb"), (Words{"a", "\u200B", "b"}));
  // Neither are the ASCII separators 0x1C..0x1F (Python's \s would take them).
  EXPECT_EQ(Split("gpt-2", "a\x1C\x1D"), (Words{"a", "\x1C\x1D"}));
}

TEST(PreTokenizerTest, StarcoderIsolatesDigits) {
  EXPECT_EQ(Split("starcoder", "x = 123;"), (Words{"x", " =", " ", "1", "2", "3", ";"}));
}

TEST(PreTokenizerTest, FalconPunctuationAndDigitTriples) {
  EXPECT_EQ(Split("falcon", "1234567"), (Words{"123", "456", "7"}));
  // Punctuation and the ASCII symbols $+<=>^~|` form their own runs first.
  EXPECT_EQ(Split("falcon", "a+=b, c!!"), (Words{"a", "+=", "b", ",", " c", "!!"}));
  EXPECT_EQ(Split("falcon", "it's"), (Words{"it", "'", "s"}));
}

TEST(PreTokenizerTest, DeepseekCoderSequence) {
  EXPECT_EQ(Split("deepseek-coder", "中文abc 123\r\nx+y"),
            (Words{"中文", "abc", " ", "1", "2", "3", "\r", "\n", "x", "+", "y"}));
  // \s? before letters takes any one White_Space character, not only ' '.
  EXPECT_EQ(Split("deepseek-coder", "a\tb..c"), (Words{"a", "\tb", "..", "c"}));
}

TEST(PreTokenizerTest, UnknownNameIsUnsupported) {
  auto p = PreTokenizer::Create("llama3-ish");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(p.status().message().find("\"llama3-ish\""), std::string::npos);
  EXPECT_NE(p.status().message().find("\"gpt-2\""), std::string::npos);  // lists the supported
}

TEST(PreTokenizerTest, InvalidUtf8) {
  auto p = PreTokenizer::Create("gpt-2");
  ASSERT_TRUE(p.ok());
  std::vector<TextPiece> pieces;
  EXPECT_EQ(p->Split("ab\xC3", &pieces).code(), StatusCode::kInvalidUtf8);
}

TEST(ByteLevelTest, Gpt2Alphabet) {
  EXPECT_EQ(ByteToCodepoint('A'), 0x41u);
  EXPECT_EQ(ByteToCodepoint(' '), 0x120u);   // "Ġ"
  EXPECT_EQ(ByteToCodepoint('\n'), 0x10Au);  // "Ċ"
  EXPECT_EQ(ByteToCodepoint(0x00), 0x100u);
  EXPECT_EQ(ByteToCodepoint(0x7F), 0x121u);
  EXPECT_EQ(ByteToCodepoint(0xA0), 0x142u);
  EXPECT_EQ(ByteToCodepoint(0xAD), 0x143u);
  EXPECT_EQ(ByteToCodepoint(0xFF), 0xFFu);
  EXPECT_EQ(CodepointToByte(0x144), -1);
  EXPECT_EQ(CodepointToByte(0x20), -1);  // a raw space is not in the alphabet
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(CodepointToByte(ByteToCodepoint(static_cast<std::uint8_t>(b))), b);
  }
}

TEST(ByteLevelTest, RoundTripsEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string mapped;
  AppendByteLevel(all, &mapped);
  EXPECT_EQ(mapped.substr(0, 2), "\xC4\x80");  // U+0100
  std::string back;
  EXPECT_TRUE(AppendBytesFromByteLevel(mapped, &back));
  EXPECT_EQ(back, all);
  // Characters outside the alphabet pass through and are reported.
  back.clear();
  EXPECT_FALSE(AppendBytesFromByteLevel("a \xE4\xB8\xAD", &back));
  EXPECT_EQ(back, "a \xE4\xB8\xAD");
}

}  // namespace
}  // namespace tessera::tokenizer
