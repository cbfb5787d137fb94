// `tether devices`, `tether device show D-1`, `tether device revoke D-1 --reason TEXT`: the
// managed devices enrolled with the relay, which of them are online, and revoking one.

#include <iostream>
#include <memory>
#include <sstream>

#include "tether/console/api_client.hpp"
#include "tether/console/tool_commands.hpp"
#include "tether/protocol/diag_report.hpp"
#include "tether/protocol/json_access.hpp"

namespace tether::console {

using json = nlohmann::json;

namespace {

struct DeviceState {
  std::string device, group, search, reason;
  bool online = false, offline = false, as_json = false;
};

// A string field as it may be shown on a terminal (control characters made visible).
std::string shown(const json& object, const char* key, const char* absent = "-") {
  if (!object.is_object()) return absent;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return absent;
  return protocol::printable_text(it->get<std::string>());
}

std::string presence(const json& device) {
  const bool online = device.is_object() && device.value("online", false);
  if (online) return "online";
  return "offline, last seen " + shown(device, "last_seen", "never");
}

std::string device_segment(const std::string& id) {
  if (id.empty()) throw CommandError("give a device, e.g. D-1");
  return percent_encode(id);
}

void run_list(const DeviceState& state) {
  if (state.online && state.offline) throw CommandError("give --online or --offline, not both");
  const std::string online = state.online ? "1" : state.offline ? "0" : "";
  const auto reply = ApiClient::from_saved_credentials().get(
      "/devices", {{"online", online}, {"group", state.group}, {"search", state.search}});
  if (state.as_json) {
    std::cout << reply.dump(2) << "\n";
    return;
  }
  const auto& devices = protocol::json_member(reply, "devices");
  if (!devices.is_array() || devices.empty()) {
    std::cout << "No devices.\n";
    return;
  }
  for (const auto& d : devices) {
    std::cout << shown(d, "id") << "  " << shown(d, "hostname") << "  [" << shown(d, "group")
              << "]  " << shown(d, "os") << "  " << presence(d);
    if (shown(d, "status") != "active") std::cout << "  (" << shown(d, "status") << ")";
    std::cout << "\n";
  }
}

void print_device(const json& d) {
  std::cout << shown(d, "id") << "  " << shown(d, "hostname") << "\n"
            << "  group:        " << shown(d, "group") << "\n"
            << "  os:           " << shown(d, "os") << "\n"
            << "  status:       " << shown(d, "status") << "\n"
            << "  presence:     " << presence(d) << "\n"
            << "  enrolled:     " << shown(d, "enrolled_at") << "\n"
            << "  certificate:  valid until " << shown(d, "certificate_not_after") << "\n";
  if (shown(d, "status") == "revoked") {
    std::cout << "  revoked:      " << shown(d, "revoked_at") << ": " << shown(d, "revoked_reason")
              << "\n";
  }
}

void run_show(const DeviceState& state) {
  const auto reply =
      ApiClient::from_saved_credentials().get("/devices/" + device_segment(state.device));
  if (state.as_json) {
    std::cout << reply.dump(2) << "\n";
    return;
  }
  print_device(reply);
}

void run_revoke(const DeviceState& state) {
  const auto reply = ApiClient::from_saved_credentials().post(
      "/devices/" + device_segment(state.device) + "/revoke", json{{"reason", state.reason}});
  if (state.as_json) {
    std::cout << reply.dump(2) << "\n";
    return;
  }
  std::cout << shown(reply, "id") << " revoked"
            << (reply.value("disconnected", false) ? " and disconnected" : "") << ".\n";
}

}  // namespace

void add_device_commands(CLI::App& app, std::function<void()>& action) {
  auto state = std::make_shared<DeviceState>();

  auto* list = app.add_subcommand("devices", "Managed devices, and which are online");
  list->add_flag("--online", state->online, "Only devices connected now");
  list->add_flag("--offline", state->offline, "Only devices not connected now");
  list->add_option("--group", state->group, "Only this group");
  list->add_option("--search", state->search, "Host name, OS or D-n contains this text");
  list->add_flag("--json", state->as_json, "Print the relay's JSON");
  list->callback([state, &action] { action = [state] { run_list(*state); }; });

  auto* device = app.add_subcommand("device", "One managed device");
  device->require_subcommand(1);
  auto* show = device->add_subcommand("show", "Show a device");
  show->add_option("device", state->device, "D-1")->required();
  show->add_flag("--json", state->as_json, "Print the relay's JSON");
  show->callback([state, &action] { action = [state] { run_show(*state); }; });
  auto* revoke = device->add_subcommand(
      "revoke", "Revoke a device's certificate and disconnect it (admins only)");
  revoke->add_option("device", state->device, "D-1")->required();
  revoke->add_option("--reason", state->reason, "Why (kept with the device)")->required();
  revoke->add_flag("--json", state->as_json, "Print the relay's JSON");
  revoke->callback([state, &action] { action = [state] { run_revoke(*state); }; });
}

}  // namespace tether::console
