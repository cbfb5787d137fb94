#include "tether/protocol/size_text.hpp"

#include <gtest/gtest.h>

namespace tether::protocol {
namespace {

TEST(SizeText, EachUnitFromItsFirstByte) {
  EXPECT_EQ(size_text(0), "0 bytes");
  EXPECT_EQ(size_text(1023), "1023 bytes");
  EXPECT_EQ(size_text(1024), "1.0 KiB");
  EXPECT_EQ(size_text(1536), "1.5 KiB");
  EXPECT_EQ(size_text(1ULL << 20), "1.0 MiB");
  EXPECT_EQ(size_text(8ULL << 20), "8.0 MiB");
  EXPECT_EQ(size_text(1ULL << 30), "1.0 GiB");
  EXPECT_EQ(size_text(5ULL << 40), "5120.0 GiB");
}

}  // namespace
}  // namespace tether::protocol
