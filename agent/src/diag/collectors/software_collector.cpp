#include "diag/collectors/software_collector.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag/collectors/dpkg_status.hpp"
#include "diag/collectors/probe_reason.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

// Bounds on directories we list: a machine with more snaps or flatpaks than this is not one
// a technician reads package by package.
constexpr std::size_t kMaxBundles = 2000;

std::string mtime_text(const struct stat& info) {
  return protocol::format_time(std::chrono::system_clock::from_time_t(info.st_mtim.tv_sec));
}

bool path_exists(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

json package(std::string name, std::string version, std::string architecture,
             std::string_view source) {
  // Built in place: a braced json initializer copies every value once more, and a desktop
  // has thousands of packages.
  json item(json::value_t::object);
  auto& object = item.get_ref<json::object_t&>();
  object.emplace("name", std::move(name));
  object.emplace("version", std::move(version));
  object.emplace("architecture", std::move(architecture));
  object.emplace("source", source);
  object.emplace("install_size_bytes", nullptr);
  object.emplace("installed_at", nullptr);
  return item;
}

// --- dpkg ----------------------------------------------------------------------------------

// dpkg rewrites info/<name>.list (or <name>:<arch>.list for Multi-Arch: same packages) each
// time it unpacks the package, so its mtime is when the installed version was put in place.
// One stat per package: about 1 µs each, 3 ms for 3000 packages.
void add_dpkg(const CollectContext& context, json& packages, json& counts) {
  auto status = read_dpkg_status(under_root(context.root, "/var/lib/dpkg/status"));
  if (!status.present) {
    counts["dpkg"] = 0;
    return;
  }
  if (!status.error.empty()) {
    mark_unknown(counts, "dpkg", "could not read: /var/lib/dpkg/status: " + status.error);
    return;
  }
  counts["dpkg"] = status.packages.size();
  // fstatat from the open info directory: the kernel walks one name per package, not the
  // whole path (a third of the section's time on a 3000-package desktop).
  const auto info_path = under_root(context.root, "/var/lib/dpkg/info");
  const int info = ::open(info_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  std::string list_name;
  for (auto& entry : status.packages) {
    json item = package(std::move(entry.name), std::move(entry.version),
                        std::move(entry.architecture), "dpkg");
    const auto& name = item["name"].get_ref<const std::string&>();
    if (entry.installed_size_kib) {
      item["install_size_bytes"] = *entry.installed_size_kib * 1024;
    } else {
      mark_unknown(item, "install_size_bytes", "not present: no Installed-Size in dpkg status");
    }
    struct stat list {};
    bool found = false;
    if (info >= 0) {
      list_name.assign(name).append(".list");
      found = ::fstatat(info, list_name.c_str(), &list, 0) == 0;
      if (!found) {
        list_name.assign(name).append(":").append(
            item["architecture"].get_ref<const std::string&>());
        list_name.append(".list");
        found = ::fstatat(info, list_name.c_str(), &list, 0) == 0;
      }
    }
    if (found) {
      item["installed_at"] = mtime_text(list);
    } else {
      mark_unknown(item, "installed_at", "not present: no /var/lib/dpkg/info/" + name + ".list");
    }
    packages.push_back(std::move(item));
  }
  if (info >= 0) ::close(info);
}

// --- rpm -----------------------------------------------------------------------------------

void add_rpm(const CollectContext& context, json& packages, json& counts) {
  // Fedora 36+ keeps the database in /usr/lib/sysimage/rpm (/var/lib/rpm links to it).
  if (!path_exists(under_root(context.root, "/var/lib/rpm")) &&
      !path_exists(under_root(context.root, "/usr/lib/sysimage/rpm"))) {
    counts["rpm"] = 0;
    return;
  }
  const auto run = run_probe(
      context, {"rpm", "-qa", "--qf",
                "%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{SIZE}\\t%{INSTALLTIME}\\n"});
  if (!run.succeeded()) {
    mark_unknown(counts, "rpm", probe_reason(run, "rpm"));
    return;
  }
  auto found = parse_rpm_packages(run.out);
  counts["rpm"] = found.size();
  if (run.truncated) counts["unknown"]["rpm_list"] = "could not read: rpm output truncated";
  for (auto& item : found) packages.push_back(std::move(item));
}

// --- snap ----------------------------------------------------------------------------------

// The "version:" (and first "architectures:" entry) of a snap.yaml. The file is small, but
// bounded all the same.
void read_snap_yaml(const CollectContext& context, const std::string& name, json& item) {
  const auto yaml = read_source(context.root, "/snap/" + name + "/current/meta/snap.yaml");
  if (!yaml.text) {
    mark_unknown(item, "version", "could not read: " + yaml.error);
    mark_unknown(item, "architecture", "could not read: " + yaml.error);
    return;
  }
  const auto lines = split_lines(std::string_view(*yaml.text).substr(0, 64 * 1024));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto line = lines[i];
    if (line.starts_with("version:")) {
      auto value = trim(line.substr(8));
      if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
          value.back() == value.front()) {
        value = value.substr(1, value.size() - 2);
      }
      item["version"] = std::string(value);
    } else if (line.starts_with("architectures:")) {
      auto value = trim(line.substr(14));
      if (value.starts_with("[")) {  // flow style: [amd64, arm64]
        value = trim(value.substr(1, value.find_first_of(",]") - 1));
      } else if (value.empty() && i + 1 < lines.size()) {  // block style: "  - amd64"
        const auto next = trim(lines[i + 1]);
        if (next.starts_with("- ")) value = trim(next.substr(2));
      }
      if (!value.empty()) item["architecture"] = std::string(value);
    }
  }
  if (item["version"].is_null())
    mark_unknown(item, "version", "not present: no version in snap.yaml");
  // A snap.yaml without "architectures" is built for every architecture.
  if (item["architecture"].is_null()) item["architecture"] = "all";
}

