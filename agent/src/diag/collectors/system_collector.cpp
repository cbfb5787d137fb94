#include "diag/collectors/system_collector.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>

#include "diag/collectors/source_files.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// os-release values follow shell quoting rules; the spec allows "…", '…' and backslash
// escapes of $, ", \, ` inside double quotes. Anything fancier is taken literally.
std::string unquote(std::string_view value) {
  value = trim(value);
  if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
    return std::string(value.substr(1, value.size() - 2));
  }
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '\\' && i + 1 < value.size()) ++i;
      out += value[i];
    }
    return out;
  }
  return std::string(value);
}

std::optional<std::string> first_line_text(const SourceText& source) {
  if (!source.text) return std::nullopt;
  const auto lines = split_lines(*source.text);
  if (lines.empty() || trim(lines.front()).empty()) return std::nullopt;
  return std::string(trim(lines.front()));
}

// The first line of a one-line /proc/sys file, or null.
json first_line(const SourceText& source) {
  const auto text = first_line_text(source);
  return text ? json(*text) : json(nullptr);
}

std::optional<std::string> optional_text(const fs::path& root, std::string_view path) {
  return first_line_text(read_source(root, path));
}

json from_host(const std::function<std::optional<std::string>()>& call, bool real_root,
               std::optional<std::string> (*fallback)()) {
  std::optional<std::string> value;
  if (call) {
    value = call();
  } else if (real_root) {
    value = fallback();
  }
  if (!value || value->empty()) return nullptr;
  return *value;
}

std::optional<std::string> uname_machine() {
  utsname names{};
  if (uname(&names) != 0) return std::nullopt;
  return std::string(names.machine);
}

