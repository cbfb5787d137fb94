#include "tether/protocol/support_code.hpp"

#include <set>

#include <gtest/gtest.h>

namespace tether::protocol {
namespace {

TEST(SupportCode, GeneratedCodesAreNineDigitsWithAValidCheckDigit) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto code = SupportCode::generate();
    ASSERT_EQ(code.digits().size(), 9u);
    ASSERT_EQ(SupportCode::check_digit(code.digits().substr(0, 8)), code.digits()[8]);
    seen.insert(code.digits());
  }
  // 10^8 possibilities: one repeat in 1000 draws happens about once in 200 runs (birthday
  // bound n²/2N), three or more about once in 10^8; a broken generator repeats far more.
  EXPECT_GE(seen.size(), 998u);
}

TEST(SupportCode, DigitsAreRoughlyUniform) {
  std::array<int, 10> counts{};
  for (int i = 0; i < 5000; ++i) {
    for (char c : SupportCode::generate().digits().substr(0, 8)) ++counts[c - '0'];
  }
  // 40000 digits, 4000 expected per value; ±15% is far outside chance for a fair source.
  for (int count : counts) {
    EXPECT_GT(count, 3400);
    EXPECT_LT(count, 4600);
  }
}

TEST(SupportCode, KnownDammCheckDigit) {
  // The classic example from Damm's paper: 572 has check digit 4.
  EXPECT_EQ(SupportCode::check_digit("572"), '4');
}

TEST(SupportCode, ParsesWhatUsersType) {
  const auto code = SupportCode::generate();
  const auto& d = code.digits();
  for (const std::string& typed :
       {d, code.display(), d.substr(0, 3) + "-" + d.substr(3, 3) + "-" + d.substr(6)}) {
    auto parsed = SupportCode::parse(typed);
    ASSERT_TRUE(parsed) << typed;
    EXPECT_EQ(parsed->digits(), d);
  }
  EXPECT_EQ(code.display().size(), 11u);
  EXPECT_EQ(code.display()[3], ' ');
}

TEST(SupportCode, CatchesEverySingleDigitTypoAndAdjacentSwap) {
  const auto code = SupportCode::generate();
  const auto d = code.digits();
  for (std::size_t i = 0; i < d.size(); ++i) {
    for (char c = '0'; c <= '9'; ++c) {
      if (c == d[i]) continue;
      auto typo = d;
      typo[i] = c;
      EXPECT_FALSE(SupportCode::parse(typo)) << typo;
    }
    if (i + 1 < d.size() && d[i] != d[i + 1]) {
      auto swapped = d;
      std::swap(swapped[i], swapped[i + 1]);
      EXPECT_FALSE(SupportCode::parse(swapped)) << swapped;
    }
  }
}

TEST(SupportCode, RejectsMalformedText) {
  for (const char* bad : {"", "12345678", "1234567890", "12345678a", "123.456.789",
                          "１２３４５６７８９", "                                          1"}) {
    auto parsed = SupportCode::parse(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error(), make_error_code(Error::code_invalid));
  }
}

}  // namespace
}  // namespace tether::protocol
