#include "diag/collectors/smbios_table.hpp"

#include <array>
#include <string_view>

namespace tether::agent::diag {
namespace {

constexpr std::size_t kMaxStructures = 4096;
constexpr std::size_t kMaxStrings = 255;
constexpr std::uint8_t kEndOfTable = 127;
constexpr std::uint8_t kMemoryDevice = 17;

// DSP0134 7.18.1, Memory Device — Form Factor, indexed by value.
constexpr std::array<const char*, 17> kFormFactors = {nullptr,   "Other",  "Unknown",
                                                      "SIMM",    "SIP",    "Chip",
                                                      "DIP",     "ZIP",    "Proprietary Card",
                                                      "DIMM",    "TSOP",   "Row of chips",
                                                      "RIMM",    "SODIMM", "SRIMM",
                                                      "FB-DIMM", "Die"};

// DSP0134 7.18.2, Memory Device — Type, indexed by value (0x15–0x17 are reserved).
constexpr std::array<const char*, 0x25> kMemoryTypes = {
    nullptr,        "Other",  "Unknown", "DRAM",
    "EDRAM",        "VRAM",   "SRAM",    "RAM",
    "ROM",          "Flash",  "EEPROM",  "FEPROM",
    "EPROM",        "CDRAM",  "3DRAM",   "SDRAM",
    "SGRAM",        "RDRAM",  "DDR",     "DDR2",
    "DDR2 FB-DIMM", nullptr,  nullptr,   nullptr,
    "DDR3",         "FBD2",   "DDR4",    "LPDDR",
    "LPDDR2",       "LPDDR3", "LPDDR4",  "Logical non-volatile device",
    "HBM",          "HBM2",   "DDR5",    "LPDDR5",
    "HBM3"};

std::optional<std::string> table_name(const auto& table, std::optional<std::uint8_t> value) {
  if (!value || *value >= table.size() || table[*value] == nullptr) return std::nullopt;
  const std::string_view name = table[*value];
  if (name == "Unknown") return std::nullopt;
  return std::string(name);
}

// Part numbers and serials are space-padded to a fixed width; some firmware pads with NULs
// already cut by the string set, the rest with spaces.
std::optional<std::string> clean(std::optional<std::string> text) {
  if (!text) return text;
  const auto first = text->find_first_not_of(' ');
  if (first == std::string::npos) return std::nullopt;
  const auto last = text->find_last_not_of(' ');
  return text->substr(first, last - first + 1);
}

}  // namespace

std::optional<std::uint8_t> SmbiosStructure::byte(std::size_t offset) const {
  if (offset >= formatted.size()) return std::nullopt;
  return formatted[offset];
}

std::optional<std::uint16_t> SmbiosStructure::word(std::size_t offset) const {
  if (offset > formatted.size() || formatted.size() - offset < 2) return std::nullopt;
  return static_cast<std::uint16_t>(formatted[offset] | (formatted[offset + 1] << 8));
}

std::optional<std::uint32_t> SmbiosStructure::dword(std::size_t offset) const {
  if (offset > formatted.size() || formatted.size() - offset < 4) return std::nullopt;
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    value |= static_cast<std::uint32_t>(formatted[offset + i]) << (8 * i);
  }
  return value;
}

std::optional<std::string> SmbiosStructure::string(std::size_t offset) const {
  const auto index = byte(offset);
  if (!index || *index == 0 || *index > strings.size()) return std::nullopt;
  return strings[*index - 1];
}

