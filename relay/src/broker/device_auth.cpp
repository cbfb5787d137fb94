#include "broker/device_auth.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "relay_context.hpp"
#include "tether/relay/certificate_authority.hpp"

namespace tether::relay {

namespace asio = boost::asio;
using protocol::Error;

namespace {

constexpr std::string_view kDeviceUriPrefix = "urn:tether:device:";

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::shared_ptr<const PemCertificate> device_ca(RelayContext& context) {
  if (!context.device_ca_cache) {
    context.device_ca_cache = std::make_shared<const PemCertificate>(PemCertificate{
        read_file(context.config.ca_certificate_file()), read_file(context.config.ca_key_file())});
  }
  return context.device_ca_cache;
}

std::string device_number(std::int64_t id) {
  return "D-" + std::to_string(id);
}

std::optional<std::int64_t> parse_device_number(std::string_view text) {
  if (!text.starts_with("D-") || text.size() < 3 || text.size() > 20) return std::nullopt;
  std::int64_t id = 0;
  const auto* first = text.data() + 2;
  const auto* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, id);
  if (ec != std::errc() || end != last || id <= 0 || *first == '0') return std::nullopt;
  return id;
}

std::optional<std::int64_t> certificate_device(const protocol::PeerCertificate& peer) {
  auto id = parse_device_number(peer.common_name);
  if (!id) return std::nullopt;
  for (const auto& uri : peer.uris) {
    if (!uri.starts_with(kDeviceUriPrefix)) continue;
    if (parse_device_number(std::string_view(uri).substr(kDeviceUriPrefix.size())) != id) {
      return std::nullopt;
    }
  }
  return id;
}

asio::awaitable<std::variant<AdmittedDevice, DeviceRefusal>> authenticate_device(
    RelayContext& context, const protocol::PeerCertificate& peer) {
  using Outcome = std::variant<AdmittedDevice, DeviceRefusal>;
  if (!peer.presented) {
    co_return Outcome{DeviceRefusal{Error::unauthorized,
                                    "no client certificate: the managed endpoint needs the "
                                    "device certificate from `tether-agent enroll`"}};
  }
  if (peer.expired) {
    co_return Outcome{DeviceRefusal{Error::unauthorized, "the client certificate has expired"}};
  }
  if (!peer.verified) {
    co_return Outcome{DeviceRefusal{
        Error::unauthorized,
        "the client certificate was not issued by this relay's CA (" + peer.verify_error + ")"}};
  }
  const auto claimed = certificate_device(peer);
  if (!claimed) {
    co_return Outcome{DeviceRefusal{Error::unauthorized, "the client certificate names no device"}};
  }
  const auto fingerprint = peer.fingerprint_hex;
  const auto id = *claimed;
  // One store call: the lookup and forgetting the pre-renewal certificate once the new one
  // is in use happen together.
  auto outcome = co_await context.store.run([fingerprint, id](Store& store) -> Outcome {
    auto device = store.find_device(id);
    if (!device) return DeviceRefusal{Error::unauthorized, "unknown device " + device_number(id)};
    if (device->status == "revoked") {
      return DeviceRefusal{Error::forbidden, "device " + device_number(id) + " is revoked"};
    }
    if (fingerprint == device->certificate_fingerprint) {
      if (!device->previous_fingerprint.empty()) store.forget_previous_certificate(id);
      return AdmittedDevice{id, device->group_name};
    }
    if (!device->previous_fingerprint.empty() && fingerprint == device->previous_fingerprint) {
      return AdmittedDevice{id, device->group_name};
    }
    return DeviceRefusal{Error::unauthorized, "the client certificate is not " + device_number(id) +
                                                  "'s current certificate"};
  });
  co_return outcome;
}

}  // namespace tether::relay
