#include "tether/agent/managed/enrollment.hpp"
#include "tether/agent/host_name.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <stdexcept>

#include "diag/collectors/hw_sources.hpp"
#include "diag/collectors/identity_collector.hpp"
#include "diag/collectors/source_files.hpp"
#include "diag/collectors/system_collector.hpp"
#include "tether/agent/managed/state_dir.hpp"
#include "tether/protocol/client_stream.hpp"

namespace tether::agent::managed {
namespace {

using json = nlohmann::json;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL failed to ") + what);
}

template <class Write>
std::string to_pem(Write write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio && write(bio.get()) == 1, "encode PEM");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// The relay's answer to a refused enrollment, in its own words when it gave some.
std::string relay_message(const protocol::HttpResponse& response) {
  const auto body = json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object() &&
      body["error"].contains("message") && body["error"]["message"].is_string()) {
    return body["error"]["message"].get<std::string>();
  }
  return "the relay answered HTTP " + std::to_string(response.status);
}

// The certificate the relay returned is for our key and signed by the CA it returned, so the
// state directory never holds a pair that cannot work together.
bool certificate_fits(const std::string& certificate_pem, const std::string& key_pem,
                      const std::string& ca_pem) {
  auto read_cert = [](const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return std::unique_ptr<X509, Deleter<X509, X509_free>>(
        bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  };
  auto certificate = read_cert(certificate_pem);
  auto ca = read_cert(ca_pem);
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  KeyPtr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  return certificate && ca && key && X509_check_private_key(certificate.get(), key.get()) == 1 &&
         X509_verify(certificate.get(), X509_get0_pubkey(ca.get())) == 1;
}

}  // namespace

namespace {

// A PKCS#10 request for `key`, signed with it, with `cn` as its subject.
std::string request_for(EVP_PKEY* key, const std::string& cn_text) {
  ReqPtr request(X509_REQ_new());
  check(request != nullptr, "allocate a certificate request");
  X509_REQ_set_version(request.get(), 0);
  check(X509_REQ_set_pubkey(request.get(), key) == 1, "set the request's key");
  X509_NAME* subject = X509_REQ_get_subject_name(request.get());
  const std::string cn = cn_text.substr(0, 64);
  check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                   0) == 1,
        "name the request");
  check(X509_REQ_sign(request.get(), key, EVP_sha256()) > 0, "sign the request");
  return to_pem([&](BIO* b) { return PEM_write_bio_X509_REQ(b, request.get()); });
}

}  // namespace

KeyAndRequest make_key_and_request(const std::string& hostname) {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  check(key != nullptr, "generate an EC P-256 key");
  KeyAndRequest out;
  out.private_key_pem = to_pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  out.csr_pem = request_for(key.get(), hostname);
  return out;
}

std::string make_request_for_key(const std::string& private_key_pem, const std::string& hostname) {
  BioPtr bio(BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  KeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  check(key != nullptr, "read the device's private key");
  return request_for(key.get(), hostname);
}

json machine_identity(const std::filesystem::path& root) {
  diag::CollectContext context;
  context.root = root;
  context.real_root = diag::is_real_root(root);
  const json collected = diag::collect_identity(context);
  auto text = [&](const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_string()) return std::string();
    const auto value = it->get<std::string>();
    return diag::is_placeholder_identifier(value) ? std::string() : value;
  };
  json serials = json::array();
  if (auto it = collected.find("serials"); it != collected.end() && it->is_object()) {
    for (const char* kind : {"system", "board", "chassis"}) {
      if (auto serial = text(*it, kind); !serial.empty()) serials.push_back(serial);
    }
  }
  json macs = json::array();
  if (auto it = collected.find("macs"); it != collected.end() && it->is_array()) {
    for (const auto& mac : *it) {
      if (mac.is_string() && macs.size() < 64) macs.push_back(mac);
    }
  }
  std::string os;
  if (const auto release = diag::read_source(root, "/etc/os-release"); release.text) {
    const auto fields = diag::parse_os_release(*release.text);
    if (fields.contains("pretty_name") && fields["pretty_name"].is_string()) {
      os = fields["pretty_name"].get<std::string>().substr(0, 255);
    }
  }
  return {{"hostname", host_name()},
          {"os", os},
          {"machine_id", text(collected, "machine_id")},
          {"smbios_uuid", text(collected, "smbios_uuid")},
          {"serials", serials},
          {"macs", macs}};
}

