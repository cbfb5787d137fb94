// tether-agent: `support` starts an attended support session; `diag` prints this PC's
// diagnostics without any relay.
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "tether/agent/diag/snapshot.hpp"
#include "tether/agent/support_session.hpp"

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

  std::string format = "json", out_file;
  std::vector<std::string> sections;
  auto* diag = app.add_subcommand("diag", "Print this PC's diagnostics (no relay needed)");
  diag->add_option("--format", format, "Output format")->check(CLI::IsMember({"json"}));
  diag->add_option("--out", out_file, "Write to this file instead of standard output");
  diag->add_option("--section", sections, "Only these sections (repeatable)");

  CLI11_PARSE(app, argc, argv);

  if (*diag) {
    const auto snapshot =
        tether::agent::diag::collect_snapshot({.root = "/", .sections = sections});
    if (out_file.empty()) {
      std::cout << snapshot.dump(2) << "\n";
      return 0;
    }
    std::ofstream out(out_file);
    if (!(out << snapshot.dump(2) << "\n")) {
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
