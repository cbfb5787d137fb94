// tether-agent: `support` starts an attended support session; `diag` reports on this PC's
// health and `inventory` lists what it is made of, both without any relay.
#include <paths.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "tether/agent/consent.hpp"
#include "tether/agent/diag/report_command.hpp"
#include "tether/agent/managed/enrollment.hpp"
#include "tether/agent/managed/service.hpp"
#include "tether/agent/managed/state_dir.hpp"
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
  app.fallthrough();  // --config may come after the subcommand too

  std::string relay, fingerprint, ca_file, consent = "ask";
  auto* support = app.add_subcommand("support", "Start an attended support session");
  support->add_option("--relay", relay, "Relay address, wss://HOST:PORT")->required();
  support->add_option("--fingerprint", fingerprint, "Relay CA fingerprint, SHA256:<hex>");
  support->add_option("--ca", ca_file, "Relay CA certificate file (PEM)");
  support->add_option("--consent", consent, "ask: prompt the user; auto: grant (stated on screen)")
      ->check(CLI::IsMember({"ask", "auto"}));
  std::string grant = "diagnostics,shell,files,processes,logs", files_root;
  std::uint64_t max_file_bytes = 4ULL << 30;
  support->add_option("--grant", grant,
                      "With --consent auto: the scopes to grant (comma-separated; default all)");
  support->add_option("--files-root", files_root,
                      "Folder the technician may copy files in and out of (default: your home)");
  support->add_option("--max-file-size", max_file_bytes,
                      "Largest file the technician may copy, "
                      "in bytes (default 4 GiB)");

  std::string enroll_token, state_dir;
  bool enroll_force = false;
  auto* enroll = app.add_subcommand("enroll", "Make this PC a managed device (once)");
  enroll->add_option("--relay", relay, "Relay address, wss://HOST:PORT")->required();
  enroll->add_option("--fingerprint", fingerprint, "Relay CA fingerprint, SHA256:<hex>");
  enroll->add_option("--ca", ca_file, "Relay CA certificate file (PEM)");
  enroll->add_option("--token", enroll_token, "Enrollment token from `tether-relay token create`")
      ->required();
  enroll->add_option("--state-dir", state_dir,
                     "Where the key and certificate go (default /var/lib/tether-agent as root, "
                     "else ~/.local/state/tether-agent)");
  enroll->add_flag("--force", enroll_force, "Replace an existing enrollment");
  std::string enroll_root = "/";
  enroll->add_option("--root", enroll_root,
                     "Read the machine's identity under this directory (a mounted "
                     "installation); default /");

  std::string service_state_dir;
  std::int64_t max_retry_delay_ms = 60000;
  auto* service = app.add_subcommand("service", "Keep this enrolled PC connected to its relay");
  service->add_option("--state-dir", service_state_dir,
                      "The enrollment to use (default /var/lib/tether-agent as root, else "
                      "~/.local/state/tether-agent)");
  service
      ->add_option("--max-retry-delay-ms", max_retry_delay_ms,
                   "Longest wait between reconnection attempts (default 60000)")
      ->check(CLI::Range(std::int64_t{1000}, std::int64_t{3600000}));
  std::string service_utmp = _PATH_UTMP, inventory_interval = "6h", service_files_root;
  std::int64_t renew_before_days = 0;
  service->add_option("--utmp", service_utmp,
                      "Where logins are recorded, for the consent policy (default " _PATH_UTMP ")");
  service->add_option("--inventory-interval", inventory_interval,
                      "Between inventory reports, e.g. 6h (default), 30m, 1d; jittered by 10 %");
  service
      ->add_option("--renew-before", renew_before_days,
                   "Renew the certificate this many days before it expires (default: when a "
                   "third of its lifetime is left)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3650}));
  service->add_option("--files-root", service_files_root,
                      "Folder a technician may copy files in and out of in an unattended "
                      "session (default: the service account's home)");

  namespace diag_ns = tether::agent::diag;
  diag_ns::ReportCommand report;
  std::string config_file;
  app.add_option("--config", config_file,
                 std::string("Agent configuration (TOML); default ") + diag_ns::kDefaultConfigFile +
                     " when it exists");
  auto* diag = app.add_subcommand("diag", "Report on this PC's health (no relay needed)");
  diag->add_option("--format", report.format, "text (default), json or html")
      ->check(CLI::IsMember({"text", "json", "html"}));
  diag->add_option("--out", report.out, "Write to this file instead of standard output");
  diag->add_option("--section", report.sections, "Only these sections (repeatable)");
  diag->add_flag("--redact", report.redact,
                 "Remove serial numbers, MAC addresses, user and host names");
  diag->add_option("--input", report.input, "Render a snapshot saved as JSON instead of this PC");
  std::string inventory_format = "json";
  auto* inventory = app.add_subcommand("inventory", "Print this PC's inventory (no relay needed)");
  inventory->add_option("--format", inventory_format, "json (default) or glpi")
      ->check(CLI::IsMember({"json", "glpi"}));
  inventory->add_option("--out", report.out, "Write to this file instead of standard output");
  inventory->add_option("--input", report.input, "Map a snapshot saved as JSON instead of this PC");

  CLI11_PARSE(app, argc, argv);

  const auto thresholds = diag_ns::thresholds_from_config(config_file, std::cerr);
  if (!thresholds) return 2;
  if (*diag || *inventory) {
    report.thresholds = *thresholds;
    if (*inventory) {
      report.kind = diag_ns::ReportCommand::Kind::inventory;
      report.format = inventory_format;
    }
    return diag_ns::run_report_command(report, std::cout, std::cerr);
  }

  if (*service) {
    namespace managed = tether::agent::managed;
    managed::ServiceOptions options;
    options.state_dir = service_state_dir.empty() ? managed::default_state_dir()
                                                  : std::filesystem::path(service_state_dir);
    options.retry_cap = std::chrono::milliseconds(max_retry_delay_ms);
    options.utmp = service_utmp;
    const auto interval = managed::parse_interval(inventory_interval);
    if (!interval) {
      std::cerr << "tether-agent: --inventory-interval takes a duration such as 6h, 30m, 90s or "
                   "1d (1 s to 365 days)\n";
      return 2;
    }
    options.inventory_interval = *interval;
    if (renew_before_days > 0) options.renew_before = std::chrono::hours(24 * renew_before_days);
    options.thresholds = *thresholds;
    options.files_root = service_files_root.empty() ? tether::agent::home_directory()
                                                    : std::filesystem::path(service_files_root);
    return managed::run_service(options, std::cerr);
  }

  auto url = tether::protocol::RelayUrl::parse(relay);
  if (!url) {
    std::cerr << "tether-agent: --relay must look like wss://HOST:PORT (TLS only), got " << relay
              << "\n";
    return 2;
  }
  auto trust = trust_from(fingerprint, ca_file);
  if (!trust) return 2;
  if (*enroll) {
    namespace managed = tether::agent::managed;
    managed::EnrollOptions options{*url, *trust, relay, fingerprint, ca_file, enroll_token};
    options.state_dir =
        state_dir.empty() ? managed::default_state_dir() : std::filesystem::path(state_dir);
    options.force = enroll_force;
    options.root = enroll_root;
    return managed::run_enroll(options, std::cout, std::cerr);
  }
  auto granted = tether::agent::parse_scope_list(grant);
  if (!granted) {
    std::cerr
        << "tether-agent: --grant takes scopes among diagnostics,shell,files,processes,logs\n";
    return 2;
  }
  tether::agent::SupportOptions options{
      *url,
      *trust,
      consent == "auto" ? tether::agent::ConsentMode::auto_grant : tether::agent::ConsentMode::ask,
      &std::cin,
      &std::cout,
      *thresholds};
  options.grant = *granted;
  options.files_root =
      files_root.empty() ? tether::agent::home_directory() : std::filesystem::path(files_root);
  options.max_file_bytes = max_file_bytes;
  return tether::agent::run_support(options);
}
