// `tether-agent diag` on the machine running the tests, checked against independent sources:
// nproc, /proc/meminfo, dpkg-query, df, ip -j addr and hostname.

#include <sys/statvfs.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "process.hpp"

namespace tether::testing {
namespace {

using json = nlohmann::json;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

class DiagOnThisMachine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto result = run({TETHER_AGENT_BIN, "diag", "--format", "json"}, {}, 60s);
    ASSERT_EQ(result.status, 0) << result.err;
    snapshot_ = json::parse(result.out);
  }
  static json snapshot_;
};
json DiagOnThisMachine::snapshot_;

TEST_F(DiagOnThisMachine, EverySectionIsPresentAndNoneFailedInternally) {
  for (const char* section : {"identity", "system", "firmware", "cpu", "memory", "storage",
                              "network", "power", "devices", "software", "processes",
                              "services", "users", "logs"}) {
    ASSERT_TRUE(snapshot_.contains(section)) << section;
    const auto& value = snapshot_[section];
    ASSERT_TRUE(value.is_object()) << section;
    if (value.contains("unavailable")) {
      const auto reason = value["unavailable"].get<std::string>();
      EXPECT_EQ(reason.find("internal error"), std::string::npos) << section << ": " << reason;
      EXPECT_NE(reason, "not collected yet") << section;
    }
  }
  EXPECT_TRUE(snapshot_["findings"].is_array());
  EXPECT_GE(snapshot_["findings"].size() + snapshot_["checks_skipped"].size(), 20U);
}

TEST_F(DiagOnThisMachine, LogicalCpusMatchNproc) {
  const auto nproc = run({"nproc", "--all"});
  ASSERT_EQ(nproc.status, 0);
  EXPECT_EQ(snapshot_["cpu"]["threads"].get<int>(), std::stoi(nproc.out));
}

TEST_F(DiagOnThisMachine, MemoryTotalMatchesProcMeminfo) {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long long kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemTotal:") break;
    meminfo.ignore(1 << 10, '\n');
  }
  EXPECT_EQ(snapshot_["memory"]["total_bytes"].get<long long>(), kib * 1024);
}

TEST_F(DiagOnThisMachine, InstalledPackageCountMatchesDpkgQuery) {
  const auto listed = run({"dpkg-query", "-W", "-f", "${db:Status-Abbrev}\\n"});
  ASSERT_EQ(listed.status, 0) << listed.err;
  std::istringstream lines(listed.out);
  std::size_t installed = 0;
  for (std::string line; std::getline(lines, line);) installed += line.starts_with("ii") ? 1 : 0;
  ASSERT_GT(installed, 0U);
  EXPECT_EQ(snapshot_["software"]["counts"]["dpkg"].get<std::size_t>(), installed);
}

TEST_F(DiagOnThisMachine, RootFilesystemSizeMatchesDf) {
  const auto df = run({"df", "-B1", "--output=target,size,avail", "/"});
  ASSERT_EQ(df.status, 0) << df.err;
  std::istringstream lines(df.out);
  std::string header, target;
  std::getline(lines, header);
  unsigned long long size = 0, avail = 0;
  lines >> target >> size >> avail;
  ASSERT_EQ(target, "/");
  const json* root = nullptr;
  for (const auto& fs : snapshot_["storage"]["filesystems"]) {
    if (fs["mount_point"] == "/") root = &fs;
  }
  ASSERT_NE(root, nullptr) << snapshot_["storage"].dump();
  EXPECT_EQ((*root)["size_bytes"].get<unsigned long long>(), size);
  // Free space moves while the tests write files; agree within 256 MiB.
  const auto agent_avail = (*root)["available_bytes"].get<unsigned long long>();
  EXPECT_LT(agent_avail > avail ? agent_avail - avail : avail - agent_avail, 256ULL << 20);
}

TEST_F(DiagOnThisMachine, EveryAddressIpReportsIsListed) {
  const auto ip = run({"ip", "-j", "addr"});
  ASSERT_EQ(ip.status, 0) << ip.err;
  std::set<std::string> expected, listed;
  for (const auto& link : json::parse(ip.out)) {
    for (const auto& address : link.value("addr_info", json::array())) {
      expected.insert(link["ifname"].get<std::string>() + " " +
                      address["local"].get<std::string>() + "/" +
                      std::to_string(address["prefixlen"].get<int>()));
    }
  }
  for (const auto& interface : snapshot_["network"]["interfaces"]) {
    for (const auto& address : interface["addresses"]) {
      listed.insert(interface["name"].get<std::string>() + " " +
                    address["address"].get<std::string>() + "/" +
                    std::to_string(address["prefix"].get<int>()));
    }
  }
  ASSERT_FALSE(expected.empty());
  for (const auto& address : expected) EXPECT_TRUE(listed.contains(address)) << address;
}

TEST_F(DiagOnThisMachine, HostnameMatches) {
  const auto hostname = run({"hostname"});
  ASSERT_EQ(hostname.status, 0);
  EXPECT_EQ(snapshot_["system"]["hostname"], trimmed(hostname.out));
}

TEST_F(DiagOnThisMachine, ProcessListHoldsThisTestRunner) {
  const auto self = static_cast<long long>(getpid());
  bool found = false;
  for (const auto& process : snapshot_["processes"]["list"]) {
    found = found || process["pid"].get<long long>() == self;
  }
  EXPECT_TRUE(found) << "pid " << self << " not among " << snapshot_["processes"]["count"];
}

}  // namespace
}  // namespace tether::testing
