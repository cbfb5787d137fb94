#pragma once
// Small readers shared by the hardware collectors (identity, firmware, cpu, memory, power,
// devices): one-value sysfs attributes, directory listings in a stable order, and the
// placeholder values firmware vendors leave in identifiers.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// A small file's bytes (a sysfs attribute, an EDID blob, an SMBIOS table), or the errno that
/// stopped the read.
struct RawFile {
  std::optional<std::string> bytes;
  int error = 0;  ///< errno when bytes is empty
};

/// Reads at most `max_bytes` of `path` (absolute, as on a real machine) under `root`, with
/// plain open/read: sysfs attributes report size 4096 whatever they hold.
RawFile read_raw(const std::filesystem::path& root, std::string_view path,
                 std::size_t max_bytes = 64 * 1024);

/// One text value: a sysfs attribute trimmed of white space, or the reason it is missing in
/// the words of mark_unknown ("not present", "not root", "could not read: …").
struct SysfsValue {
  std::optional<std::string> value;
  std::string reason;
};

/// Reads one sysfs attribute as text. An empty value is "not present"; one holding control
/// characters, NULs or invalid UTF-8 is "could not read: not text". `uid` decides whether a permission
/// error reads "not root" (unprivileged agent) or "could not read: permission denied".
SysfsValue read_value(const std::filesystem::path& root, std::string_view path, unsigned uid);

/// An attribute parsed as a whole decimal integer ("4", "  -12\n"); nullopt otherwise.
std::optional<long long> read_integer(const std::filesystem::path& root, std::string_view path);

/// Why a read failed, from its errno: "not present" (ENOENT, ENOTDIR), "not root" (EACCES or
/// EPERM when uid != 0), "not supported on this platform" (EOPNOTSUPP), else
/// "could not read: <strerror>".
std::string reason_for_errno(int error, unsigned uid);

/// Sets object[field] to the value, or to null with the reason (mark_unknown).
void put_value(nlohmann::json& object, const std::string& field, const SysfsValue& value);

/// Names of the entries of directory `path` under `root`, in natural order ("cpu2" before
/// "cpu10"), at most `limit`. Empty when the directory is missing or unreadable.
std::vector<std::string> list_directory(const std::filesystem::path& root, std::string_view path,
                                        std::size_t limit = 4096);

/// True when `path` (absolute, as on a real machine) exists under `root`.
bool source_exists(const std::filesystem::path& root, std::string_view path);

/// The last component of the symlink `path` points at ("i915" for a driver link), or nullopt.
std::optional<std::string> link_name(const std::filesystem::path& root, std::string_view path);

/// Compares names with runs of digits by value: "Core 2" < "Core 10", "hwmon9" < "hwmon10".
bool natural_less(std::string_view a, std::string_view b);

/// True for values firmware makers leave in identifiers instead of a real one: empty, all
/// one repeated character ("00000000", "FFFFFFFF-FFFF-…", "xxxxx", "........"),
/// "To Be Filled By O.E.M.", "Default string", "System Serial Number", "Not Specified",
/// "None", "0123456789", "O.E.M." and similar (case-insensitive, white space trimmed).
bool is_placeholder_identifier(std::string_view value);

/// One attribute of /sys/class/dmi/id ("bios_vendor", "product_uuid"). The serials and the
/// UUID are readable by root only (mode 0400): for any other uid they are "not root" without
/// trying. A machine without DMI (many VMs, containers, ARM boards) gives "not present".
SysfsValue read_dmi_id(const CollectContext& context, std::string_view name);

/// `value` rounded to one decimal place (percentages, degrees).
double round1(double value);

/// Hex digits of a "0x8086"-style attribute, lower case without the prefix, zero-padded to
/// `width` ("8086"); nullopt unless the text is 1..`width` hex digits with an optional 0x.
std::optional<std::string> hex_id(std::string_view text, std::size_t width);

}  // namespace tether::agent::diag
