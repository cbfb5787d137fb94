#include "fleet/identity_report.hpp"

namespace tether::relay::fleet {
namespace {

using nlohmann::json;

std::string text(const json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> texts(const json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& item : list) {
    if (item.is_string() && out.size() < kMaxScanned) out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

HardwareIdentity enrollment_identity(const json& identity, const std::string& hostname) {
  HardwareIdentity out;
  out.machine_id = text(identity, "machine_id");
  out.smbios_uuid = text(identity, "smbios_uuid");
  if (identity.is_object()) {
    out.serials = texts(identity.value("serials", json::array()));
    out.macs = texts(identity.value("macs", json::array()));
  }
  out.hostname = hostname;
  return normalize_identity(out);
}

HardwareIdentity inventory_identity(const json& section, const std::string& hostname) {
  HardwareIdentity out;
  out.machine_id = text(section, "machine_id");
  out.smbios_uuid = text(section, "smbios_uuid");
  if (section.is_object()) {
    if (auto serials = section.find("serials"); serials != section.end()) {
      for (const char* kind : {"system", "board", "chassis"}) {
        if (auto value = text(*serials, kind); !value.empty()) out.serials.push_back(value);
      }
    }
    if (auto macs = section.find("macs"); macs != section.end()) out.macs = texts(*macs);
  }
  out.hostname = hostname;
  return normalize_identity(out);
}

std::vector<KnownDevice> known_devices(const std::vector<Device>& devices, std::int64_t except_id) {
  std::vector<KnownDevice> known;
  for (const auto& device : devices) {
    if (device.id == except_id || device.status != "active") continue;
    known.push_back(
        {"D-" + std::to_string(device.id), enrollment_identity(device.identity, device.hostname)});
  }
  return known;
}

std::vector<KnownDevice> candidate_devices(IdentityIndex& index, Store& store,
                                           const HardwareIdentity& identity,
                                           std::int64_t except_id) {
  if (!index.loaded()) {
    for (const auto& device : store.list_devices()) {
      index.add(device.id, enrollment_identity(device.identity, device.hostname));
    }
    index.mark_loaded();
  }
  std::vector<Device> devices;
  for (const auto id : index.candidates(identity)) {
    if (auto device = store.find_device(id)) devices.push_back(std::move(*device));
  }
  return known_devices(devices, except_id);
}

}  // namespace tether::relay::fleet
