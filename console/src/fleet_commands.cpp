// `tether inventory query FILTER` and `tether inventory export`: the fleet inventory of every
// managed device through the relay's filter language (docs/inventory.md). A filter the relay
// cannot read is shown back with a caret under the column it names.

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "tether/console/api_client.hpp"
#include "tether/console/ticket_view.hpp"
#include "tether/console/tool_commands.hpp"
#include "tether/protocol/diag_report.hpp"
#include "tether/protocol/json_access.hpp"

namespace tether::console {

using json = nlohmann::json;

namespace {

struct InventoryState {
  std::string filter;
  std::string format = "csv";
  std::string out;
  std::string out_dir;
  bool as_json = false;
};

/// Exit status for a filter the relay refused (bad usage, as for a bad option).
constexpr int kExitBadFilter = 2;

std::size_t code_points(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
  }
  return n;
}

/// The first `count` code points of `text`.
std::string_view prefix_of(std::string_view text, std::size_t count) {
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80 && count-- == 0) break;
  }
  return text.substr(0, i);
}

/// "  <filter>\n  <spaces>^" under the 1-based `column` (code points) of `filter`.
std::string caret_lines(const std::string& filter, std::size_t column) {
  const auto shown = protocol::printable_text(filter);
  const auto before = protocol::printable_text(prefix_of(filter, column > 0 ? column - 1 : 0));
  return "  " + shown + "\n  " + std::string(code_points(before), ' ') + "^";
}

/// GET `target` (below /api/v1) with the saved credentials; the relay's status and body. The
/// console's ApiClient reduces an error to its message, and a refused filter needs its column.
protocol::HttpResponse fetch(const std::string& target) {
  auto client = ApiClient::from_saved_credentials();
  protocol::HttpsClient http(client.url(), client.trust());
  auto response = http.request(boost::beast::http::verb::get, "/api/v1" + target, std::nullopt,
                               client.token(), std::chrono::seconds(120));
  if (!response) {
    const bool identity = response.error() == protocol::Error::identity_mismatch;
    throw CommandError(
        protocol::describe_connection_error(response.error(), client.url(), client.trust()),
        identity ? kExitIdentity : 1);
  }
  return *response;
}

/// Throws the relay's error as a CommandError; a refused filter is printed back with a caret.
[[noreturn]] void fail_with(const protocol::HttpResponse& response, const std::string& filter) {
  const auto body = json::parse(response.body, nullptr, false);
  const auto& error = protocol::json_member(body, "error");
  const auto& message = protocol::json_member(error, "message");
  std::string text = message.is_string()
                         ? protocol::printable_text(message.get<std::string>())
                         : "the relay answered HTTP " + std::to_string(response.status);
  if (response.status == 401) text += " (run `tether login` again)";
  const auto& column = protocol::json_member(error, "column");
  if (response.status == 400 && column.is_number_unsigned() && !filter.empty()) {
    throw CommandError(text + "\n" + caret_lines(filter, column.get<std::size_t>()),
                       kExitBadFilter);
  }
  throw CommandError(text);
}

std::string cell(const json& row, const char* key) {
  const auto& value = protocol::json_member(row, key);
  if (!value.is_string() || value.get<std::string>().empty()) return "-";
  return protocol::printable_text(value.get<std::string>());
}

std::string render_matches(const json& reply) {
  const auto& devices = protocol::json_member(reply, "devices");
  std::vector<std::vector<std::string>> rows = {
      {"DEVICE", "HOST", "GROUP", "ONLINE", "OS", "LAST SEEN"}};
  if (devices.is_array()) {
    for (const auto& d : devices) {
      rows.push_back({cell(d, "id"), cell(d, "hostname"), cell(d, "group"),
                      protocol::json_member(d, "online") == true ? "yes" : "no", cell(d, "os"),
                      format_short_time(protocol::json_member(d, "last_seen"))});
    }
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], code_points(row[i]));
    }
  }
  std::string out;
  if (rows.size() > 1) {
    for (const auto& row : rows) {
      std::string line;
      for (std::size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line += std::string(widths[i] - code_points(row[i]) + 2, ' ');
      }
      out += line + "\n";
    }
  }
  const auto count = rows.size() - 1;
  const auto& query = protocol::json_member(reply, "query");
  out +=
      (count == 0 ? std::string("No device matches")
                  : std::to_string(count) + (count == 1 ? " device matches" : " devices match")) +
      " " + (query.is_string() ? protocol::printable_text(query.get<std::string>()) : "") + "\n";
  return out;
}

void run_query(const InventoryState& state) {
  if (state.filter.empty()) throw CommandError("give a filter, e.g. 'storage.free_pct<10'", 2);
  const auto response = fetch("/inventory" + query_string({{"q", state.filter}}));
  if (response.status != 200) fail_with(response, state.filter);
  const auto reply = json::parse(response.body, nullptr, false);
  if (reply.is_discarded()) throw CommandError("the relay sent a response that is not JSON");
  if (state.as_json) {
    std::cout << reply.dump(2) << "\n";
    return;
  }
  std::cout << render_matches(reply);
}

