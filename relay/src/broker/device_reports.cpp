// What a managed device sends besides session traffic: its inventory (stored whole or not at
// all, SPEC §3.5) and its certificate renewal (§1.4.2). Members of AgentConnection, run on
// its strand from the read loop.

#include <spdlog/spdlog.h>

#include <atomic>

#include "broker/agent_connection.hpp"
#include "broker/device_auth.hpp"
#include "fleet/identity_report.hpp"
#include "fleet/inventory_intake.hpp"
#include "relay_context.hpp"
#include "tether/protocol/time_format.hpp"
#include "tether/relay/certificate_authority.hpp"

namespace tether::relay {

namespace asio = boost::asio;
using protocol::Error;

namespace {

std::string next_device_request_id() {
  static std::atomic<std::uint64_t> counter{0};
  return "d" + std::to_string(++counter);
}

protocol::ErrorMessage error_reply(Error code, std::string message, std::string id) {
  protocol::ErrorMessage error;
  error.code = std::string(protocol::to_string(code));
  error.message = std::move(message);
  error.id = std::move(id);
  return error;
}

// When a report's identity section describes another enrolled machine rather than this
// device's own: that device's id and why, else empty. Cheap when the report agrees with the
// device's own enrollment (the usual case); only then is the fleet searched.
std::string foreign_identity(fleet::IdentityIndex& index, Store& store, const Device& self,
                             const nlohmann::json& section) {
  const auto reported = fleet::inventory_identity(section, self.hostname);
  const std::vector<fleet::KnownDevice> own = {
      {device_number(self.id), fleet::enrollment_identity(self.identity, self.hostname)}};
  if (fleet::match_identity(reported, own).device_id) return {};
  const auto other =
      fleet::match_identity(reported, fleet::candidate_devices(index, store, reported, self.id));
  if (!other.device_id || other.confidence < 85) return {};
  std::string why = *other.device_id;
  if (!other.reasons.empty()) why += " (" + other.reasons.front() + ")";
  return why;
}

}  // namespace

asio::awaitable<void> AgentConnection::request_inventory() {
  const auto id = device_id_;
  auto current = co_await context_.store.run(
      [id](Store& store) { return store.device_inventory(id, /*content=*/false); });
  enqueue(protocol::encode(fleet::inventory_request_for(current, next_device_request_id())));
}

asio::awaitable<void> AgentConnection::on_inventory(protocol::InventoryReport report) {
  const auto me = device_number(device_id_);
  if (report.device != me) {
    const auto claimed = parse_device_number(report.device);
    const auto why = "this connection is " + me + "'s; it cannot report " +
                     (claimed ? device_number(*claimed) : "another device") + "'s inventory";
    spdlog::warn("device {} ({}): inventory refused: {}", me, remote_, why);
    enqueue(protocol::encode(error_reply(Error::forbidden, why, report.id)));
    co_return;
  }
  struct Outcome {
    std::string refusal;
    Error code = Error::bad_message;
    bool request_full = false;
    std::size_t sections = 0;
    std::size_t changes = 0;
    std::vector<std::string> notes;
  };
  const auto id = device_id_;
  auto outcome = co_await context_.store.run([this, id, &report](Store& store) {
    Outcome out;
    auto device = store.find_device(id);
    if (!device) return Outcome{"unknown device", Error::not_found};
    auto intake = fleet::prepare_inventory(report, store.device_inventory(id), id, now());
    if (!intake.refusal.empty()) {
      out.refusal = intake.refusal;
      out.request_full = intake.request_full;
      return out;
    }
    if (auto identity = intake.update.changed.find("identity");
        identity != intake.update.changed.end()) {
      if (auto other =
              foreign_identity(context_.identity_index, store, *device, identity->second.content);
          !other.empty()) {
        return Outcome{"the inventory describes the machine enrolled as " + other +
                           ", not this device; nothing was stored",
                       Error::forbidden};
      }
    }
    store.apply_inventory(intake.update);
    out.sections = intake.update.changed.size();
    out.changes = intake.update.changes.size();
    out.notes = std::move(intake.notes);
    return out;
  });
  if (!outcome.refusal.empty()) {
    spdlog::warn("device {} ({}): inventory refused: {}", me, hostname_, outcome.refusal);
    enqueue(protocol::encode(error_reply(outcome.code, outcome.refusal, report.id)));
    if (outcome.request_full) {
      protocol::InventoryRequest full;
      full.id = next_device_request_id();
      full.full = true;
      enqueue(protocol::encode(full));
    }
    co_return;
  }
  spdlog::info("device {} ({}): inventory stored: {} of {} sections sent, {} changes{}", me,
               hostname_, outcome.sections, report.hashes.size(), outcome.changes,
               outcome.notes.empty() ? std::string()
                                     : "; cut to fit: " + outcome.notes.front() +
                                           (outcome.notes.size() > 1 ? " …" : ""));
  protocol::InventoryAck ack;
  ack.id = report.id;
  ack.hashes = report.hashes;
  enqueue(protocol::encode(ack));
}

asio::awaitable<void> AgentConnection::on_certificate_renew(protocol::CertificateRenew renew) {
  const auto me = device_number(device_id_);
  const auto id = device_id_;
  const auto presented = peer_->fingerprint_hex;
  const auto validity = context_.config.device_certificate_validity;
  // Renewing is for a certificate in the last third of its life, or for a device that still
  // presents the certificate before its last renewal (it never stored the new one); anything
  // earlier is refused so that a device cannot mint certificates in a loop.
  auto refusal = co_await context_.store.run([id, presented, validity](Store& store) {
    auto device = store.find_device(id);
    if (!device || device->status != "active") return std::string("the device is not active");
    const bool stale = presented == device->previous_fingerprint;
    if (!stale && device->certificate_not_after &&
        *device->certificate_not_after - now() > validity * 2 / 3) {
      return "the certificate is valid until " +
             protocol::format_time(*device->certificate_not_after) + "; renew in its last third";
    }
    return std::string();
  });
  if (!refusal.empty()) {
    spdlog::info("device {}: certificate renewal refused: {}", me, refusal);
    enqueue(protocol::encode(error_reply(Error::conflict, refusal, renew.id)));
    co_return;
  }
  std::string csr_error;
  ClientCertificate issued;
  const auto hours = std::chrono::duration_cast<std::chrono::hours>(validity);
  try {
    issued = co_await context_.store.compute([this, csr = renew.csr, me, hours]() {
      return issue_client_certificate(*device_ca(context_), csr, me, hours);
    });
  } catch (const CsrError& e) {
    csr_error = e.what();
  } catch (const std::exception& e) {
    spdlog::error("device {}: cannot sign its renewed certificate: {}", me, e.what());
    enqueue(protocol::encode(
        error_reply(Error::internal, "the relay could not sign the certificate", renew.id)));
    co_return;
  }
  if (!csr_error.empty()) {
    enqueue(protocol::encode(error_reply(Error::bad_request, csr_error, renew.id)));
    co_return;
  }
  const bool stored = co_await context_.store.run([id, issued, presented](Store& store) {
    return store.renew_device_certificate(id, issued.fingerprint_hex, issued.serial_hex,
                                          issued.not_after, presented);
  });
  if (!stored) {
    enqueue(protocol::encode(error_reply(Error::forbidden, "the device is not active", renew.id)));
    co_return;
  }
  spdlog::info("device {} ({}): certificate renewed, valid until {}", me, hostname_,
               protocol::format_time(issued.not_after));
  protocol::CertificateIssued answer;
  answer.id = renew.id;
  answer.certificate = issued.certificate_pem;
  answer.expires_at = protocol::format_time(issued.not_after);
  enqueue(protocol::encode(answer));
}

}  // namespace tether::relay
