#pragma once
/// The agent's diagnostics snapshot: one JSON document describing this PC (identity, system,
/// firmware, CPU, memory, storage, network, power, devices, software, processes, services,
/// users, logs) with the health findings drawn from it. Read from the files Linux exposes
/// under /proc, /sys, /etc and /run; a program is run only where no file gives the answer,
/// each under its own deadline. The shape and meaning of every field are in
/// docs/diagnostics.md.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tether/agent/diag/findings.hpp"
#include "tether/agent/run_program.hpp"

namespace tether::agent::diag {

/// Sizes of one mounted filesystem, as statvfs reports them, in bytes.
struct FilesystemUsage {
  std::uint64_t size_bytes = 0;
  std::uint64_t free_bytes = 0;       ///< Free blocks, including those reserved for root.
  std::uint64_t available_bytes = 0;  ///< Free blocks an unprivileged user may use.
  std::uint64_t inodes_total = 0;     ///< 0 where the filesystem has no fixed inode table.
  std::uint64_t inodes_free = 0;
};

/// The kernel's clock discipline state (adjtimex).
struct ClockStatus {
  bool synchronized = false;      ///< STA_UNSYNC clear: an NTP client disciplines the clock.
  std::int64_t offset_us = 0;     ///< Last measured offset from the time source.
  std::int64_t max_error_us = 0;  ///< Kernel's bound on the clock error.
};

/// One IP address assigned to a network interface.
struct InterfaceAddress {
  std::string interface;  ///< Interface name, "eth0".
  std::string family;     ///< "ipv4" or "ipv6".
  std::string address;    ///< Textual form, "192.168.1.20" or "fe80::1".
  int prefix = 0;         ///< Prefix length of the netmask, 24 or 64.
};

/// What the collectors cannot read from files under the root: system calls about the running
/// machine. An empty function means "the real system call" when the root is "/" and "not
/// known" otherwise, so a fixture tree never mixes in the test machine's own figures.
/// Tests set these to fakes. The functions may be called from any thread and must not throw
/// (a throw is caught and reported as the section's "unavailable" reason).
struct Host {
  /// statvfs on a mount point (a path on the real machine, not under root); nullopt on failure.
  std::function<std::optional<FilesystemUsage>(const std::string& mount_point)> filesystem_usage;
  /// Every interface's IP addresses (getifaddrs).
  std::function<std::vector<InterfaceAddress>()> interface_addresses;
  /// uname() machine, used when <root>/proc/sys/kernel/arch is missing.
  std::function<std::optional<std::string>()> machine;
  /// uname() release, used when <root>/proc/sys/kernel/osrelease is missing.
  std::function<std::optional<std::string>()> kernel_release;
  /// The time stamped into "collected_at", and "now" for ages (crash dumps, pending reboot).
  std::function<std::chrono::system_clock::time_point()> now;
  /// Runs a program under a deadline (run_program). Empty means the real one on the real
  /// root and "not supported for this root" elsewhere; tests give canned output.
  std::function<ProgramRun(const std::vector<std::string>& argv, const RunLimits& limits)> run;
  /// geteuid(): 0 means the agent may read root-only sources (SMBIOS tables, serials).
  std::function<unsigned()> effective_uid;
  /// adjtimex(2) without changing anything; nullopt when the call fails.
  std::function<std::optional<ClockStatus>()> clock_status;
  /// Waits between two reads of a counter (per-core CPU utilisation). Tests make it a no-op.
  std::function<void(std::chrono::milliseconds)> pause;
};

/// What to collect and from where.
struct CollectOptions {
  /// Filesystem root the Linux sources are read under: "/" on a real machine, a fixture
  /// directory in tests.
  std::filesystem::path root = "/";
  /// Section names to collect (system, cpu, memory, storage, network); empty means all.
  /// An unknown name becomes an entry in "errors".
  std::vector<std::string> sections;
  /// System calls; see Host.
  Host host;
  /// Deadline of each program the collectors run (smartctl, systemctl, journalctl).
  std::chrono::milliseconds probe_timeout{2000};
  /// How long to wait, in all, for the slowest section; one not finished by then is written
  /// as {"unavailable": "timed out"} and the snapshot is returned without it.
  std::chrono::milliseconds deadline{5000};
  /// Window over which per-core CPU utilisation is measured (two reads of /proc/stat).
  std::chrono::milliseconds cpu_sample{10};
  /// Thresholds of the health checks; evaluated over what was collected, into "findings".
  Thresholds thresholds;
  /// Whether to evaluate the health checks at all (inventory leaves them out).
  bool findings = true;
};

/// The section names collect_snapshot knows, in the order it writes them.
const std::vector<std::string>& known_sections();

/// The sections that make an inventory: facts about the machine that change rarely
/// (no processes, load, logs or live figures).
const std::vector<std::string>& inventory_sections();

/// Collects a snapshot. Never throws and never aborts half-way: a section whose source is
/// missing or unreadable is written as {"unavailable": "<reason>"} and the others still
/// come. Sections are collected in parallel, one thread each; returns within about
/// options.deadline even when a section hangs (a hung network mount in statvfs), leaving that
/// thread to finish on its own. Blocks, so call it off any event-loop thread. Every string in
/// the result is valid UTF-8.
nlohmann::json collect_snapshot(const CollectOptions& options);

/// Makes `snapshot` fit in `max_bytes` of compact JSON by cutting its longest lists
/// (software packages, processes, listening sockets, log lines, PCI/USB devices), biggest
/// first, to what fits; each cut list's object gets "truncated": {"<list>": <original size>}.
/// Returns false when even the cut snapshot is too big (the caller then sends an error).
bool fit_snapshot(nlohmann::json& snapshot, std::size_t max_bytes);

}  // namespace tether::agent::diag
