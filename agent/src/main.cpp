// tether-agent: `support` starts an attended support session; `diag` reports on this PC's
// health and `inventory` lists what it is made of, both without any relay.
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "tether/agent/diag/glpi_inventory.hpp"
#include "tether/agent/diag/inventory.hpp"
#include "tether/agent/diag/redact.hpp"
#include "tether/agent/diag/snapshot.hpp"
#include "tether/agent/support_session.hpp"
#include "tether/protocol/diag_report.hpp"

namespace {

/// Reads --fingerprint or --ca into a trust anchor; exits with one clear line when neither
/// is given or the value is malformed.
std::optional<tether::protocol::TrustAnchor> trust_from(const std::string& fingerprint,
                                                        const std::string& ca_file) {
  using tether::protocol::TrustAnchor;
  if (!fingerprint.empty()) {
    auto trust = TrustAnchor::from_fingerprint(fingerprint);
    if (!trust) std::cerr << "tether-agent: --fingerprint must look like SHA256:<64 hex digits>\n";
    return trust ? std::optional(*trust) : std::nullopt;
  }
  if (!ca_file.empty()) {
    auto trust = TrustAnchor::from_ca_file(ca_file);
    if (!trust) std::cerr << "tether-agent: cannot read a CA certificate from " << ca_file << "\n";
    return trust ? std::optional(*trust) : std::nullopt;
  }
  std::cerr << "tether-agent: give the relay's --fingerprint SHA256:… or --ca FILE; "
               "Tether never connects to an unverified relay\n";
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tether-agent: Tether's agent on the user's PC"};
  app.set_version_flag("--version", std::string(TETHER_VERSION));
  app.require_subcommand(1);

  std::string relay, fingerprint, ca_file, consent = "ask";
  auto* support = app.add_subcommand("support", "Start an attended support session");
  support->add_option("--relay", relay, "Relay address, wss://HOST:PORT")->required();
  support->add_option("--fingerprint", fingerprint, "Relay CA fingerprint, SHA256:<hex>");
  support->add_option("--ca", ca_file, "Relay CA certificate file (PEM)");
  support->add_option("--consent", consent, "ask: prompt the user; auto: grant (stated on screen)")
      ->check(CLI::IsMember({"ask", "auto"}));

  std::string format = "text", inventory_format = "json", out_file, input_file;
  std::vector<std::string> sections;
  bool redact = false;
  auto* diag = app.add_subcommand("diag", "Report on this PC's health (no relay needed)");
  diag->add_option("--format", format, "text (default), json or html")
      ->check(CLI::IsMember({"text", "json", "html"}));
  diag->add_option("--out", out_file, "Write to this file instead of standard output");
  diag->add_option("--section", sections, "Only these sections (repeatable)");
  diag->add_flag("--redact", redact, "Remove serial numbers, MAC addresses, user and host names");
  diag->add_option("--input", input_file, "Render a snapshot saved as JSON instead of this PC");
  auto* inventory = app.add_subcommand("inventory", "Print this PC's inventory (no relay needed)");
  inventory->add_option("--format", inventory_format, "json (default) or glpi")
      ->check(CLI::IsMember({"json", "glpi"}));
  inventory->add_option("--out", out_file, "Write to this file instead of standard output");
  inventory->add_option("--input", input_file, "Map a snapshot saved as JSON instead of this PC");

  CLI11_PARSE(app, argc, argv);

  namespace diag_ns = tether::agent::diag;
  if (*diag || *inventory) {
    nlohmann::json snapshot;
    if (!input_file.empty()) {
      std::ifstream in(input_file);
      snapshot = nlohmann::json::parse(in, nullptr, false);
      if (!in || snapshot.is_discarded()) {
        std::cerr << "tether-agent: " << input_file << " is not a readable JSON snapshot\n";
        return 1;
      }
    } else if (*inventory) {
      snapshot = diag_ns::collect_snapshot(
          {.root = "/", .sections = diag_ns::inventory_sections(), .findings = false});
    } else {
      snapshot = diag_ns::collect_snapshot({.root = "/", .sections = sections});
    }
    std::string text;
    if (*inventory) {
      text = inventory_format == "glpi"
                 ? diag_ns::to_glpi_inventory(
                       snapshot, diag_ns::local_glpi_options(std::chrono::system_clock::now()))
                       .dump(2)
                 : diag_ns::make_inventory(snapshot).dump(2);
    } else {
      if (redact) snapshot = diag_ns::redact_snapshot(snapshot);
      text = format == "html" ? tether::protocol::render_diagnostics_html(snapshot)
             : format == "text"
                 ? tether::protocol::render_diagnostics_text(snapshot)
                 : snapshot.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    if (!text.empty() && text.back() != '\n') text += '\n';
    if (out_file.empty()) return (std::cout << text) ? 0 : 1;
    std::ofstream out(out_file, std::ios::binary);
    if (!(out << text)) {
      std::cerr << "tether-agent: cannot write " << out_file << "\n";
      return 1;
    }
    return 0;
  }

  auto url = tether::protocol::RelayUrl::parse(relay);
  if (!url) {
    std::cerr << "tether-agent: --relay must look like wss://HOST:PORT (TLS only), got " << relay
              << "\n";
    return 2;
  }
  auto trust = trust_from(fingerprint, ca_file);
  if (!trust) return 2;
  tether::agent::SupportOptions options{
      *url, *trust,
      consent == "auto" ? tether::agent::ConsentMode::auto_grant : tether::agent::ConsentMode::ask,
      &std::cin, &std::cout};
  return tether::agent::run_support(options);
}