void add_snaps(const CollectContext& context, json& packages, json& counts) {
  const auto snap_root = under_root(context.root, "/snap");
  std::error_code ec;
  std::filesystem::directory_iterator it(snap_root, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
      counts["snap"] = 0;
    } else {
      mark_unknown(counts, "snap", "could not read: /snap: " + ec.message());
    }
    return;
  }
  std::size_t count = 0;
  for (std::size_t seen = 0; it != std::filesystem::directory_iterator() && seen < kMaxBundles;
       it.increment(ec), ++seen) {
    if (ec) break;
    const auto name = it->path().filename().string();
    // /snap/<name>/current → "<revision>"; /snap/bin and /snap/README have no "current".
    const auto revision = std::filesystem::read_symlink(it->path() / "current", ec);
    if (ec) {
      ec.clear();
      continue;
    }
    json item = package(name, "", "", "snap");
    item["version"] = nullptr;
    item["architecture"] = nullptr;
    read_snap_yaml(context, name, item);
    // The installed revision's squashfs: its size is what the snap takes on disk, its mtime
    // when snapd fetched it.
    struct stat file {};
    const auto image = under_root(context.root, "/var/lib/snapd/snaps/" + name + "_" +
                                                    revision.filename().string() + ".snap");
    if (::stat(image.c_str(), &file) == 0) {
      item["install_size_bytes"] = static_cast<std::uint64_t>(file.st_size);
      item["installed_at"] = mtime_text(file);
    } else {
      const std::string reason = std::string("could not read: /var/lib/snapd/snaps/") + name + "_" +
                                 revision.filename().string() + ".snap: " + std::strerror(errno);
      mark_unknown(item, "install_size_bytes", reason);
      mark_unknown(item, "installed_at", reason);
    }
    packages.push_back(std::move(item));
    ++count;
  }
  counts["snap"] = count;
}

// --- flatpak -------------------------------------------------------------------------------

