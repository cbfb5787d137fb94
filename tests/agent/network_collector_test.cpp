// collect_network over fixture trees: interface details, Wi-Fi, routes, DNS and listening
// sockets mapped to processes.

#include "diag/collectors/network_collector.hpp"

#include <filesystem>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

fs::path fixture(const std::string& name) {
  return fs::path(TETHER_TEST_DATA_DIR) / name;
}

const json* find_by(const json& array, const char* key, const json& value) {
  for (const auto& element : array) {
    if (element.contains(key) && element[key] == value) return &element;
  }
  return nullptr;
}

CollectContext context_for(const std::string& name) {
  CollectContext context;
  context.root = fixture(name);
  context.real_root = false;
  context.host.interface_addresses = [] { return std::vector<InterfaceAddress>{}; };
  context.host.run = [](const std::vector<std::string>& argv, const RunLimits&) {
    ProgramRun run;
    if (argv.size() == 4 && argv[0] == "iw" && argv[2] == "wlp0s20f3") {
      run.outcome = RunOutcome::exited;
      run.exit_code = 0;
      run.out =
          "Connected to b0:f2:08:4c:51:a2 (on wlp0s20f3)\n\tSSID: FRITZ!Box 7590 AB\n"
          "\tfreq: 5500\n\tsignal: -53 dBm\n";
    } else {
      run.outcome = RunOutcome::tool_missing;
    }
    return run;
  };
  return context;
}

TEST(NetworkCollector, LaptopInterfaces) {
  const auto network = collect_network(context_for("laptop"));
  const auto& interfaces = network["interfaces"];
  ASSERT_EQ(interfaces.size(), 4u) << network.dump();

  const auto* wifi = find_by(interfaces, "name", "wlp0s20f3");
  ASSERT_NE(wifi, nullptr);
  EXPECT_EQ((*wifi)["type"], "wireless");
  EXPECT_EQ((*wifi)["virtual"], false);
  EXPECT_EQ((*wifi)["driver"], "iwlwifi");
  EXPECT_EQ((*wifi)["permanent_mac"], "a4:c3:f0:85:ab:12");
  EXPECT_TRUE((*wifi)["speed_mbps"].is_null());  // Wi-Fi has no fixed link speed in sysfs
  EXPECT_EQ((*wifi)["stats"]["rx_bytes"], 8123456789ULL);
  EXPECT_EQ((*wifi)["stats"]["rx_dropped"], 1520);
  EXPECT_EQ((*wifi)["wifi"]["ssid"], "FRITZ!Box 7590 AB");
  EXPECT_EQ((*wifi)["wifi"]["signal_dbm"], -52);  // /proc/net/wireless first
  EXPECT_EQ((*wifi)["wifi"]["link_quality"], 58);

  const auto* wired = find_by(interfaces, "name", "enp0s31f6");
  ASSERT_NE(wired, nullptr);
  EXPECT_EQ((*wired)["state"], "down");
  EXPECT_TRUE((*wired)["speed_mbps"].is_null());  // -1 while the cable is out
  EXPECT_TRUE((*wired)["duplex"].is_null());
  EXPECT_EQ((*wired)["driver"], "e1000e");
  EXPECT_FALSE((*wired).contains("wifi"));

  const auto* docker = find_by(interfaces, "name", "docker0");
  ASSERT_NE(docker, nullptr);
  EXPECT_EQ((*docker)["virtual"], true);
  EXPECT_EQ((*docker)["type"], "virtual");
  EXPECT_TRUE((*docker)["permanent_mac"].is_null());
  EXPECT_TRUE((*docker)["driver"].is_null());
}

