#include "diag/findings/check.hpp"

#include <charconv>
#include <cmath>

namespace tether::agent::diag::findings {

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::ok:
      return "ok";
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::critical:
      return "critical";
  }
  return "ok";
}

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<double> number(const json& object, std::string_view key) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_number()) return std::nullopt;
  const double result = value->get<double>();
  if (!std::isfinite(result)) return std::nullopt;
  return result;
}

std::optional<bool> boolean(const json& object, std::string_view key) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_boolean()) return std::nullopt;
  return value->get<bool>();
}

std::optional<std::string_view> text(const json& object, std::string_view key) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string_view(value->get_ref<const std::string&>());
}

const json* array(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_array() ? value : nullptr;
}

namespace {

std::string joined(std::string_view label, std::string_view key) {
  std::string path(label);
  if (!path.empty()) path += '.';
  path += key;
  return path;
}

}  // namespace

std::string why_missing(const json& object, std::string_view key, std::string_view label) {
  const std::string path = joined(label, key);
  if (!object.is_object()) {
    return (label.empty() ? std::string("snapshot") : std::string(label)) + " is not an object";
  }
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    // A section the collector could not read at all says so once, for all its fields.
    if (auto unavailable = text(object, "unavailable")) {
      return std::string(label.empty() ? key : label) +
             " unavailable: " + std::string(*unavailable);
    }
    if (const json* unknown = member(object, "unknown")) {
      if (auto reason = text(*unknown, key)) return path + ": " + std::string(*reason);
    }
    if (label.empty()) return std::string(key) + " section was not collected";
    return it == object.end() ? path + " is missing" : path + " is null";
  }
  return path + " has an unexpected type";
}

const json* Check::find(std::string_view path) {
  const json* current = &snapshot_;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    const std::string_view key =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    const std::string_view label = path.substr(0, start == 0 ? 0 : start - 1);
    const json* next = member(*current, key);
    if (next == nullptr) {
      note_missing(why_missing(*current, key, label));
      return nullptr;
    }
    if (dot == std::string_view::npos) return next;
    if (!next->is_object()) {
      note_missing(std::string(path.substr(0, dot)) + " is not an object");
      return nullptr;
    }
    current = next;
    start = dot + 1;
  }
}

const json* Check::find_typed(std::string_view path, bool (*is_type)(const json&),
                              std::string_view type_name) {
  const json* value = find(path);
  if (value == nullptr) return nullptr;
  if (!is_type(*value)) {
    note_missing(std::string(path) + " is not " + std::string(type_name));
    return nullptr;
  }
  return value;
}

std::optional<double> Check::find_number(std::string_view path) {
  const json* value = find_typed(
      path, [](const json& v) { return v.is_number() && std::isfinite(v.get<double>()); },
      "a number");
  if (value == nullptr) return std::nullopt;
  return value->get<double>();
}

std::optional<bool> Check::find_bool(std::string_view path) {
  const json* value = find_typed(
      path, [](const json& v) { return v.is_boolean(); }, "true/false");
  if (value == nullptr) return std::nullopt;
  return value->get<bool>();
}

std::optional<std::string_view> Check::find_text(std::string_view path) {
  const json* value = find_typed(
      path, [](const json& v) { return v.is_string(); }, "a string");
  if (value == nullptr) return std::nullopt;
  return std::string_view(value->get_ref<const std::string&>());
}

const json* Check::find_array(std::string_view path) {
  return find_typed(
      path, [](const json& v) { return v.is_array(); }, "a list");
}

const json* Check::find_object(std::string_view path) {
  return find_typed(
      path, [](const json& v) { return v.is_object(); }, "an object");
}

void Check::report(Severity severity, std::string summary, std::string hint, json evidence) {
  findings_.push_back(json{{"severity", severity_name(severity)},
                           {"summary", std::move(summary)},
                           {"hint", std::move(hint)},
                           {"evidence", std::move(evidence)}});
}

void Check::note_missing(std::string reason) {
  if (reason_.empty()) reason_ = std::move(reason);
}

std::string format_number(double value, int decimals) {
  if (!std::isfinite(value)) return "?";
  char buffer[64];
  const auto result =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, decimals);
  if (result.ec != std::errc()) return "?";
  std::string out(buffer, result.ptr);
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  if (out == "-0") out = "0";
  return out;
}

std::string format_pct(double pct) {
  const double rounded = std::round(pct);
  if (std::fabs(pct - rounded) < 0.05) return format_number(rounded, 0) + "%";
  return format_number(pct, 1) + "%";
}

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (!std::isfinite(bytes) || bytes < 0) return "?";
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  const int decimals = unit == 0 || bytes >= 10 ? 0 : 1;
  return format_number(bytes, decimals) + " " + kUnits[unit];
}

std::string count_of(double count, std::string_view singular, std::string_view plural) {
  return format_number(count, 0) + " " + std::string(count == 1 ? singular : plural);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds >= 2 * 86400) return count_of(std::floor(seconds / 86400), "day", "days");
  if (seconds >= 2 * 3600) return count_of(std::floor(seconds / 3600), "hour", "hours");
  if (seconds >= 120) return count_of(std::floor(seconds / 60), "minute", "minutes");
  return count_of(std::floor(seconds), "second", "seconds");
}

std::string join_names(const std::vector<std::string>& names, std::size_t max_items) {
  std::string out;
  const std::size_t shown = std::min(names.size(), max_items);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

std::string shorten(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t cut = max_bytes > 3 ? max_bytes - 3 : 0;
  // Back up over continuation bytes (10xxxxxx) to the start of a character.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

std::optional<double> percent(double part, double whole) {
  if (!(whole > 0)) return std::nullopt;
  return part / whole * 100;
}

}  // namespace tether::agent::diag::findings
