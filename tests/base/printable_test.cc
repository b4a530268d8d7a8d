// base::Printable: every character that can act on a terminal or hide text is escaped; ordinary
// text, including non-ASCII letters, is kept byte for byte.
#include "base/printable.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera::base {
namespace {

TEST(PrintableTest, KeepsOrdinaryText) {
  for (const std::string s : {"", "hello, world", "date: 5 March 2021", "Zürich, Kraków, 東京",
                              "emoji \xF0\x9F\x99\x82", "back\\slash"}) {
    EXPECT_EQ(Printable(s), s);
    EXPECT_TRUE(IsPrintable(s)) << s;
  }
}

TEST(PrintableTest, EscapesControlCharacters) {
  EXPECT_EQ(Printable("a\x1b[31mred\x1b[0m"), "a\\x1B[31mred\\x1B[0m");
  EXPECT_EQ(Printable("bell\a"), "bell\\x07");
  EXPECT_EQ(Printable(std::string("nul\0after", 9)), "nul\\x00after");
  EXPECT_EQ(Printable("del\x7f"), "del\\x7F");
  EXPECT_EQ(Printable("tab\tcr\rlf\n"), "tab\\tcr\\rlf\\n");
  EXPECT_EQ(PrintableLines("two\nlines\x1b"), "two\nlines\\x1B");
  EXPECT_FALSE(IsPrintable("\x1b]0;title\a"));
}

TEST(PrintableTest, EscapesC1ControlsAndBidiOverrides) {
  EXPECT_EQ(Printable("\xC2\x9B"
                      "31m"),
            "\\u{009B}31m");  // CSI as one code point
  EXPECT_EQ(Printable("abc\xE2\x80\xAE"
                      "fed"),
            "abc\\u{202E}fed");  // right-to-left override
  EXPECT_EQ(Printable("\xE2\x81\xA6x\xE2\x81\xA9"), "\\u{2066}x\\u{2069}");  // isolates
  EXPECT_EQ(Printable("\xE2\x80\x8F"), "\\u{200F}");                         // right-to-left mark
  EXPECT_EQ(Printable("\xE2\x80\xA8"), "\\u{2028}");                         // line separator
}

TEST(PrintableTest, EscapesEachByteThatIsNotUtf8) {
  EXPECT_EQ(Printable("name\xFF"), "name\\xFF");
  EXPECT_EQ(Printable("\xC3"), "\\xC3");                    // truncated sequence
  EXPECT_EQ(Printable("\xC0\xAF"), "\\xC0\\xAF");           // overlong '/'
  EXPECT_EQ(Printable("\xED\xA0\x80"), "\\xED\\xA0\\x80");  // a surrogate, encoded
  EXPECT_EQ(Printable("ok\xE2\x82"), "ok\\xE2\\x82");
}

TEST(PrintableTest, OutputIsAlwaysPrintable) {
  // Seeded: every byte string of a few bytes drawn from the awkward ranges.
  const unsigned char pool[] = {0x00, 0x07, 0x1b, 0x41, 0x7f, 0x80, 0x9b, 0xc2,
                                0xe2, 0x80, 0xae, 0xff, 0xf0, 0x9f, 0x5c, 0x0a};
  std::uint32_t x = 12345;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    for (int k = 0; k < 6; ++k) {
      x = x * 1664525u + 1013904223u;
      s += static_cast<char>(pool[(x >> 16) % sizeof(pool)]);
    }
    const std::string p = Printable(s);
    for (unsigned char c : p) ASSERT_TRUE(c >= 0x20 && c != 0x7f) << p;
    ASSERT_TRUE(IsPrintable(p)) << p;
  }
}

}  // namespace
}  // namespace tessera::base
