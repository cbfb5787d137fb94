#include "diag/collectors/cpu_collector.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "diag/collectors/hw_sources.hpp"
#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

// The flags a technician asks about: virtualisation, 64-bit, crypto and vector extensions,
// and whether this is a guest. x86 names from "flags", ARM names from "Features".
constexpr std::array<std::string_view, 20> kNotableFlags = {
    "lm",     "nx",  "vmx",  "svm",     "hypervisor", "aes",    "pclmulqdq",
    "sse4_2", "avx", "avx2", "avx512f", "sha_ni",     "rdrand", "tsc_constant",
    "asimd",  "sve", "sha2", "crc32",   "atomics",    "pmull"};

// ARM "CPU implementer" codes (arch/arm64 MIDR) → the maker.
std::optional<std::string> arm_implementer(std::string_view code) {
  static constexpr std::pair<long long, std::string_view> kImplementers[] = {
      {0x41, "ARM"},       {0x42, "Broadcom"}, {0x43, "Cavium"}, {0x46, "Fujitsu"},
      {0x48, "HiSilicon"}, {0x4e, "NVIDIA"},   {0x50, "APM"},    {0x51, "Qualcomm"},
      {0x53, "Samsung"},   {0x61, "Apple"},    {0x69, "Intel"},  {0xc0, "Ampere"}};
  if (code.size() < 3 || code.substr(0, 2) != "0x") return std::nullopt;
  long long value = 0;
  for (const char c : code.substr(2)) {
    const int digit = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
    if (digit < 0 || value > 0xffff) return std::nullopt;
    value = value * 16 + digit;
  }
  for (const auto& [id, name] : kImplementers) {
    if (id == value) return std::string(name);
  }
  return std::nullopt;
}

// "0xd08" or "142" → the number.
std::optional<long long> parse_number(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    long long value = 0;
    for (const char c : text.substr(2)) {
      const int digit = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
      if (digit < 0 || value > 0xffffffffLL) return std::nullopt;
      value = value * 16 + digit;
    }
    return value;
  }
  return parse_integer(text);
}

void put_or_unknown(json& object, const char* field, const json& value, const char* reason) {
  if (value.is_null()) {
    mark_unknown(object, field, reason);
  } else {
    object[field] = value;
  }
}

}  // namespace

json parse_cpuinfo(std::string_view text) {
  std::int64_t processors = 0;
  json model = nullptr;
  json fallback_model = nullptr;
  json mhz = nullptr;
  json vendor = nullptr;
  json family = nullptr;
  json model_id = nullptr;
  json stepping = nullptr;
  json microcode = nullptr;
  std::string_view flags;
  bool have_flags = false;
  std::set<long long> packages;
  std::set<std::pair<long long, long long>> cores;
  long long current_package = -1;
  bool have_package = false;
  for (const auto line : split_lines(text)) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto key = trim(line.substr(0, colon));
    const auto value = trim(line.substr(colon + 1));
    if (key == "processor" && parse_integer(value)) {
      ++processors;
      have_package = false;
    } else if ((key == "model name" || key == "cpu model") && model.is_null() && !value.empty()) {
      model = std::string(value);
    } else if ((key == "Model" || key == "Hardware") && fallback_model.is_null() &&
               !value.empty()) {
      // ARM boards name the machine here; "model name" (when present) names the core.
      fallback_model = std::string(value);
    } else if (key == "cpu MHz" && mhz.is_null()) {
      if (const auto value_mhz = parse_decimal(value); value_mhz && *value_mhz > 0) {
        mhz = *value_mhz;
      }
    } else if (key == "vendor_id" && vendor.is_null() && !value.empty()) {
      vendor = std::string(value);
    } else if (key == "CPU implementer" && vendor.is_null()) {
      if (const auto name = arm_implementer(value)) vendor = *name;
    } else if ((key == "cpu family" || key == "CPU architecture") && family.is_null()) {
      if (const auto number = parse_number(value)) family = *number;
    } else if ((key == "model" || key == "CPU part") && model_id.is_null()) {
      if (const auto number = parse_number(value)) model_id = *number;
    } else if ((key == "stepping" || key == "CPU revision") && stepping.is_null()) {
      if (const auto number = parse_number(value)) stepping = *number;
    } else if (key == "microcode" && microcode.is_null() && !value.empty()) {
      microcode = std::string(value);
    } else if ((key == "flags" || key == "Features") && !have_flags) {
      flags = value;
      have_flags = true;
    } else if (key == "physical id") {
      if (const auto id = parse_integer(value)) {
        packages.insert(*id);
        current_package = *id;
        have_package = true;
      }
    } else if (key == "core id" && have_package) {
      if (const auto id = parse_integer(value)) cores.emplace(current_package, *id);
    }
  }
  if (processors == 0) return unavailable("no processor entries in /proc/cpuinfo");

  json cpu{{"model", model.is_null() ? fallback_model : model},
           {"logical_cores", processors},
           {"threads", processors},
           {"mhz", mhz}};
  put_or_unknown(cpu, "vendor", vendor, "not present");
  put_or_unknown(cpu, "family", family, "not present");
  put_or_unknown(cpu, "model_id", model_id, "not present");
  put_or_unknown(cpu, "stepping", stepping, "not present");
  // Virtual machines and most ARM kernels do not show the microcode revision.
  put_or_unknown(cpu, "microcode", microcode, "not present");
  if (packages.empty()) {
    mark_unknown(cpu, "sockets", "not present");
  } else {
    cpu["sockets"] = packages.size();
  }
  if (cores.empty()) {
    mark_unknown(cpu, "cores", "not present");
  } else {
    cpu["cores"] = cores.size();
  }
  if (!have_flags) {
    mark_unknown(cpu, "flags_summary", "not present");
    mark_unknown(cpu, "flag_count", "not present");
  } else {
    const auto all = split_fields(flags);
    const std::set<std::string_view> present(all.begin(), all.end());
    json summary = json::array();
    for (const auto flag : kNotableFlags) {
      if (present.contains(flag)) summary.push_back(std::string(flag));
    }
    cpu["flags_summary"] = std::move(summary);
    cpu["flag_count"] = present.size();
  }
  return cpu;
}

