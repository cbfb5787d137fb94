// The SMBIOS structure table parser and the type 17 (Memory Device) decoder, over hand-built
// tables: well-formed, truncated at every byte, and junk.

#include "diag/collectors/smbios_table.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using Bytes = std::vector<std::uint8_t>;

void append_le(Bytes& out, std::uint64_t value, int size) {
  for (int i = 0; i < size; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

Bytes structure(std::uint8_t type, std::uint16_t handle, const Bytes& body,
                const std::vector<std::string>& strings) {
  Bytes out{type, static_cast<std::uint8_t>(4 + body.size())};
  append_le(out, handle, 2);
  out.insert(out.end(), body.begin(), body.end());
  if (strings.empty()) {
    out.push_back(0);
    out.push_back(0);
  } else {
    for (const auto& s : strings) {
      out.insert(out.end(), s.begin(), s.end());
      out.push_back(0);
    }
    out.push_back(0);
  }
  return out;
}

// An SMBIOS 2.8-style type 17 (0x28 bytes): strings 1 locator, 2 bank, 3 maker, 4 serial,
// 5 asset tag, 6 part number.
Bytes memory_device(std::uint16_t handle, std::uint16_t size, std::uint8_t form, std::uint8_t type,
                    std::uint16_t speed, std::uint16_t configured,
                    std::uint32_t extended_size = 0) {
  Bytes body;
  append_le(body, 0x1000, 2);  // physical memory array
  append_le(body, 0xFFFE, 2);  // no error information
  append_le(body, 64, 2);
  append_le(body, 64, 2);
  append_le(body, size, 2);
  body.push_back(form);
  body.push_back(0);  // device set
  body.push_back(1);  // locator
  body.push_back(2);  // bank
  body.push_back(type);
  append_le(body, 0x0080, 2);  // synchronous
  append_le(body, speed, 2);
  body.insert(body.end(), {3, 4, 5, 6, 2});
  append_le(body, extended_size, 4);
  append_le(body, configured, 2);
  append_le(body, 1200, 2);
  append_le(body, 1200, 2);
  append_le(body, 1200, 2);
  return structure(
      17, handle, body,
      {"DIMM_A1", "BANK 0", "Kingston", "1A2B3C4D", "Not Specified", "KF3200C16D4/16GX  "});
}

Bytes end_of_table() {
  return structure(127, 0xFFFF, {}, {});
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(SmbiosTable, ParsesStructuresStringsAndStopsAtEndOfTable) {
  const auto bytes =
      concat({structure(0, 0, {1, 2, 0, 0xF0, 3, 0xFF}, {"AMI", "1.2", "01/02/2023"}),
              memory_device(0x11, 16384, 0x09, 0x1A, 3200, 2933), end_of_table(),
              structure(1, 0x99, {}, {"after the end"})});
  const auto table = parse_smbios_table(bytes);
  EXPECT_TRUE(table.complete);
  ASSERT_EQ(table.structures.size(), 3u);  // nothing after type 127
  EXPECT_EQ(table.structures[0].strings, (std::vector<std::string>{"AMI", "1.2", "01/02/2023"}));
  EXPECT_EQ(table.structures[0].string(4), "AMI");
  EXPECT_EQ(table.structures[0].string(8), "01/02/2023");
  EXPECT_EQ(table.structures[1].handle, 0x11);
  EXPECT_EQ(table.structures[2].type, 127);
}

TEST(SmbiosTable, StringReferencesOutOfRangeAreAbsent) {
  const auto bytes = structure(1, 1, {1, 0, 7}, {"Maker"});
  const auto table = parse_smbios_table(bytes);
  ASSERT_EQ(table.structures.size(), 1u);
  const auto& s = table.structures[0];
  EXPECT_EQ(s.string(4), "Maker");
  EXPECT_EQ(s.string(5), std::nullopt);   // string number 0: no string
  EXPECT_EQ(s.string(6), std::nullopt);   // string 7 of a set of 1
  EXPECT_EQ(s.string(40), std::nullopt);  // past the formatted area
  EXPECT_EQ(s.word(6), std::nullopt);     // a word would straddle the end
  EXPECT_EQ(s.dword(100), std::nullopt);
}

TEST(SmbiosTable, DecodesAMemoryDevice) {
  const auto table = parse_smbios_table(memory_device(0x11, 16384, 0x09, 0x1A, 3200, 2933));
  const auto dimm = decode_memory_device(table.structures.at(0));
  ASSERT_TRUE(dimm);
  EXPECT_TRUE(dimm->installed);
  EXPECT_EQ(dimm->locator, "DIMM_A1");
  EXPECT_EQ(dimm->bank, "BANK 0");
  EXPECT_EQ(dimm->size_bytes, 16ULL << 30);
  EXPECT_EQ(dimm->form_factor, "DIMM");
  EXPECT_EQ(dimm->type, "DDR4");
  EXPECT_EQ(dimm->speed_mts, 3200u);
  EXPECT_EQ(dimm->configured_speed_mts, 2933u);
  EXPECT_EQ(dimm->manufacturer, "Kingston");
  EXPECT_EQ(dimm->serial, "1A2B3C4D");
  EXPECT_EQ(dimm->part_number, "KF3200C16D4/16GX");  // padding removed
}

TEST(SmbiosTable, SizeEncodings) {
  const auto size_of = [](std::uint16_t size, std::uint32_t extended = 0) {
    const auto table = parse_smbios_table(memory_device(1, size, 0x0D, 0x22, 4800, 4800, extended));
    return decode_memory_device(table.structures.at(0));
  };
  EXPECT_EQ(size_of(0x8000 | 512)->size_bytes, 512ULL << 10);  // bit 15: KiB
  EXPECT_EQ(size_of(0x7FFF, 65536)->size_bytes, 64ULL << 30);  // extended size, MiB
  EXPECT_EQ(size_of(0xFFFF)->size_bytes, std::nullopt);        // unknown size
  EXPECT_TRUE(size_of(0xFFFF)->installed);
  EXPECT_FALSE(size_of(0)->installed);  // empty slot
  EXPECT_EQ(size_of(4096)->type, "DDR5");
  EXPECT_EQ(size_of(4096)->form_factor, "SODIMM");
}

TEST(SmbiosTable, OldShortStructureHasNoNewerFields) {
  // SMBIOS 2.1: type 17 ends after the part number (0x1B bytes): no configured speed.
  auto bytes = memory_device(1, 8192, 0x09, 0x18, 1600, 1600);
  bytes[1] = 0x1B;
  bytes.erase(bytes.begin() + 0x1B, bytes.begin() + 0x28);
  const auto table = parse_smbios_table(bytes);
  ASSERT_TRUE(table.complete);
  const auto dimm = decode_memory_device(table.structures.at(0));
  ASSERT_TRUE(dimm);
  EXPECT_EQ(dimm->type, "DDR3");
  EXPECT_EQ(dimm->speed_mts, 1600u);
  EXPECT_EQ(dimm->configured_speed_mts, std::nullopt);
  EXPECT_EQ(dimm->part_number, "KF3200C16D4/16GX");
}

TEST(SmbiosTable, EveryTruncationKeepsTheWholeStructuresBeforeIt) {
  const auto whole = concat({memory_device(1, 8192, 0x09, 0x1A, 2666, 2666),
                             memory_device(2, 0, 0x09, 0x02, 0, 0), end_of_table()});
  const auto first_size = memory_device(1, 8192, 0x09, 0x1A, 2666, 2666).size();
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    const Bytes part(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
    const auto table = parse_smbios_table(part);
    if (cut >= first_size) {
      ASSERT_GE(table.structures.size(), 1u) << cut;
      EXPECT_EQ(table.structures[0].string(0x10), "DIMM_A1") << cut;
    }
    for (const auto& s : table.structures) {
      EXPECT_NO_THROW(decode_memory_device(s)) << cut;
    }
    // Both memory devices have the same size, so the structure boundaries are known.
    const bool boundary = cut == 0 || cut == first_size || cut == first_size * 2;
    if (!boundary) EXPECT_FALSE(table.complete) << cut;
  }
}

TEST(SmbiosTable, JunkNeverReadsOutOfBounds) {
  // A length below the 4-byte header, a length past the end, and a string set without end.
  EXPECT_FALSE(parse_smbios_table(Bytes{17, 2, 0, 0, 0, 0}).complete);
  EXPECT_TRUE(parse_smbios_table(Bytes{17, 2, 0, 0, 0, 0}).structures.empty());
  EXPECT_TRUE(parse_smbios_table(Bytes{17, 200, 0, 0, 1, 2, 3}).structures.empty());
  const auto unterminated = parse_smbios_table(Bytes{17, 4, 1, 0, 'a', 'b', 'c'});
  EXPECT_FALSE(unterminated.complete);
  ASSERT_EQ(unterminated.structures.size(), 1u);
  EXPECT_TRUE(unterminated.structures[0].strings.empty());
  // Deterministic pseudo-random junk of many lengths: must not crash or loop.
  std::uint32_t state = 12345;
  for (int round = 0; round < 200; ++round) {
    Bytes junk(static_cast<std::size_t>(round * 7 % 300));
    for (auto& b : junk) {
      state = state * 1103515245 + 12345;
      b = static_cast<std::uint8_t>(state >> 16);
    }
    const auto table = parse_smbios_table(junk);
    for (const auto& s : table.structures) {
      if (const auto d = decode_memory_device(s)) EXPECT_LE(d->locator.value_or("").size(), 300u);
    }
  }
}

TEST(SmbiosTable, OtherTypesAreNotMemoryDevices) {
  const auto table =
      parse_smbios_table(structure(16, 1, {3, 3, 6, 0, 0, 0, 1, 0xFE, 0xFF, 2, 0}, {}));
  EXPECT_EQ(decode_memory_device(table.structures.at(0)), std::nullopt);
}

}  // namespace
}  // namespace tether::agent::diag