TEST(NetworkCollector, LaptopRoutesDnsAndListeners) {
  const auto network = collect_network(context_for("laptop"));
  EXPECT_EQ(network["default_routes"], json::parse(R"([
      {"family":"ipv4","gateway":"192.168.178.1","interface":"wlp0s20f3","metric":600},
      {"family":"ipv6","gateway":"fe80::b2f2:8ff:fe4c:51a2","interface":"wlp0s20f3","metric":600}])"));
  // 127.0.0.53 is systemd-resolved's stub: the real servers come from its own file.
  EXPECT_EQ(network["dns"]["servers"], json({"192.168.178.1", "fd00::b2f2:8ff:fe4c:51a2"}));
  EXPECT_EQ(network["dns"]["search"], json({"fritz.box", "corp.example.com"}));
  EXPECT_EQ(network["dns"]["source"], "/run/systemd/resolve/resolv.conf");

  const auto& listening = network["listening"];
  ASSERT_EQ(listening.size(), 6u) << listening.dump(1);
  const auto* cups = find_by(listening, "port", 631);
  ASSERT_NE(cups, nullptr);
  EXPECT_EQ((*cups)["protocol"], "tcp");
  EXPECT_EQ((*cups)["address"], "127.0.0.1");
  EXPECT_EQ((*cups)["pid"], 1);  // socket-activated: systemd holds it
  EXPECT_EQ((*cups)["process"], "systemd");
  EXPECT_EQ((*cups)["user"], "root");
  const auto* java = find_by(listening, "port", 8080);
  ASSERT_NE(java, nullptr);
  EXPECT_EQ((*java)["protocol"], "tcp6");
  EXPECT_EQ((*java)["address"], "::");
  EXPECT_EQ((*java)["pid"], 5000);
  EXPECT_EQ((*java)["process"], "java");
  EXPECT_EQ((*java)["user"], "alice");
  const auto* resolved = find_by(listening, "address", "127.0.0.53");
  ASSERT_NE(resolved, nullptr);
  EXPECT_TRUE((*resolved)["pid"].is_null());
  EXPECT_TRUE((*resolved)["user"].is_null());  // uid 991 is not in the fixture's passwd
  EXPECT_EQ((*resolved)["unknown"]["user"], "not present: uid 991 is not in /etc/passwd");
}

TEST(NetworkCollector, IwMissingAndResolvedStubWithoutUpstream) {
  auto context = context_for("laptop");
  context.host.run = [](const std::vector<std::string>&, const RunLimits&) {
    ProgramRun run;
    run.outcome = RunOutcome::tool_missing;
    return run;
  };
  const auto network = collect_network(context);
  const auto* wifi = find_by(network["interfaces"], "name", "wlp0s20f3");
  ASSERT_NE(wifi, nullptr);
  EXPECT_TRUE((*wifi)["wifi"]["ssid"].is_null());
  EXPECT_EQ((*wifi)["wifi"]["unknown"]["ssid"], "tool missing: iw");

  const auto vm = collect_network(context_for("vm"));
  EXPECT_EQ(vm["dns"]["servers"], json({"127.0.0.53"}));
  EXPECT_EQ(vm["dns"]["source"], "/etc/resolv.conf");
}

TEST(NetworkCollector, DnsFromResolvConf) {
  EXPECT_EQ(dns_from_resolv_conf("nameserver 127.0.0.53\nsearch lan\n",
                                 std::string("nameserver 10.0.0.1\n"))["servers"],
            json({"10.0.0.1"}));
  EXPECT_EQ(dns_from_resolv_conf("nameserver 127.0.0.53\nsearch lan\n",
                                 std::string("nameserver 10.0.0.1\n"))["search"],
            json({"lan"}));
  // Not the stub: the upstream file is not consulted.
  EXPECT_EQ(dns_from_resolv_conf("nameserver 9.9.9.9\n", std::string("nameserver 10.0.0.1\n")),
            json::parse(R"({"servers":["9.9.9.9"],"search":[],"source":"/etc/resolv.conf"})"));
}

TEST(NetworkCollector, GarbageNeverThrows) {
  json network;
  ASSERT_NO_THROW(network = collect_network(context_for("garbage")));
  ASSERT_NO_THROW(network.dump(-1, ' ', false, json::error_handler_t::replace));
  const auto& eth0 = network["interfaces"][0];
  EXPECT_TRUE(eth0["speed_mbps"].is_null());
  EXPECT_TRUE(eth0["stats"]["rx_bytes"].is_null());
  EXPECT_TRUE(eth0["stats"]["tx_bytes"].is_null());
  EXPECT_EQ(network["default_routes"], json::array());
  EXPECT_EQ(network["listening"], json::array());
}

}  // namespace
}  // namespace tether::agent::diag