std::optional<std::string> uname_release() {
  utsname names{};
  if (uname(&names) != 0) return std::nullopt;
  return std::string(names.release);
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

bool is_hostname_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool is_hostname(std::string_view name) {
  return !name.empty() && name.size() <= 253 && name.front() != '.' && name.back() != '.' &&
         std::all_of(name.begin(), name.end(), is_hostname_char);
}

json virt(const char* type, const char* role) {
  return json{{"type", type}, {"role", role}};
}

// The container manager systemd names in /run/systemd/container or container= of PID 1.
json container_from_name(std::string_view name) {
  name = trim(name);
  if (name.empty()) return nullptr;
  if (name == "oci" || name == "docker") return virt("docker", "container");
  if (name == "podman") return virt("podman", "container");
  if (name == "lxc" || name == "lxc-libvirt") return virt("lxc", "container");
  if (name == "systemd-nspawn") return virt("systemd-nspawn", "container");
  if (name == "wsl") return virt("wsl", "container");
  if (name == "openvz") return virt("openvz", "container");
  if (name == "proot") return virt("proot", "container");
  return virt("container-other", "container");
}

json container_from_cgroup(std::string_view cgroup) {
  for (const auto line : split_lines(cgroup)) {
    // "hierarchy-id:controllers:path"; the path is everything after the second colon.
    const auto first = line.find(':');
    if (first == std::string_view::npos) continue;
    const auto second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const auto path = line.substr(second + 1);
    if (contains(path, "/docker/") || contains(path, "/docker-"))
      return virt("docker", "container");
    if (contains(path, "libpod")) return virt("podman", "container");
    if (contains(path, "/lxc/") || contains(path, "/lxc.payload")) return virt("lxc", "container");
    if (contains(path, "/kubepods") || contains(path, "/containerd/") ||
        contains(path, "cri-containerd")) {
      return virt("container-other", "container");
    }
  }
  return nullptr;
}

// DMI vendor strings as systemd's dmi_vendor_table lists them, mapped to schema names.
json vm_from_dmi(const VirtualizationInputs& in) {
  struct Vendor {
    std::string_view prefix;
    const char* type;
  };
  static constexpr std::array<Vendor, 17> kVendors{{{"KVM", "kvm"},
                                                    {"OpenStack", "kvm"},
                                                    {"KubeVirt", "kvm"},
                                                    {"Amazon EC2", "amazon"},
                                                    {"QEMU", "qemu"},
                                                    {"VMware", "vmware"},
                                                    {"VMW", "vmware"},
                                                    {"innotek GmbH", "virtualbox"},
                                                    {"VirtualBox", "virtualbox"},
                                                    {"Oracle Corporation", "virtualbox"},
                                                    {"Xen", "xen"},
                                                    {"Bochs", "bochs"},
                                                    {"Parallels", "parallels"},
                                                    {"BHYVE", "bhyve"},
                                                    {"Hyper-V", "hyperv"},
                                                    {"Apple Virtualization", "apple"},
                                                    {"Google Compute Engine", "google"}}};
  for (const auto* field : {&in.product_name, &in.sys_vendor, &in.board_vendor, &in.bios_vendor}) {
    if (!*field) continue;
    const std::string_view value = trim(**field);
    for (const auto& vendor : kVendors) {
      if (starts_with(value, vendor.prefix)) return virt(vendor.type, "guest");
    }
  }
  if (in.sys_vendor && trim(*in.sys_vendor) == "Microsoft Corporation" && in.product_name &&
      trim(*in.product_name) == "Virtual Machine") {
    return virt("hyperv", "guest");
  }
  return nullptr;
}

// Reads a DMI id file only when it exists, so "no DMI" and "empty DMI" look the same.
std::optional<std::string> dmi(const fs::path& root, const char* name) {
  return optional_text(root, std::string("/sys/class/dmi/id/") + name);
}

// True for a file, directory or symlink (even one whose target is missing, as a fixture's
// /etc/localtime may be).
bool exists_under(const fs::path& root, std::string_view path) {
  std::error_code ec;
  return fs::symlink_status(under_root(root, path), ec).type() != fs::file_type::not_found && !ec;
}

std::optional<std::int64_t> time_of(const struct statx& info, unsigned mask_bit,
                                    const statx_timestamp& stamp) {
  if ((info.stx_mask & mask_bit) == 0 || stamp.tv_sec <= 0) return std::nullopt;
  return stamp.tv_sec;
}

// Birth time where the filesystem records it, else modification time.
std::optional<std::int64_t> oldest_time_of(const fs::path& path) {
  struct statx info {};
  if (statx(AT_FDCWD, path.c_str(), 0, STATX_BTIME | STATX_MTIME, &info) != 0) {
    return std::nullopt;
  }
  const auto birth = time_of(info, STATX_BTIME, info.stx_btime);
  const auto modified = time_of(info, STATX_MTIME, info.stx_mtime);
  if (birth && modified) return std::min(*birth, *modified);
  return birth ? birth : modified;
}

std::string iso_time(std::int64_t seconds) {
  return protocol::format_time(
      std::chrono::system_clock::time_point(std::chrono::seconds(seconds)));
}

json install_date(const fs::path& root) {
  // The installer leaves its logs behind (Debian/Ubuntu: /var/log/installer, Fedora/RHEL:
  // /var/log/anaconda); /etc/machine-id is written on the first boot. The oldest of them is
  // the best date a file can give; a cloned or restored system shows the copy's date.
  std::optional<std::int64_t> oldest;
  for (const char* path : {"/var/log/installer", "/var/log/anaconda", "/etc/machine-id"}) {
    const auto when = oldest_time_of(under_root(root, path));
    if (when && (!oldest || *when < *oldest)) oldest = when;
  }
  if (!oldest) return nullptr;
  return iso_time(*oldest);
}

json clock_json(const std::optional<ClockStatus>& status) {
  return json{{"synchronized", status->synchronized},
              {"offset_ms", static_cast<double>(status->offset_us) / 1000.0},
              {"max_error_ms", static_cast<double>(status->max_error_us) / 1000.0}};
}

json pressure(const fs::path& root) {
  json out{{"cpu_some_avg10", nullptr}, {"io_some_avg10", nullptr}, {"io_full_avg10", nullptr}};
  struct Field {
    const char* name;
    const char* path;
    const char* kind;
  };
  static constexpr std::array<Field, 3> kFields{{{"cpu_some_avg10", "/proc/pressure/cpu", "some"},
                                                 {"io_some_avg10", "/proc/pressure/io", "some"},
                                                 {"io_full_avg10", "/proc/pressure/io", "full"}}};
  SourceText cpu = read_source(root, "/proc/pressure/cpu");
  SourceText io = read_source(root, "/proc/pressure/io");
  for (const auto& field : kFields) {
    const SourceText& source = std::string_view(field.path) == "/proc/pressure/cpu" ? cpu : io;
    if (!source.text) {
      // Kernels without CONFIG_PSI (or booted with psi=0) have no /proc/pressure.
      mark_unknown(out, field.name,
                   contains(source.error, "No such file")
                       ? "not present: kernel without pressure stall information"
                       : "could not read: " + source.error);
      continue;
    }
    if (const auto value = parse_pressure_avg10(*source.text, field.kind)) {
      out[field.name] = *value;
    } else {
      mark_unknown(out, field.name,
                   std::string("could not read: no ") + field.kind + " line in " + field.path);
    }
  }
  return out;
}

json reboot_required(const CollectContext& context, const json& kernel, bool in_container) {
  const auto& root = context.root;
  json out{{"required", false}, {"since", nullptr}, {"packages", json::array()}};
  const auto flag = under_root(root, "/run/reboot-required");
  std::error_code ec;
  if (fs::exists(flag, ec)) {
    out["required"] = true;
    struct statx info {};
    if (statx(AT_FDCWD, flag.c_str(), 0, STATX_MTIME, &info) == 0 &&
        (info.stx_mask & STATX_MTIME) != 0 && info.stx_mtime.tv_sec > 0) {
      out["since"] = iso_time(info.stx_mtime.tv_sec);
    } else {
      mark_unknown(out, "since", "could not read: modification time of /run/reboot-required");
    }
    if (const auto pkgs = read_source(root, "/run/reboot-required.pkgs"); pkgs.text) {
      out["packages"] = parse_reboot_packages(*pkgs.text);
    }
    return out;
  }
  // A package upgrade that removed the running kernel's modules also needs a reboot (the
  // next module load would fail). A container runs the host's kernel, so it cannot tell.
  if (!in_container && kernel.is_string() &&
      fs::is_directory(under_root(root, "/lib/modules"), ec)) {
    const auto modules = under_root(root, "/lib/modules/" + kernel.get<std::string>());
    if (!fs::exists(modules, ec)) {
      out["required"] = true;
      mark_unknown(out, "since",
                   "not present: the running kernel's /lib/modules directory is gone");
      return out;
    }
  }
  mark_unknown(out, "since", "not present: no reboot pending");
  return out;
}

}  // namespace

