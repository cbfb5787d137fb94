#pragma once
/// The agent's diagnostics snapshot: one JSON document describing this PC (system, CPU,
/// memory, storage, network), read from the files Linux exposes under /proc, /sys and /etc.
/// The shape and the meaning of every field are in docs/diagnostics.md.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::agent::diag {

/// Sizes of one mounted filesystem, as statvfs reports them, in bytes.
struct FilesystemUsage {
  std::uint64_t size_bytes = 0;
  std::uint64_t free_bytes = 0;       ///< Free blocks, including those reserved for root.
  std::uint64_t available_bytes = 0;  ///< Free blocks an unprivileged user may use.
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
  /// The time stamped into "collected_at".
  std::function<std::chrono::system_clock::time_point()> now;
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
};

/// The section names collect_snapshot knows, in the order it writes them.
const std::vector<std::string>& known_sections();

/// Collects a snapshot. Never throws and never aborts half-way: a section whose source is
/// missing or unreadable is written as {"unavailable": "<reason>"} and the others still
/// come. Blocks on file reads and statvfs (a hung network mount can stall it), so call it
/// off any event-loop thread. Every string in the result is valid UTF-8.
nlohmann::json collect_snapshot(const CollectOptions& options);

}  // namespace tether::agent::diag
