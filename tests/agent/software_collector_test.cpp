// The "software" section over fixture trees, and its rpm and update-notifier parsers.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include <sys/stat.h>

#include "diag/collectors/software_collector.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

CollectContext fixture(const std::string& name) {
  CollectContext context;
  context.root = std::filesystem::path(TETHER_TEST_DATA_DIR) / name;
  context.real_root = false;
  return context;
}

const json* find_package(const json& section, const std::string& name, const std::string& source,
                         const std::string& architecture = "") {
  for (const auto& item : section["packages"]) {
    if (item["name"] == name && item["source"] == source &&
        (architecture.empty() || item["architecture"] == architecture)) {
      return &item;
    }
  }
  return nullptr;
}

std::string mtime_of(const std::filesystem::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return protocol::format_time(std::chrono::system_clock::from_time_t(info.st_mtim.tv_sec));
}

TEST(Software, LaptopListsDpkgSnapAndFlatpakSortedByName) {
  const auto context = fixture("laptop");
  const auto section = collect_software(context);
  EXPECT_EQ(section["counts"]["dpkg"], 6);
  EXPECT_EQ(section["counts"]["rpm"], 0);
  EXPECT_EQ(section["counts"]["snap"], 2);
  EXPECT_EQ(section["counts"]["flatpak"], 1);
  std::vector<std::string> order;
  for (const auto& item : section["packages"]) {
    order.push_back(item["name"].get<std::string>() + "/" + item["source"].get<std::string>());
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"adduser/dpkg", "core22/snap", "firefox/dpkg", "firefox/snap",
                                      "libc6/dpkg", "libc6/dpkg", "nvidia-driver-550/dpkg",
                                      "org.gnome.Calculator/flatpak", "zsh/dpkg"}));
  // Removed (config-files) and half-installed packages are not installed.
  EXPECT_EQ(find_package(section, "linux-image-6.8.0-45-generic", "dpkg"), nullptr);
  EXPECT_EQ(find_package(section, "half-broken", "dpkg"), nullptr);
  EXPECT_EQ(find_package(section, "fake-continuation-line", "dpkg"), nullptr);
}

TEST(Software, DpkgSizesAreBytesAndInstallTimesComeFromTheFileList) {
  const auto context = fixture("laptop");
  const auto section = collect_software(context);
  const auto* zsh = find_package(section, "zsh", "dpkg");
  ASSERT_NE(zsh, nullptr);
  EXPECT_EQ((*zsh)["version"], "5.9-6ubuntu2");
  EXPECT_EQ((*zsh)["architecture"], "amd64");
  EXPECT_EQ((*zsh)["install_size_bytes"], 2500 * 1024);
  EXPECT_EQ((*zsh)["installed_at"], mtime_of(context.root / "var/lib/dpkg/info/zsh.list"));

  // Multi-Arch: same packages keep their list as <name>:<arch>.list.
  const auto* i386 = find_package(section, "libc6", "dpkg", "i386");
  ASSERT_NE(i386, nullptr);
  EXPECT_EQ((*i386)["installed_at"], mtime_of(context.root / "var/lib/dpkg/info/libc6:i386.list"));

  const auto* firefox = find_package(section, "firefox", "dpkg");
  ASSERT_NE(firefox, nullptr);
  EXPECT_TRUE((*firefox)["installed_at"].is_null());
  EXPECT_TRUE((*firefox)["unknown"]["installed_at"].get<std::string>().starts_with("not present"));

  const auto* held = find_package(section, "nvidia-driver-550", "dpkg");
  ASSERT_NE(held, nullptr);
  EXPECT_TRUE((*held)["install_size_bytes"].is_null());
  EXPECT_TRUE((*held)["unknown"].contains("install_size_bytes"));
}

TEST(Software, SnapsReadTheirCurrentRevision) {
  const auto context = fixture("laptop");
  const auto section = collect_software(context);
  const auto* firefox = find_package(section, "firefox", "snap");
  ASSERT_NE(firefox, nullptr);
  EXPECT_EQ((*firefox)["version"], "128.0.3-1");
  EXPECT_EQ((*firefox)["architecture"], "amd64");
  EXPECT_EQ((*firefox)["install_size_bytes"], 4096);
  EXPECT_EQ((*firefox)["installed_at"],
            mtime_of(context.root / "var/lib/snapd/snaps/firefox_4336.snap"));
  const auto* core = find_package(section, "core22", "snap");
  ASSERT_NE(core, nullptr);
  EXPECT_EQ((*core)["version"], "20240731");    // quoted in snap.yaml
  EXPECT_EQ((*core)["architecture"], "amd64");  // flow-style list
}

TEST(Software, FlatpakVersionComesFromAppStreamAndSizeIsUnknown) {
  const auto section = collect_software(fixture("laptop"));
  const auto* calculator = find_package(section, "org.gnome.Calculator", "flatpak");
  ASSERT_NE(calculator, nullptr);
  EXPECT_EQ((*calculator)["version"], "46.1");
  EXPECT_EQ((*calculator)["architecture"], "x86_64");
  EXPECT_TRUE((*calculator)["install_size_bytes"].is_null());
  EXPECT_TRUE((*calculator)["unknown"].contains("install_size_bytes"));
  EXPECT_TRUE((*calculator)["installed_at"].is_string());
}

TEST(Software, PendingUpdatesFromUpdateNotifierLeaveEsmOut) {
  const auto section = collect_software(fixture("laptop"));
  EXPECT_EQ(section["pending_updates"],
            (json{{"total", 12}, {"security", 5}, {"source", "update-notifier"}}));
}

