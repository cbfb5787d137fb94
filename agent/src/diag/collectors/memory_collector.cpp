#include "diag/collectors/memory_collector.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "diag/collectors/hw_sources.hpp"
#include "diag/collectors/smbios_table.hpp"
#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

using json = nlohmann::json;

json parse_meminfo(std::string_view text) {
  std::map<std::string, std::uint64_t, std::less<>> kib;
  for (const auto line : split_lines(text)) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto fields = split_fields(line.substr(colon + 1));
    if (fields.empty() || fields.size() > 2 || (fields.size() == 2 && fields[1] != "kB")) {
      continue;
    }
    const auto value = parse_integer(fields[0]);
    // Refuse values that would overflow once turned into bytes.
    if (!value || *value < 0 ||
        static_cast<std::uint64_t>(*value) > std::numeric_limits<std::uint64_t>::max() / 1024) {
      continue;
    }
    kib.emplace(std::string(trim(line.substr(0, colon))), static_cast<std::uint64_t>(*value));
  }
  const auto bytes = [&](std::string_view key) -> json {
    const auto it = kib.find(key);
    if (it == kib.end()) return nullptr;
    return it->second * 1024;
  };
  json total = bytes("MemTotal");
  if (total.is_null() || total.get<std::uint64_t>() == 0) {
    return unavailable("no MemTotal in /proc/meminfo");
  }
  json available = bytes("MemAvailable");
  if (available.is_null() && kib.contains("MemFree") && kib.contains("Buffers") &&
      kib.contains("Cached")) {
    available =
        (kib.find("MemFree")->second + kib.find("Buffers")->second + kib.find("Cached")->second) *
        1024;
  }
  json memory{{"total_bytes", total},
              {"available_bytes", available},
              {"free_bytes", bytes("MemFree")},
              {"buffers_bytes", bytes("Buffers")},
              {"cached_bytes", bytes("Cached")},
              {"swap_total_bytes", bytes("SwapTotal")},
              {"swap_free_bytes", bytes("SwapFree")}};
  const auto total_value = total.get<std::uint64_t>();
  if (available.is_null()) {
    mark_unknown(memory, "used_pct", "not present: no MemAvailable in /proc/meminfo");
  } else {
    const auto free = std::min(available.get<std::uint64_t>(), total_value);
    memory["used_pct"] =
        round1(100.0 * static_cast<double>(total_value - free) / static_cast<double>(total_value));
  }
  const auto& swap_total = memory["swap_total_bytes"];
  const auto& swap_free = memory["swap_free_bytes"];
  if (swap_total.is_null() || swap_free.is_null()) {
    mark_unknown(memory, "swap_used_pct", "not present: no SwapTotal/SwapFree in /proc/meminfo");
  } else if (swap_total.get<std::uint64_t>() == 0) {
    mark_unknown(memory, "swap_used_pct", "not present: no swap");
  } else {
    const auto size = swap_total.get<std::uint64_t>();
    const auto free = std::min(swap_free.get<std::uint64_t>(), size);
    memory["swap_used_pct"] =
        round1(100.0 * static_cast<double>(size - free) / static_cast<double>(size));
  }
  return memory;
}

json parse_pressure(std::string_view text) {
  json pressure = json::object();
  for (const auto line : split_lines(text)) {
    const auto fields = split_fields(line);
    if (fields.empty() || (fields[0] != "some" && fields[0] != "full")) continue;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      const auto equals = fields[i].find('=');
      if (equals == std::string_view::npos) continue;
      const auto key = fields[i].substr(0, equals);
      if (key != "avg10" && key != "avg60") continue;
      const auto value = parse_decimal(fields[i].substr(equals + 1));
      if (!value || *value < 0 || *value > 100) continue;
      pressure[std::string(fields[0]) + "_" + std::string(key)] = *value;
    }
  }
  if (pressure.empty()) return pressure;
  for (const char* key : {"some_avg10", "some_avg60", "full_avg10", "full_avg60"}) {
    if (!pressure.contains(key)) pressure[key] = nullptr;
  }
  return pressure;
}

