// Checks over network: default gateway, DNS resolvers, interface error and drop rates.

#include "diag/findings/checks.hpp"

namespace tether::agent::diag::findings {
namespace {

bool is_loopback(const json& interface) {
  return text(interface, "type") == std::string_view("loopback") ||
         text(interface, "name") == std::string_view("lo");
}

bool is_wireless(const json& interface) {
  return text(interface, "type") == std::string_view("wireless") ||
         member(interface, "wifi") != nullptr;
}

// The first address that can reach beyond the link: any IPv4, or IPv6 outside fe80::/10.
std::optional<std::string> routable_address(const json& interface) {
  const json* addresses = array(interface, "addresses");
  if (addresses == nullptr) return std::nullopt;
  for (const json& address : *addresses) {
    const auto family = text(address, "family");
    const auto value = text(address, "address");
    if (!family || !value || value->empty()) continue;
    if (*family == "ipv6" && (value->substr(0, 4) == "fe80" || value->substr(0, 4) == "FE80")) {
      continue;
    }
    std::string out(*value);
    if (auto prefix = number(address, "prefix")) out += "/" + format_number(*prefix, 0);
    return out;
  }
  return std::nullopt;
}

struct Rate {
  double events = 0;
  double packets = 0;
};

// Counts of `rx_key` + `tx_key` over rx + tx packets since boot; nullopt when not reported.
std::optional<Rate> rate(const json& interface, const char* rx_key, const char* tx_key) {
  const json* stats = member(interface, "stats");
  if (stats == nullptr) return std::nullopt;
  const auto rx_packets = number(*stats, "rx_packets");
  const auto tx_packets = number(*stats, "tx_packets");
  const auto rx = number(*stats, rx_key);
  const auto tx = number(*stats, tx_key);
  if (!rx_packets || !tx_packets || (!rx && !tx)) return std::nullopt;
  return Rate{rx.value_or(0) + tx.value_or(0), *rx_packets + *tx_packets};
}

json stats_evidence(const json& interface, std::string_view name) {
  json evidence = {{"interface", name}};
  if (const json* stats = member(interface, "stats")) evidence["stats"] = *stats;
  if (auto type = text(interface, "type")) evidence["type"] = *type;
  return evidence;
}

// Shared by the error and drop checks: one finding per interface over its limit.
void check_interface_rate(Check& check, const char* rx_key, const char* tx_key,
                          std::string_view what,
                          double (*warning_of)(const Thresholds&, const json&), double critical_pct,
                          std::string_view hint_wired, std::string_view hint_wireless) {
  const json* interfaces = check.find_array("network.interfaces");
  if (interfaces == nullptr) return;
  const Thresholds& t = check.limits();
  int with_stats = 0;
  int judged = 0;
  for (const json& interface : *interfaces) {
    const auto name = text(interface, "name");
    if (!name || is_loopback(interface)) continue;
    const auto counted = rate(interface, rx_key, tx_key);
    if (!counted) continue;
    ++with_stats;
    if (counted->packets < t.interface_min_packets) continue;
    ++judged;
    const double pct = *percent(counted->events, counted->packets);
    const double warning = warning_of(t, interface);
    Severity severity = Severity::ok;
    if (pct > critical_pct) {
      severity = Severity::critical;
    } else if (pct > warning) {
      severity = Severity::warning;
    }
    if (severity == Severity::ok) continue;
    json evidence = stats_evidence(interface, *name);
    evidence["pct"] = pct;
    check.report(severity,
                 std::string(*name) + " " + std::string(what) + " " + format_pct(pct) +
                     " of packets (" + format_number(counted->events, 0) + " in " +
                     format_number(counted->packets, 0) + " since boot)",
                 std::string(is_wireless(interface) ? hint_wireless : hint_wired),
                 std::move(evidence));
  }
  if (with_stats == 0) {
    check.note_missing("no interface in network.interfaces reports packet counters");
    return;
  }
  if (check.findings().empty()) {
    check.report(Severity::ok,
                 judged == 0
                     ? "Too little traffic since boot to judge (under " +
                           format_number(t.interface_min_packets, 0) + " packets per interface)"
                     : std::string("No interface ") + std::string(what) +
                           " a notable share of packets (" +
                           count_of(judged, "interface", "interfaces") + " judged)",
                 "Nothing to do.", json::object());
  }
}

}  // namespace

void check_gateway(Check& check) {
  const json* interfaces = check.find_array("network.interfaces");
  const json* routes = check.find_array("network.default_routes");
  if (interfaces == nullptr || routes == nullptr) return;
  std::vector<std::string> connected;
  json up = json::array();
  for (const json& interface : *interfaces) {
    const auto name = text(interface, "name");
    if (!name || is_loopback(interface)) continue;
    if (boolean(interface, "virtual").value_or(false)) continue;  // bridges, docker0, VPN taps
    if (text(interface, "state") != std::string_view("up")) continue;
    const auto address = routable_address(interface);
    if (!address) continue;
    connected.push_back(std::string(*name) + " (" + *address + ")");
    up.push_back({{"interface", *name}, {"address", *address}});
  }
  json evidence = {{"default_routes", *routes}, {"connected", up}};
  std::vector<std::string> gateways;
  for (const json& route : *routes) {
    const auto gateway = text(route, "gateway");
    if (!gateway) continue;
    std::string described(*gateway);
    if (auto via = text(route, "interface")) described += " via " + std::string(*via);
    gateways.push_back(std::move(described));
  }
  if (!routes->empty()) {
    check.report(Severity::ok,
                 gateways.empty() ? std::string("A default route is set")
                                  : "Default gateway " + join_names(gateways, 2),
                 "Nothing to do.", std::move(evidence));
    return;
  }
  if (connected.empty()) {
    check.report(Severity::info, "No network interface is connected",
                 "Check the cable or the Wi-Fi connection, and that networking is not turned off "
                 "(airplane mode, `nmcli networking on`).",
                 std::move(evidence));
    return;
  }
  check.report(Severity::warning,
               "No default gateway, although " + join_names(connected, 2) + " is up",
               "Only the local network can be reached, not the internet. Check the DHCP server "
               "or the interface's static settings (`ip route`, `nmcli device show`); on Wi-Fi, "
               "reconnect.",
               std::move(evidence));
}

void check_dns(Check& check) {
  const json* servers = check.find_array("network.dns.servers");
  if (servers == nullptr) return;
  std::vector<std::string> names;
  for (const json& server : *servers) {
    if (server.is_string() && !server.get_ref<const std::string&>().empty()) {
      names.push_back(server.get<std::string>());
    }
  }
  json evidence = {{"servers", names}};
  const json* dns = check.find_object("network.dns");
  if (auto source = text(*dns, "source")) evidence["source"] = *source;
  if (names.empty()) {
    check.report(Severity::warning, "No DNS server is configured",
                 "Names cannot be resolved, so web sites and most services fail even though the "
                 "network works. Check /etc/resolv.conf (or `resolvectl status`) and the DHCP or "
                 "NetworkManager settings of the connection.",
                 std::move(evidence));
    return;
  }
  check.report(Severity::ok,
               count_of(static_cast<double>(names.size()), "DNS server", "DNS servers") +
                   " configured: " + join_names(names, 3),
               "Nothing to do. (Whether they answer is not tested: try `getent hosts "
               "example.com` if names do not resolve.)",
               std::move(evidence));
}

void check_interface_errors(Check& check) {
  check_interface_rate(
      check, "rx_errors", "tx_errors", "has errors on",
      [](const Thresholds& t, const json&) { return t.interface_errors_warning_pct; },
      check.limits().interface_errors_critical_pct,
      "Errors on a wired link mean a bad cable, port or a duplex mismatch: try another cable "
      "and switch port; `ethtool -S <interface>` shows which counter grows.",
      "Errors on Wi-Fi mean a weak signal or interference: move closer to the access point or "
      "use another band; update the Wi-Fi driver and firmware.");
}

void check_interface_drops(Check& check) {
  check_interface_rate(
      check, "rx_dropped", "tx_dropped", "dropped",
      [](const Thresholds& t, const json& interface) {
        return is_wireless(interface) ? t.wireless_drops_warning_pct
                                      : t.interface_drops_warning_pct;
      },
      // Drops only warn, as in Netdata: some are harmless (frames of unknown protocols).
      1e300,
      "The interface threw packets away: its receive queue overflowed, or frames arrived for a "
      "protocol nothing handles (harmless). If connections are slow or break, watch "
      "`ip -s link show <interface>` and enlarge the ring buffers (`ethtool -g`).",
      "Wi-Fi drops packets on a weak or congested link: move closer to the access point or use "
      "another band.");
}

}  // namespace tether::agent::diag::findings