SmbiosTable parse_smbios_table(std::span<const std::uint8_t> table) {
  SmbiosTable result;
  std::size_t offset = 0;
  while (offset < table.size() && result.structures.size() < kMaxStructures) {
    if (table.size() - offset < 4) {
      result.complete = false;
      break;
    }
    const std::uint8_t type = table[offset];
    const std::uint8_t length = table[offset + 1];
    if (length < 4 || table.size() - offset < length) {
      result.complete = false;
      break;
    }
    SmbiosStructure structure;
    structure.type = type;
    structure.handle = static_cast<std::uint16_t>(table[offset + 2] | (table[offset + 3] << 8));
    structure.formatted.assign(table.begin() + static_cast<std::ptrdiff_t>(offset),
                               table.begin() + static_cast<std::ptrdiff_t>(offset + length));

    // The string set: NUL-terminated strings, ended by one more NUL; a structure without
    // strings has two NULs right after its formatted area.
    std::size_t cursor = offset + length;
    bool terminated = false;
    if (cursor < table.size() && table[cursor] == 0) {
      // No strings: two NULs. Some firmware writes only one; accept that when more follows,
      // but a lone NUL at the very end is a cut-off table.
      if (table.size() - cursor >= 2) {
        cursor += table[cursor + 1] == 0 ? 2 : 1;
        terminated = true;
      }
    } else {
      while (cursor < table.size()) {
        if (table[cursor] == 0) {  // the empty string that ends the set
          ++cursor;
          terminated = true;
          break;
        }
        std::size_t end = cursor;
        while (end < table.size() && table[end] != 0) ++end;
        if (end == table.size()) break;  // a string cut off by the end of the data
        if (structure.strings.size() < kMaxStrings) {
          structure.strings.emplace_back(reinterpret_cast<const char*>(table.data() + cursor),
                                         end - cursor);
        }
        cursor = end + 1;
      }
    }
    if (!terminated) {
      // Keep the formatted area, whose fields are whole; its strings may be cut, so drop them.
      structure.strings.clear();
      result.structures.push_back(std::move(structure));
      result.complete = false;
      break;
    }
    result.structures.push_back(std::move(structure));
    offset = cursor;
    if (type == kEndOfTable) break;
  }
  return result;
}

std::optional<MemoryDevice> decode_memory_device(const SmbiosStructure& s) {
  if (s.type != kMemoryDevice) return std::nullopt;
  MemoryDevice device;
  device.locator = clean(s.string(0x10));
  device.bank = clean(s.string(0x11));

  // Size: 0 = empty slot, 0xFFFF = unknown, 0x7FFF = see Extended Size (MiB, bits 0–30);
  // otherwise bits 0–14 count MiB, or KiB when bit 15 is set.
  if (const auto size = s.word(0x0C)) {
    if (*size == 0) {
      device.installed = false;
    } else {
      device.installed = true;
      if (*size == 0x7FFF) {
        if (const auto extended = s.dword(0x1C)) {
          device.size_bytes = static_cast<std::uint64_t>(*extended & 0x7FFFFFFFU) << 20;
        }
      } else if (*size != 0xFFFF) {
        const std::uint64_t amount = *size & 0x7FFFU;
        device.size_bytes = (*size & 0x8000U) != 0 ? amount << 10 : amount << 20;
      }
    }
  }
  device.form_factor = table_name(kFormFactors, s.byte(0x0E));
  device.type = table_name(kMemoryTypes, s.byte(0x12));

  // Speeds in MT/s: 0 = unknown, 0xFFFF = see the 32-bit extended field (SMBIOS 3.3).
  const auto speed = [&](std::size_t offset,
                         std::size_t extended_offset) -> std::optional<std::uint32_t> {
    const auto value = s.word(offset);
    if (!value || *value == 0) return std::nullopt;
    if (*value != 0xFFFF) return *value;
    const auto extended = s.dword(extended_offset);
    if (!extended || (*extended & 0x7FFFFFFFU) == 0) return std::nullopt;
    return *extended & 0x7FFFFFFFU;
  };
  device.speed_mts = speed(0x15, 0x54);
  device.configured_speed_mts = speed(0x20, 0x58);
  device.manufacturer = clean(s.string(0x17));
  device.serial = clean(s.string(0x18));
  device.part_number = clean(s.string(0x1A));
  return device;
}

}  // namespace tether::agent::diag