int run_enroll(const EnrollOptions& options, std::ostream& out, std::ostream& err) {
  if (is_enrolled(options.state_dir) && !options.force) {
    err << "tether-agent: " << options.state_dir.string()
        << " already holds an enrollment; use --force to replace it\n";
    return kEnrollUsage;
  }
  try {
    const json identity = machine_identity(options.root);
    const auto key = make_key_and_request(identity["hostname"].get<std::string>());
    const json request = {{"token", options.token}, {"csr", key.csr_pem}, {"identity", identity}};

    protocol::HttpsClient client(options.relay, options.trust);
    auto response = client.request(boost::beast::http::verb::post, "/api/v1/enroll", request.dump(),
                                   "", options.timeout);
    if (!response) {
      err << "tether-agent: "
          << protocol::describe_connection_error(response.error(), options.relay, options.trust)
          << "\n";
      return response.error() == protocol::Error::identity_mismatch ? kEnrollIdentity
                                                                    : kEnrollFailed;
    }
    if (response->status != 201) {
      err << "tether-agent: enrollment refused: " << relay_message(*response) << "\n";
      return kEnrollFailed;
    }
    const auto body = json::parse(response->body, nullptr, false);
    auto field = [&](const char* name) {
      auto it = body.is_object() ? body.find(name) : body.end();
      return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    Enrollment enrollment;
    enrollment.private_key_pem = key.private_key_pem;
    enrollment.certificate_pem = field("certificate");
    enrollment.ca_certificate_pem = field("ca_certificate");
    enrollment.state.relay = options.relay_text;
    enrollment.state.fingerprint = options.fingerprint;
    enrollment.state.ca =
        options.ca.empty() ? std::string() : std::filesystem::absolute(options.ca).string();
    enrollment.state.device = field("device");
    enrollment.state.group = field("group");
    enrollment.state.not_after = field("not_after");
    if (enrollment.state.device.empty() || enrollment.certificate_pem.empty() ||
        enrollment.ca_certificate_pem.empty()) {
      err << "tether-agent: the relay's answer lacks the device, certificate or CA; "
             "is it a Tether relay of this version?\n";
      return kEnrollFailed;
    }
    if (!certificate_fits(enrollment.certificate_pem, key.private_key_pem,
                          enrollment.ca_certificate_pem)) {
      err << "tether-agent: the relay returned a certificate that does not match this "
             "device's key or its CA; nothing was saved\n";
      return kEnrollFailed;
    }
    write_enrollment(options.state_dir, enrollment, options.force);
    const bool reenrolled = body.value("reenrolled", false);
    out << (reenrolled ? "re-enrolled as " : "enrolled as ") << enrollment.state.device
        << " (group " << enrollment.state.group << "); certificate valid until "
        << enrollment.state.not_after << "\n";
    if (reenrolled) {
      out << "The relay knew this machine as " << enrollment.state.device
          << "; its earlier certificate no longer works.\n";
    }
    const auto flags = body.value("identity_flags", json::object());
    if (flags.is_object() && flags.value("possible_clone", false)) {
      out << "Note: the relay flagged this machine as a possible clone of "
          << flags.value("related", json::array()).dump()
          << " (same installation, other hardware).\n";
    }
    out << "state: " << options.state_dir.string() << "\n";
    return kEnrollOk;
  } catch (const std::exception& e) {
    err << "tether-agent: enrollment failed: " << e.what() << "\n";
    return kEnrollFailed;
  }
}

}  // namespace tether::agent::managed
