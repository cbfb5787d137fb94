#include "tether/protocol/message.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "tether/protocol/limits.hpp"
#include "tether/protocol/sha256_digest.hpp"

namespace tether::protocol {
namespace {

using nlohmann::json;

bool is_section_hash(const json& value);

// Reads the fields of one JSON object, remembering the first problem. Every accessor checks
// presence and type; `finish` rejects fields nobody asked for, so a typo or a field from a
// newer version is an error instead of silently ignored.
class FieldReader {
 public:
  explicit FieldReader(const json& object) : object_(object) {}

  std::string string(const char* name, bool allow_empty = false) {
    const json* value = find(name, true);
    if (value == nullptr) return {};
    if (!value->is_string()) return fail(name, "must be a string"), std::string{};
    const auto& text = value->get_ref<const std::string&>();
    if (text.size() > kMaxTextField) return fail(name, "is too long"), std::string{};
    if (text.empty() && !allow_empty) return fail(name, "must not be empty"), std::string{};
    return text;
  }

  std::optional<std::string> optional_string(const char* name) {
    if (!object_.contains(name)) return std::nullopt;
    return string(name, true);
  }

  bool boolean(const char* name) {
    const json* value = find(name, true);
    if (value == nullptr) return false;
    if (!value->is_boolean()) return fail(name, "must be true or false"), false;
    return value->get<bool>();
  }

  std::uint32_t uint32(const char* name) {
    const json* value = find(name, true);
    if (value == nullptr) return 0;
    if (!value->is_number_unsigned() ||
        value->get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max()) {
      return fail(name, "must be a whole number from 0 to 4294967295"), 0;
    }
    return value->get<std::uint32_t>();
  }

  int version(const char* name) {
    const json* value = find(name, true);
    if (value == nullptr) return 0;
    if (!value->is_number_integer()) return fail(name, "must be a whole number"), 0;
    const auto v = value->get<std::int64_t>();
    if (v != kProtocolVersion) {
      if (!error_) error_ = Error::unsupported_version;
      detail_ = "version " + std::to_string(v) + " (this build speaks " +
                std::to_string(kProtocolVersion) + ")";
      return 0;
    }
    return static_cast<int>(v);
  }

