// POST /api/v1/enroll: a device trades an enrollment token and a certificate request for a
// client certificate signed by the relay's CA. The token is the credential (no login); only
// its hash is looked up, and it is spent only for a request the CA would sign.
#include <spdlog/spdlog.h>

#include "api/api_util.hpp"
#include "api/rest_api.hpp"
#include "broker/device_auth.hpp"
#include "fleet/identity_report.hpp"
#include "relay_context.hpp"
#include "tether/protocol/time_format.hpp"
#include "tether/relay/certificate_authority.hpp"
#include "tether/relay/password_hasher.hpp"

namespace tether::relay {

namespace asio = boost::asio;
using json = nlohmann::json;
using protocol::Error;

namespace {

using namespace api;

constexpr std::size_t kMaxCsrBytes = 16 * 1024;
constexpr std::size_t kMaxIdentityList = 64;

// A list of short strings in the identity ("serials", "macs"), bounded in count and length.
json string_list(const json& identity, const char* key, std::size_t max_length) {
  auto it = identity.find(key);
  if (it == identity.end() || it->is_null()) return json::array();
  if (!it->is_array() || it->size() > kMaxIdentityList) {
    fail(Error::bad_request, std::string("\"identity.") + key + "\" must be a list of at most " +
                                 std::to_string(kMaxIdentityList) + " strings");
  }
  json out = json::array();
  for (const auto& value : *it) {
    if (!value.is_string() || value.get_ref<const std::string&>().size() > max_length) {
      fail(Error::bad_request, std::string("\"identity.") + key +
                                   "\" must hold strings of at most " + std::to_string(max_length) +
                                   " bytes");
    }
    out.push_back(value);
  }
  return out;
}

// A one-line identity field: it ends up in logs and listings, so no control characters.
std::string line_field(const json& identity, const char* key, bool required, std::size_t max) {
  auto value = text_field(identity, key, required, max);
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      fail(Error::bad_request, std::string("\"identity.") + key + "\" has control characters");
    }
  }
  return value;
}

// What the agent says about the machine, kept as reported (bounded) for duplicate detection.
json read_identity(const json& body) {
  auto it = body.find("identity");
  if (it == body.end() || !it->is_object()) {
    fail(Error::bad_request, "missing object \"identity\" ({hostname, os, machine_id, ...})");
  }
  const json& identity = *it;
  return {{"hostname", line_field(identity, "hostname", true, 255)},
          {"os", line_field(identity, "os", false, 255)},
          {"machine_id", line_field(identity, "machine_id", false, 128)},
          {"smbios_uuid", line_field(identity, "smbios_uuid", false, 64)},
          {"serials", string_list(identity, "serials", 128)},
          {"macs", string_list(identity, "macs", 64)}};
}

// A match this sure is the same machine: it keeps its device.
constexpr int kReenrollConfidence = 85;

// What matching noticed, stored with the device and shown by `tether device show`.
json identity_flags(const fleet::IdentityMatch& match) {
  json flags = json::object();
  if (match.device_id && match.confidence >= kReenrollConfidence) {
    flags["reenrolled"] = true;
    flags["confidence"] = match.confidence;
  }
  if (match.possible_clone) flags["possible_clone"] = true;
  if (match.conflict) flags["conflict"] = true;
  if (!match.related_devices.empty()) flags["related"] = match.related_devices;
  if (!match.reasons.empty() && !flags.empty()) flags["reasons"] = match.reasons;
  return flags;
}

}  // namespace