json parse_os_release(std::string_view text) {
  json os{{"name", nullptr},    {"version", nullptr},     {"version_id", nullptr}, {"id", nullptr},
          {"id_like", nullptr}, {"pretty_name", nullptr}, {"codename", nullptr}};
  std::string ubuntu_codename;
  for (auto line : split_lines(text)) {
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    const auto key = trim(line.substr(0, equals));
    auto value = unquote(line.substr(equals + 1));
    if (key == "UBUNTU_CODENAME") {
      ubuntu_codename = value;
      continue;
    }
    const char* field = key == "NAME"               ? "name"
                        : key == "VERSION"          ? "version"
                        : key == "VERSION_ID"       ? "version_id"
                        : key == "ID"               ? "id"
                        : key == "ID_LIKE"          ? "id_like"
                        : key == "PRETTY_NAME"      ? "pretty_name"
                        : key == "VERSION_CODENAME" ? "codename"
                                                    : nullptr;
    if (field != nullptr && !value.empty()) os[field] = std::move(value);
  }
  if (os["codename"].is_null() && !ubuntu_codename.empty()) os["codename"] = ubuntu_codename;
  return os;
}

std::optional<std::int64_t> parse_uptime(std::string_view text) {
  const auto fields = split_fields(trim(text));
  if (fields.empty()) return std::nullopt;
  const auto seconds = parse_decimal(fields.front());
  if (!seconds || *seconds < 0) return std::nullopt;
  return static_cast<std::int64_t>(*seconds);
}

json parse_loadavg(std::string_view text) {
  const auto fields = split_fields(trim(text));
  if (fields.size() < 3) return nullptr;
  const auto one = parse_decimal(fields[0]);
  const auto five = parse_decimal(fields[1]);
  const auto fifteen = parse_decimal(fields[2]);
  if (!one || !five || !fifteen || *one < 0 || *five < 0 || *fifteen < 0) return nullptr;
  return json{{"1m", *one}, {"5m", *five}, {"15m", *fifteen}};
}