std::optional<long long> parse_oom_kills(std::string_view vmstat) {
  for (const auto line : split_lines(vmstat)) {
    if (line.substr(0, 9) != "oom_kill ") continue;
    const auto value = parse_integer(line.substr(9));
    if (value && *value >= 0) return value;
    return std::nullopt;
  }
  return std::nullopt;
}

json memory_devices_from_smbios(std::span<const std::uint8_t> bytes) {
  const auto table = parse_smbios_table(bytes);
  json dimms = json::array();
  std::size_t slots = 0;
  std::size_t used = 0;
  for (const auto& structure : table.structures) {
    const auto device = decode_memory_device(structure);
    if (!device) continue;
    ++slots;
    if (!device->installed) continue;
    ++used;
    json dimm = json::object();
    const auto put = [&](const char* field, const auto& value) {
      if (value) {
        dimm[field] = *value;
      } else {
        mark_unknown(dimm, field, "not present");
      }
    };
    // Makers write placeholders into DIMM strings as much as into system serials.
    const auto text = [&](const char* field, const std::optional<std::string>& value) {
      if (value && !is_placeholder_identifier(*value) && *value != "Unknown") {
        dimm[field] = *value;
      } else {
        mark_unknown(dimm, field, "not present");
      }
    };
    text("locator", device->locator);
    text("bank", device->bank);
    put("size_bytes", device->size_bytes);
    put("type", device->type);
    put("form_factor", device->form_factor);
    put("speed_mts", device->speed_mts);
    put("configured_speed_mts", device->configured_speed_mts);
    text("manufacturer", device->manufacturer);
    text("part_number", device->part_number);
    text("serial", device->serial);
    dimms.push_back(std::move(dimm));
  }
  return json{{"dimms", std::move(dimms)}, {"slots_total", slots}, {"slots_used", used}};
}

namespace {

void add_dimms(const CollectContext& context, json& memory) {
  constexpr std::string_view kTable = "/sys/firmware/dmi/tables/DMI";
  const auto uid = effective_uid(context);
  std::string reason;
  if (uid != 0) {
    reason = "not root";
  } else if (const auto raw = read_raw(context.root, kTable, 1024 * 1024); !raw.bytes) {
    reason = reason_for_errno(raw.error, uid);
  } else {
    const std::span<const std::uint8_t> bytes(
        reinterpret_cast<const std::uint8_t*>(raw.bytes->data()), raw.bytes->size());
    auto devices = memory_devices_from_smbios(bytes);
    if (devices["slots_total"] == 0) {
      reason = "not present: no memory device in the SMBIOS table";
    } else {
      for (auto& [key, value] : devices.items()) memory[key] = std::move(value);
      return;
    }
  }
  mark_unknown(memory, "dimms", reason);
  mark_unknown(memory, "slots_total", reason);
  mark_unknown(memory, "slots_used", reason);
}

}  // namespace

json collect_memory(const CollectContext& context) {
  const auto& root = context.root;
  const auto meminfo = read_source(root, "/proc/meminfo");
  if (!meminfo.text) return unavailable(meminfo.error);
  auto memory = parse_meminfo(*meminfo.text);
  if (memory.contains("unavailable")) return memory;
  const auto uid = effective_uid(context);

  // PSI needs CONFIG_PSI and is switched off with psi=0 (reads then fail with EOPNOTSUPP).
  if (const auto raw = read_raw(root, "/proc/pressure/memory", 4096); !raw.bytes) {
    mark_unknown(memory, "pressure", reason_for_errno(raw.error, uid));
  } else if (auto pressure = parse_pressure(*raw.bytes); pressure.empty()) {
    mark_unknown(memory, "pressure", "could not read: unexpected /proc/pressure/memory");
  } else {
    memory["pressure"] = std::move(pressure);
  }

  if (const auto vmstat = read_raw(root, "/proc/vmstat", 256 * 1024); !vmstat.bytes) {
    mark_unknown(memory, "oom_kills_since_boot", reason_for_errno(vmstat.error, uid));
  } else if (const auto kills = parse_oom_kills(*vmstat.bytes)) {
    memory["oom_kills_since_boot"] = *kills;
  } else {
    mark_unknown(memory, "oom_kills_since_boot", "not present: no oom_kill in /proc/vmstat");
  }

  add_dimms(context, memory);
  return memory;
}

}  // namespace tether::agent::diag
