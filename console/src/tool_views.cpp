#include "tether/console/tool_views.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <vector>

#include "tether/protocol/utf8.hpp"

namespace tether::console {
namespace {

using json = nlohmann::json;

// The code point of a well-formed UTF-8 sequence of `length` bytes at text[i].
char32_t code_point(std::string_view text, std::size_t i, std::size_t length) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  switch (length) {
    case 1:
      return byte(0);
    case 2:
      return (char32_t(byte(0) & 0x1f) << 6) | (byte(1) & 0x3f);
    case 3:
      return (char32_t(byte(0) & 0x0f) << 12) | (char32_t(byte(1) & 0x3f) << 6) | (byte(2) & 0x3f);
    default:
      return (char32_t(byte(0) & 0x07) << 18) | (char32_t(byte(1) & 0x3f) << 12) |
             (char32_t(byte(2) & 0x3f) << 6) | (byte(3) & 0x3f);
  }
}

bool hidden_from_terminal(char32_t c) {
  return (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

// Number of characters (code points) in valid UTF-8: a terminal column each, near enough.
std::size_t columns(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

// The first `width` characters of valid UTF-8 text.
std::string_view first_columns(std::string_view text, std::size_t width) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) == 0x80) continue;
    if (seen == width) return text.substr(0, i);
    ++seen;
  }
  return text;
}

std::string pad_right(std::string text, std::size_t width) {
  const auto used = columns(text);
  if (used < width) text.append(width - used, ' ');
  return text;
}

std::string pad_left(const std::string& text, std::size_t width) {
  const auto used = columns(text);
  return used < width ? std::string(width - used, ' ') + text : text;
}

// A field as printable text: strings escaped, numbers as JSON writes them, else `missing`.
std::string field(const json& object, const char* key, std::string_view missing = "?") {
  if (!object.is_object()) return std::string(missing);
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string(missing);
  if (it->is_string()) return terminal_text(it->get_ref<const std::string&>());
  if (it->is_number() || it->is_boolean()) return it->dump();
  return std::string(missing);
}