std::optional<std::int64_t> parse_boot_time(std::string_view stat_text) {
  for (const auto line : split_lines(stat_text)) {
    const auto fields = split_fields(line);
    if (fields.size() == 2 && fields[0] == "btime") {
      const auto seconds = parse_integer(fields[1]);
      if (seconds && *seconds > 0) return *seconds;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::string> fqdn_from_hosts(std::string_view hosts_text, std::string_view hostname) {
  if (hostname.empty()) return std::nullopt;
  // A short host name matches "name.domain" entries too: "pc" is "pc.example.org".
  const auto short_name = hostname.substr(0, hostname.find('.'));
  for (auto line : split_lines(hosts_text)) {
    line = line.substr(0, line.find('#'));
    const auto fields = split_fields(line);
    if (fields.size() < 2) continue;
    bool listed = false;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      const auto name = fields[i];
      if (name == hostname || name.substr(0, name.find('.')) == short_name) listed = true;
    }
    if (!listed) continue;
    // The canonical name (first after the address) is what `hostname -f` prints.
    const auto canonical = fields[1];
    if (canonical.find('.') != std::string_view::npos && is_hostname(canonical) &&
        canonical.substr(0, canonical.find('.')) == short_name) {
      return std::string(canonical);
    }
  }
  return std::nullopt;
}

bool is_timezone_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/' ||
      contains(name, "..")) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '_' || c == '-' || c == '+';
  });
}

std::optional<std::string> timezone_from_link(std::string_view target) {
  constexpr std::string_view kMarker = "zoneinfo/";
  const auto at = target.rfind(kMarker);
  if (at == std::string_view::npos) return std::nullopt;
  auto name = target.substr(at + kMarker.size());
  for (std::string_view variant : {"posix/", "right/"}) {
    if (starts_with(name, variant)) name.remove_prefix(variant.size());
  }
  if (!is_timezone_name(name)) return std::nullopt;
  return std::string(name);
}

std::optional<bool> cpuinfo_has_hypervisor_flag(std::string_view cpuinfo) {
  for (const auto line : split_lines(cpuinfo)) {
    // x86 says "flags", ARM "Features"; only the first processor's line is needed.
    if (!starts_with(line, "flags") && !starts_with(line, "Features")) continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    for (const auto flag : split_fields(line.substr(colon + 1))) {
      if (flag == "hypervisor") return true;
    }
    return false;
  }
  return std::nullopt;
}

json detect_virtualization(const VirtualizationInputs& in) {
  // Containers first, as systemd-detect-virt does: the order of its detect_container().
  if (in.osrelease) {
    const auto release = lower(*in.osrelease);
    if (contains(release, "microsoft") || contains(release, "wsl")) return virt("wsl", "container");
  }
  if (in.containerenv) return virt("podman", "container");
  if (in.systemd_container) {
    if (auto found = container_from_name(*in.systemd_container); !found.is_null()) return found;
  }
  if (in.pid1_environ) {
    std::string_view environ = *in.pid1_environ;
    while (!environ.empty()) {
      const auto end = environ.find('\0');
      const auto entry = environ.substr(0, end);
      if (starts_with(entry, "container=")) {
        if (auto found = container_from_name(entry.substr(10)); !found.is_null()) return found;
      }
      if (end == std::string_view::npos) break;
      environ.remove_prefix(end + 1);
    }
  }
  if (in.dockerenv) return virt("docker", "container");
  if (in.pid1_cgroup) {
    if (auto found = container_from_cgroup(*in.pid1_cgroup); !found.is_null()) return found;
  }

  // Xen announces itself in /sys/hypervisor; dom0 is the host that runs the guests.
  if (in.hypervisor_type && trim(*in.hypervisor_type) == "xen") {
    if (in.xen_capabilities && contains(*in.xen_capabilities, "control_d")) {
      return virt("xen", "host");
    }
    return virt("xen", "guest");
  }
  if (auto found = vm_from_dmi(in); !found.is_null()) {
    // QEMU's DMI strings are the same with and without KVM acceleration; the paravirtual
    // clock shows KVM.
    if (found["type"] == "qemu" && in.clocksource && contains(*in.clocksource, "kvm-clock")) {
      found["type"] = "kvm";
    }
    return found;
  }
  if (in.clocksource && contains(*in.clocksource, "kvm-clock")) return virt("kvm", "guest");
  if (in.clocksource && contains(*in.clocksource, "hyperv_clocksource")) {
    return virt("hyperv", "guest");
  }
  if (in.cpu_hypervisor_flag && *in.cpu_hypervisor_flag) return virt("vm-other", "guest");
  if (in.cpu_hypervisor_flag || in.sys_vendor || in.product_name) return virt("none", "host");
  return nullptr;
}

