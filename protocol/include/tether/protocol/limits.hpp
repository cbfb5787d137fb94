#pragma once
/// Hard limits of the wire protocol. protocol/SPEC.md lists each with its reason.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace tether::protocol {

/// Protocol version spoken by this build, sent in `hello`.
inline constexpr int kProtocolVersion = 1;

/// Largest control (JSON text) message accepted on an agent connection.
inline constexpr std::size_t kMaxControlMessageBytes = 4 * 1024 * 1024;
/// Largest binary channel frame (header + payload).
inline constexpr std::size_t kMaxChannelFrameBytes = 64 * 1024;
/// Most channels open at once on one connection.
inline constexpr std::size_t kMaxChannelsPerConnection = 64;
/// Largest HTTP request header block accepted by the relay.
inline constexpr std::size_t kMaxHttpHeaderBytes = 8 * 1024;
/// Largest REST request body accepted by the relay.
inline constexpr std::size_t kMaxHttpBodyBytes = 1024 * 1024;
/// Largest REST response body the console accepts (diagnostics snapshots are the biggest).
inline constexpr std::size_t kMaxHttpResponseBytes = 16 * 1024 * 1024;
/// Longest string field in a control message (titles, notes, names).
inline constexpr std::size_t kMaxTextField = 16 * 1024;
/// Most sections an inventory report may name.
inline constexpr std::size_t kMaxInventorySections = 64;

/// Time allowed for TCP accept → TLS handshake → WebSocket upgrade → hello.
inline constexpr std::chrono::seconds kHandshakeTimeout{10};
/// Connection closed when nothing arrives for this long (pings are sent at half of it).
inline constexpr std::chrono::seconds kIdleTimeout{60};
/// How long the relay waits for an agent to answer a request (diagnostics and the like).
inline constexpr std::chrono::seconds kAgentRequestTimeout{30};
/// How long the relay waits for the end user's consent.
inline constexpr std::chrono::seconds kConsentTimeout{120};

}  // namespace tether::protocol