std::vector<CpuTicks> parse_cpu_ticks(std::string_view stat) {
  std::vector<CpuTicks> result;
  for (const auto line : split_lines(stat)) {
    if (line.substr(0, 3) != "cpu") continue;
    const auto fields = split_fields(line);
    if (fields.size() < 5) continue;
    const auto name = fields[0];
    if (name != "cpu" && name.find_first_not_of("0123456789", 3) != std::string_view::npos) {
      continue;
    }
    // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is
    // already counted in user and nice, so it is left out of the total.
    CpuTicks ticks{std::string(name), 0, 0};
    bool ok = true;
    for (std::size_t i = 1; i < fields.size() && i <= 8; ++i) {
      const auto value = parse_integer(fields[i]);
      if (!value || *value < 0) {
        ok = false;
        break;
      }
      ticks.total += static_cast<std::uint64_t>(*value);
      if (i == 4 || i == 5) ticks.idle += static_cast<std::uint64_t>(*value);
    }
    if (ok) result.push_back(std::move(ticks));
  }
  return result;
}

json cpu_utilization(const std::vector<CpuTicks>& before, const std::vector<CpuTicks>& after) {
  const auto busy_pct = [](const CpuTicks& a, const CpuTicks& b) -> json {
    if (b.total <= a.total || b.idle < a.idle) return nullptr;
    const auto elapsed = b.total - a.total;
    const auto idle = std::min(b.idle - a.idle, elapsed);
    return round1(100.0 * static_cast<double>(elapsed - idle) / static_cast<double>(elapsed));
  };
  const auto find = [](const std::vector<CpuTicks>& list, const std::string& name) {
    for (const auto& ticks : list) {
      if (ticks.name == name) return &ticks;
    }
    return static_cast<const CpuTicks*>(nullptr);
  };
  json result = json::object();
  constexpr const char* kNoTicks = "could not read: no CPU time elapsed during the sample";
  const auto* total_before = find(before, "cpu");
  const auto* total_after = find(after, "cpu");
  json overall = total_before && total_after ? busy_pct(*total_before, *total_after) : nullptr;
  if (overall.is_null()) {
    mark_unknown(
        result, "utilization_pct",
        total_before && total_after ? kNoTicks : "could not read: no cpu line in /proc/stat");
  } else {
    result["utilization_pct"] = overall;
  }
  json per_core = json::array();
  bool any = false;
  for (const auto& a : before) {
    if (a.name == "cpu") continue;
    const auto* b = find(after, a.name);
    json pct = b ? busy_pct(a, *b) : nullptr;
    any = any || !pct.is_null();
    per_core.push_back(std::move(pct));
  }
  if (!any) {
    mark_unknown(result, "per_core_pct",
                 per_core.empty() ? "could not read: no per-CPU lines in /proc/stat" : kNoTicks);
  } else {
    result["per_core_pct"] = std::move(per_core);
  }
  return result;
}

std::optional<std::uint64_t> parse_cache_size(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::uint64_t unit = 1;
  switch (text.back()) {
    case 'K':
      unit = 1024;
      break;
    case 'M':
      unit = 1024 * 1024;
      break;
    case 'G':
      unit = 1024ULL * 1024 * 1024;
      break;
    default:
      break;
  }
  if (unit != 1) text.remove_suffix(1);
  const auto value = parse_integer(text);
  if (!value || *value <= 0 || *value > (1LL << 40)) return std::nullopt;
  return static_cast<std::uint64_t>(*value) * unit;
}

