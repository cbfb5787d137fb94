// utf8_sequence_length: well-formed sequences are measured, everything else is 0.

#include "tether/protocol/utf8.hpp"

#include <gtest/gtest.h>

namespace tether::protocol {
namespace {

TEST(Utf8, WellFormedSequencesOfEveryLength) {
  EXPECT_EQ(utf8_sequence_length("a", 0), 1U);
  EXPECT_EQ(utf8_sequence_length("\xc3\xa9", 0), 2U);          // é
  EXPECT_EQ(utf8_sequence_length("\xe2\x82\xac", 0), 3U);      // €
  EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x98\x80", 0), 4U);  // 😀
  EXPECT_EQ(utf8_sequence_length("x\xc3\xa9", 1), 2U);
}

TEST(Utf8, MalformedSequencesAreRejected) {
  EXPECT_EQ(utf8_sequence_length("\x80", 0), 0U);              // stray continuation
  EXPECT_EQ(utf8_sequence_length("\xc0\xaf", 0), 0U);          // overlong '/'
  EXPECT_EQ(utf8_sequence_length("\xe0\x80\xaf", 0), 0U);      // overlong, 3 bytes
  EXPECT_EQ(utf8_sequence_length("\xed\xa0\x80", 0), 0U);      // surrogate U+D800
  EXPECT_EQ(utf8_sequence_length("\xf4\x90\x80\x80", 0), 0U);  // above U+10FFFF
  EXPECT_EQ(utf8_sequence_length("\xe2\x82", 0), 0U);          // cut short
  EXPECT_EQ(utf8_sequence_length("\xc3(", 0), 0U);             // bad continuation
  EXPECT_EQ(utf8_sequence_length("\xff", 0), 0U);
}

}  // namespace
}  // namespace tether::protocol
