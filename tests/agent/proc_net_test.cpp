// /proc/net tables, resolv.conf, iw output and the socket-owner scan.

#include "diag/collectors/proc_net.hpp"

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

TEST(ProcNet, AddressesInKernelHex) {
  // Little-endian test machines: the kernel prints the network-order word as a native int.
  EXPECT_EQ(ipv4_from_proc_hex("0102A8C0"), "192.168.2.1");
  EXPECT_EQ(ipv4_from_proc_hex("3500007F"), "127.0.0.53");
  EXPECT_EQ(ipv4_from_proc_hex("00000000"), "0.0.0.0");
  EXPECT_EQ(ipv4_from_proc_hex("0102A8C"), std::nullopt);
  EXPECT_EQ(ipv4_from_proc_hex("ZZZZZZZZ"), std::nullopt);
  EXPECT_EQ(ipv6_from_proc_words("00000000000000000000000001000000"), "::1");
  EXPECT_EQ(ipv6_from_proc_words("000080FE00000000FF005452FE123456"), "fe80::5254:ff:5634:12fe");
  EXPECT_EQ(ipv6_from_proc_bytes("fe80000000000000b2f208fffe4c51a2"), "fe80::b2f2:8ff:fe4c:51a2");
  EXPECT_EQ(ipv6_from_proc_bytes("fe80"), std::nullopt);
}

TEST(ProcNet, Ipv4DefaultRoutes) {
  const auto routes = parse_ipv4_default_routes(
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "wlan0\t00000000\t01B2A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
      "eth0\t00000000\t0100140A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
      "wlan0\t00B2A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n"
      "wg0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0\n"
      "eth1\t00000000\t0101A8C0\t0002\t0\t0\t10\t00000000\t0\t0\t0\n");  // not up
  ASSERT_EQ(routes.size(), 3u);
  // Lowest metric first: the route the kernel uses.
  EXPECT_EQ(routes[0]["interface"], "wg0");
  EXPECT_TRUE(routes[0]["gateway"].is_null());
  EXPECT_EQ(
      routes[1],
      json({{"family", "ipv4"}, {"gateway", "10.20.0.1"}, {"interface", "eth0"}, {"metric", 100}}));
  EXPECT_EQ(routes[2]["gateway"], "192.168.178.1");
  EXPECT_EQ(parse_ipv4_default_routes("\xff\xfe garbage\n"), json::array());
}

TEST(ProcNet, Ipv6DefaultRoutesSkipTheUnreachableRouteOnLo) {
  const auto routes = parse_ipv6_default_routes(
      "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
      "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
      "fe80000000000000b2f208fffe4c51a2 00000258 00000001 00000000 00450003    wlan0\n"
      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
      "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n");
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0], json({{"family", "ipv6"},
                             {"gateway", "fe80::b2f2:8ff:fe4c:51a2"},
                             {"interface", "wlan0"},
                             {"metric", 600}}));
}

TEST(ProcNet, ListeningTcpAndUnconnectedUdpOnly) {
  const auto listen = parse_listening_line(
      "   0: 3500007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   991        0 "
      "19876 1 0000000000000000 100 0 0 10 0",
      "tcp");
  ASSERT_TRUE(listen.has_value());
  EXPECT_EQ(listen->address, "127.0.0.53");
  EXPECT_EQ(listen->port, 53);
  EXPECT_EQ(listen->uid, 991u);
  EXPECT_EQ(listen->inode, 19876u);
  // An established connection is not a listener.
  EXPECT_FALSE(
      parse_listening_line("   2: 0AB2A8C0:B4C2 8EFB5F22:01BB 01 00000000:00000000 "
                           "00:00000000 00000000  1000        0 51234 1",
                           "tcp"));
  const auto v6 = parse_listening_line(
      "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000  1000        0 41234 1",
      "tcp6");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->address, "::");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_TRUE(
      parse_listening_line("    1: 00000000:14E9 00000000:0000 07 00000000:00000000 "
                           "00:00000000 00000000   101        0 20111 2",
                           "udp"));
  // A connected UDP socket (a DNS client) is not a server.
  EXPECT_FALSE(
      parse_listening_line("    2: 0AB2A8C0:9C4E 01B2A8C0:0035 07 00000000:00000000 "
                           "00:00000000 00000000  1000        0 52001 2",
                           "udp"));
  EXPECT_FALSE(
      parse_listening_line("  sl  local_address rem_address   st tx_queue rx_queue tr "
                           "tm->when retrnsmt   uid  timeout inode",
                           "tcp"));
  EXPECT_FALSE(parse_listening_line("   0: 0100007F:ZZZZ 00000000:0000 0A 0:0 0:0 0 0 0 1", "tcp"));
  EXPECT_FALSE(parse_listening_line("   1: 01007F:0016 00000000:0000 0A 0:0 0:0 0 -5 0 1", "tcp"));
}

