#include "tether/agent/diag/redact.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tether/protocol/json_access.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

const json& at(const json& object, const char* key) {
  return protocol::json_member(object, key);
}

/// Values replaced wherever they stand, and the strings found there that must not survive
/// inside other strings either.
struct Tokens {
  std::set<std::string> words;  // matched case-insensitively, as whole words
};

// Keys whose value is redacted wherever they occur in the snapshot.
bool is_secret_key(std::string_view key) {
  return key == "serial" || key == "uuid" || key == "smbios_uuid" || key == "machine_id" ||
         key == "mac" || key == "permanent_mac" || key == "hostname" || key == "fqdn" ||
         key == "user";
}

// Shorter tokens than these would take ordinary words with them ("a", "pc", "0").
constexpr std::size_t kMinNameLength = 2;
constexpr std::size_t kMinSerialLength = 4;

void add_token(Tokens& tokens, const json& value, std::size_t min_length) {
  if (!value.is_string()) return;
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() >= min_length && text != kRedacted) tokens.words.insert(text);
}

// Serials, UUIDs and MACs found under the secret keys anywhere, so that a serial that also
// appears in a device path (/dev/disk/by-id/ata-…_S3Z1NB0K) goes too.
void collect_secret_values(const json& value, Tokens& tokens) {
  if (value.is_object()) {
    for (const auto& [key, element] : value.items()) {
      if (key == "serial" || key == "uuid" || key == "smbios_uuid" || key == "machine_id" ||
          key == "mac" || key == "permanent_mac") {
        add_token(tokens, element, kMinSerialLength);
      } else if (key == "serials" && element.is_object()) {
        for (const auto& serial : element) add_token(tokens, serial, kMinSerialLength);
      } else if (key == "macs" && element.is_array()) {
        for (const auto& mac : element) add_token(tokens, mac, kMinSerialLength);
      }
      collect_secret_values(element, tokens);
    }
  } else if (value.is_array()) {
    for (const auto& element : value) collect_secret_values(element, tokens);
  }
}

