#pragma once
// Who a managed agent is: its client certificate (mutual TLS, SPEC §1.4.1) checked against
// the device registry before the relay reads a word from it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/awaitable.hpp>

#include "tether/protocol/error.hpp"
#include "tether/protocol/tls.hpp"

namespace tether::relay {

struct RelayContext;

/// "D-7" → 7; nullopt for anything else.
std::optional<std::int64_t> parse_device_number(std::string_view text);
/// 7 → "D-7".
std::string device_number(std::int64_t id);

/// The device a client certificate names: CN=D-<n> and, when present, every
/// URI:urn:tether:device:D-<n> agreeing with it. nullopt when it names none or disagrees.
std::optional<std::int64_t> certificate_device(const protocol::PeerCertificate& peer);

/// Why a certificate does not admit a managed connection.
struct DeviceRefusal {
  protocol::Error error;
  std::string message;
};

/// An admitted device and the group it enrolled into.
struct AdmittedDevice {
  std::int64_t id = 0;
  std::string group;
};

/// Checks `peer` in the order of SPEC §1.4.1: presented, valid now, issued by this relay's
/// CA, names a device, the device exists and is not revoked, and the certificate is its
/// current one (or the one before its last renewal, until the new one is first used).
boost::asio::awaitable<std::variant<AdmittedDevice, DeviceRefusal>> authenticate_device(
    RelayContext& context, const protocol::PeerCertificate& peer);

}  // namespace tether::relay
