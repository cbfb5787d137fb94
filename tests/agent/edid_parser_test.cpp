// The EDID base block parser, over hand-built blocks.

#include "diag/collectors/edid_parser.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using Bytes = std::vector<std::uint8_t>;

void set_text_descriptor(Bytes& b, std::size_t offset, std::uint8_t tag, const std::string& text) {
  b[offset + 3] = tag;
  for (std::size_t i = 0; i < 13; ++i) {
    b[offset + 5 + i] = i < text.size()    ? static_cast<std::uint8_t>(text[i])
                        : i == text.size() ? 0x0A
                                           : 0x20;
  }
}

void fix_checksum(Bytes& b) {
  unsigned sum = 0;
  for (std::size_t i = 0; i < 127; ++i) sum += b[i];
  b[127] = static_cast<std::uint8_t>((256 - sum % 256) % 256);
}

// A Dell U2720Q-like block: "DEL", product 0xA0F2, 2021, 60 × 34 cm, 3840×2160 preferred.
Bytes dell_block() {
  Bytes b(128, 0);
  const std::array<std::uint8_t, 8> header = {0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0};
  std::copy(header.begin(), header.end(), b.begin());
  const unsigned id = (('D' - 64) << 10) | (('E' - 64) << 5) | ('L' - 64);
  b[8] = static_cast<std::uint8_t>(id >> 8);
  b[9] = static_cast<std::uint8_t>(id & 0xFF);
  b[10] = 0xF2;
  b[11] = 0xA0;
  b[12] = 0x53;  // numeric serial 0x4C4A3253
  b[13] = 0x32;
  b[14] = 0x4A;
  b[15] = 0x4C;
  b[16] = 12;
  b[17] = 31;  // 2021
  b[18] = 1;
  b[19] = 4;
  b[21] = 60;
  b[22] = 34;
  // Detailed timing 3840x2160: pixel clock 533.25 MHz.
  b[54] = 0x4D;
  b[55] = 0xD0;
  b[56] = 0x00;  // h active low
  b[57] = 0xA0;  // h blank low
  b[58] = 0xF0;  // h active high nibble 0xF, blank high 0
  b[59] = 0x70;  // v active low
  b[60] = 0x3E;  // v blank low
  b[61] = 0x80;  // v active high nibble 0x8
  set_text_descriptor(b, 72, 0xFF, "7XJQ123");
  set_text_descriptor(b, 90, 0xFC, "DELL U2720Q");
  set_text_descriptor(b, 108, 0x10, "");
  fix_checksum(b);
  return b;
}

TEST(Edid, ReadsMakerNameSerialSizeYearAndPreferredMode) {
  const auto result = parse_edid(dell_block());
  ASSERT_TRUE(result.info) << result.error;
  const auto& m = *result.info;
  EXPECT_EQ(m.manufacturer, "DEL");
  EXPECT_EQ(m.product_code, 0xA0F2);
  EXPECT_EQ(m.name, "DELL U2720Q");
  EXPECT_EQ(m.serial, "7XJQ123");  // the text descriptor wins over the number
  EXPECT_EQ(m.width_mm, 600);
  EXPECT_EQ(m.height_mm, 340);
  EXPECT_EQ(m.manufacture_year, 2021);
  EXPECT_EQ(m.preferred_resolution, "3840x2160");
}

TEST(Edid, NumericSerialWhenNoSerialDescriptorAndNoSizeForProjectors) {
  auto b = dell_block();
  set_text_descriptor(b, 72, 0x10, "");  // dummy descriptor instead of the serial
  b[21] = 0;                             // size undefined (projector)
  fix_checksum(b);
  const auto result = parse_edid(b);
  ASSERT_TRUE(result.info);
  EXPECT_EQ(result.info->serial, std::to_string(0x4C4A3253));
  EXPECT_EQ(result.info->width_mm, std::nullopt);
  EXPECT_EQ(result.info->height_mm, std::nullopt);
}

TEST(Edid, ExtensionBlocksAreIgnored) {
  auto b = dell_block();
  b.resize(256, 0xAB);  // a CTA-861 extension with a checksum of its own
  ASSERT_TRUE(parse_edid(b).info);
}

TEST(Edid, BadChecksumShortBlobAndBadHeaderAreRefused) {
  auto bad_checksum = dell_block();
  bad_checksum[127] ^= 0x01;
  EXPECT_EQ(parse_edid(bad_checksum).error, "bad checksum");
  EXPECT_FALSE(parse_edid(bad_checksum).info);

  const auto whole = dell_block();
  const Bytes short_blob(whole.begin(), whole.begin() + 100);
  EXPECT_EQ(parse_edid(short_blob).error, "shorter than 128 bytes");
  EXPECT_EQ(parse_edid(Bytes{}).error, "shorter than 128 bytes");

  auto bad_header = dell_block();
  bad_header[0] = 0x12;
  EXPECT_EQ(parse_edid(bad_header).error, "bad header");
}

TEST(Edid, JunkInTextDescriptorsIsMadePrintable) {
  auto b = dell_block();
  b[90 + 5] = 0xFF;
  b[90 + 6] = 0x01;
  fix_checksum(b);
  const auto result = parse_edid(b);
  ASSERT_TRUE(result.info);
  EXPECT_EQ(result.info->name, "??LL U2720Q");
}

}  // namespace
}  // namespace tether::agent::diag