namespace {

// Topology from sysfs: counts distinct packages and (package, core) pairs over the CPUs the
// kernel lists. Offline CPUs have no topology directory and are not counted.
void add_topology(const std::filesystem::path& root, json& cpu) {
  std::set<long long> packages;
  std::set<std::pair<long long, long long>> cores;
  for (const auto& name : list_directory(root, "/sys/devices/system/cpu", 8192)) {
    if (name.size() < 4 || name.compare(0, 3, "cpu") != 0 ||
        name.find_first_not_of("0123456789", 3) != std::string::npos) {
      continue;
    }
    const std::string base = "/sys/devices/system/cpu/" + name + "/topology/";
    const auto package = read_integer(root, base + "physical_package_id");
    const auto core = read_integer(root, base + "core_id");
    if (!package || !core) continue;
    packages.insert(*package);
    cores.emplace(*package, *core);
  }
  if (packages.empty()) return;  // keep what cpuinfo said
  cpu["sockets"] = packages.size();
  cpu["cores"] = cores.size();
  if (cpu.contains("unknown")) {
    cpu["unknown"].erase("sockets");
    cpu["unknown"].erase("cores");
    if (cpu["unknown"].empty()) cpu.erase("unknown");
  }
}

void add_caches(const std::filesystem::path& root, json& cpu) {
  constexpr std::string_view kCacheDir = "/sys/devices/system/cpu/cpu0/cache";
  const auto entries = list_directory(root, kCacheDir, 64);
  if (entries.empty()) {
    mark_unknown(cpu, "caches", "not present");
    return;
  }
  json caches = json::object();
  for (const auto& entry : entries) {
    if (entry.compare(0, 5, "index") != 0) continue;
    const std::string base = std::string(kCacheDir) + "/" + entry + "/";
    const auto level = read_integer(root, base + "level");
    const auto type = read_value(root, base + "type", 0);
    const auto size_text = read_value(root, base + "size", 0);
    if (!level || !type.value || !size_text.value) continue;
    const auto size = parse_cache_size(*size_text.value);
    if (!size) continue;
    std::string key;
    if (*level == 1 && *type.value == "Data") key = "l1d_bytes";
    if (*level == 1 && *type.value == "Instruction") key = "l1i_bytes";
    if (*level == 2) key = "l2_bytes";
    if (*level == 3) key = "l3_bytes";
    if (!key.empty() && !caches.contains(key)) caches[key] = *size;
  }
  for (const char* key : {"l1d_bytes", "l1i_bytes", "l2_bytes", "l3_bytes"}) {
    if (!caches.contains(key)) mark_unknown(caches, key, "not present");
  }
  cpu["caches"] = std::move(caches);
}

void add_max_mhz(const std::filesystem::path& root, json& cpu) {
  // Virtual machines and some ARM boards have no cpufreq driver.
  const auto raw = read_raw(root, "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", 64);
  if (!raw.bytes) {
    mark_unknown(cpu, "max_mhz", reason_for_errno(raw.error, 0));
    return;
  }
  const auto khz = parse_integer(*raw.bytes);
  if (!khz || *khz <= 0) {
    mark_unknown(cpu, "max_mhz", "could not read: not a frequency");
    return;
  }
  cpu["max_mhz"] = static_cast<double>(*khz) / 1000.0;
}

}  // namespace

json collect_cpu(const CollectContext& context) {
  const auto& root = context.root;
  // The first read of the sample window comes first so that reading cpuinfo and sysfs
  // overlaps the wait instead of adding to it.
  const auto started = std::chrono::steady_clock::now();
  const auto stat_before = read_source(root, "/proc/stat");

  const auto cpuinfo = read_source(root, "/proc/cpuinfo");
  if (!cpuinfo.text) return unavailable(cpuinfo.error);
  auto cpu = parse_cpuinfo(*cpuinfo.text);
  if (cpu.contains("unavailable")) return cpu;
  add_topology(root, cpu);
  add_caches(root, cpu);
  add_max_mhz(root, cpu);

  if (!stat_before.text) {
    const auto reason = "could not read: " + stat_before.error;
    mark_unknown(cpu, "utilization_pct", reason);
    mark_unknown(cpu, "per_core_pct", reason);
    cpu["sample_ms"] = 0;
    return cpu;
  }
  bool waited = true;
  if (context.host.pause) {
    context.host.pause(context.cpu_sample);
  } else if (context.real_root) {
    std::this_thread::sleep_until(started + context.cpu_sample);
  } else {
    waited = false;  // a fixture tree: no time passes between two reads of the same file
  }
  const auto stat_after = read_source(root, "/proc/stat");
  const auto before = parse_cpu_ticks(*stat_before.text);
  const auto after = stat_after.text ? parse_cpu_ticks(*stat_after.text) : std::vector<CpuTicks>{};
  auto utilization = cpu_utilization(before, after);
  for (auto& [key, value] : utilization.items()) {
    if (key == "unknown") {
      for (auto& [field, reason] : value.items()) cpu["unknown"][field] = reason;
    } else {
      cpu[key] = value;
    }
  }
  cpu["sample_ms"] = waited ? context.cpu_sample.count() : 0;
  return cpu;
}

}  // namespace tether::agent::diag