TEST(Software, PendingUpdatesUnknownWithoutUpdateNotifier) {
  const auto section = collect_software(fixture("server"));
  EXPECT_TRUE(section["pending_updates"].is_null());
  EXPECT_TRUE(section["unknown"]["pending_updates"].get<std::string>().starts_with("not present"));
  EXPECT_EQ(section["counts"]["dpkg"], 4);
}

TEST(Software, UpdatesAvailableTextVariants) {
  EXPECT_EQ(parse_updates_available("0 updates can be applied immediately.\n"),
            (json{{"total", 0}, {"security", 0}, {"source", "update-notifier"}}));
  EXPECT_EQ(parse_updates_available("3 updates can be applied immediately.\n"
                                    "1 of these updates is a standard security update.\n"),
            (json{{"total", 3}, {"security", 1}, {"source", "update-notifier"}}));
  // Ubuntu 18.04 and older.
  EXPECT_EQ(
      parse_updates_available("27 packages can be updated.\n9 updates are security updates.\n"),
      (json{{"total", 27}, {"security", 9}, {"source", "update-notifier"}}));
  EXPECT_FALSE(parse_updates_available("").has_value());
  EXPECT_FALSE(parse_updates_available("x updates can be applied immediately.\n").has_value());
}

TEST(Software, RpmQueryOutputBecomesPackages) {
  const auto packages = parse_rpm_packages(
      "bash\t5.2.26-3.fc40\tx86_64\t8297377\t1713800000\n"
      "gpg-pubkey\ta15b79cc-63d04c2c\t(none)\t0\t1713800100\n"
      "broken line\n"
      "kernel-core\t6.8.5-301.fc40\tx86_64\tjunk\t\n");
  ASSERT_EQ(packages.size(), 3U);
  EXPECT_EQ(packages[0]["name"], "bash");
  EXPECT_EQ(packages[0]["version"], "5.2.26-3.fc40");
  EXPECT_EQ(packages[0]["architecture"], "x86_64");
  EXPECT_EQ(packages[0]["install_size_bytes"], 8297377);
  EXPECT_EQ(packages[0]["installed_at"], "2024-04-22T15:33:20Z");
  EXPECT_EQ(packages[0]["source"], "rpm");
  EXPECT_TRUE(packages[1]["architecture"].is_null());
  EXPECT_TRUE(packages[2]["install_size_bytes"].is_null());
  EXPECT_TRUE(packages[2]["installed_at"].is_null());
  EXPECT_TRUE(packages[2]["unknown"].contains("installed_at"));
}

TEST(Software, RpmIsProbedOnlyWhereItsDatabaseIs) {
  int runs = 0;
  auto context = fixture("vm");
  context.host.run = [&](const std::vector<std::string>& argv, const RunLimits&) {
    ++runs;
    EXPECT_EQ(argv.at(0), "rpm");
    ProgramRun run;
    run.outcome = RunOutcome::exited;
    run.exit_code = 0;
    run.out =
        "zlib-ng-compat\t2.1.7-1.fc40\tx86_64\t205464\t1713800000\n"
        "bash\t5.2.26-3.fc40\tx86_64\t8297377\t1713800000\n";
    return run;
  };
  const auto section = collect_software(context);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(section["counts"]["rpm"], 2);
  EXPECT_EQ(section["counts"]["dpkg"], 0);
  EXPECT_EQ(section["packages"][0]["name"], "bash");

  auto laptop = fixture("laptop");
  laptop.host.run = context.host.run;
  collect_software(laptop);
  EXPECT_EQ(runs, 1) << "no rpm database on the laptop: rpm must not run";
}

TEST(Software, RpmMissingOrUnrunnableIsAReasonNotAZero) {
  auto context = fixture("fedora40");
  context.host.run = [](const std::vector<std::string>&, const RunLimits&) {
    ProgramRun run;
    run.outcome = RunOutcome::tool_missing;
    return run;
  };
  auto section = collect_software(context);
  EXPECT_TRUE(section["counts"]["rpm"].is_null());
  EXPECT_TRUE(section["counts"]["unknown"]["rpm"].get<std::string>().starts_with("tool missing"));

  // A fixture root without a fake runner never runs the test machine's rpm.
  section = collect_software(fixture("fedora40"));
  EXPECT_TRUE(section["counts"]["unknown"]["rpm"].get<std::string>().starts_with(
      "not supported on this platform"));
}

TEST(Software, GarbageKeepsWhatParsesAndNeverThrows) {
  const auto section = collect_software(fixture("garbage"));
  const auto* ok = find_package(section, "ok-one", "dpkg");
  ASSERT_NE(ok, nullptr);
  EXPECT_TRUE((*ok)["install_size_bytes"].is_null());  // "12abc"
  EXPECT_TRUE(section["pending_updates"].is_null());
  EXPECT_TRUE(
      section["unknown"]["pending_updates"].get<std::string>().starts_with("could not read"));
}

TEST(Software, ContainerWithoutSnapOrFlatpakCountsZero) {
  const auto section = collect_software(fixture("container"));
  EXPECT_EQ(section["counts"]["dpkg"], 2);
  EXPECT_EQ(section["counts"]["snap"], 0);
  EXPECT_EQ(section["counts"]["flatpak"], 0);
}

}  // namespace
}  // namespace tether::agent::diag