std::optional<double> parse_pressure_avg10(std::string_view text, std::string_view kind) {
  for (const auto line : split_lines(text)) {
    const auto fields = split_fields(line);
    if (fields.size() < 2 || fields[0] != kind) continue;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      if (!starts_with(fields[i], "avg10=")) continue;
      const auto value = parse_decimal(fields[i].substr(6));
      if (value && *value >= 0 && *value <= 100) return *value;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

json parse_reboot_packages(std::string_view text) {
  json packages = json::array();
  for (const auto line : split_lines(text)) {
    const auto name = trim(line);
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return static_cast<unsigned char>(c) > ' ' && c != 0x7f;
        })) {
      continue;
    }
    if (std::find(packages.begin(), packages.end(), name) == packages.end()) {
      packages.push_back(std::string(name));
    }
    if (packages.size() >= 256) break;
  }
  return packages;
}

std::optional<ClockStatus> system_clock_status() {
  timex tx{};
  tx.modes = 0;  // read only
  const int state = ntp_adjtime(&tx);
  if (state == -1) return std::nullopt;
  // offset is in nanoseconds when the kernel runs in nanosecond mode (STA_NANO).
  const std::int64_t offset_us = (tx.status & STA_NANO) != 0 ? tx.offset / 1000 : tx.offset;
  return ClockStatus{.synchronized = (tx.status & STA_UNSYNC) == 0 && state != TIME_ERROR,
                     .offset_us = offset_us,
                     .max_error_us = tx.maxerror};
}