/// Records in RFC 4180 text: line ends outside quotes, not counting the header.
std::size_t csv_records(std::string_view text) {
  std::size_t lines = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') quoted = !quoted;
    if (!quoted && text[i] == '\n') ++lines;
  }
  if (!text.empty() && text.back() != '\n') ++lines;
  return lines == 0 ? 0 : lines - 1;
}

void write_file(const std::string& file, const std::string& content) {
  namespace fs = std::filesystem;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw CommandError("cannot write " + file + ": " + std::strerror(errno));
  out << content;
  out.close();
  if (!out) throw CommandError("cannot write " + file + ": " + std::strerror(errno));
  // Readable by others like any exported report, whatever the umask says.
  std::error_code ec;
  fs::permissions(file,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                      fs::perms::others_read,
                  ec);
  if (ec) throw CommandError("cannot set the permissions of " + file + ": " + ec.message());
}

// A GLPI deviceid as a file name: letters, digits, ".", "_" and "-" kept, the rest "_", never
// empty, never a dot file.
std::string file_name_of(const json& document, std::size_t index) {
  std::string name;
  if (auto it = document.find("deviceid"); it != document.end() && it->is_string()) {
    for (char c : it->get<std::string>().substr(0, 128)) {
      const bool keep =
          std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
      name += keep ? c : '_';
    }
  }
  if (name.empty() || name.front() == '.') name = "device-" + std::to_string(index + 1) + name;
  return name + ".json";
}

// One GLPI document per file in `dir` (what glpi-injector and GLPI's inventory endpoint take).
void write_glpi_files(const std::string& dir, const json& documents) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw CommandError("cannot create " + dir + ": " + ec.message());
  for (std::size_t i = 0; i < documents.size(); ++i) {
    write_file((fs::path(dir) / file_name_of(documents[i], i)).string(),
               documents[i].dump(2) + "\n");
  }
}

void run_export(const InventoryState& state) {
  if (state.format != "csv" && state.format != "json" && state.format != "glpi") {
    throw CommandError("--format must be csv, json or glpi", 2);
  }
  if (!state.out_dir.empty() && (state.format != "glpi" || !state.out.empty())) {
    throw CommandError("--out-dir is for --format glpi (one file per device), without --out", 2);
  }
  const auto response =
      fetch("/inventory/export" + query_string({{"format", state.format}, {"q", state.filter}}));
  if (response.status != 200) fail_with(response, state.filter);
  std::size_t count = 0;
  if (state.format == "csv") {
    count = csv_records(response.body);
  } else {
    const auto rows = json::parse(response.body, nullptr, false);
    if (!rows.is_array()) throw CommandError("the relay sent an export that is not a JSON array");
    count = rows.size();
  }
  const std::string what = std::to_string(count) + (count == 1 ? " device" : " devices");
  if (!state.out_dir.empty()) {
    write_glpi_files(state.out_dir, json::parse(response.body));
    std::cout << "Wrote " << what << " to " << protocol::printable_text(state.out_dir)
              << " (glpi, one file per device).\n";
    return;
  }
  if (state.out.empty() || state.out == "-") {
    std::cout << response.body;
    if (state.format != "csv") std::cout << "\n";
    std::cerr << "Exported " << what << " (" << state.format << ").\n";
    return;
  }
  write_file(state.out, state.format == "csv" ? response.body : response.body + "\n");
  std::cout << "Wrote " << what << " to " << protocol::printable_text(state.out) << " ("
            << state.format << ").\n";
}

}  // namespace

void add_fleet_commands(CLI::App& app, std::function<void()>& action) {
  auto state = std::make_shared<InventoryState>();
  auto* inventory = app.add_subcommand("inventory", "The managed devices' inventories");
  inventory->require_subcommand(1);

  auto* query = inventory->add_subcommand(
      "query", "Devices whose inventory matches a filter (docs/inventory.md)");
  query
      ->add_option("filter", state->filter,
                   "e.g. 'software.name=openssl and software.version<3.0.14'")
      ->required();
  query->add_flag("--json", state->as_json, "Print the relay's JSON");
  query->callback([state, &action] { action = [state] { run_query(*state); }; });

  auto* export_ = inventory->add_subcommand("export", "Every device's inventory as a file");
  export_->add_option("--format", state->format, "csv (default), json or glpi")
      ->check(CLI::IsMember({"csv", "json", "glpi"}));
  export_->add_option("--query", state->filter, "Only devices matching this filter");
  export_->add_option("--out", state->out, "Write to FILE (mode 0644) instead of stdout");
  export_->add_option("--out-dir", state->out_dir,
                      "With --format glpi: one file per device in DIR, named by its deviceid");
  export_->callback([state, &action] { action = [state] { run_export(*state); }; });
}

}  // namespace tether::console
