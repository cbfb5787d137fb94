#pragma once
// A monitor's EDID (VESA E-EDID 1.3/1.4 base block), as /sys/class/drm/<connector>/edid holds
// it: who made the monitor, its name, serial, size, year and preferred resolution.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace tether::agent::diag {

/// What the base block says about the monitor. Values the block leaves blank are nullopt.
struct EdidInfo {
  std::string manufacturer;           ///< PNP id, three letters: "DEL", "SAM", "BOE"
  std::uint16_t product_code = 0;     ///< maker's product code
  std::optional<std::string> name;    ///< display product name descriptor (0xFC)
  std::optional<std::string> serial;  ///< serial descriptor (0xFF), else the 32-bit serial
  std::optional<int> width_mm;        ///< from the screen size in cm
  std::optional<int> height_mm;
  std::optional<int> manufacture_year;  ///< 1990 + byte 17 (model year when week is 0xFF)
  std::optional<std::string> preferred_resolution;  ///< "1920x1080", first detailed timing
};

/// The parsed block, or what is wrong with it ("shorter than 128 bytes", "bad header",
/// "bad checksum").
struct EdidResult {
  std::optional<EdidInfo> info;
  std::string error;
};

/// Parses the first 128-byte block of `blob`; extension blocks are ignored.
EdidResult parse_edid(std::span<const std::uint8_t> blob);

}  // namespace tether::agent::diag
