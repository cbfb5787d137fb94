#pragma once
/// `tether-agent diag` and `tether-agent inventory`: collect (or read a saved snapshot), shape
/// and write the result. Kept out of main so the tests can drive it.

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "tether/agent/diag/thresholds.hpp"

namespace tether::agent::diag {

/// Where the agent looks for its configuration when --config is not given.
inline constexpr const char* kDefaultConfigFile = "/etc/tether/agent.toml";

struct ReportCommand {
  enum class Kind { diag, inventory } kind = Kind::diag;
  std::string format = "text";        ///< diag: text, json, html; inventory: json, glpi.
  std::vector<std::string> sections;  ///< diag only; empty means every section.
  bool redact = false;                ///< diag only.
  std::filesystem::path input;        ///< A saved snapshot to use instead of this PC.
  std::filesystem::path out;          ///< Empty: standard output.
  Thresholds thresholds;              ///< From the config file.
};

/// Runs the command; errors are one line on `err`. Returns the process exit status.
int run_report_command(const ReportCommand& command, std::ostream& out, std::ostream& err);

/// Reads the [thresholds] of the agent's config: `path` when given (it must exist), else
/// kDefaultConfigFile when it exists, else the defaults. nullopt after writing one line to
/// `err` when the file is unreadable or wrong.
std::optional<Thresholds> thresholds_from_config(const std::filesystem::path& path,
                                                 std::ostream& err);

}  // namespace tether::agent::diag
