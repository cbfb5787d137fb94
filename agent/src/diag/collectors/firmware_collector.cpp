#include "diag/collectors/firmware_collector.hpp"

#include <array>
#include <cstdio>

#include "diag/collectors/hw_sources.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSecureBootVariable =
    "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";

// DSP0134 7.4.1, System Enclosure or Chassis Types, indexed by value.
constexpr std::array<const char*, 37> kChassisTypes = {
    nullptr,
    "other",
    "unknown",
    "desktop",
    "low profile desktop",
    "pizza box",
    "mini tower",
    "tower",
    "portable",
    "laptop",
    "notebook",
    "hand held",
    "docking station",
    "all in one",
    "sub notebook",
    "space-saving",
    "lunch box",
    "main server chassis",
    "expansion chassis",
    "sub chassis",
    "bus expansion chassis",
    "peripheral chassis",
    "raid chassis",
    "rack mount chassis",
    "sealed-case pc",
    "multi-system chassis",
    "compact pci",
    "advanced tca",
    "blade",
    "blade enclosure",
    "tablet",
    "convertible",
    "detachable",
    "iot gateway",
    "embedded pc",
    "mini pc",
    "stick pc",
};

std::optional<int> two_digits(std::string_view text) {
  const auto value = parse_integer(text);
  if (text.size() != 2 || !value) return std::nullopt;
  return static_cast<int>(*value);
}

void put_dmi(json& object, const std::string& field, const CollectContext& context,
             std::string_view name) {
  put_value(object, field, read_dmi_id(context, name));
}

}  // namespace

std::optional<std::string> parse_bios_date(std::string_view text) {
  text = trim(text);
  if (text.size() != 10 && text.size() != 8) return std::nullopt;
  if (text[2] != '/' || text[5] != '/') return std::nullopt;
  const auto month = two_digits(text.substr(0, 2));
  const auto day = two_digits(text.substr(3, 2));
  int year = 0;
  const auto year_text = text.substr(6);
  const auto year_value = parse_integer(year_text);
  if (!month || !day || !year_value ||
      year_text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  year = static_cast<int>(*year_value);
  if (year_text.size() == 2) year += year >= 70 ? 1900 : 2000;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || year < 1970 || year > 2999) {
    return std::nullopt;
  }
  char buffer[11];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", year, *month, *day);
  return std::string(buffer);
}

std::optional<std::string> chassis_type_name(int type) {
  type &= 0x7F;
  if (type <= 0 || type == 2 || static_cast<std::size_t>(type) >= kChassisTypes.size()) {
    return std::nullopt;
  }
  return std::string(kChassisTypes[static_cast<std::size_t>(type)]);
}

std::optional<bool> parse_secure_boot_variable(std::string_view bytes) {
  if (bytes.size() < 5) return std::nullopt;
  return bytes[4] == 1;
}

json collect_firmware(const CollectContext& context) {
  const auto& root = context.root;
  if (!source_exists(root, "/sys")) return unavailable("cannot read /sys: not present");

  json bios = json::object();
  put_dmi(bios, "vendor", context, "bios_vendor");
  put_dmi(bios, "version", context, "bios_version");
  if (const auto date = read_dmi_id(context, "bios_date"); !date.value) {
    mark_unknown(bios, "date", date.reason);
  } else if (const auto iso = parse_bios_date(*date.value)) {
    bios["date"] = *iso;
  } else {
    mark_unknown(bios, "date", "could not read: unexpected date \"" + *date.value + "\"");
  }

  json system = json::object();
  put_dmi(system, "manufacturer", context, "sys_vendor");
  put_dmi(system, "product", context, "product_name");
  put_dmi(system, "version", context, "product_version");
  put_dmi(system, "serial", context, "product_serial");
  put_dmi(system, "uuid", context, "product_uuid");
  put_dmi(system, "sku", context, "product_sku");
  put_dmi(system, "family", context, "product_family");

  json board = json::object();
  put_dmi(board, "manufacturer", context, "board_vendor");
  put_dmi(board, "product", context, "board_name");
  put_dmi(board, "version", context, "board_version");
  put_dmi(board, "serial", context, "board_serial");
  put_dmi(board, "asset_tag", context, "board_asset_tag");

  json chassis = json::object();
  if (const auto type = read_dmi_id(context, "chassis_type"); !type.value) {
    mark_unknown(chassis, "type", type.reason);
    mark_unknown(chassis, "type_name", type.reason);
  } else if (const auto number = parse_integer(*type.value);
             !number || *number < 0 || *number > 255) {
    const auto reason = "could not read: unexpected chassis type \"" + *type.value + "\"";
    mark_unknown(chassis, "type", reason);
    mark_unknown(chassis, "type_name", reason);
  } else {
    chassis["type"] = *number;
    if (const auto name = chassis_type_name(static_cast<int>(*number))) {
      chassis["type_name"] = *name;
    } else {
      mark_unknown(chassis, "type_name", "not present: the firmware reports an unknown type");
    }
  }
  put_dmi(chassis, "manufacturer", context, "chassis_vendor");
  put_dmi(chassis, "serial", context, "chassis_serial");

  json firmware = {{"bios", bios}, {"system", system}, {"board", board}, {"chassis", chassis}};

  // The kernel creates /sys/firmware/efi only when it was started by UEFI firmware. Containers
  // often hide /sys/firmware (an empty mount), which says nothing either way.
  const bool uefi = source_exists(root, "/sys/firmware/efi");
  const bool firmware_visible = !list_directory(root, "/sys/firmware", 1).empty();
  if (uefi) {
    firmware["boot_mode"] = "uefi";
    const auto uid = effective_uid(context);
    const auto variable = read_raw(root, kSecureBootVariable, 64);
    if (!variable.bytes) {
      mark_unknown(firmware, "secure_boot", reason_for_errno(variable.error, uid));
    } else if (const auto state = parse_secure_boot_variable(*variable.bytes)) {
      firmware["secure_boot"] = *state;
    } else {
      mark_unknown(firmware, "secure_boot", "could not read: SecureBoot variable too short");
    }
  } else if (firmware_visible) {
    firmware["boot_mode"] = "legacy";
    firmware["secure_boot"] = false;  // Secure Boot is a UEFI feature
  } else {
    mark_unknown(firmware, "boot_mode", "not present");
    mark_unknown(firmware, "secure_boot", "not present");
  }
  return firmware;
}

}  // namespace tether::agent::diag