std::optional<double> number(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

bool flag(const json& object, const char* key) {
  if (!object.is_object()) return false;
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

std::string format(const char* pattern, double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

// Sizes as top writes them: "812K", "48.2M", "1.5G".
std::string human_bytes(std::optional<double> bytes) {
  if (!bytes || *bytes < 0) return "?";
  constexpr std::array<char, 4> kUnits{'K', 'M', 'G', 'T'};
  double value = *bytes / 1024.0;
  std::size_t unit = 0;
  while (value >= 1000.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  if (unit == 0) return format("%.0f", value) + "K";
  return format("%.1f", value) + kUnits[unit];
}

// "HH:MM" on the table's day, "MonDD" in its year, else the year (like ps's START).
std::string started(const std::string& at, const std::string& table_time) {
  if (at.size() < 16 || at[4] != '-' || at[10] != 'T') return "?";
  if (table_time.size() >= 10 && at.compare(0, 10, table_time, 0, 10) == 0) return at.substr(11, 5);
  if (table_time.size() >= 4 && at.compare(0, 4, table_time, 0, 4) == 0) {
    static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const int month = (at[5] - '0') * 10 + (at[6] - '0');
    if (month < 1 || month > 12) return "?";
    return std::string(kMonths[static_cast<std::size_t>(month - 1)]) + at.substr(8, 2);
  }
  return at.substr(0, 4);
}

// A string field as it came (not escaped), without its trailing line ends; empty otherwise.
std::string raw_string(const json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  std::string text = it->get<std::string>();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string error_line(const json& result) {
  const auto error = field(result, "error", "");
  return error.empty() ? std::string() : error + "\n";
}

// Each line of `text` escaped and ended by a newline, the first after `first`, the others after
// `rest`; an empty text is one empty line.
std::string escaped_lines(std::string_view text, std::string_view first, std::string_view rest);

}  // namespace

std::string terminal_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto length = protocol::utf8_sequence_length(text, i);
    if (length == 0) {
      out += "\xef\xbf\xbd";
      ++i;
      continue;
    }
    const char32_t c = code_point(text, i, length);
    char escaped[12];
    if (c == '\t') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7f) {
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned>(c));
      out += escaped;
    } else if (hidden_from_terminal(c)) {
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

namespace {

std::string escaped_lines(std::string_view text, std::string_view first, std::string_view rest) {
  std::string out(first);
  std::size_t start = 0;
  while (true) {
    const auto end = text.find('\n', start);
    out += terminal_text(text.substr(start, end == std::string_view::npos ? end : end - start));
    out += '\n';
    if (end == std::string_view::npos) return out;
    start = end + 1;
    out += rest;
  }
}

}  // namespace

std::string render_process_table(const json& table, std::size_t terminal_width) {
  if (const auto error = error_line(table); !error.empty()) return error;
  const json empty = json::array();
  const json& processes =
      table.is_object() && table.contains("processes") && table["processes"].is_array()
          ? table["processes"]
          : empty;
  const auto total_memory = number(table, "total_memory_bytes");
  const std::string taken_at = field(table, "taken_at");

  std::string out = "Processes: " + field(table, "count");
  if (flag(table, "truncated")) out += " (" + std::to_string(processes.size()) + " listed)";
  out += ", sorted by " + field(table, "sort");
  if (const auto window = number(table, "cpu_sample_ms"); window && *window > 0) {
    out += ", CPU over " + format("%.0f", *window) + " ms";
  }
  if (total_memory) out += ", memory " + human_bytes(total_memory);
  out += ", at " + taken_at + "\n";

  const std::string header = "    PID USER      CPU%  MEM%    RSS STATE STARTED ";
  out += header + "COMMAND\n";
  constexpr std::size_t kMinCommand = 10;
  const std::size_t command_width =
      terminal_width == 0
          ? std::string::npos
          : std::max(kMinCommand, terminal_width > header.size() ? terminal_width - header.size()
                                                                 : std::size_t{0});
  for (const auto& process : processes) {
    std::string user = field(process, "user");
    if (columns(user) > 8) user = std::string(first_columns(user, 7)) + "+";
    const auto rss = number(process, "rss_bytes");
    const auto cpu = number(process, "cpu_pct");
    std::string mem = "?";
    if (rss && total_memory && *total_memory > 0) mem = format("%.1f", *rss / *total_memory * 100);
    std::string command = field(process, "command", "");
    if (command.empty()) command = "[" + field(process, "name") + "]";
    std::string row = pad_left(field(process, "pid"), 7) + " " + pad_right(user, 8) + " " +
                      pad_left(cpu ? format("%.1f", *cpu) : "?", 5) + " " + pad_left(mem, 5) + " " +
                      pad_left(human_bytes(rss), 6) + " " + pad_right(field(process, "state"), 5) +
                      " " + pad_right(started(field(process, "started_at"), taken_at), 7) + " ";
    row += first_columns(command, command_width);
    out += row + "\n";
  }
  return out;
}

std::string render_service_table(const json& services) {
  if (!services.is_object()) return "?\n";
  if (const auto error = error_line(services); !error.empty()) return error;
  const json empty = json::array();
  const json& list = services.contains("services") && services["services"].is_array()
                         ? services["services"]
                         : empty;
  struct Row {
    bool failed;
    std::array<std::string, 6> cells;
  };
  std::vector<Row> rows;
  std::array<std::string, 6> headers{"UNIT", "LOAD", "ACTIVE", "SUB", "ENABLED", "DESCRIPTION"};
  std::array<std::size_t, 6> widths{};
  for (std::size_t c = 0; c < headers.size(); ++c) widths[c] = headers[c].size();
  constexpr std::size_t kMaxUnitColumn = 48;
  for (const auto& service : list) {
    Row row{.failed = field(service, "active") == "failed" ||
                      field(service, "load") == "not-found" || field(service, "load") == "error",
            .cells = {field(service, "name"), field(service, "load"), field(service, "active"),
                      field(service, "sub"), field(service, "enabled", "-"),
                      field(service, "description", "")}};
    if (columns(row.cells[0]) > kMaxUnitColumn) {
      row.cells[0] = std::string(first_columns(row.cells[0], kMaxUnitColumn - 1)) + "\xe2\x80\xa6";
    }
    for (std::size_t c = 0; c + 1 < row.cells.size(); ++c) {
      widths[c] = std::max(widths[c], columns(row.cells[c]));
    }
    rows.push_back(std::move(row));
  }
  const auto line = [&](const std::string& marker, const std::array<std::string, 6>& cells) {
    std::string text = marker;
    for (std::size_t c = 0; c + 1 < cells.size(); ++c) text += pad_right(cells[c], widths[c]) + " ";
    text += cells.back();
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text + "\n";
  };
  std::string out = line("  ", headers);
  std::size_t failed = 0;
  for (const auto& row : rows) {
    failed += row.failed ? 1 : 0;
    out += line(row.failed ? "\xe2\x97\x8f " : "  ", row.cells);
  }
  out += "\n" + std::to_string(rows.size()) + " services listed, " + std::to_string(failed) +
         " failed";
  if (const auto state = field(services, "system_state", ""); !state.empty()) {
    out += "; system state: " + state;
  }
  out += "\n";
  if (const auto warning = field(services, "enabled_error", ""); !warning.empty()) {
    out += "ENABLED unknown: " + warning + "\n";
  }
  return out;
}

std::string render_journal_entry(const json& entry) {
  std::string prefix = field(entry, "time", "-") + " ";
  if (const auto host = field(entry, "host", ""); !host.empty()) prefix += host + " ";
  std::string who = field(entry, "identifier", "");
  if (who.empty()) who = field(entry, "unit", "");
  if (who.empty()) who = "-";
  prefix += who;
  if (const auto pid = number(entry, "pid")) prefix += "[" + format("%.0f", *pid) + "]";
  prefix += ": ";
  if (const auto priority = number(entry, "priority");
      priority && *priority >= 0 && *priority <= 3) {
    static constexpr std::array<const char*, 4> kLabels{"[emerg] ", "[alert] ", "[crit] ",
                                                        "[err] "};
    prefix += kLabels[static_cast<std::size_t>(*priority)];
  }
  // Like journalctl: every further line of a message starts under the first one's text.
  return escaped_lines(raw_string(entry, "message"), prefix, std::string(columns(prefix), ' '));
}

std::string render_service_action(const json& result) {
  const auto action = field(result, "action");
  const auto name = field(result, "name");
  const auto output = raw_string(result, "output");
  std::string state = field(result, "active", "unknown");
  if (const auto sub = field(result, "sub", ""); !sub.empty()) state += " (" + sub + ")";
  if (!flag(result, "ok")) {
    // systemctl's own words, indented under the failure line.
    return action + " " + name + " failed: " + field(result, "error", "unknown error") + "\n" +
           (output.empty() ? std::string() : escaped_lines(output, "  ", "  "));
  }
  if (action == "status") {
    return output.empty() ? name + ": " + state + "\n" : escaped_lines(output, "", "");
  }
  const std::string done = action == "stop" ? "stopped" : action + "ed";
  return name + ": " + done + "; now " + state + "\n";
}

std::string render_kill_result(const json& result) {
  const auto signal = field(result, "signal");
  std::string target = "process " + field(result, "pid");
  if (const auto name = field(result, "name", ""); !name.empty()) target += " (" + name + ")";
  if (flag(result, "ok")) return "Sent " + signal + " to " + target + ".\n";
  return signal + " to " + target + " not sent: " + field(result, "error", "unknown error") + "\n";
}

}  // namespace tether::console