TEST(ProcNet, SocketOwnersInOnePass) {
  const auto proc = fs::temp_directory_path() / ("tether-proc-net-" + std::to_string(getpid()));
  fs::remove_all(proc);
  fs::create_directories(proc / "701/fd");
  fs::create_directories(proc / "1/fd");
  fs::create_directories(proc / "self");
  fs::create_symlink("/dev/null", proc / "701/fd/0");
  fs::create_symlink("socket:[15021]", proc / "701/fd/3");
  fs::create_symlink("socket:[15023]", proc / "701/fd/4");
  fs::create_symlink("socket:[12011]", proc / "1/fd/41");
  fs::create_symlink("pipe:[777]", proc / "1/fd/42");
  const auto owners = find_socket_owners(proc, {15021, 12011, 99999}, 4096);
  EXPECT_EQ(owners.pid_of_inode.size(), 2u);
  EXPECT_EQ(owners.pid_of_inode.at(15021), 701);
  EXPECT_EQ(owners.pid_of_inode.at(12011), 1);
  EXPECT_FALSE(owners.denied);
  EXPECT_FALSE(owners.truncated);
  const auto bounded = find_socket_owners(proc, {15021, 12011}, 1);
  EXPECT_TRUE(bounded.truncated);
  EXPECT_LE(bounded.pid_of_inode.size(), 1u);
  fs::remove_all(proc);
}

TEST(ProcNet, PasswdNames) {
  const auto names = parse_passwd_names(
      "root:x:0:0:root:/root:/bin/bash\nsshd:x:105:65534::/run/sshd:/usr/sbin/nologin\n"
      "broken line\nuid:x:notanumber:0::/:/bin/sh\n");
  EXPECT_EQ(names.size(), 2u);
  EXPECT_EQ(names.at(105), "sshd");
}

TEST(ProcNet, WirelessQualityAndSignal) {
  const auto links = parse_proc_wireless(
      "Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE\n"
      " face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22\n"
      "wlp0s20f3: 0000   58.  -52.  -256        0      0      0     14     37        0\n"
      "wlan1: 0000   40.  60.  0        0      0      0     0     0        0\n");
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links.at("wlp0s20f3")["link_quality"], 58);
  EXPECT_EQ(links.at("wlp0s20f3")["signal_dbm"], -52);
  EXPECT_TRUE(links.at("wlan1")["signal_dbm"].is_null());
}

TEST(ProcNet, IwLink) {
  const char* connected =
      "Connected to 04:f0:21:2b:6c:a1 (on wlp0s20f3)\n"
      "\tSSID: Caf\\xc3\\xa9 Guest\n"
      "\tfreq: 5180\n"
      "\tsignal: -61 dBm\n"
      "\trx bitrate: 866.7 MBit/s\n";
  EXPECT_EQ(parse_iw_link_ssid(connected), "Caf\xc3\xa9 Guest");
  EXPECT_EQ(parse_iw_link_signal(connected), -61);
  EXPECT_EQ(parse_iw_link_ssid("Not connected.\n"), std::nullopt);
}

TEST(ProcNet, ResolvConf) {
  const auto conf = parse_resolv_conf(
      "# comment\n; also a comment\n"
      "domain old.example\n"
      "nameserver 10.20.0.2\n"
      "nameserver 2001:db8::53\n"
      "search corp.example.net example.net # trailing\n"
      "options edns0\n"
      "nameserver\n");
  EXPECT_EQ(conf.servers, (std::vector<std::string>{"10.20.0.2", "2001:db8::53"}));
  EXPECT_EQ(conf.search, (std::vector<std::string>{"corp.example.net", "example.net"}));
}

}  // namespace
}  // namespace tether::agent::diag
