#pragma once
// dpkg's database of installed packages, /var/lib/dpkg/status, read as a stream: a desktop's
// file is 3–10 MB, and only five fields of each stanza are kept.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::agent::diag {

/// One installed package as dpkg records it.
struct DpkgPackage {
  std::string name;
  std::string version;
  std::string architecture;
  std::optional<std::uint64_t> installed_size_kib;  ///< "Installed-Size", KiB; absent on some.
};

/// Parses the status file fed to it in chunks of any size (a line may straddle two chunks).
/// Keeps the packages whose Status is "<want> ok installed" (want is "install" or "hold": a
/// held package is installed too); skips continuation lines (Description, Conffiles) without
/// copying them and drops over-long lines. Not thread-safe; one instance per file.
class DpkgStatusParser {
 public:
  /// At most this many packages are kept; the rest are counted in `dropped()`.
  static constexpr std::size_t kMaxPackages = 100000;

  void feed(std::string_view chunk);
  /// End of input: closes the last line and stanza.
  void finish();

  std::vector<DpkgPackage>& packages() { return packages_; }
  std::size_t dropped() const { return dropped_; }

 private:
  void line(std::string_view text);
  void end_stanza();

  std::string partial_;  // an unfinished line carried over from the previous chunk
  bool skipping_line_ = false;
  DpkgPackage current_;
  bool installed_ = false;
  std::vector<DpkgPackage> packages_;
  std::size_t dropped_ = 0;
};

/// What reading a status file gave: the packages, or why it could not be read.
struct DpkgStatus {
  bool present = false;  ///< The file exists (false: no dpkg on this machine).
  std::vector<DpkgPackage> packages;
  std::string error;  ///< Set when present but unreadable.
};

/// Reads `file` (the status file, already placed under the root) in 64 KiB chunks.
DpkgStatus read_dpkg_status(const std::filesystem::path& file);

}  // namespace tether::agent::diag
