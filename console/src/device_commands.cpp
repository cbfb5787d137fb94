// `tether devices`, `tether device show D-1`, `tether device history D-1`,
// `tether device revoke D-1 --reason TEXT`: the managed devices enrolled with the relay, which
// of them are online, what their inventory says and how it changed, and revoking one.

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "tether/console/api_client.hpp"
#include "tether/console/ticket_view.hpp"
#include "tether/console/tool_commands.hpp"
#include "tether/protocol/diag_report.hpp"
#include "tether/protocol/json_access.hpp"

namespace tether::console {

using json = nlohmann::json;

namespace {

struct DeviceState {
  std::string device, group, search, reason;
  bool online = false, offline = false, as_json = false;
  int limit = 100;
  long long before = 0;
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

using protocol::json_member;

const json& at_path(const json& j, std::initializer_list<const char*> keys) {
  const json* at = &j;
  for (const char* key : keys) at = &json_member(*at, key);
  return *at;
}

std::string text_at(const json& j, std::initializer_list<const char*> keys) {
  const auto& value = at_path(j, keys);
  if (!value.is_string()) return "";
  return protocol::printable_text(value.get<std::string>());
}

std::string gib(double bytes) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return buffer;
}

std::string joined(const std::vector<std::string>& parts, const char* separator = ", ") {
  std::string out;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

std::string os_line(const json& inv) {
  auto os = text_at(inv, {"system", "os", "pretty_name"});
  if (os.empty()) {
    os = joined({text_at(inv, {"system", "os", "name"}), text_at(inv, {"system", "os", "version"})},
                " ");
  }
  const auto kernel = text_at(inv, {"system", "kernel"});
  if (!kernel.empty()) os += (os.empty() ? "kernel " : ", kernel ") + kernel;
  return os;
}

std::string model_line(const json& inv) {
  auto model = joined({text_at(inv, {"firmware", "system", "manufacturer"}),
                       text_at(inv, {"firmware", "system", "product"})},
                      " ");
  const auto serial = text_at(inv, {"firmware", "system", "serial"});
  if (!serial.empty()) model += (model.empty() ? "serial " : ", serial ") + serial;
  return model;
}

std::string cpu_line(const json& inv) {
  auto cpu = text_at(inv, {"cpu", "model"});
  std::vector<std::string> counts;
  if (const auto& cores = at_path(inv, {"cpu", "cores"}); cores.is_number_integer()) {
    counts.push_back(std::to_string(cores.get<long long>()) + " cores");
  }
  if (const auto& threads = at_path(inv, {"cpu", "threads"}); threads.is_number_integer()) {
    counts.push_back(std::to_string(threads.get<long long>()) + " threads");
  }
  if (!counts.empty()) cpu += (cpu.empty() ? "" : " ") + ("(" + joined(counts) + ")");
  return cpu;
}

std::string memory_line(const json& inv) {
  const auto& total = at_path(inv, {"memory", "total_bytes"});
  return total.is_number() ? gib(total.get<double>()) : "";
}

// Fixed disks with their size, then the fullest writable filesystem.
std::string disks_line(const json& inv) {
  std::vector<std::string> disks;
  const auto& list = at_path(inv, {"storage", "disks"});
  if (list.is_array()) {
    for (const auto& disk : list) {
      if (json_member(disk, "removable") == true) continue;
      std::string line = text_at(disk, {"name"});
      if (const auto& size = json_member(disk, "size_bytes"); size.is_number()) {
        line += " " + gib(size.get<double>());
      }
      const auto model = text_at(disk, {"model"});
      if (!model.empty()) line += " (" + model + ")";
      disks.push_back(line);
    }
  }
  auto out = joined(disks);
  const auto& filesystems = at_path(inv, {"storage", "filesystems"});
  std::optional<double> fullest;
  std::string mount;
  if (filesystems.is_array()) {
    for (const auto& fs : filesystems) {
      const auto& used = json_member(fs, "used_pct");
      if (json_member(fs, "read_only") == true || !used.is_number()) continue;
      if (!fullest || used.get<double>() > *fullest) {
        fullest = used.get<double>();
        mount = text_at(fs, {"mount_point"});
      }
    }
  }
  if (fullest) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f%% used", *fullest);
    out += (out.empty() ? "" : "; ") + (mount.empty() ? "fullest" : mount) + " " + buffer;
  }
  return out;
}

std::string findings_line(const json& inv) {
  const auto& findings = json_member(inv, "findings");
  if (!findings.is_array()) return "";
  std::map<std::string, int> counts;
  for (const auto& f : findings) {
    const auto& severity = json_member(f, "severity");
    if (severity.is_string()) ++counts[severity.get<std::string>()];
  }
  std::vector<std::string> parts;
  for (const char* severity : {"critical", "warning", "info", "ok"}) {
    if (counts[severity] > 0) parts.push_back(std::to_string(counts[severity]) + " " + severity);
  }
  return parts.empty() ? "none" : joined(parts);
}

// What identity matching noticed at enrollment: "possible clone of D-3", "conflict with D-4".
std::string identity_line(const json& flags) {
  if (!flags.is_object()) return "";
  std::vector<std::string> related;
  if (const auto& list = json_member(flags, "related"); list.is_array()) {
    for (const auto& r : list) {
      if (r.is_string()) related.push_back(protocol::printable_text(r.get<std::string>()));
    }
  }
  const auto others = related.empty() ? std::string() : " " + joined(related, " and ");
  std::vector<std::string> parts;
  if (json_member(flags, "possible_clone") == true) parts.push_back("possible clone of" + others);
  if (json_member(flags, "conflict") == true) parts.push_back("conflict with" + others);
  // A count in the store's notes, a flag in the enrollment's answer: either reads the same.
  if (const auto& n = json_member(flags, "reenrolled");
      n == true || (n.is_number_integer() && n.get<long long>() > 0)) {
    parts.push_back("re-enrolled (same machine, new certificate)");
  }

  for (auto& part : parts) {
    while (!part.empty() && part.back() == ' ') part.pop_back();
  }
  return joined(parts, "; ");
}

void print_line(const char* label, const std::string& value) {
  if (!value.empty()) std::cout << "    " << label << value << "\n";
}

// The "Inventory" block of `device show`: `inventory` is GET /devices/D-1/inventory, or null
// when the device has not reported one.
void print_inventory(const json& device, const json& inventory) {
  std::cout << "  inventory:    ";
  if (!inventory.is_object()) {
    std::cout << "none reported yet\n";
  } else {
    std::cout << "reported " << format_short_time(json_member(inventory, "reported_at"))
              << ", collected " << format_short_time(json_member(inventory, "collected_at"));
    if (const auto& n = json_member(inventory, "reports"); n.is_number_integer()) {
      std::cout << " (" << n.get<long long>()
                << (n.get<long long>() == 1 ? " report)" : " reports)");
    }
    std::cout << "\n";
    const auto& inv = json_member(inventory, "inventory");
    print_line("os:         ", os_line(inv));
    print_line("model:      ", model_line(inv));
    print_line("cpu:        ", cpu_line(inv));
    print_line("memory:     ", memory_line(inv));
    print_line("disks:      ", disks_line(inv));
    print_line("findings:   ", findings_line(inv));
  }
  print_line("identity:   ", identity_line(json_member(device, "identity_flags")));
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
  auto client = ApiClient::from_saved_credentials();
  const auto segment = device_segment(state.device);
  auto reply = client.get("/devices/" + segment);
  json inventory;
  try {
    inventory = client.get("/devices/" + segment + "/inventory");
  } catch (const CommandError& e) {
    // The device exists (asked just before): not_found means it has not reported yet.
    if (!std::string_view(e.what()).ends_with("[not_found]")) throw;
  }
  if (state.as_json) {
    reply["inventory"] = inventory;
    std::cout << reply.dump(2) << "\n";
    return;
  }
  print_device(reply);
  print_inventory(reply, inventory);
}

// WHEN, SECTION, CHANGE, newest first as the relay lists them.
void run_history(const DeviceState& state) {
  if (state.limit < 1 || state.limit > 1000) throw CommandError("--limit must be 1 to 1000", 2);
  const auto reply = ApiClient::from_saved_credentials().get(
      "/devices/" + device_segment(state.device) + "/history",
      {{"limit", std::to_string(state.limit)},
       {"before", state.before > 0 ? std::to_string(state.before) : ""}});
  if (state.as_json) {
    std::cout << reply.dump(2) << "\n";
    return;
  }
  const auto& changes = json_member(reply, "changes");
  if (!changes.is_array() || changes.empty()) {
    std::cout << "No inventory changes" << (state.before > 0 ? " before that one" : "") << ".\n";
    return;
  }
  std::size_t section_width = 7;
  for (const auto& c : changes) section_width = std::max(section_width, shown(c, "section").size());
  auto row = [&](const std::string& when, const std::string& section, const std::string& change) {
    std::string line = when + std::string(when.size() < 17 ? 17 - when.size() + 2 : 2, ' ');
    line += section + std::string(section_width - section.size() + 2, ' ') + change;
    std::cout << line << "\n";
  };
  row("WHEN", "SECTION", "CHANGE");
  for (const auto& c : changes) {
    row(format_short_time(json_member(c, "at")), shown(c, "section"), shown(c, "summary"));
  }
  if (changes.size() == static_cast<std::size_t>(state.limit)) {
    const auto& last = json_member(changes.back(), "id");
    if (last.is_number_integer()) {
      std::cout << "Older changes: tether device history " << shown(reply, "device") << " --before "
                << last.get<long long>() << "\n";
    }
  }
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
  auto* history =
      device->add_subcommand("history", "What changed in a device's inventory, newest first");
  history->add_option("device", state->device, "D-1")->required();
  history->add_option("--limit", state->limit, "At most N changes (1-1000, default 100)");
  history->add_option("--before", state->before, "Only changes older than this change id");
  history->add_flag("--json", state->as_json, "Print the relay's JSON");
  history->callback([state, &action] { action = [state] { run_history(*state); }; });
  auto* revoke = device->add_subcommand(
      "revoke", "Revoke a device's certificate and disconnect it (admins only)");
  revoke->add_option("device", state->device, "D-1")->required();
  revoke->add_option("--reason", state->reason, "Why (kept with the device)")->required();
  revoke->add_flag("--json", state->as_json, "Print the relay's JSON");
  revoke->callback([state, &action] { action = [state] { run_revoke(*state); }; });
}

}  // namespace tether::console
