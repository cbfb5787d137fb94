#pragma once
// The "firmware" section: BIOS, system, board and chassis as SMBIOS describes them
// (/sys/class/dmi/id), UEFI or legacy boot, and the Secure Boot state (efivars).

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// A BIOS release date as SMBIOS writes it ("MM/DD/YYYY", or "MM/DD/YY" on old firmware,
/// read as 19YY from 70 on) → "YYYY-MM-DD"; nullopt for anything else or an impossible date.
std::optional<std::string> parse_bios_date(std::string_view text);

/// The SMBIOS chassis type name (DSP0134 7.4.1) of `type` with its lock bit (0x80) cleared,
/// in lower case: 3 → "desktop", 10 → "notebook", 23 → "rack mount chassis", 1 → "other";
/// nullopt for 2 ("unknown") and values outside the table.
std::optional<std::string> chassis_type_name(int type);

/// The SecureBoot efivar's content (4 attribute bytes, then one data byte) → its state;
/// nullopt when the variable is too short.
std::optional<bool> parse_secure_boot_variable(std::string_view bytes);

/// Collects the "firmware" section under context.root. Unavailable only when <root>/sys is
/// missing altogether; a machine without DMI gets null fields with "not present".
nlohmann::json collect_firmware(const CollectContext& context);

}  // namespace tether::agent::diag
