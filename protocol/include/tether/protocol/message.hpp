#pragma once
/// Control messages: the JSON text messages on an agent connection (protocol/SPEC.md §3).
///
/// `parse_message` is the only way untrusted text becomes a `Message`. It validates the
/// whole message strictly (size, nesting depth, required fields and their types, string
/// lengths, no unknown fields) and never throws; `encode` is its exact inverse.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "tether/protocol/tls.hpp"

namespace tether::protocol {

/// Agent → relay, first message on every connection.
struct Hello {
  struct Agent {
    std::string version;   ///< Agent build, e.g. "0.1.0".
    std::string hostname;  ///< The PC's host name.
    std::string os;        ///< Human OS name, e.g. "Debian GNU/Linux 12 (bookworm)".
    bool operator==(const Agent&) const = default;
  };
  /// Sent when reconnecting: proves the agent holds a code it was given earlier.
  struct Resume {
    std::string code;    ///< The 9 digits.
    std::string secret;  ///< The secret that came with the code in `welcome`.
    bool operator==(const Resume&) const = default;
  };
  int version = 0;
  std::string role;  ///< "agent".
  std::string mode;  ///< "attended" (the user asked for help) or "managed" (an enrolled device).
  Agent agent;
  std::optional<Resume> resume;
  std::optional<std::string> device;  ///< "D-7": required with mode "managed", else absent.
  bool operator==(const Hello&) const = default;
};

/// Relay → agent, answer to `hello`.
struct Welcome {
  int version = 0;
  std::string support_code;           ///< 9 digits, no spaces.
  std::string expires_at;             ///< ISO 8601 UTC, when an unused code stops working.
  std::optional<std::string> secret;  ///< For `hello.resume`; only on a new code.
  bool resumed = false;               ///< True when the agent's earlier code was resumed.
  /// "D-7" when answering a managed hello; support_code and expires_at are then empty.
  std::optional<std::string> device;
  bool operator==(const Welcome&) const = default;
};

/// Ticket a session is for, as shown to the end user.
struct TicketRef {
  std::string number;  ///< "T-12".
  std::string title;
  bool operator==(const TicketRef&) const = default;
};

/// Relay → agent: a technician asks to join; the user must consent.
struct JoinRequest {
  std::string id;          ///< Request id; the `consent` answer carries it back.
  std::string session;     ///< "S-4".
  std::string technician;  ///< Display name of the technician.
  TicketRef ticket;
  std::vector<std::string> scopes;  ///< What the technician asks for, e.g. "diagnostics".
  /// Only to a managed agent, for an unattended session: whose consent the device's group
  /// policy wants: "always" (ask a logged-in user; refuse when nobody can answer),
  /// "if_user_present" (ask when a user is logged in, else go ahead) or "never".
  std::optional<std::string> consent;
  bool operator==(const JoinRequest&) const = default;
};

/// Agent → relay: the user's answer to a `join_request`.
struct Consent {
  std::string id;
  std::string session;
  bool granted = false;
  std::vector<std::string> scopes;  ///< Granted scopes (empty when refused).
  std::string by;                   ///< Local account that answered.
  bool operator==(const Consent&) const = default;
};

/// Relay → agent: collect a diagnostics snapshot.
struct DiagRequest {
  std::string id;
  std::string session;
  std::vector<std::string> sections;  ///< Empty means all sections.
  bool operator==(const DiagRequest&) const = default;
};

/// Agent → relay: the snapshot asked for by `diag_request` `id`.
struct DiagResult {
  std::string id;
  std::string session;
  nlohmann::json snapshot;  ///< A JSON object (docs/diagnostics.md).
  bool operator==(const DiagResult&) const = default;
};

/// Either way: the session is over. An empty `session` means the whole connection.
struct SessionEnd {
  std::string session;
  std::string reason;
  std::string by;
  bool operator==(const SessionEnd&) const = default;
};

/// Either way: something went wrong. `id` names the request it answers, if any.
struct ErrorMessage {
  std::string code;  ///< Wire name of an `Error`, e.g. "forbidden".
  std::string message;
  std::optional<std::string> id;
  bool operator==(const ErrorMessage&) const = default;
};

/// Relay → agent (and console → relay): open a multiplexed channel for a tool (binary frames
/// carry its data, see frame.hpp). The agent answers `channel_accept` or `channel_close`.
struct ChannelOpen {
  std::uint32_t channel = 0;  ///< Chosen by the opener; odd from the relay, even from the agent.
  std::string session;
  std::string kind;          ///< The tool, e.g. "shell", "exec", "file.get" (SPEC.md §4.3).
  std::uint32_t window = 0;  ///< Bytes the opener may receive before granting credit.
  nlohmann::json params = nlohmann::json::object();  ///< Per kind (SPEC.md §4.3).
  bool operator==(const ChannelOpen&) const = default;
};

/// Agent → relay (relay → console): the channel is open; `window` is what the acceptor may
/// receive before granting credit.
struct ChannelAccept {
  std::uint32_t channel = 0;
  std::uint32_t window = 0;
  nlohmann::json params = nlohmann::json::object();  ///< Per kind, e.g. a resume offset.
  bool operator==(const ChannelAccept&) const = default;
};

/// Either way: out-of-band control for an open channel (a terminal resize, a signal).
struct ChannelControl {
  std::uint32_t channel = 0;
  nlohmann::json control = nlohmann::json::object();
  bool operator==(const ChannelControl&) const = default;
};

/// Either way: the channel is closed; no more frames for it. A refusal or a failure carries
/// an error `code`; a tool that finished carries its `result` (exit code, hash, ...).
struct ChannelClose {
  std::uint32_t channel = 0;
  std::string reason;
  std::optional<std::string> code;                   ///< Wire name of an Error when it failed.
  nlohmann::json result = nlohmann::json::object();  ///< Per kind (SPEC.md §4.3).
  bool operator==(const ChannelClose&) const = default;
};

/// Section name → "sha256:<64 hex>" of an inventory section (inventory_section_hash).
using SectionHashes = std::map<std::string, std::string>;

/// R→A, managed agents only: "send your inventory". `known` holds the hashes of the
/// sections the relay has stored; the agent sends only sections whose hash differs. With
/// `full` the agent sends every section whatever the relay holds.
struct InventoryRequest {
  std::string id;
  bool full = false;
  SectionHashes known;
  bool operator==(const InventoryRequest&) const = default;
};

/// A→R: the device's inventory as a delta. `hashes` names every section the device has now;
/// `sections` carries the content of those the relay did not hold (all of them when `full`);
/// a stored section missing from `hashes` was removed. `live` carries the figures left out
/// of the hashed sections (free space, battery state …) and the findings, always whole.
struct InventoryReport {
  std::string id;  ///< The request's id, or the agent's own for a scheduled report.
  std::string device;
  std::string collected_at;
  bool full = false;
  SectionHashes hashes;
  nlohmann::json sections = nlohmann::json::object();
  nlohmann::json live = nlohmann::json::object();
  bool operator==(const InventoryReport&) const = default;
};

/// R→A: the report was stored in full; `hashes` is what the relay now holds.
struct InventoryAck {
  std::string id;
  SectionHashes hashes;
  bool operator==(const InventoryAck&) const = default;
};

/// A→R, managed agents: a certificate signing request (PEM) for the device's own key, sent
/// when its certificate nears its end.
struct CertificateRenew {
  std::string id;
  std::string csr;
  bool operator==(const CertificateRenew&) const = default;
};

/// R→A: the renewed certificate (PEM) and when it expires.
struct CertificateIssued {
  std::string id;
  std::string certificate;
  std::string expires_at;
  bool operator==(const CertificateIssued&) const = default;
};

using Message = std::variant<Hello, Welcome, JoinRequest, Consent, DiagRequest, DiagResult,
                             SessionEnd, ErrorMessage, ChannelOpen, ChannelClose, ChannelAccept,
                             ChannelControl, InventoryRequest, InventoryReport, InventoryAck,
                             CertificateRenew, CertificateIssued>;

/// "sha256:<64 hex>" over the canonical dump of an inventory section: keys sorted, no white
/// space, invalid UTF-8 replaced by U+FFFD. Agent and relay compute it alike.
std::string inventory_section_hash(const nlohmann::json& section);

/// Deepest JSON nesting accepted in a control message (snapshots included).
inline constexpr int kMaxJsonDepth = 64;

/// Parses and validates one control message. Errors: message_too_large, bad_json,
/// bad_message (missing, mistyped, over-long or unknown field), unknown_type,
/// unsupported_version (a `hello`/`welcome` with another version). Never throws.
Result<Message> parse_message(std::string_view text) noexcept;

/// Serialises a message; `parse_message(encode(m)) == m` for every valid message.
std::string encode(const Message& message);

/// The wire "type" of a message, e.g. "join_request".
std::string_view type_name(const Message& message) noexcept;

/// True when the brackets in `text` nest no deeper than `max_depth` (strings are skipped).
/// A cheap pre-check that
/// keeps recursive JSON code (dump, compare) away from hostile input.
bool json_depth_within(std::string_view text, int max_depth) noexcept;

}  // namespace tether::protocol
