#include "diag/collectors/identity_collector.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

#include "diag/collectors/hw_sources.hpp"
#include "tether/protocol/time_format.hpp"

#include "tether/agent/diag/sha256.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

std::string to_lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool is_hex(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

// "aa:bb:cc:dd:ee:ff", lower case; anything else (InfiniBand's 20-byte addresses included)
// is not used as an identifier.
bool is_ethernet_mac(std::string_view text) {
  if (text.size() != 17) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i % 3 == 2 ? text[i] != ':' : !is_hex(text.substr(i, 1))) return false;
  }
  return true;
}

// Locally administered (bit 1 of the first octet) and multicast addresses are chosen by
// software, not burnt into the NIC; all-zero and all-F ones identify nothing.
bool is_permanent_mac(std::string_view mac) {
  const auto first = std::stoi(std::string(mac.substr(0, 2)), nullptr, 16);
  if ((first & 0x03) != 0) return false;
  return !is_placeholder_identifier(mac);
}

}  // namespace

std::string device_id_of(const std::vector<std::pair<std::string, std::string>>& identifiers) {
  std::string input;
  for (const auto& [name, value] : identifiers) input += name + "=" + value + "\n";
  return sha256_tagged_hex(input);
}

json collect_identity(const CollectContext& context) {
  const auto& root = context.root;
  const auto uid = effective_uid(context);
  const bool has_machine_id_file = source_exists(root, "/etc/machine-id");
  const bool has_sys = source_exists(root, "/sys");
  if (!has_machine_id_file && !has_sys) {
    return unavailable("not present: no /etc/machine-id, /sys/class/dmi/id or /sys/class/net");
  }

  json identity = json::object();
  json placeholders = json::array();
  json sources = json::array();
  std::vector<std::pair<std::string, std::string>> identifiers;

  // Each candidate: reported as read, and hashed only when it is not a placeholder.
  const auto consider = [&](json& object, const std::string& field, const std::string& name,
                            const SysfsValue& value, bool lower_case) {
    if (!value.value) {
      mark_unknown(object, field, value.reason);
      return;
    }
    const auto text = lower_case ? to_lower(*value.value) : *value.value;
    object[field] = text;
    if (is_placeholder_identifier(text)) {
      placeholders.push_back(name);
      return;
    }
    identifiers.emplace_back(name, text);
    sources.push_back(name);
  };

  auto machine_id = read_value(root, "/etc/machine-id", uid);
  if (machine_id.value && (machine_id.value->size() != 32 || !is_hex(*machine_id.value))) {
    // "uninitialized" (first boot) or junk: not an id.
    machine_id = {std::nullopt, "could not read: not a machine id"};
  }
  consider(identity, "machine_id", "machine_id", machine_id, true);
  consider(identity, "smbios_uuid", "smbios_uuid", read_dmi_id(context, "product_uuid"), true);

  json serials = json::object();
  consider(serials, "system", "serials.system", read_dmi_id(context, "product_serial"), false);
  consider(serials, "board", "serials.board", read_dmi_id(context, "board_serial"), false);
  consider(serials, "chassis", "serials.chassis", read_dmi_id(context, "chassis_serial"), false);
  identity["serials"] = std::move(serials);

  // Physical NICs only: virtual ones (bridges, veth, tunnels) have no "device" link and get a
  // new address whenever they are created. addr_assign_type 0 means the burnt-in address.
  std::vector<std::string> macs;
  for (const auto& name : list_directory(root, "/sys/class/net", 256)) {
    const std::string base = "/sys/class/net/" + name;
    if (!source_exists(root, base + "/device")) continue;
    // A USB network adapter comes and goes with its owner; it must not change the id.
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(under_root(root, base), ec);
    if (!ec && target.string().find("/usb") != std::string::npos) continue;
    if (const auto assign = read_integer(root, base + "/addr_assign_type");
        assign && *assign != 0) {
      continue;
    }
    const auto address = read_value(root, base + "/address", uid);
    if (!address.value) continue;
    const auto mac = to_lower(*address.value);
    if (!is_ethernet_mac(mac) || !is_permanent_mac(mac)) continue;
    macs.push_back(mac);
  }
  std::sort(macs.begin(), macs.end());
  macs.erase(std::unique(macs.begin(), macs.end()), macs.end());
  for (const auto& mac : macs) identifiers.emplace_back("mac", mac);
  if (!macs.empty()) sources.push_back("macs");
  identity["macs"] = macs;

  if (identifiers.empty()) {
    mark_unknown(identity, "device_id",
                 "not present: no machine id, SMBIOS identifier or physical network interface");
  } else {
    identity["device_id"] = device_id_of(identifiers);
  }
  identity["placeholders"] = std::move(placeholders);
  identity["sources"] = std::move(sources);
  identity["agent_version"] = TETHER_VERSION;
  identity["collected_at"] = protocol::format_time(
      context.host.now ? context.host.now() : std::chrono::system_clock::now());
  return identity;
}

}  // namespace tether::agent::diag
