#include "diag/collectors/journal_json.hpp"

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxMessage = 2048;

// A journal field's value as bytes: a string, an array of byte values, or (a field logged
// several times) an array whose first element is one of those.
std::optional<std::string> field_bytes(const json& value, int depth = 0) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_array() || value.empty()) return std::nullopt;
  if (value.front().is_number_integer() || value.front().is_number_unsigned()) {
    std::string bytes;
    for (const auto& byte : value) {
      if (!byte.is_number_integer() && !byte.is_number_unsigned()) return std::nullopt;
      const auto number = byte.get<long long>();
      if (number < 0 || number > 255) return std::nullopt;
      bytes.push_back(static_cast<char>(number));
      if (bytes.size() > kMaxMessage) break;
    }
    return bytes;
  }
  if (depth == 0) return field_bytes(value.front(), 1);
  return std::nullopt;
}

}  // namespace

std::optional<JournalEntry> parse_journal_line(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.front() != '{') return std::nullopt;
  const json object = json::parse(line, nullptr, false);
  if (object.is_discarded() || !object.is_object()) return std::nullopt;
  JournalEntry entry;
  if (const auto it = object.find("__REALTIME_TIMESTAMP"); it != object.end()) {
    if (const auto text = field_bytes(*it)) {
      if (const auto usec = parse_integer(*text); usec && *usec > 0) entry.realtime_usec = *usec;
    }
  }
  if (const auto it = object.find("PRIORITY"); it != object.end()) {
    if (const auto text = field_bytes(*it)) {
      if (const auto value = parse_integer(*text); value && *value >= 0 && *value <= 7) {
        entry.priority = static_cast<int>(*value);
      }
    }
  }
  for (const auto* key : {"_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER"}) {
    if (const auto it = object.find(key); it != object.end()) {
      if (auto text = field_bytes(*it); text && !text->empty()) {
        entry.unit = std::move(*text);
        break;
      }
    }
  }
  if (const auto it = object.find("MESSAGE"); it != object.end()) {
    if (auto text = field_bytes(*it)) entry.message = std::move(*text);
  }
  if (entry.message.size() > kMaxMessage) entry.message.resize(kMaxMessage);
  // Journal messages often end in a newline; a report shows one line per entry.
  while (!entry.message.empty() && (entry.message.back() == '\n' || entry.message.back() == '\r')) {
    entry.message.pop_back();
  }
  return entry;
}

std::vector<JournalEntry> parse_journal_json(std::string_view text, std::size_t limit) {
  std::vector<JournalEntry> entries;
  for (const auto line : split_lines(text)) {
    if (entries.size() == limit) break;
    if (auto entry = parse_journal_line(line)) entries.push_back(std::move(*entry));
  }
  return entries;
}

std::optional<OomVictim> parse_oom_kill(std::string_view message) {
  std::size_t at = message.find("Killed process ");
  std::size_t skip = 15;
  if (at == std::string_view::npos) {
    at = message.find("Kill process ");
    skip = 13;
  }
  if (at == std::string_view::npos) return std::nullopt;
  auto rest = message.substr(at + skip);
  std::size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  const auto pid = parse_integer(rest.substr(0, digits));
  if (!pid || *pid <= 0) return std::nullopt;
  rest.remove_prefix(digits);
  OomVictim victim{.pid = *pid};
  if (rest.starts_with(" (")) {
    // The name may itself hold ")", so take the last one before the kernel's next field.
    auto name = rest.substr(2);
    const auto next = name.find(") total-vm:");
    const auto close = next != std::string_view::npos ? next : name.rfind(')');
    if (close != std::string_view::npos) victim.process.assign(name.substr(0, close));
  }
  return victim;
}

}  // namespace tether::agent::diag
