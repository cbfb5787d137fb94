#pragma once
/// A configured webhook receiver: the entries of the "webhooks" array in relay.json, checked
/// and resolved (secret files read, URL split), plus the pure rules that depend only on it:
/// which events it wants and when a failed delivery is tried again.
///
/// relay.json:
/// ```
/// "webhooks": [
///   {"name": "glpi",                          // [a-z0-9_-]{1,32}, unique; shown in the log
///    "url": "https://glpi.example.com:443/front/tether.php",  // https:// or http://
///    "secret": "at least 16 characters",      // or "secret_file": "/etc/tether/glpi.secret"
///    "events": ["ticket.*", "session.*", "sla.breached"],      // default ["*"]
///    "timeout_ms": 5000,                      // 100..60000: connect + request + response
///    "max_attempts": 10,                      // 1..100, then the delivery is "failed"
///    "retry_base_ms": 2000,                   // 100..3600000: ceiling of the first retry
///    "retry_max_ms": 600000,                  // retry_base_ms..86400000: ceiling of any retry
///    "ca_file": "/etc/tether/glpi-ca.pem"}    // optional (https only): the only CAs trusted
/// ]
/// ```
/// Relative `secret_file` and `ca_file` paths are relative to the relay's data directory. A
/// secret file holds the secret on its first line (a trailing newline is ignored). Without
/// `ca_file`, https receivers are verified against the system's CA store; the host name (or IP
/// address) in the URL is always verified against the certificate.
///
/// Events: each pattern is "*" (everything), "prefix.*" (every kind starting with "prefix.",
/// e.g. "ticket.*" or "diagnostics.*") or an exact kind ("sla.breached"). Kinds are the
/// timeline kinds: ticket.created, ticket.updated, ticket.priority_changed, ticket.assigned,
/// ticket.escalated, ticket.deescalated, ticket.note, ticket.status, ticket.reopened,
/// sla.breached, faq.linked, session.requested, consent.granted, consent.refused,
/// session.ended, diagnostics.snapshot, diagnostics.diff, command.run and the other tool
/// actions.
///
/// Retries: after the n-th failed attempt (n >= 1) the next one waits a uniform random time in
/// [0, min(retry_max_ms, retry_base_ms * 2^(n-1))] ("full jitter"), so a receiver coming back
/// from an outage is not hit by every queued delivery at once.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::relay {

struct WebhookTarget {
  std::string name;
  std::string url;           ///< As configured, for messages.
  bool tls = true;           ///< https (true) or http.
  std::string host;          ///< Name or IP address, without IPv6 brackets.
  std::string port;          ///< Decimal; 443 / 80 when the URL names none.
  std::string target = "/";  ///< Path and query sent in the request line.
  std::string secret;        ///< The HMAC key (from "secret" or the first line of "secret_file").
  std::vector<std::string> events{"*"};
  std::chrono::milliseconds timeout{5000};
  int max_attempts = 10;
  std::chrono::milliseconds retry_base{2000};
  std::chrono::milliseconds retry_max{600000};
  std::filesystem::path ca_file;  ///< Empty: the system's CA store.

  /// "host:port" with brackets around IPv6 addresses, for the Host header.
  std::string authority() const;
  /// True when `kind` matches one of `events`.
  bool wants(std::string_view kind) const;
};

/// Checks and resolves the "webhooks" value of relay.json (null or absent: no webhooks).
/// Unknown keys, wrong types, out-of-range values, bad URLs, duplicate names, short secrets
/// and unreadable secret files throw std::invalid_argument with a message naming the entry,
/// e.g. `webhooks[1].secret must be at least 16 characters`. Reads secret files (not the CA
/// file, which is loaded when the dispatcher starts).
std::vector<WebhookTarget> parse_webhook_targets(const nlohmann::json& webhooks,
                                                 const std::filesystem::path& data_dir);

/// True when the event pattern ("*", "prefix.*" or an exact kind) matches `kind`.
bool event_matches(std::string_view pattern, std::string_view kind);

/// Ceiling of the wait after the `attempts`-th failed attempt (attempts >= 1):
/// min(retry_max, retry_base * 2^(attempts-1)), without overflow for any attempts.
std::chrono::milliseconds retry_ceiling(const WebhookTarget& target, int attempts);

/// A uniform random wait in [0, retry_ceiling(target, attempts)].
std::chrono::milliseconds retry_delay(const WebhookTarget& target, int attempts,
                                      std::mt19937_64& random);

}  // namespace tether::relay
