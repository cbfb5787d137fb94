#include "tether/agent/diag/snapshot.hpp"

#include <algorithm>
#include <exception>
#include <functional>

#include "diag/collectors/cpu_collector.hpp"
#include "diag/collectors/memory_collector.hpp"
#include "diag/collectors/network_collector.hpp"
#include "diag/collectors/source_files.hpp"
#include "diag/collectors/storage_collector.hpp"
#include "diag/collectors/system_collector.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

constexpr int kSchemaVersion = 1;

// Files under /etc and mount paths are arbitrary bytes; json::dump throws on invalid UTF-8,
// so every string is made valid here, once, with each bad byte replaced by U+FFFD.
std::string valid_utf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = byte < 0x80                           ? 1
                         : (byte >> 5) == 0x6 && byte >= 0xc2  ? 2
                         : (byte >> 4) == 0xe                  ? 3
                         : (byte >> 3) == 0x1e && byte <= 0xf4 ? 4
                                                               : 0;
    bool ok = length != 0 && i + length <= text.size();
    for (std::size_t k = 1; ok && k < length; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    }
    if (ok && length >= 3) {
      // Reject overlong forms, surrogates and code points above U+10FFFF.
      const auto second = static_cast<unsigned char>(text[i + 1]);
      if (byte == 0xe0 && second < 0xa0) ok = false;
      if (byte == 0xed && second >= 0xa0) ok = false;
      if (byte == 0xf0 && second < 0x90) ok = false;
      if (byte == 0xf4 && second >= 0x90) ok = false;
    }
    if (ok) {
      out.append(text, i, length);
      i += length;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

void make_strings_valid(json& value) {
  if (value.is_string()) {
    value = valid_utf8(value.get_ref<const std::string&>());
  } else if (value.is_array()) {
    for (auto& element : value) make_strings_valid(element);
  } else if (value.is_object()) {
    json fixed = json::object();
    for (auto& [key, element] : value.items()) {
      make_strings_valid(element);
      fixed[valid_utf8(key)] = std::move(element);
    }
    value = std::move(fixed);
  }
}

json collect_section(const std::string& name, const CollectOptions& options) {
  if (name == "system") return collect_system(options.root, options.host);
  if (name == "cpu") return collect_cpu(options.root);
  if (name == "memory") return collect_memory(options.root);
  if (name == "storage") return collect_storage(options.root, options.host);
  return collect_network(options.root, options.host);
}

}  // namespace

const std::vector<std::string>& known_sections() {
  static const std::vector<std::string> kSections{"system", "cpu", "memory", "storage", "network"};
  return kSections;
}

json collect_snapshot(const CollectOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  json snapshot;
  try {
    const auto now = options.host.now ? options.host.now() : std::chrono::system_clock::now();
    snapshot = json{{"schema", kSchemaVersion},
                    {"collected_at", protocol::format_time(now)},
                    {"duration_ms", 0},
                    {"agent", {{"version", TETHER_VERSION}}}};
    json errors = json::array();

    std::vector<std::string> wanted;
    for (const auto& name : options.sections) {
      if (std::find(known_sections().begin(), known_sections().end(), name) ==
          known_sections().end()) {
        errors.push_back(json{{"section", name}, {"message", "unknown section"}});
      } else if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) {
        wanted.push_back(name);
      }
    }
    const bool all = options.sections.empty();
    for (const auto& name : known_sections()) {
      if (!all && std::find(wanted.begin(), wanted.end(), name) == wanted.end()) continue;
      // One section failing in an unforeseen way must not cost the technician the others.
      try {
        snapshot[name] = collect_section(name, options);
      } catch (const std::exception& e) {
        snapshot[name] = unavailable(std::string("internal error: ") + e.what());
      } catch (...) {
        snapshot[name] = unavailable("internal error");
      }
    }
    snapshot["errors"] = std::move(errors);
    make_strings_valid(snapshot);
  } catch (...) {
    // Only allocation failure gets here; report it rather than throw at the caller.
    snapshot = json{
        {"schema", kSchemaVersion},
        {"errors", json::array({json{{"section", "snapshot"}, {"message", "out of memory"}}})}};
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  try {
    snapshot["duration_ms"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  } catch (...) {
  }
  return snapshot;
}

}  // namespace tether::agent::diag