// The newest <release version="…"> of an application's AppStream file: flatpak shows the same
// as "Version". Releases are listed newest first.
std::optional<std::string> appstream_version(const CollectContext& context,
                                             const std::string& active, const std::string& id) {
  for (const auto* file : {"/files/share/metainfo/", "/files/share/appdata/"}) {
    for (const auto* suffix : {".metainfo.xml", ".appdata.xml"}) {
      const auto xml = read_source(context.root, active + file + id + suffix);
      if (!xml.text) continue;
      const std::string_view text(*xml.text);
      const auto release = text.find("<release ");
      if (release == std::string_view::npos) return std::nullopt;
      const auto close = text.find('>', release);
      const auto tag =
          text.substr(release, close == std::string_view::npos ? 512 : close - release);
      const auto attribute = tag.find("version=");
      if (attribute == std::string_view::npos || attribute + 9 >= tag.size()) return std::nullopt;
      const char quote = tag[attribute + 8];
      const auto end = tag.find(quote, attribute + 9);
      if (end == std::string_view::npos) return std::nullopt;
      return std::string(tag.substr(attribute + 9, end - attribute - 9));
    }
  }
  return std::nullopt;
}

void add_flatpaks(const CollectContext& context, json& packages, json& counts) {
  const auto apps = under_root(context.root, "/var/lib/flatpak/app");
  std::error_code ec;
  std::filesystem::directory_iterator it(apps, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
      counts["flatpak"] = 0;
    } else {
      mark_unknown(counts, "flatpak", "could not read: /var/lib/flatpak/app: " + ec.message());
    }
    return;
  }
  std::size_t count = 0;
  for (std::size_t seen = 0; it != std::filesystem::directory_iterator() && seen < kMaxBundles;
       it.increment(ec), ++seen) {
    if (ec) break;
    const auto id = it->path().filename().string();
    // app/<id>/current → "<arch>/<branch>"; <arch>/<branch>/active → the deployed commit.
    const auto current = std::filesystem::read_symlink(it->path() / "current", ec);
    if (ec) {
      ec.clear();
      continue;
    }
    const auto arch = current.parent_path().filename().string();
    const std::string active = "/var/lib/flatpak/app/" + id + "/" + current.string() + "/active";
    if (!path_exists(under_root(context.root, active + "/metadata"))) continue;  // half-deployed
    json item = package(id, "", arch, "flatpak");
    if (arch.empty()) mark_unknown(item, "architecture", "could not read: current link");
    if (auto version = appstream_version(context, active, id)) {
      item["version"] = std::move(*version);
    } else {
      mark_unknown(item, "version", "not present: no release in the application's AppStream file");
    }
    mark_unknown(
        item, "install_size_bytes",
        "not supported on this platform: flatpak records it only in its binary deploy file");
    // flatpak writes active/deploy once, when it deploys the commit.
    struct stat deploy {};
    if (::stat(under_root(context.root, active + "/deploy").c_str(), &deploy) == 0) {
      item["installed_at"] = mtime_text(deploy);
    } else {
      mark_unknown(item, "installed_at", "not present: no deploy file");
    }
    packages.push_back(std::move(item));
    ++count;
  }
  counts["flatpak"] = count;
}

// --- pending updates -----------------------------------------------------------------------

json pending_updates(const CollectContext& context, json& section) {
  const auto file = read_source(context.root, "/var/lib/update-notifier/updates-available");
  if (!file.text) {
    if (!path_exists(under_root(context.root, "/var/lib/update-notifier/updates-available"))) {
      // apt's own lists are not parsed: resolving upgrades from them costs a second or more.
      mark_unknown(section, "pending_updates",
                   "not present: no /var/lib/update-notifier/updates-available");
    } else {
      mark_unknown(section, "pending_updates", "could not read: " + file.error);
    }
    return section["pending_updates"];
  }
  if (auto parsed = parse_updates_available(*file.text)) return std::move(*parsed);
  mark_unknown(section, "pending_updates",
               "could not read: no update count in /var/lib/update-notifier/updates-available");
  return section["pending_updates"];
}

