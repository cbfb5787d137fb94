#pragma once
// The "system" section: host name and FQDN, OS release, kernel, architecture, boot time,
// uptime, time zone, virtualization, install date, load, clock discipline, pending reboot
// and CPU/IO pressure.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

#include "tether/agent/diag/snapshot.hpp"

namespace tether::agent::diag {

/// os-release(5) text → {"name","version","version_id","id","id_like","pretty_name",
/// "codename"}; a key the file lacks is null. Values may be quoted ("…" or '…') with
/// backslash escapes inside. codename is VERSION_CODENAME (else UBUNTU_CODENAME).
nlohmann::json parse_os_release(std::string_view text);

/// /proc/uptime → whole seconds since boot; nullopt on malformed text.
std::optional<std::int64_t> parse_uptime(std::string_view text);

/// /proc/loadavg → {"1m","5m","15m"}; null on malformed text.
nlohmann::json parse_loadavg(std::string_view text);

/// The "btime" line of /proc/stat → seconds since the Unix epoch; nullopt when absent.
std::optional<std::int64_t> parse_boot_time(std::string_view stat_text);

/// The fully qualified name of `hostname` from /etc/hosts text: the first name of a line
/// that lists `hostname` (as its canonical name or an alias) when that name is `hostname`
/// followed by a domain. nullopt when no line gives one.
std::optional<std::string> fqdn_from_hosts(std::string_view hosts_text, std::string_view hostname);

/// An IANA time zone name from an /etc/localtime symlink target
/// ("../usr/share/zoneinfo/Europe/Berlin" → "Europe/Berlin"; the "posix/" and "right/"
/// variants too); nullopt when the target does not point into a zoneinfo directory.
std::optional<std::string> timezone_from_link(std::string_view target);

/// True when `name` looks like an IANA zone name ("Europe/Berlin", "UTC", "Etc/GMT+5").
bool is_timezone_name(std::string_view name);

/// What systemd-detect-virt would say, worked out from files. Every input is optional text
/// (nullopt: the file is absent or unreadable).
struct VirtualizationInputs {
  std::optional<std::string> osrelease;          ///< /proc/sys/kernel/osrelease
  std::optional<std::string> systemd_container;  ///< /run/systemd/container
  std::optional<std::string> pid1_environ;       ///< /proc/1/environ (NUL-separated)
  std::optional<std::string> pid1_cgroup;        ///< /proc/1/cgroup
  bool dockerenv = false;                        ///< /.dockerenv exists
  bool containerenv = false;                     ///< /run/.containerenv exists (podman)
  std::optional<std::string> sys_vendor;         ///< /sys/class/dmi/id/sys_vendor
  std::optional<std::string> product_name;       ///< /sys/class/dmi/id/product_name
  std::optional<std::string> board_vendor;       ///< /sys/class/dmi/id/board_vendor
  std::optional<std::string> bios_vendor;        ///< /sys/class/dmi/id/bios_vendor
  std::optional<std::string> hypervisor_type;    ///< /sys/hypervisor/type
  std::optional<std::string> xen_capabilities;   ///< /proc/xen/capabilities
  std::optional<std::string> clocksource;        ///< available_clocksource of clocksource0
  std::optional<bool> cpu_hypervisor_flag;       ///< "hypervisor" among /proc/cpuinfo flags
};

/// {"type","role"}: type "none" on bare metal, else "kvm", "qemu", "vmware", "virtualbox",
/// "hyperv", "xen", "amazon", "google", "bochs", "parallels", "bhyve", "vm-other", "docker",
/// "podman", "lxc", "systemd-nspawn", "wsl", "container-other"…; role "host", "guest" or
/// "container". Containers are looked for first, as a container usually runs inside a VM.
/// Returns null when nothing tells either way (no DMI and no readable /proc/cpuinfo).
nlohmann::json detect_virtualization(const VirtualizationInputs& inputs);

/// Whether "hypervisor" is among the flags of the first processor in /proc/cpuinfo text;
/// nullopt when there is no flags line.
std::optional<bool> cpuinfo_has_hypervisor_flag(std::string_view cpuinfo);

/// One line of a /proc/pressure file ("some avg10=1.23 avg60=… total=…") → avg10, for
/// the line starting with `kind` ("some" or "full"); nullopt when absent or malformed.
std::optional<double> parse_pressure_avg10(std::string_view text, std::string_view kind);

/// The packages named in /run/reboot-required.pkgs, one a line, in order, each once.
nlohmann::json parse_reboot_packages(std::string_view text);

/// adjtimex(2) read-only (ntp_adjtime with modes 0) on the running machine; nullopt when
/// the call fails.
std::optional<ClockStatus> system_clock_status();

/// Reads the system section's sources under `root`. A missing source leaves its field null
/// with a reason; the section is unavailable only when none of them could be read.
nlohmann::json collect_system(const CollectContext& context);

}  // namespace tether::agent::diag
