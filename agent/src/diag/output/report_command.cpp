#include "tether/agent/diag/report_command.hpp"

#include <chrono>
#include <fstream>
#include <ostream>
#include <system_error>

#include "tether/agent/diag/inventory.hpp"
#include "tether/agent/diag/redact.hpp"
#include "tether/agent/diag/snapshot.hpp"
#include "tether/protocol/diag_report.hpp"
#include "tether/protocol/glpi_inventory.hpp"

namespace tether::agent::diag {

using json = nlohmann::json;

int run_report_command(const ReportCommand& command, std::ostream& out, std::ostream& err) {
  const bool inventory = command.kind == ReportCommand::Kind::inventory;
  json snapshot;
  if (!command.input.empty()) {
    std::ifstream in(command.input);
    snapshot = json::parse(in, nullptr, false);
    if (!in || snapshot.is_discarded() || !snapshot.is_object()) {
      err << "tether-agent: " << command.input.string() << " is not a readable JSON snapshot\n";
      return 1;
    }
  } else if (inventory) {
    snapshot = collect_snapshot({.root = "/", .sections = inventory_sections(), .findings = false});
  } else {
    snapshot = collect_snapshot(
        {.root = "/", .sections = command.sections, .thresholds = command.thresholds});
  }

  std::string text;
  if (inventory) {
    text = command.format == "glpi"
               ? protocol::to_glpi_inventory(
                     snapshot, protocol::local_glpi_options(std::chrono::system_clock::now()))
                     .dump(2)
               : make_inventory(snapshot).dump(2);
  } else {
    if (command.redact) snapshot = redact_snapshot(snapshot);
    text = command.format == "html" ? protocol::render_diagnostics_html(snapshot)
           : command.format == "text"
               ? protocol::render_diagnostics_text(snapshot)
               : snapshot.dump(2, ' ', false, json::error_handler_t::replace);
  }
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (command.out.empty()) return (out << text << std::flush) ? 0 : 1;
  std::ofstream file(command.out, std::ios::binary);
  if (!(file << text) || !file.flush()) {
    err << "tether-agent: cannot write " << command.out.string() << "\n";
    return 1;
  }
  return 0;
}

std::optional<Thresholds> thresholds_from_config(const std::filesystem::path& path,
                                                 std::ostream& err) {
  std::filesystem::path file = path;
  if (file.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(kDefaultConfigFile, ec)) return Thresholds{};
    file = kDefaultConfigFile;
  }
  auto loaded = load_thresholds(file);
  if (!loaded.thresholds) {
    err << "tether-agent: " << loaded.error << "\n";
    return std::nullopt;
  }
  return *loaded.thresholds;
}

}  // namespace tether::agent::diag