// A person's name is replaced inside every string; a system account's ("root", "bin",
// "daemon") only where it stands as a user field, or "/usr/bin" would go too.
void collect_names(const json& snapshot, Tokens& tokens) {
  const auto& system = at(snapshot, "system");
  add_token(tokens, at(system, "hostname"), kMinNameLength);
  add_token(tokens, at(system, "fqdn"), kMinNameLength);
  if (const auto& fqdn = at(system, "fqdn"); fqdn.is_string()) {
    const auto& text = fqdn.get_ref<const std::string&>();
    add_token(tokens, json(text.substr(0, text.find('.'))), kMinNameLength);
  }

  std::set<std::string> system_accounts{"root", "nobody"};
  const auto& users = at(snapshot, "users");
  if (const auto& local = at(users, "local"); local.is_array()) {
    for (const auto& user : local) {
      const auto& name = at(user, "name");
      if (!name.is_string()) continue;
      const auto& uid = at(user, "uid");
      const bool human =
          at(user, "human") == true ||
          (uid.is_number() && uid.get<double>() >= 1000 && uid.get<double>() < 65534);
      if (human) {
        add_token(tokens, name, kMinNameLength);
      } else {
        system_accounts.insert(name.get<std::string>());
      }
    }
  }
  auto add_user = [&](const json& name) {
    if (name.is_string() && !system_accounts.count(name.get<std::string>())) {
      add_token(tokens, name, kMinNameLength);
    }
  };
  if (const auto& sessions = at(users, "sessions"); sessions.is_array()) {
    for (const auto& session : sessions) {
      add_user(at(session, "user"));
      add_token(tokens, at(session, "host"), kMinNameLength);
    }
  }
  if (const auto& logged_in = at(users, "logged_in"); logged_in.is_array()) {
    for (const auto& name : logged_in) add_user(name);
  }
  const auto& processes = at(snapshot, "processes");
  for (const char* list : {"list", "top_cpu", "top_memory"}) {
    if (const auto& items = at(processes, list); items.is_array()) {
      for (const auto& process : items) add_user(at(process, "user"));
    }
  }
  if (const auto& listening = at(at(snapshot, "network"), "listening"); listening.is_array()) {
    for (const auto& socket : listening) add_user(at(socket, "user"));
  }
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff" starting at `at`.
bool mac_at(std::string_view text, std::size_t at) {
  if (at + 17 > text.size()) return false;
  const char separator = text[at + 2];
  if (separator != ':' && separator != '-') return false;
  for (std::size_t group = 0; group < 6; ++group) {
    const std::size_t i = at + group * 3;
    if (!is_hex(text[i]) || !is_hex(text[i + 1])) return false;
    if (group < 5 && text[i + 2] != separator) return false;
  }
  // Not part of something longer (an IPv6 address, a longer hex run).
  if (at > 0 && (is_hex(text[at - 1]) || text[at - 1] == separator)) return false;
  if (at + 17 < text.size() && (is_hex(text[at + 17]) || text[at + 17] == separator)) return false;
  return true;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

class Redactor {
 public:
  explicit Redactor(const Tokens& tokens) {
    for (const auto& word : tokens.words) words_.push_back(lower(word));
    // Longest first, so "pc.example.org" goes before "pc" can split it.
    std::sort(words_.begin(), words_.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
  }

  std::string scrub(const std::string& text) const {
    std::string out = replace_home(replace_macs(text));
    std::string folded = lower(out);
    for (const auto& word : words_) {
      if (folded.find(word) == std::string::npos) continue;
      out = replace_word(out, folded, word);
      folded = lower(out);
    }
    return out;
  }

 private:
  static std::string replace_macs(const std::string& text) {
    if (text.size() < 17) return text;
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
      if (mac_at(text, i)) {
        out += kRedacted;
        i += 17;
      } else {
        out += text[i++];
      }
    }
    return out;
  }

  // Any /home/<name>, whoever it is: a user the snapshot does not list is still a person.
  static std::string replace_home(const std::string& text) {
    static constexpr std::string_view kHome = "/home/";
    std::string out;
    std::size_t from = 0;
    for (auto found = text.find(kHome); found != std::string::npos;
         found = text.find(kHome, from)) {
      std::size_t end = found + kHome.size();
      while (end < text.size() && text[end] != '/' && text[end] != ' ' && text[end] != '"' &&
             text[end] != '\'' && text[end] != ':' && text[end] != '\n') {
        ++end;
      }
      out.append(text, from, found + kHome.size() - from);
      if (end > found + kHome.size()) {
        out += text.compare(found + kHome.size(), end - found - kHome.size(), kRedacted) == 0
                   ? std::string(text, found + kHome.size(), end - found - kHome.size())
                   : std::string(kRedacted);
      }
      from = end;
    }
    out.append(text, from, std::string::npos);
    return out;
  }

  // `folded` is `text` in lower case; `word` is too.
  static std::string replace_word(const std::string& text, const std::string& folded,
                                  const std::string& word) {
    std::string out;
    std::size_t from = 0;
    std::size_t search = 0;
    for (auto found = folded.find(word, search); found != std::string::npos;
         found = folded.find(word, search)) {
      const std::size_t end = found + word.size();
      const bool starts =
          found == 0 || !is_word_char(text[found - 1]) || !is_word_char(word.front());
      const bool ends =
          end == text.size() || !is_word_char(text[end]) || !is_word_char(word.back());
      if (starts && ends) {
        out.append(text, from, found - from);
        out += kRedacted;
        from = end;
        search = end;
      } else {
        search = found + 1;
      }
    }
    out.append(text, from, std::string::npos);
    return out;
  }

  std::vector<std::string> words_;
};

json* member(json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

bool is_eui64_ipv6(const std::string& address) {
  return lower(address).find("ff:fe") != std::string::npos;
}

void redact_value(json& value, const Redactor& redactor, bool secret) {
  if (value.is_string()) {
    value = secret && !value.get_ref<const std::string&>().empty()
                ? std::string(kRedacted)
                : redactor.scrub(value.get_ref<const std::string&>());
  } else if (value.is_array()) {
    for (auto& element : value) redact_value(element, redactor, secret);
  } else if (value.is_object()) {
    const bool ipv6 = at(value, "family") == "ipv6";
    json out = json::object();
    for (auto& [key, element] : value.items()) {
      bool hide = secret || is_secret_key(key) || key == "serials" || key == "macs";
      if (key == "address" && ipv6 && element.is_string() &&
          is_eui64_ipv6(element.get_ref<const std::string&>())) {
        hide = true;  // an EUI-64 address carries the interface's MAC
      }
      redact_value(element, redactor, hide);
      out[redactor.scrub(key)] = std::move(element);
    }
    value = std::move(out);
  } else if (secret && value.is_number()) {
    value = kRedacted;  // a numeric serial is still a serial
  }
}

}  // namespace

json redact_snapshot(const json& snapshot) {
  if (!snapshot.is_object()) return snapshot;
  Tokens tokens;
  collect_secret_values(snapshot, tokens);
  collect_names(snapshot, tokens);
  const Redactor redactor(tokens);

  json out = snapshot;
  redact_value(out, redactor, false);

  // Fields that identify a person or the machine only where they stand.
  if (auto* identity = member(out, "identity"); identity && identity->contains("device_id")) {
    (*identity)["device_id"] = kRedacted;
  }
  if (auto* users = member(out, "users")) {
    if (auto* local = member(*users, "local"); local && local->is_array()) {
      for (auto& user : *local) {
        if (auto* name = member(user, "name")) *name = kRedacted;
      }
    }
    if (auto* sessions = member(*users, "sessions"); sessions && sessions->is_array()) {
      for (auto& session : *sessions) {
        if (auto* host = member(session, "host"); host && !host->is_null()) *host = kRedacted;
      }
    }
    if (auto* logged_in = member(*users, "logged_in"); logged_in && logged_in->is_array()) {
      for (auto& name : *logged_in) name = kRedacted;
    }
  }
  out["redacted"] = true;
  return out;
}

}  // namespace tether::agent::diag
