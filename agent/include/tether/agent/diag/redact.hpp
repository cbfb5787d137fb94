#pragma once
/// Redaction of a diagnostics snapshot before it leaves the help desk (`diag --redact`):
/// serial numbers, MAC addresses, user names and host names are replaced by "[redacted]".

#include <nlohmann/json.hpp>

namespace tether::agent::diag {

/// What replaces every redacted value and every occurrence of one inside a string.
inline constexpr const char* kRedacted = "[redacted]";

/// A copy of `snapshot` (schema 2) with:
/// - serial numbers: every "serial" field (firmware, disks, USB, batteries, monitors, DIMMs),
///   identity.serials, every "uuid", identity.smbios_uuid, machine_id and device_id;
/// - MAC addresses: every "mac" and "permanent_mac", identity.macs, any MAC-looking substring
///   (aa:bb:cc:dd:ee:ff, aa-bb-…) in any string, and IPv6 addresses built from a MAC (EUI-64);
/// - user names: users.local names and homes, session users and hosts, logged_in, every
///   "user" field (processes, listening ports), and each person's name (a human account, a
///   session or process user that is not a system account) wherever it occurs in a string,
///   along with any "/home/<name>";
/// - host names: system.hostname and fqdn, and each wherever it occurs in a string
///   (case-insensitively, as whole words);
/// replaced by kRedacted, and "redacted": true at the top level. Also redacts those values
/// inside the serial, user and host values found in object keys. Never throws on any JSON
/// (a non-object is returned as it is, with nothing to redact).
nlohmann::json redact_snapshot(const nlohmann::json& snapshot);

}  // namespace tether::agent::diag