json collect_system(const CollectContext& context) {
  const auto& root = context.root;
  const auto& host = context.host;
  const bool real_root = context.real_root;
  bool any_source = false;
  json system = json::object();

  const auto hostname = read_source(root, "/proc/sys/kernel/hostname");
  system["hostname"] = first_line(hostname);
  if (system["hostname"].is_null()) {
    system["hostname"] = first_line(read_source(root, "/etc/hostname"));
  }
  any_source = any_source || !system["hostname"].is_null();

  // FQDN without DNS: a host name that already has a domain, /etc/hosts, then the kernel's
  // NIS/YP domain name (what `hostname -f` falls back on before asking a resolver).
  if (system["hostname"].is_string()) {
    const auto name = system["hostname"].get<std::string>();
    std::optional<std::string> fqdn;
    if (name.find('.') != std::string::npos && is_hostname(name)) fqdn = name;
    if (!fqdn) {
      if (const auto hosts = read_source(root, "/etc/hosts"); hosts.text) {
        fqdn = fqdn_from_hosts(*hosts.text, name);
      }
    }
    if (!fqdn) {
      const auto domain = optional_text(root, "/proc/sys/kernel/domainname");
      if (domain && *domain != "(none)" && is_hostname(*domain) && is_hostname(name)) {
        fqdn = name + "." + *domain;
      }
    }
    if (fqdn) {
      system["fqdn"] = *fqdn;
    } else {
      mark_unknown(system, "fqdn",
                   "not present: no domain in /etc/hosts or /proc/sys/kernel/domainname");
    }
  } else {
    mark_unknown(system, "fqdn", "could not read: no host name");
  }

  auto os_release = read_source(root, "/etc/os-release");
  if (!os_release.text) os_release = read_source(root, "/usr/lib/os-release");
  if (os_release.text) {
    system["os"] = parse_os_release(*os_release.text);
    any_source = true;
  } else {
    mark_unknown(system, "os", "could not read: " + os_release.error);
  }

  const auto osrelease = optional_text(root, "/proc/sys/kernel/osrelease");
  system["kernel"] = osrelease ? json(*osrelease) : json(nullptr);
  if (system["kernel"].is_null()) {
    system["kernel"] = from_host(host.kernel_release, real_root, uname_release);
  }
  system["architecture"] = first_line(read_source(root, "/proc/sys/kernel/arch"));
  if (system["architecture"].is_null()) {
    system["architecture"] = from_host(host.machine, real_root, uname_machine);
  }
  any_source = any_source || !system["kernel"].is_null();
  if (system["kernel"].is_null()) mark_unknown(system, "kernel", "could not read: no osrelease");
  if (system["architecture"].is_null()) {
    mark_unknown(system, "architecture", "could not read: no /proc/sys/kernel/arch");
  }

  system["boot_time"] = nullptr;
  if (const auto stat = read_source(root, "/proc/stat"); stat.text) {
    any_source = true;
    if (const auto btime = parse_boot_time(*stat.text)) system["boot_time"] = iso_time(*btime);
  }
  if (system["boot_time"].is_null()) {
    mark_unknown(system, "boot_time", "could not read: no btime in /proc/stat");
  }

  system["uptime_seconds"] = nullptr;
  if (const auto uptime = read_source(root, "/proc/uptime"); uptime.text) {
    any_source = true;
    if (const auto seconds = parse_uptime(*uptime.text)) system["uptime_seconds"] = *seconds;
  }
  if (system["uptime_seconds"].is_null()) {
    mark_unknown(system, "uptime_seconds", "could not read: /proc/uptime");
  }

  system["load"] = nullptr;
  if (const auto load = read_source(root, "/proc/loadavg"); load.text) {
    any_source = true;
    system["load"] = parse_loadavg(*load.text);
  }
  if (system["load"].is_null()) mark_unknown(system, "load", "could not read: /proc/loadavg");

  // Time zone: the /etc/localtime link is what glibc and timedatectl use; Debian's
  // /etc/timezone is the fallback where localtime is a copied file.
  {
    std::error_code ec;
    const auto link = fs::read_symlink(under_root(root, "/etc/localtime"), ec);
    std::optional<std::string> zone;
    if (!ec) zone = timezone_from_link(link.generic_string());
    if (!zone) {
      const auto text = optional_text(root, "/etc/timezone");
      if (text && is_timezone_name(*text)) zone = *text;
    }
    if (zone) {
      system["timezone"] = *zone;
    } else if (exists_under(root, "/etc/localtime") || exists_under(root, "/etc/timezone")) {
      mark_unknown(system, "timezone",
                   "could not read: /etc/localtime is not a zoneinfo link and /etc/timezone "
                   "holds no zone name");
    } else {
      mark_unknown(system, "timezone", "not present: no /etc/localtime or /etc/timezone");
    }
  }

  // Virtualization, from files only.
  {
    VirtualizationInputs in;
    in.osrelease = osrelease;
    if (!in.osrelease && system["kernel"].is_string()) in.osrelease = system["kernel"];
    in.systemd_container = optional_text(root, "/run/systemd/container");
    if (auto environ = read_source(root, "/proc/1/environ"); environ.text) {
      in.pid1_environ = std::move(environ.text);
    }
    if (auto cgroup = read_source(root, "/proc/1/cgroup"); cgroup.text) {
      in.pid1_cgroup = std::move(cgroup.text);
    }
    in.dockerenv = exists_under(root, "/.dockerenv");
    in.containerenv = exists_under(root, "/run/.containerenv");
    in.sys_vendor = dmi(root, "sys_vendor");
    in.product_name = dmi(root, "product_name");
    in.board_vendor = dmi(root, "board_vendor");
    in.bios_vendor = dmi(root, "bios_vendor");
    in.hypervisor_type = optional_text(root, "/sys/hypervisor/type");
    if (in.hypervisor_type) in.xen_capabilities = optional_text(root, "/proc/xen/capabilities");
    in.clocksource =
        optional_text(root, "/sys/devices/system/clocksource/clocksource0/available_clocksource");
    if (const auto cpuinfo = read_source(root, "/proc/cpuinfo"); cpuinfo.text) {
      in.cpu_hypervisor_flag = cpuinfo_has_hypervisor_flag(*cpuinfo.text);
    }
    system["virtualization"] = detect_virtualization(in);
    if (system["virtualization"].is_null()) {
      mark_unknown(system, "virtualization",
                   "could not read: no DMI, /proc/cpuinfo flags or container markers");
    }
  }
  const bool in_container =
      system["virtualization"].is_object() && system["virtualization"]["role"] == "container";

  if (auto date = install_date(root); date.is_string()) {
    system["install_date"] = std::move(date);
  } else {
    mark_unknown(system, "install_date",
                 "not present: no /var/log/installer, /var/log/anaconda or /etc/machine-id");
  }

  // The kernel's clock discipline: adjtimex describes the running machine only.
  {
    std::optional<ClockStatus> status;
    bool asked = true;
    if (host.clock_status) {
      status = host.clock_status();
    } else if (real_root) {
      status = system_clock_status();
    } else {
      asked = false;
    }
    if (status) {
      system["clock"] = clock_json(status);
    } else {
      mark_unknown(system, "clock",
                   asked ? "could not read: adjtimex failed"
                         : "not supported on this platform: not the running machine's root");
    }
  }

  system["reboot_required"] = reboot_required(context, system["kernel"], in_container);
  system["pressure"] = pressure(root);

  if (!any_source)
    return unavailable(
        "none of /proc/sys/kernel, /etc/os-release, /proc/stat, "
        "/proc/uptime, /proc/loadavg could be read");
  return system;
}

}  // namespace tether::agent::diag
