#include <gtest/gtest.h>

#include "util/unicode.h"

using namespace lntune::unicode;

TEST(Unicode, Utf8RoundTripAndInvalidBytes) {
  std::string s = "a\xC3\xA9\xE4\xBD\xA0\xF0\x9F\x99\x82";  // a é 你 🙂
  auto u = decode_utf8(s);
  ASSERT_EQ(u, (std::u32string{U'a', 0xE9, 0x4F60, 0x1F642}));
  EXPECT_EQ(encode_utf8(u), s);
  // Invalid: lone continuation, overlong '/', surrogate, truncated sequence: one U+FFFD per bad byte.
  EXPECT_EQ(decode_utf8("\x80"), std::u32string(1, 0xFFFD));
  EXPECT_EQ(decode_utf8("\xC0\xAF"), std::u32string(2, 0xFFFD));
  EXPECT_EQ(decode_utf8("\xED\xA0\x80").size(), 3u);
  EXPECT_EQ(decode_utf8("x\xE4\xBD"), (std::u32string{U'x', 0xFFFD, 0xFFFD}));
}

TEST(Unicode, CategoriesMatchUnicodeData) {
  EXPECT_TRUE(is_letter(U'A'));
  EXPECT_TRUE(is_letter(0x4F60));
  EXPECT_FALSE(is_letter(U'1'));
  EXPECT_TRUE(is_number(U'7'));
  EXPECT_TRUE(is_number(0x2163));  // ROMAN NUMERAL FOUR (Nl)
  EXPECT_TRUE(is_punctuation(U'!'));
  EXPECT_TRUE(is_punctuation(0x3001));  // IDEOGRAPHIC COMMA
  EXPECT_FALSE(is_punctuation(U'$'));   // Sc, not P*
  EXPECT_TRUE(is_mark_nonspacing(0x0301));
  EXPECT_TRUE(is_other(0x0001));
  EXPECT_TRUE(is_other(0x200B));  // ZERO WIDTH SPACE is Cf
  EXPECT_TRUE(is_other(0x0378));  // unassigned (Cn)
  EXPECT_TRUE(is_white_space(0x3000));
  EXPECT_FALSE(is_white_space(0x200B));
  EXPECT_TRUE(is_cjk(0x4F60));
  EXPECT_FALSE(is_cjk(0x3042));  // hiragana is not in BERT's CJK blocks
}

TEST(Unicode, NfdAndLowercase) {
  EXPECT_EQ(nfd(U"\u00E9"), U"e\u0301");
  EXPECT_EQ(nfd(U"\u1E69"), U"s\u0323\u0307");        // s with dot below and above
  EXPECT_EQ(nfd(U"s\u0307\u0323"), U"s\u0323\u0307");  // canonical reordering by combining class
  EXPECT_EQ(nfd(U"\uAC01"), U"\u1100\u1161\u11A8");   // Hangul, algorithmic
  EXPECT_EQ(to_lower(U"ABC\u00C9\u03A3"), U"abc\u00E9\u03C3");
  EXPECT_EQ(to_lower(U"\u0130"), U"i\u0307");  // full mapping (SpecialCasing)
}
