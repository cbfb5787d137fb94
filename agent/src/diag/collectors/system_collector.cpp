#include "diag/collectors/system_collector.hpp"

#include <sys/utsname.h>

#include <chrono>
#include <string>

#include "diag/collectors/source_files.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

// os-release values follow shell quoting rules; the spec allows "…", '…' and backslash
// escapes of $, ", \, ` inside double quotes. Anything fancier is taken literally.
std::string unquote(std::string_view value) {
  value = trim(value);
  if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
    return std::string(value.substr(1, value.size() - 2));
  }
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '\\' && i + 1 < value.size()) ++i;
      out += value[i];
    }
    return out;
  }
  return std::string(value);
}

// The first line of a one-line /proc/sys file, or null.
json first_line(const SourceText& source) {
  if (!source.text) return nullptr;
  const auto lines = split_lines(*source.text);
  if (lines.empty() || trim(lines.front()).empty()) return nullptr;
  return std::string(trim(lines.front()));
}

json from_host(const std::function<std::optional<std::string>()>& call, bool real_root,
               std::optional<std::string> (*fallback)()) {
  std::optional<std::string> value;
  if (call) {
    value = call();
  } else if (real_root) {
    value = fallback();
  }
  if (!value || value->empty()) return nullptr;
  return *value;
}

std::optional<std::string> uname_machine() {
  utsname names{};
  if (uname(&names) != 0) return std::nullopt;
  return std::string(names.machine);
}

std::optional<std::string> uname_release() {
  utsname names{};
  if (uname(&names) != 0) return std::nullopt;
  return std::string(names.release);
}

}  // namespace

json parse_os_release(std::string_view text) {
  json os{{"name", nullptr},
          {"version", nullptr},
          {"version_id", nullptr},
          {"id", nullptr},
          {"pretty_name", nullptr}};
  for (auto line : split_lines(text)) {
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    const auto key = trim(line.substr(0, equals));
    const auto value = unquote(line.substr(equals + 1));
    const char* field = key == "NAME"          ? "name"
                        : key == "VERSION"     ? "version"
                        : key == "VERSION_ID"  ? "version_id"
                        : key == "ID"          ? "id"
                        : key == "PRETTY_NAME" ? "pretty_name"
                                               : nullptr;
    if (field != nullptr && !value.empty()) os[field] = value;
  }
  return os;
}

std::optional<std::int64_t> parse_uptime(std::string_view text) {
  const auto fields = split_fields(trim(text));
  if (fields.empty()) return std::nullopt;
  const auto seconds = parse_decimal(fields.front());
  if (!seconds || *seconds < 0) return std::nullopt;
  return static_cast<std::int64_t>(*seconds);
}

json parse_loadavg(std::string_view text) {
  const auto fields = split_fields(trim(text));
  if (fields.size() < 3) return nullptr;
  const auto one = parse_decimal(fields[0]);
  const auto five = parse_decimal(fields[1]);
  const auto fifteen = parse_decimal(fields[2]);
  if (!one || !five || !fifteen || *one < 0 || *five < 0 || *fifteen < 0) return nullptr;
  return json{{"1m", *one}, {"5m", *five}, {"15m", *fifteen}};
}

std::optional<std::int64_t> parse_boot_time(std::string_view stat_text) {
  for (const auto line : split_lines(stat_text)) {
    const auto fields = split_fields(line);
    if (fields.size() == 2 && fields[0] == "btime") {
      const auto seconds = parse_integer(fields[1]);
      if (seconds && *seconds > 0) return *seconds;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

json collect_system(const CollectContext& context) {
  const auto& root = context.root;
  const auto& host = context.host;
  const bool real_root = context.real_root;
  bool any_source = false;
  json system = json::object();

  const auto hostname = read_source(root, "/proc/sys/kernel/hostname");
  system["hostname"] = first_line(hostname);
  if (system["hostname"].is_null()) {
    system["hostname"] = first_line(read_source(root, "/etc/hostname"));
  }
  any_source = any_source || !system["hostname"].is_null();

  auto os_release = read_source(root, "/etc/os-release");
  if (!os_release.text) os_release = read_source(root, "/usr/lib/os-release");
  if (os_release.text) {
    system["os"] = parse_os_release(*os_release.text);
    any_source = true;
  } else {
    system["os"] = nullptr;
  }

  system["kernel"] = first_line(read_source(root, "/proc/sys/kernel/osrelease"));
  if (system["kernel"].is_null()) {
    system["kernel"] = from_host(host.kernel_release, real_root, uname_release);
  }
  system["architecture"] = first_line(read_source(root, "/proc/sys/kernel/arch"));
  if (system["architecture"].is_null()) {
    system["architecture"] = from_host(host.machine, real_root, uname_machine);
  }
  any_source = any_source || !system["kernel"].is_null();

  system["boot_time"] = nullptr;
  if (const auto stat = read_source(root, "/proc/stat"); stat.text) {
    any_source = true;
    if (const auto btime = parse_boot_time(*stat.text)) {
      system["boot_time"] = protocol::format_time(
          std::chrono::system_clock::time_point(std::chrono::seconds(*btime)));
    }
  }

  system["uptime_seconds"] = nullptr;
  if (const auto uptime = read_source(root, "/proc/uptime"); uptime.text) {
    any_source = true;
    if (const auto seconds = parse_uptime(*uptime.text)) system["uptime_seconds"] = *seconds;
  }

  system["load"] = nullptr;
  if (const auto load = read_source(root, "/proc/loadavg"); load.text) {
    any_source = true;
    system["load"] = parse_loadavg(*load.text);
  }

  if (!any_source)
    return unavailable(
        "none of /proc/sys/kernel, /etc/os-release, /proc/stat, "
        "/proc/uptime, /proc/loadavg could be read");
  return system;
}

}  // namespace tether::agent::diag