asio::awaitable<json> RestApi::enroll(ApiRequest& r) {
  const auto steady_now = FailureLimiter::Clock::now();
  // Counted apart from support codes (own key), with the same limit and window.
  const std::string limit_key = "enroll:" + r.client_address;
  if (context_.join_failures.blocked(limit_key, steady_now)) {
    const auto wait = std::chrono::duration_cast<std::chrono::seconds>(
        context_.join_failures.retry_after(limit_key, steady_now));
    fail(Error::rate_limited, "too many failed enrollments from this address; try again in " +
                                  std::to_string(wait.count() + 1) + " s");
  }
  const auto token = text_field(r.body, "token", true, 256);
  const auto csr = text_field(r.body, "csr", true, kMaxCsrBytes);
  json identity = read_identity(r.body);

  // The request is checked before the token is spent: a device with a broken request keeps
  // its single-use token and can try again. The CA is read once, on the compute thread.
  auto ca = co_await context_.store.compute([this, csr]() {
    auto ca = device_ca(context_);
    std::optional<std::string> refusal;
    try {
      check_certificate_request(csr);
    } catch (const CsrError& e) {
      refusal = e.what();
    }
    return std::make_pair(ca, refusal);
  });
  if (ca.second) fail(Error::bad_request, *ca.second);

  Device fields;
  fields.hostname = identity["hostname"].get<std::string>();
  fields.os = identity["os"].get<std::string>();
  fields.identity = identity;
  fields.identity.erase("hostname");
  fields.identity.erase("os");
  fields.enrolled_at = now();
  // One machine, one device: a machine the relay already knows (same firmware ids, or the
  // same OS install on the same disk, …; fleet/device_identity.hpp) gets its device back
  // with a new certificate; a clone or a conflict is enrolled as a new device and flagged.
  auto device =
      co_await context_.store.run([this, hash = sha256_hex(token), fields](Store& store) mutable {
        auto& index = context_.identity_index;
        const auto incoming = fleet::enrollment_identity(fields.identity, fields.hostname);
        const auto match =
            fleet::match_identity(incoming, fleet::candidate_devices(index, store, incoming));
        fields.identity_flags = identity_flags(match);
        std::optional<Device> enrolled;
        if (match.device_id && match.confidence >= kReenrollConfidence) {
          if (auto id = parse_device_number(*match.device_id)) {
            enrolled = store.reenroll_device(hash, *id, fields);
          }
        } else {
          enrolled = store.enroll_device(hash, fields);
        }
        if (enrolled) index.add(enrolled->id, incoming);
        return enrolled;
      });
  if (!device) {
    context_.join_failures.record_failure(limit_key, steady_now);
    spdlog::info("refused enrollment of \"{}\" from {}: unknown, expired or used token",
                 shorten(fields.hostname, 64), r.client_address);
    // One answer for unknown, expired and used tokens: the caller learns nothing about which.
    fail(Error::unauthorized,
         "the enrollment token is not valid (unknown, expired or already used); ask for a new "
         "one with `tether-relay token create`");
  }

  const std::string device_id = "D-" + std::to_string(device->id);
  const auto validity =
      std::chrono::duration_cast<std::chrono::hours>(context_.config.device_certificate_validity);
  auto issued = co_await context_.store.compute([ca = ca.first, csr, device_id, validity]() {
    return issue_client_certificate(*ca, csr, device_id, validity);
  });
  co_await context_.store.run([id = device->id, issued](Store& store) {
    store.update_device_certificate(id, issued.fingerprint_hex, issued.serial_hex,
                                    issued.not_after);
  });
  const bool reenrolled = device->identity_flags.value("reenrolled", false);
  spdlog::info("{} {} ({}) in group {} from {}{}", reenrolled ? "re-enrolled" : "enrolled",
               device_id, shorten(fields.hostname, 64), device->group_name, r.client_address,
               device->identity_flags.value("possible_clone", false)
                   ? "; possible clone of " + device->identity_flags["related"].dump()
                   : std::string());

  const auto renew_after = issued.not_after - (issued.not_after - issued.not_before) / 3;
  co_return json{
      {"device", device_id},
      {"reenrolled", reenrolled},
      {"identity_flags", device->identity_flags},
      {"group", device->group_name},
      {"certificate", issued.certificate_pem},
      {"ca_certificate", ca.first->certificate_pem},
      {"not_after", protocol::format_time(issued.not_after)},
      {"renew_after",
       protocol::format_time(std::chrono::time_point_cast<std::chrono::seconds>(renew_after))}};
}

}  // namespace tether::relay