// The leading count of a line, as in "12 updates can be applied immediately.".
std::optional<long long> leading_count(std::string_view line) {
  line = trim(line);
  const auto end = line.find(' ');
  if (end == std::string_view::npos) return std::nullopt;
  const auto value = parse_integer(line.substr(0, end));
  if (!value || *value < 0) return std::nullopt;
  return value;
}

}  // namespace

json parse_rpm_packages(std::string_view text) {
  json packages = json::array();
  for (const auto line : split_lines(text)) {
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    while (fields.size() < 6) {
      const auto tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 5 || fields[0].empty()) continue;
    json item =
        package(std::string(fields[0]), std::string(fields[1]), std::string(fields[2]), "rpm");
    if (fields[2] == "(none)") {
      mark_unknown(item, "architecture", "not present: rpm records none");
    }
    if (const auto size = parse_integer(fields[3]); size && *size >= 0) {
      item["install_size_bytes"] = *size;
    } else {
      mark_unknown(item, "install_size_bytes", "could not read: rpm SIZE");
    }
    if (const auto when = parse_integer(fields[4]); when && *when > 0) {
      item["installed_at"] =
          protocol::format_time(std::chrono::system_clock::from_time_t(static_cast<time_t>(*when)));
    } else {
      mark_unknown(item, "installed_at", "could not read: rpm INSTALLTIME");
    }
    packages.push_back(std::move(item));
  }
  return packages;
}

std::optional<json> parse_updates_available(std::string_view text) {
  std::optional<long long> total;
  std::optional<long long> security;
  for (const auto line : split_lines(text)) {
    const auto count = leading_count(line);
    if (!count) continue;
    // "1 additional security update can be applied with ESM Apps." needs a subscription: it
    // is not an update the machine can install now.
    if (line.find("ESM") != std::string_view::npos ||
        line.find("additional") != std::string_view::npos) {
      continue;
    }
    if (line.find("security update") != std::string_view::npos) {
      // "M of these updates are standard security updates." / older "M updates are security
      // updates."
      security = count;
    } else if (line.find("can be applied immediately") != std::string_view::npos ||
               line.find("can be updated") != std::string_view::npos ||
               line.find("can be installed immediately") != std::string_view::npos) {
      total = count;
    }
  }
  if (!total) return std::nullopt;
  // update-notifier leaves the security line out when there are none.
  return json{{"total", *total}, {"security", security.value_or(0)}, {"source", "update-notifier"}};
}

json collect_software(const CollectContext& context) {
  json section{{"packages", json::array()}, {"counts", json::object()}};
  auto& packages = section["packages"];
  auto& counts = section["counts"];
  add_dpkg(context, packages, counts);
  add_rpm(context, packages, counts);
  add_snaps(context, packages, counts);
  add_flatpaks(context, packages, counts);
  section["pending_updates"] = pending_updates(context, section);
  // Sorted through an index of plain keys: comparing json objects looks each key up again in
  // every comparison.
  auto& list = packages.get_ref<json::array_t&>();
  struct Key {
    const std::string* name;
    const std::string* source;
    std::string_view architecture;
    std::size_t index;
  };
  std::vector<Key> keys;
  keys.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& arch = list[i]["architecture"];
    keys.push_back({&list[i]["name"].get_ref<const std::string&>(),
                    &list[i]["source"].get_ref<const std::string&>(),
                    arch.is_string() ? std::string_view(arch.get_ref<const std::string&>())
                                     : std::string_view(),
                    i});
  }
  // dpkg may hold one package for two architectures (libc6:amd64 and libc6:i386).
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (const int c = a.name->compare(*b.name); c != 0) return c < 0;
    if (const int c = a.source->compare(*b.source); c != 0) return c < 0;
    return a.architecture < b.architecture;
  });
  json::array_t sorted;
  sorted.reserve(list.size());
  for (const auto& key : keys) sorted.push_back(std::move(list[key.index]));
  list = std::move(sorted);
  return section;
}

}  // namespace tether::agent::diag
