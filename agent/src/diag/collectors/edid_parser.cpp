#include "diag/collectors/edid_parser.hpp"

#include <array>

namespace tether::agent::diag {
namespace {

constexpr std::size_t kBlockSize = 128;
constexpr std::array<std::uint8_t, 8> kHeader = {0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00};
constexpr std::size_t kDescriptorOffsets[] = {54, 72, 90, 108};
constexpr std::size_t kDescriptorSize = 18;

// Descriptor text: up to 13 bytes, ended by a line feed and padded with spaces.
std::optional<std::string> descriptor_text(const std::uint8_t* descriptor) {
  std::string text;
  for (std::size_t i = 5; i < kDescriptorSize; ++i) {
    const auto c = descriptor[i];
    if (c == 0x0A || c == 0x00) break;
    // Printable ASCII only: EDID text is specified as ASCII and junk here is common.
    text += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  const auto last = text.find_last_not_of(' ');
  if (last == std::string::npos) return std::nullopt;
  text.resize(last + 1);
  const auto first = text.find_first_not_of(' ');
  return text.substr(first);
}

}  // namespace

EdidResult parse_edid(std::span<const std::uint8_t> blob) {
  EdidResult result;
  if (blob.size() < kBlockSize) {
    result.error = "shorter than 128 bytes";
    return result;
  }
  for (std::size_t i = 0; i < kHeader.size(); ++i) {
    if (blob[i] != kHeader[i]) {
      result.error = "bad header";
      return result;
    }
  }
  unsigned sum = 0;
  for (std::size_t i = 0; i < kBlockSize; ++i) sum += blob[i];
  if (sum % 256 != 0) {
    result.error = "bad checksum";
    return result;
  }

  EdidInfo info;
  // Manufacturer: big-endian word, three 5-bit letters, 1 = 'A'.
  const unsigned id = (static_cast<unsigned>(blob[8]) << 8) | blob[9];
  for (const unsigned shift : {10U, 5U, 0U}) {
    const unsigned letter = (id >> shift) & 0x1F;
    info.manufacturer += (letter >= 1 && letter <= 26) ? static_cast<char>('A' + letter - 1) : '?';
  }
  info.product_code = static_cast<std::uint16_t>(blob[10] | (blob[11] << 8));
  const std::uint32_t serial_number =
      static_cast<std::uint32_t>(blob[12]) | (static_cast<std::uint32_t>(blob[13]) << 8) |
      (static_cast<std::uint32_t>(blob[14]) << 16) | (static_cast<std::uint32_t>(blob[15]) << 24);
  if (blob[17] != 0) info.manufacture_year = 1990 + blob[17];
  // 0 in either size byte means the size is undefined (a projector) or encodes an aspect ratio.
  if (blob[21] != 0 && blob[22] != 0) {
    info.width_mm = blob[21] * 10;
    info.height_mm = blob[22] * 10;
  }

  for (const auto offset : kDescriptorOffsets) {
    const std::uint8_t* d = blob.data() + offset;
    const bool timing = d[0] != 0 || d[1] != 0;  // a non-zero pixel clock
    if (timing) {
      // The first detailed timing is the preferred mode (mandatory since EDID 1.3).
      if (!info.preferred_resolution) {
        const unsigned width = d[2] | ((d[4] & 0xF0U) << 4);
        const unsigned height = d[5] | ((d[7] & 0xF0U) << 4);
        if (width != 0 && height != 0) {
          info.preferred_resolution = std::to_string(width) + "x" + std::to_string(height);
        }
      }
      continue;
    }
    if (d[3] == 0xFC && !info.name) info.name = descriptor_text(d);
    if (d[3] == 0xFF && !info.serial) info.serial = descriptor_text(d);
  }
  if (!info.serial && serial_number != 0) info.serial = std::to_string(serial_number);
  result.info = std::move(info);
  return result;
}

}  // namespace tether::agent::diag
