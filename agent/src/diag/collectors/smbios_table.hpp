#pragma once
// The SMBIOS structure table (/sys/firmware/dmi/tables/DMI, root-only) and the one structure
// type the agent decodes from it: type 17, Memory Device (the DIMMs). Layout per DMTF DSP0134.
// The table is firmware-written binary: every offset and length is checked, and a truncated
// or corrupt table yields the structures before the damage.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tether::agent::diag {

/// One structure: its formatted area (header included) and its string set.
struct SmbiosStructure {
  std::uint8_t type = 0;
  std::uint16_t handle = 0;
  std::vector<std::uint8_t> formatted;  ///< Bytes [0, length): type, length, handle, fields.
  std::vector<std::string> strings;     ///< strings[0] is the structure's string number 1.

  /// Fields at `offset` in the formatted area (little-endian); nullopt past its end, which is
  /// how a field newer than the structure's SMBIOS version reads.
  std::optional<std::uint8_t> byte(std::size_t offset) const;
  std::optional<std::uint16_t> word(std::size_t offset) const;
  std::optional<std::uint32_t> dword(std::size_t offset) const;
  /// The string a STRING field at `offset` refers to; nullopt when the field is missing, is 0
  /// ("no string") or names a string the set does not hold.
  std::optional<std::string> string(std::size_t offset) const;
};

/// The parsed table. `complete` is false when parsing stopped at damage (a length below 4, a
/// structure or string set running past the end) rather than at the end-of-table marker
/// (type 127) or the end of the data.
struct SmbiosTable {
  std::vector<SmbiosStructure> structures;
  bool complete = true;
};

/// Parses a raw structure table. Never throws on malformed input; stops after 4096
/// structures and keeps at most 255 strings per structure (a string number is one byte).
SmbiosTable parse_smbios_table(std::span<const std::uint8_t> table);

/// One SMBIOS type 17 structure, decoded. Unknown or absent values are nullopt.
struct MemoryDevice {
  std::optional<std::string> locator;       ///< "DIMM_A1", "ChannelA-DIMM0"
  std::optional<std::string> bank;          ///< "BANK 0", "P0_Node0_Channel0_Dimm0"
  bool installed = false;                   ///< false: an empty slot (size 0)
  std::optional<std::uint64_t> size_bytes;  ///< nullopt when installed but size unknown
  std::optional<std::string> type;          ///< "DDR4", "LPDDR5", …
  std::optional<std::string> form_factor;   ///< "DIMM", "SODIMM", "Row of chips", …
  std::optional<std::uint32_t> speed_mts;   ///< maximum speed, MT/s
  std::optional<std::uint32_t> configured_speed_mts;
  std::optional<std::string> manufacturer;
  std::optional<std::string> part_number;  ///< trailing padding removed
  std::optional<std::string> serial;
};

/// Decodes a type 17 structure (any other type gives nullopt). Fields the structure is too
/// short to hold are nullopt.
std::optional<MemoryDevice> decode_memory_device(const SmbiosStructure& structure);

}  // namespace tether::agent::diag
