#include "fleet/glpi_export.hpp"

#include "tether/protocol/glpi_inventory.hpp"
#include "tether/protocol/json_access.hpp"
#include "tether/protocol/time_format.hpp"
#include "tether/protocol/utf8.hpp"

namespace tether::relay::fleet {

using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxHost = 64;
constexpr std::size_t kMaxTag = 200;

// Letters, digits, "_" and "-" as they are; anything else (dots, spaces, markup, bytes of
// other scripts) as "_", so the id reads the same in GLPI's lists, URLs and logs.
std::string id_text(std::string_view text, std::size_t max) {
  std::string out;
  for (const char c : text.substr(0, max)) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-';
    out += plain ? c : '_';
  }
  return out;
}

std::string host_name(const FleetDevice& device) {
  if (!device.hostname.empty()) return device.hostname;
  const json& name =
      protocol::json_member(protocol::json_member(device.inventory, "system"), "hostname");
  return name.is_string() ? name.get<std::string>() : std::string();
}

// Valid UTF-8: each malformed byte becomes U+FFFD, so the document can be written at all.
std::string valid_utf8(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = protocol::utf8_sequence_length(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  return out;
}

void make_valid_utf8(json& value) {
  if (value.is_string()) {
    auto& text = value.get_ref<std::string&>();
    bool valid = true;
    for (std::size_t i = 0; i < text.size() && valid;) {
      const std::size_t length = protocol::utf8_sequence_length(text, i);
      valid = length != 0;
      i += length;
    }
    if (!valid) text = valid_utf8(text);
  } else if (value.is_structured()) {
    for (auto& element : value) make_valid_utf8(element);
  }
}

}  // namespace

std::string glpi_device_id(const FleetDevice& device) {
  std::string host = host_name(device);
  host = host.substr(0, host.find('.'));
  std::string id = host.empty() ? "tether" : id_text(host, kMaxHost);
  if (!device.id.empty()) id += "-" + id_text(device.id, kMaxHost);
  return id;
}

json glpi_device_inventory(const FleetDevice& device) {
  json out = protocol::to_glpi_inventory(device.inventory);
  try {
    out["deviceid"] = glpi_device_id(device);
    if (!device.group.empty()) out["tag"] = device.group.substr(0, kMaxTag);
    json& content = out["content"];
    // GLPI names the computer after hardware.name: the relay's name for it when the
    // inventory has none.
    if (const auto host = host_name(device); !host.empty()) {
      json& hardware = content["hardware"];
      if (!hardware.is_object()) hardware = json::object();
      if (!hardware.contains("name")) hardware["name"] = host.substr(0, kMaxHost);
    }
    if (device.last_seen) {
      // "2026-11-25T10:00:00Z" → "2026-11-25 10:00:00", as the mapping writes its times.
      std::string when = protocol::format_time(*device.last_seen);
      if (when.size() == 20 && when[10] == 'T' && when[19] == 'Z') {
        when[10] = ' ';
        when.pop_back();
        content["accesslog"] = {{"logdate", when}};
      }
    }
    make_valid_utf8(out);
  } catch (const std::exception&) {
    // Only allocation failure gets here: the mapping alone is still a valid document.
    out = protocol::to_glpi_inventory(json());
    out["deviceid"] = "tether";
  }
  return out;
}

}  // namespace tether::relay::fleet
