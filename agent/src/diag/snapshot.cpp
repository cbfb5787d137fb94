#include "tether/agent/diag/snapshot.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "diag/collectors/cpu_collector.hpp"
#include "diag/collectors/devices_collector.hpp"
#include "diag/collectors/firmware_collector.hpp"
#include "diag/collectors/identity_collector.hpp"
#include "diag/collectors/logs_collector.hpp"
#include "diag/collectors/memory_collector.hpp"
#include "diag/collectors/network_collector.hpp"
#include "diag/collectors/power_collector.hpp"
#include "diag/collectors/processes_collector.hpp"
#include "diag/collectors/services_collector.hpp"
#include "diag/collectors/software_collector.hpp"
#include "diag/collectors/source_files.hpp"
#include "diag/collectors/storage_collector.hpp"
#include "diag/collectors/system_collector.hpp"
#include "diag/collectors/users_collector.hpp"
#include "tether/protocol/time_format.hpp"
#include "tether/protocol/utf8.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

constexpr int kSchemaVersion = 2;

// Files under /etc and mount paths are arbitrary bytes; json::dump throws on invalid UTF-8,
// so every string is made valid here, once, with each bad byte replaced by U+FFFD.
std::string valid_utf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (const auto length = protocol::utf8_sequence_length(text, i); length != 0) {
      out.append(text, i, length);
      i += length;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

bool is_valid_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto length = protocol::utf8_sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

// In place: the snapshot is the largest thing the agent holds, so it is never copied whole.
void make_strings_valid(json& value) {
  if (value.is_string()) {
    auto& text = value.get_ref<std::string&>();
    if (!is_valid_utf8(text)) text = valid_utf8(text);
  } else if (value.is_array()) {
    for (auto& element : value) make_strings_valid(element);
  } else if (value.is_object()) {
    std::vector<std::string> bad_keys;
    for (auto& [key, element] : value.items()) {
      make_strings_valid(element);
      if (!is_valid_utf8(key)) bad_keys.push_back(key);
    }
    for (const auto& key : bad_keys) {
      auto element = std::move(value[key]);
      value.erase(key);
      value[valid_utf8(key)] = std::move(element);
    }
  }
}

using Collector = json (*)(const CollectContext&);

struct Section {
  const char* name;
  Collector collect;
  bool inventory;  // part of `tether-agent inventory`
};

// In the order they are written and shown.
constexpr Section kSections[] = {
    {"identity", collect_identity, true},    {"system", collect_system, true},
    {"firmware", collect_firmware, true},    {"cpu", collect_cpu, true},
    {"memory", collect_memory, true},        {"storage", collect_storage, true},
    {"network", collect_network, true},      {"power", collect_power, true},
    {"devices", collect_devices, true},      {"software", collect_software, true},
    {"processes", collect_processes, false}, {"services", collect_services, true},
    {"users", collect_users, true},          {"logs", collect_logs, false},
};

json run_collector(const Section& section, const CollectContext& context) {
  // One section failing in an unforeseen way must not cost the technician the others.
  try {
    return section.collect(context);
  } catch (const std::exception& e) {
    return unavailable(std::string("internal error: ") + e.what());
  } catch (...) {
    return unavailable("internal error");
  }
}

// The sections' threads write here. Shared so that a thread still stuck after the deadline
// (statvfs on a dead NFS server cannot be interrupted) writes into memory that outlives the
// call; that thread is detached and ends whenever the kernel lets it.
struct Collection {
  std::mutex mutex;
  std::condition_variable done;
  std::vector<std::optional<json>> results;
  std::size_t remaining = 0;
};

std::vector<json> collect_in_parallel(const std::vector<const Section*>& sections,
                                      const CollectContext& context,
                                      std::chrono::milliseconds deadline) {
  auto collection = std::make_shared<Collection>();
  collection->results.resize(sections.size());
  collection->remaining = sections.size();
  auto shared_context = std::make_shared<const CollectContext>(context);

  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const Section* section = sections[i];
    auto work = [collection, shared_context, section, i] {
      json result = run_collector(*section, *shared_context);
      const std::lock_guard lock(collection->mutex);
      collection->results[i] = std::move(result);
      if (--collection->remaining == 0) collection->done.notify_all();
    };
    try {
      threads.emplace_back(work);
    } catch (const std::system_error&) {
      work();  // no thread to be had: collect this section here
    }
  }

  std::vector<json> results;
  {
    std::unique_lock lock(collection->mutex);
    collection->done.wait_for(lock, deadline, [&] { return collection->remaining == 0; });
    for (auto& result : collection->results) {
      results.push_back(result ? std::move(*result) : unavailable("timed out"));
    }
    if (collection->remaining != 0) {
      for (auto& thread : threads) thread.detach();
      threads.clear();
    }
  }
  for (auto& thread : threads) thread.join();
  return results;
}

}  // namespace

const std::vector<std::string>& known_sections() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& section : kSections) names.emplace_back(section.name);
    return names;
  }();
  return kNames;
}

const std::vector<std::string>& inventory_sections() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& section : kSections) {
      if (section.inventory) names.emplace_back(section.name);
    }
    return names;
  }();
  return kNames;
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
    std::vector<const Section*> chosen;
    for (const auto& section : kSections) {
      if (all || std::find(wanted.begin(), wanted.end(), section.name) != wanted.end()) {
        chosen.push_back(&section);
      }
    }

    CollectContext context{.root = options.root,
                           .host = options.host,
                           .real_root = is_real_root(options.root),
                           .probe_timeout = options.probe_timeout,
                           .cpu_sample = options.cpu_sample};
    auto results = collect_in_parallel(chosen, context, options.deadline);
    for (std::size_t i = 0; i < chosen.size(); ++i)
      snapshot[chosen[i]->name] = std::move(results[i]);
    snapshot["errors"] = std::move(errors);
    make_strings_valid(snapshot);
    if (options.findings) {
      auto evaluated = evaluate_findings(snapshot, options.thresholds);
      snapshot["findings"] = std::move(evaluated["findings"]);
      snapshot["checks_skipped"] = std::move(evaluated["skipped"]);
    }
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

bool fit_snapshot(json& snapshot, std::size_t max_bytes) {
  struct Cuttable {
    const char* section;
    const char* list;
  };
  static constexpr Cuttable kCuttable[] = {
      {"software", "packages"}, {"processes", "list"}, {"network", "listening"},
      {"logs", "errors"},       {"devices", "pci"},    {"devices", "usb"},
  };
  auto size = snapshot.dump().size();
  while (size > max_bytes) {
    // Halve the biggest list still holding more than a handful of entries.
    json* biggest = nullptr;
    json* owner = nullptr;
    const char* name = nullptr;
    std::size_t biggest_size = 0;
    for (const auto& cut : kCuttable) {
      auto section = snapshot.find(cut.section);
      if (section == snapshot.end() || !section->is_object()) continue;
      auto list = section->find(cut.list);
      if (list == section->end() || !list->is_array() || list->size() <= 8) continue;
      const auto list_size = list->dump().size();
      if (list_size > biggest_size) {
        biggest = &*list;
        owner = &*section;
        name = cut.list;
        biggest_size = list_size;
      }
    }
    if (biggest == nullptr) return false;
    auto& truncated = (*owner)["truncated"];
    if (!truncated.is_object()) truncated = json::object();
    if (!truncated.contains(name)) truncated[name] = biggest->size();
    biggest->erase(biggest->begin() + static_cast<std::ptrdiff_t>(biggest->size() / 2),
                   biggest->end());
    size = snapshot.dump().size();
  }
  return true;
}

}  // namespace tether::agent::diag