  std::vector<std::string> strings(const char* name) {
    std::vector<std::string> out;
    const json* value = find(name, true);
    if (value == nullptr) return out;
    if (!value->is_array() || value->size() > 64)
      return fail(name, "must be a list of up to 64 names"), out;
    for (const auto& item : *value) {
      if (!item.is_string() || item.get_ref<const std::string&>().empty() ||
          item.get_ref<const std::string&>().size() > 64) {
        fail(name, "must hold non-empty names of up to 64 characters");
        return {};
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  // Section name → hash: at most kMaxInventorySections names of up to 64 characters, each
  // hash "sha256:" and 64 lowercase hex digits.
  SectionHashes hashes(const char* name) {
    SectionHashes out;
    const json* value = find(name, true);
    if (value == nullptr) return out;
    if (!value->is_object() || value->size() > kMaxInventorySections) {
      return fail(name, "must be an object of up to 64 sections"), out;
    }
    for (const auto& [key, hash] : value->items()) {
      if (key.empty() || key.size() > 64 || !hash.is_string() || !is_section_hash(hash)) {
        fail(name, "must map section names to \"sha256:<64 hex digits>\"");
        return {};
      }
      out.emplace(key, hash.get<std::string>());
    }
    return out;
  }

  json object(const char* name, bool required = true) {
    const json* value = find(name, required);
    if (value == nullptr) return json::object();
    if (!value->is_object()) return fail(name, "must be an object"), json::object();
    return *value;
  }

  bool has(const char* name) const { return object_.contains(name); }

  void fail(std::string_view name, std::string_view why) {
    if (error_) return;
    error_ = Error::bad_message;
    detail_ = "field \"" + std::string(name) + "\" " + std::string(why);
  }

  // Adopts a nested reader's outcome, prefixing its field names.
  void merge(const FieldReader& nested, std::string_view prefix) {
    if (error_ || !nested.error_) return;
    error_ = nested.error_;
    detail_ = std::string(prefix) + "." + nested.detail_;
  }

  // Rejects fields that were never read; call after reading every known field.
  void finish() {
    if (error_) return;
    for (const auto& [key, value] : object_.items()) {
      if (!seen_.contains(key)) {
        error_ = Error::bad_message;
        detail_ = "unknown field \"" + key.substr(0, 64) + "\"";
        return;
      }
    }
  }

  std::optional<Error> error() const { return error_; }
  const std::string& detail() const { return detail_; }

 private:
  const json* find(const char* name, bool required) {
    seen_.insert(name);
    auto it = object_.find(name);
    if (it == object_.end()) {
      if (required) fail(name, "is missing");
      return nullptr;
    }
    return &*it;
  }

  const json& object_;
  std::set<std::string, std::less<>> seen_{"type"};
  std::optional<Error> error_;
  std::string detail_;
};

bool is_section_hash(const json& value) {
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() != 71 || !text.starts_with("sha256:")) return false;
  return std::all_of(text.begin() + 7, text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Hello read_hello(FieldReader& r) {
  Hello m;
  m.version = r.version("version");
  m.role = r.string("role");
  m.mode = r.string("mode");
  const json agent = r.object("agent");
  FieldReader a(agent);
  m.agent.version = a.string("version");
  m.agent.hostname = a.string("hostname");
  m.agent.os = a.string("os", true);
  a.finish();
  r.merge(a, "agent");
  if (r.has("resume")) {
    const json resume = r.object("resume");
    FieldReader res(resume);
    m.resume = Hello::Resume{res.string("code"), res.string("secret")};
    res.finish();
    r.merge(res, "resume");
  }
  m.device = r.optional_string("device");
  if (!r.error() && m.role != "agent") r.fail("role", "must be \"agent\"");
  if (!r.error() && m.mode != "attended" && m.mode != "managed") {
    r.fail("mode", "must be \"attended\" or \"managed\"");
  }
  if (!r.error() && m.mode == "managed" && (!m.device || m.device->empty() || m.resume)) {
    r.fail("device", "is required with mode \"managed\", and resume is not allowed");
  }
  if (!r.error() && m.mode == "attended" && m.device) {
    r.fail("device", "is only allowed with mode \"managed\"");
  }
  return m;
}

Welcome read_welcome(FieldReader& r) {
  Welcome m;
  m.version = r.version("version");
  m.device = r.optional_string("device");
  m.support_code = r.string("support_code", m.device.has_value());
  m.expires_at = r.string("expires_at", m.device.has_value());
  m.secret = r.optional_string("secret");
  m.resumed = r.boolean("resumed");
  return m;
}

JoinRequest read_join(FieldReader& r) {
  JoinRequest m;
  m.id = r.string("id");
  m.session = r.string("session");
  m.technician = r.string("technician");
  const json ticket = r.object("ticket");
  FieldReader t(ticket);
  m.ticket.number = t.string("number");
  m.ticket.title = t.string("title", true);
  t.finish();
  r.merge(t, "ticket");
  m.scopes = r.strings("scopes");
  m.consent = r.optional_string("consent");
  if (!r.error() && m.consent && *m.consent != "always" && *m.consent != "if_user_present" &&
      *m.consent != "never") {
    r.fail("consent", "must be \"always\", \"if_user_present\" or \"never\"");
  }
  return m;
}

Consent read_consent(FieldReader& r) {
  Consent m;
  m.id = r.string("id");
  m.session = r.string("session");
  m.granted = r.boolean("granted");
  m.scopes = r.strings("scopes");
  m.by = r.string("by", true);
  return m;
}

DiagRequest read_diag_request(FieldReader& r) {
  DiagRequest m;
  m.id = r.string("id");
  m.session = r.string("session");
  if (r.has("sections")) m.sections = r.strings("sections");
  return m;
}

DiagResult read_diag_result(FieldReader& r) {
  DiagResult m;
  m.id = r.string("id");
  m.session = r.string("session");
  m.snapshot = r.object("snapshot");
  return m;
}

SessionEnd read_session_end(FieldReader& r) {
  SessionEnd m;
  m.session = r.string("session", true);
  m.reason = r.string("reason", true);
  m.by = r.string("by", true);
  return m;
}

ErrorMessage read_error(FieldReader& r) {
  ErrorMessage m;
  m.code = r.string("code");
  m.message = r.string("message", true);
  m.id = r.optional_string("id");
  return m;
}

ChannelOpen read_channel_open(FieldReader& r) {
  ChannelOpen m;
  m.channel = r.uint32("channel");
  m.session = r.string("session");
  m.kind = r.string("kind");
  m.window = r.uint32("window");
  m.params = r.object("params", false);
  if (!r.error() && m.channel == 0) r.fail("channel", "must not be 0");
  return m;
}

ChannelClose read_channel_close(FieldReader& r) {
  ChannelClose m;
  m.channel = r.uint32("channel");
  m.reason = r.string("reason", true);
  m.code = r.optional_string("code");
  m.result = r.object("result", false);
  return m;
}

ChannelAccept read_channel_accept(FieldReader& r) {
  ChannelAccept m;
  m.channel = r.uint32("channel");
  m.window = r.uint32("window");
  m.params = r.object("params", false);
  if (!r.error() && m.channel == 0) r.fail("channel", "must not be 0");
  return m;
}

ChannelControl read_channel_control(FieldReader& r) {
  ChannelControl m;
  m.channel = r.uint32("channel");
  m.control = r.object("control");
  return m;
}

InventoryRequest read_inventory_request(FieldReader& r) {
  InventoryRequest m;
  m.id = r.string("id");
  m.full = r.boolean("full");
  m.known = r.hashes("known");
  return m;
}

InventoryReport read_inventory_report(FieldReader& r) {
  InventoryReport m;
  m.id = r.string("id");
  m.device = r.string("device");
  m.collected_at = r.string("collected_at");
  m.full = r.boolean("full");
  m.hashes = r.hashes("hashes");
  m.sections = r.object("sections");
  m.live = r.object("live");
  if (!r.error()) {
    for (const auto& [name, section] : m.sections.items()) {
      if (!m.hashes.contains(name)) {
        r.fail("sections", "holds \"" + name.substr(0, 64) + "\", which \"hashes\" does not name");
        break;
      }
    }
  }
  return m;
}

InventoryAck read_inventory_ack(FieldReader& r) {
  InventoryAck m;
  m.id = r.string("id");
  m.hashes = r.hashes("hashes");
  return m;
}

CertificateRenew read_certificate_renew(FieldReader& r) {
  CertificateRenew m;
  m.id = r.string("id");
  m.csr = r.string("csr");
  return m;
}

CertificateIssued read_certificate_issued(FieldReader& r) {
  CertificateIssued m;
  m.id = r.string("id");
  m.certificate = r.string("certificate");
  m.expires_at = r.string("expires_at");
  return m;
}

Result<Message> read_message(const json& j) {
  if (!j.is_object()) return make_error_code(Error::bad_message);
  auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) return make_error_code(Error::bad_message);
  const auto& type = type_it->get_ref<const std::string&>();
  FieldReader r(j);
  Message message;
  if (type == "hello")
    message = read_hello(r);
  else if (type == "welcome")
    message = read_welcome(r);
  else if (type == "join_request")
    message = read_join(r);
  else if (type == "consent")
    message = read_consent(r);
  else if (type == "diag_request")
    message = read_diag_request(r);
  else if (type == "diag_result")
    message = read_diag_result(r);
  else if (type == "session_end")
    message = read_session_end(r);
  else if (type == "error")
    message = read_error(r);
  else if (type == "channel_open")
    message = read_channel_open(r);
  else if (type == "channel_close")
    message = read_channel_close(r);
  else if (type == "channel_accept")
    message = read_channel_accept(r);
  else if (type == "channel_control")
    message = read_channel_control(r);
  else if (type == "inventory_request")
    message = read_inventory_request(r);
  else if (type == "inventory_report")
    message = read_inventory_report(r);
  else if (type == "inventory_ack")
    message = read_inventory_ack(r);
  else if (type == "certificate_renew")
    message = read_certificate_renew(r);
  else if (type == "certificate_issued")
    message = read_certificate_issued(r);
  else
    return make_error_code(Error::unknown_type);
  r.finish();
  if (r.error()) return make_error_code(*r.error());
  return message;
}

json to_json(const Hello& m) {
  json j{{"type", "hello"},
         {"version", m.version},
         {"role", m.role},
         {"mode", m.mode},
         {"agent",
          {{"version", m.agent.version}, {"hostname", m.agent.hostname}, {"os", m.agent.os}}}};
  if (m.resume) j["resume"] = {{"code", m.resume->code}, {"secret", m.resume->secret}};
  if (m.device) j["device"] = *m.device;
  return j;
}

json to_json(const Welcome& m) {
  json j{{"type", "welcome"},
         {"version", m.version},
         {"support_code", m.support_code},
         {"expires_at", m.expires_at},
         {"resumed", m.resumed}};
  if (m.secret) j["secret"] = *m.secret;
  if (m.device) j["device"] = *m.device;
  return j;
}

json to_json(const JoinRequest& m) {
  json j{{"type", "join_request"},
         {"id", m.id},
         {"session", m.session},
         {"technician", m.technician},
         {"ticket", {{"number", m.ticket.number}, {"title", m.ticket.title}}},
         {"scopes", m.scopes}};
  if (m.consent) j["consent"] = *m.consent;
  return j;
}

json to_json(const Consent& m) {
  return {{"type", "consent"},    {"id", m.id},         {"session", m.session},
          {"granted", m.granted}, {"scopes", m.scopes}, {"by", m.by}};
}

json to_json(const DiagRequest& m) {
  return {{"type", "diag_request"}, {"id", m.id}, {"session", m.session}, {"sections", m.sections}};
}

json to_json(const DiagResult& m) {
  return {{"type", "diag_result"}, {"id", m.id}, {"session", m.session}, {"snapshot", m.snapshot}};
}

json to_json(const SessionEnd& m) {
  return {{"type", "session_end"}, {"session", m.session}, {"reason", m.reason}, {"by", m.by}};
}

json to_json(const ErrorMessage& m) {
  json j{{"type", "error"}, {"code", m.code}, {"message", m.message}};
  if (m.id) j["id"] = *m.id;
  return j;
}

json to_json(const ChannelOpen& m) {
  return {{"type", "channel_open"}, {"channel", m.channel}, {"session", m.session},
          {"kind", m.kind},         {"window", m.window},   {"params", m.params}};
}

json to_json(const ChannelClose& m) {
  json j{{"type", "channel_close"}, {"channel", m.channel}, {"reason", m.reason}};
  if (m.code) j["code"] = *m.code;
  if (!m.result.empty()) j["result"] = m.result;
  return j;
}

json to_json(const ChannelAccept& m) {
  return {{"type", "channel_accept"},
          {"channel", m.channel},
          {"window", m.window},
          {"params", m.params}};
}

json to_json(const ChannelControl& m) {
  return {{"type", "channel_control"}, {"channel", m.channel}, {"control", m.control}};
}

json to_json(const InventoryRequest& m) {
  return {{"type", "inventory_request"}, {"id", m.id}, {"full", m.full}, {"known", m.known}};
}

json to_json(const InventoryReport& m) {
  return {{"type", "inventory_report"},     {"id", m.id},     {"device", m.device},
          {"collected_at", m.collected_at}, {"full", m.full}, {"hashes", m.hashes},
          {"sections", m.sections},         {"live", m.live}};
}

json to_json(const InventoryAck& m) {
  return {{"type", "inventory_ack"}, {"id", m.id}, {"hashes", m.hashes}};
}

json to_json(const CertificateRenew& m) {
  return {{"type", "certificate_renew"}, {"id", m.id}, {"csr", m.csr}};
}

json to_json(const CertificateIssued& m) {
  return {{"type", "certificate_issued"},
          {"id", m.id},
          {"certificate", m.certificate},
          {"expires_at", m.expires_at}};
}

}  // namespace

std::string inventory_section_hash(const json& section) {
  Sha256Digest digest;
  digest.update(section.dump(-1, ' ', false, json::error_handler_t::replace));
  return "sha256:" + digest.hex();
}

bool json_depth_within(std::string_view text, int max_depth) noexcept {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

Result<Message> parse_message(std::string_view text) noexcept {
  if (text.size() > kMaxControlMessageBytes) return make_error_code(Error::message_too_large);
  if (!json_depth_within(text, kMaxJsonDepth)) return make_error_code(Error::bad_message);
  try {
    // Strings are validated as UTF-8 by the parser; invalid bytes make it a bad_json.
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return make_error_code(Error::bad_json);
    return read_message(j);
  } catch (const std::bad_alloc&) {
    return make_error_code(Error::message_too_large);
  } catch (const std::exception&) {
    // The JSON library reports some type problems by exception even in non-throwing mode;
    // they all mean the message was not what it claimed to be.
    return make_error_code(Error::bad_message);
  }
}

std::string encode(const Message& message) {
  return std::visit(
      [](const auto& m) { return to_json(m).dump(-1, ' ', false, json::error_handler_t::replace); },
      message);
}

std::string_view type_name(const Message& message) noexcept {
  static constexpr std::string_view kNames[] = {"hello",
                                                "welcome",
                                                "join_request",
                                                "consent",
                                                "diag_request",
                                                "diag_result",
                                                "session_end",
                                                "error",
                                                "channel_open",
                                                "channel_close",
                                                "channel_accept",
                                                "channel_control",
                                                "inventory_request",
                                                "inventory_report",
                                                "inventory_ack",
                                                "certificate_renew",
                                                "certificate_issued"};
  static_assert(std::size(kNames) == std::variant_size_v<Message>);
  return kNames[message.index()];
}

}  // namespace tether::protocol
