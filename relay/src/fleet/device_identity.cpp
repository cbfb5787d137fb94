#include "fleet/device_identity.hpp"

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

namespace tether::relay::fleet {
namespace {

// Raw text longer than this cannot become a valid value whatever it contains; it is dropped
// before any work is done on it.
constexpr std::size_t kMaxRaw = 1024;
constexpr std::size_t kMaxInterfaceName = 64;
// How many other devices a result's reasons talk about (clones, docks, conflicts).
constexpr std::size_t kMaxNotedDevices = 8;

char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
char to_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return to_lower(c) - 'a' + 10;
}
std::string lower(std::string text) {
  for (char& c : text) c = to_lower(c);
  return text;
}
bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Agents read these values from firmware tables, sysfs and command output: NUL and space
// padding, trailing newlines and tabs are common and mean nothing, so control characters
// become spaces, runs of spaces collapse to one and the ends are trimmed. A byte outside
// ASCII makes the value unusable (no identifier of ours has one, and it could be invalid
// UTF-8 that breaks JSON output later). nullopt: too long, or not ASCII.
std::optional<std::string> clean(std::string_view raw, std::size_t max) {
  if (raw.size() > kMaxRaw) return std::nullopt;
  std::string out;
  out.reserve(raw.size());
  for (const char c : raw) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) return std::nullopt;
    const char keep = byte < 0x20 || byte == 0x7f ? ' ' : c;
    if (keep == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(keep);
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > max) return std::nullopt;
  return out;
}

// ---- serials ------------------------------------------------------------------------------

struct Serial {
  SerialKind kind = SerialKind::other;
  std::string value;  // upper case, no whitespace
};

constexpr std::array<std::pair<std::string_view, SerialKind>, 4> kSerialTags{{
    {"system", SerialKind::system},
    {"board", SerialKind::board},
    {"chassis", SerialKind::chassis},
    {"disk", SerialKind::disk},
}};

std::optional<Serial> parse_serial(std::string_view entry) {
  auto text = clean(entry, kMaxIdentityValue + 16);
  if (!text) return std::nullopt;
  Serial serial;
  std::string_view value = *text;
  if (const auto colon = value.find(':'); colon != std::string_view::npos) {
    std::string tag = lower(std::string(value.substr(0, colon)));
    while (!tag.empty() && tag.back() == ' ') tag.pop_back();
    for (const auto& [name, kind] : kSerialTags) {
      if (tag == name) {
        serial.kind = kind;
        value.remove_prefix(colon + 1);
        break;
      }
    }
  }
  for (const char c : value) {
    if (c != ' ') serial.value.push_back(to_upper(c));
  }
  if (serial.value.empty() || serial.value.size() > kMaxIdentityValue) return std::nullopt;
  return serial;
}

// Order of strength, also the order identity_key() prefers.
int serial_rank(SerialKind kind) {
  switch (kind) {
    case SerialKind::system:
      return 0;
    case SerialKind::board:
      return 1;
    case SerialKind::other:
      return 2;
    case SerialKind::chassis:
      return 3;
    case SerialKind::disk:
      return 4;
  }
  return 5;
}

std::string render(const Serial& serial) {
  return tagged_serial(serial.kind, serial.value);
}

// Values seen in the wild in SMBIOS tables and disk identify data when the OEM left the field
// unset, compared on their letters and digits only, upper case ("To Be Filled By O.E.M." and
// "to be filled by OEM" are the same key).
// clang-format off
constexpr std::array<std::string_view, 33> kPlaceholderSerials{
    "TOBEFILLEDBYOEM", "TOBEFILLED", "DEFAULTSTRING", "DEFAULT", "SYSTEMSERIALNUMBER",
    "SYSTEMSERIAL", "CHASSISSERIALNUMBER", "BASEBOARDSERIALNUMBER", "SERIAL", "SERIALNO",
    "NOSERIAL", "NOSN", "SN", "NONE", "NA", "NOTSPECIFIED", "NOTAPPLICABLE", "NOTAVAILABLE",
    "NOTSETTABLE", "NOTPRESENT", "UNKNOWN", "UNDEFINED", "NOTDEFINED", "NULL", "EMPTY",
    "BLANK", "INVALID", "OEM", "TBD", "CHANGEME", "ABCDEF", "ABCDEFGHIJ", "XXX"};
// clang-format on
// Substrings that only placeholders contain ("Type2 - Board Serial Number").
constexpr std::array<std::string_view, 4> kPlaceholderSerialParts{"SERIALNUMBER", "FILLEDBY",
                                                                  "DEFAULTSTRING", "OEMSERIAL"};

// "0123456789", "123456789", "1234567890" (digits counting up, wrapping after 9), optionally
// after a short letter prefix: "SN12345678", "BSN12345678901234567", "MB1234567890".
bool is_counting_digits(std::string_view key) {
  std::size_t letters = 0;
  while (letters < key.size() && !(key[letters] >= '0' && key[letters] <= '9')) ++letters;
  const auto digits = key.substr(letters);
  if (letters > 3 || digits.size() < 6) return false;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (!(digits[i] >= '0' && digits[i] <= '9')) return false;
    if (i > 0 && digits[i] != static_cast<char>('0' + (digits[i - 1] - '0' + 1) % 10)) {
      return false;
    }
  }
  return true;
}

bool all_same(std::string_view text) {
  return !text.empty() && text.find_first_not_of(text.front()) == std::string_view::npos;
}

bool is_placeholder_value(std::string_view value) {
  std::string key;
  for (const char c : value) {
    if (is_alnum(c)) key.push_back(to_upper(c));
  }
  if (key.size() < 3 || all_same(key) || is_counting_digits(key)) return true;
  if (std::find(kPlaceholderSerials.begin(), kPlaceholderSerials.end(), key) !=
      kPlaceholderSerials.end()) {
    return true;
  }
  // QEMU's emulated ATA disks: "QM00001", "QM00002", …
  if (starts_with(key, "QM0000")) return true;
  return std::any_of(kPlaceholderSerialParts.begin(), kPlaceholderSerialParts.end(),
                     [&](std::string_view part) { return key.find(part) != std::string::npos; });
}

// ---- MACs ---------------------------------------------------------------------------------

struct MacEntry {
  std::string name;  // lower case, may be empty
  std::string mac;   // canonical
  MacKind kind = MacKind::invalid;
};

// Interface names of software interfaces: container and VM bridges, tunnels, VPNs, overlay
// networks, loopback. Their MACs are made up (and often change every boot), or copy a
// physical NIC's, which is reported under its own name. Compared lower case: distinctive
// words as prefixes ("veth3f2a1b0", "vEthernet (Default Switch)"); short ones only when a
// number, '-', '_' or '.' or nothing follows ("br0", "br-5e3f", "lo", "wg0"), so that
// "Local Area Connection" or "brcmf…" stay physical.
constexpr std::array<std::string_view, 20> kVirtualInterfaceWords{
    "docker", "veth",      "virbr", "vmnet",   "vboxnet", "virtualbox", "vmware",
    "zt",     "tailscale", "cni",   "flannel", "cali",    "kube",       "dummy",
    "vxlan",  "genev",     "ipsec", "isatap",  "teredo",  "nordlynx"};
constexpr std::array<std::string_view, 15> kVirtualInterfaceShortNames{
    "lo",   "br",   "bridge", "tun",  "tap", "utun", "wg", "ppp",
    "vnet", "awdl", "llw",    "anpi", "gif", "stf",  "vpn"};

bool is_virtual_interface(std::string_view name) {
  if (std::any_of(kVirtualInterfaceWords.begin(), kVirtualInterfaceWords.end(),
                  [&](std::string_view word) { return starts_with(name, word); })) {
    return true;
  }
  if (name.find("virtual") != std::string_view::npos) return true;  // "Hyper-V Virtual …"
  return std::any_of(kVirtualInterfaceShortNames.begin(), kVirtualInterfaceShortNames.end(),
                     [&](std::string_view short_name) {
                       if (!starts_with(name, short_name)) return false;
                       if (name.size() == short_name.size()) return true;
                       const char next = name[short_name.size()];
                       return (next >= '0' && next <= '9') || next == '-' || next == '_' ||
                              next == '.';
                     });
}

// OUIs of hypervisors' virtual NICs.
constexpr std::array<std::string_view, 11> kVirtualMachineOuis{
    "00:05:69", "00:0c:29", "00:1c:14", "00:50:56",  // VMware
    "08:00:27", "0a:00:27",                          // VirtualBox
    "52:54:00",                                      // QEMU/KVM
    "00:15:5d",                                      // Hyper-V
    "00:16:3e",                                      // Xen
    "00:1c:42",                                      // Parallels
    "00:03:ff",                                      // Microsoft Virtual PC
};

MacKind kind_of(std::string_view name, std::string_view mac) {
  const int first = hex_value(mac[0]) * 16 + hex_value(mac[1]);
  if (mac == "00:00:00:00:00:00" || mac == "ff:ff:ff:ff:ff:ff" || (first & 0x01) != 0) {
    return MacKind::placeholder;
  }
  if (is_virtual_interface(name)) return MacKind::virtual_interface;
  // systemd names a NIC after its MAC ("enx" + 12 hex digits) when nothing better describes
  // it: USB adapters and docks, which travel between machines.
  if (name.size() == 15 && starts_with(name, "enx") &&
      std::all_of(name.begin() + 3, name.end(), is_hex)) {
    return MacKind::usb_adapter;
  }
  // Before the locally-administered bit: QEMU's 52:54:00 has it set, yet is stable per VM.
  const auto oui = mac.substr(0, 8);
  if (std::find(kVirtualMachineOuis.begin(), kVirtualMachineOuis.end(), oui) !=
      kVirtualMachineOuis.end()) {
    return MacKind::virtual_machine;
  }
  if ((first & 0x02) != 0) return MacKind::randomised;
  return MacKind::physical;
}

std::optional<MacEntry> parse_mac_entry(std::string_view entry) {
  auto text = clean(entry, kMaxIdentityValue);
  if (!text) return std::nullopt;
  MacEntry parsed;
  std::string_view address = *text;
  if (const auto equals = address.rfind('='); equals != std::string_view::npos) {
    parsed.name = lower(std::string(address.substr(0, equals)));
    while (!parsed.name.empty() && parsed.name.back() == ' ') parsed.name.pop_back();
    if (parsed.name.size() > kMaxInterfaceName) return std::nullopt;
    address.remove_prefix(equals + 1);
  }
  auto mac = canonical_mac(address);
  if (!mac) return std::nullopt;
  parsed.mac = std::move(*mac);
  parsed.kind = kind_of(parsed.name, parsed.mac);
  return parsed;
}

int mac_rank(MacKind kind) {
  switch (kind) {
    case MacKind::physical:
      return 0;
    case MacKind::virtual_machine:
      return 1;
    case MacKind::usb_adapter:
      return 2;
    case MacKind::virtual_interface:
      return 3;
    case MacKind::randomised:
      return 4;
    case MacKind::placeholder:
      return 5;
    case MacKind::invalid:
      return 6;
  }
  return 7;
}

// ---- UUIDs, machine-ids, hostnames --------------------------------------------------------

// Firmware defaults shared by many boards; all-zero, all-F and other one- or two-digit
// patterns are caught by rule rather than listed.
constexpr std::array<std::string_view, 7> kPlaceholderUuids{
    "03000200-0400-0500-0006-000700080009",  // AMI Aptio default (Gigabyte, ASRock, …)
    "00020003-0004-0005-0006-000700080009",  // the same, first fields byte-swapped
    "12345678-1234-5678-90ab-cddeefaabbcc",  // Supermicro/AMI sample
    "12345678-1234-5678-1234-567812345678", "01234567-89ab-cdef-0123-456789abcdef",
    "00112233-4455-6677-8899-aabbccddeeff",
    "4c4c4544-0000-2010-8020-80c04f202020",  // Dell with a blank service tag
};

std::optional<std::string> normalize_machine_id(std::string_view raw) {
  auto text = clean(raw, kMaxIdentityValue);
  if (!text || text->empty()) return std::nullopt;
  std::string id = lower(std::move(*text));
  // "{4c4c…}" or "4c4c…-…" (Windows MachineGuid, macOS) and systemd's bare 32 digits are one
  // form.
  std::string digits;
  for (const char c : id) {
    if (c != '-' && c != '{' && c != '}') digits.push_back(c);
  }
  if (digits.size() == 32 && std::all_of(digits.begin(), digits.end(), is_hex)) return digits;
  return id;
}

std::string normalize_hostname(std::string_view raw) {
  auto text = clean(raw, kMaxHostname + 1);
  if (!text) return {};
  std::string host = lower(std::move(*text));
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.size() > kMaxHostname) return {};
  return host;
}

// The hostname's first label, or "" when it says nothing ("localhost", "(none)").
std::string short_hostname(std::string_view host) {
  std::string label(host.substr(0, host.find('.')));
  if (label == "localhost" || label == "(none)" || label == "localhost6") return {};
  return label;
}

// ---- matching -----------------------------------------------------------------------------

template <typename T>
void sort_unique(std::vector<T>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

template <typename T>
bool shares(const std::vector<T>& a, const std::vector<T>& b) {
  return std::any_of(a.begin(), a.end(),
                     [&](const T& v) { return std::binary_search(b.begin(), b.end(), v); });
}

// What of an identity counts for matching: the usable values only, lists sorted.
struct Facts {
  std::string machine_id;
  std::string uuid;
  std::vector<Serial> hardware_serials;  // strongest first
  std::vector<std::string> hardware_values;
  std::vector<std::string> disks;
  std::vector<std::string> physical_macs;
  std::vector<std::string> nic_macs;  // physical and hypervisor-OUI
  std::string host;

  bool usable() const {
    return !machine_id.empty() || !uuid.empty() || !hardware_serials.empty() || !disks.empty() ||
           !physical_macs.empty();
  }
  std::vector<std::string> values_of(SerialKind kind) const {
    std::vector<std::string> out;
    for (const auto& serial : hardware_serials) {
      if (serial.kind == kind) out.push_back(serial.value);
    }
    return out;
  }
};

Facts facts_of(const HardwareIdentity& raw) {
  const HardwareIdentity identity = normalize_identity(raw);
  Facts facts;
  if (!is_placeholder_machine_id(identity.machine_id)) facts.machine_id = identity.machine_id;
  if (!is_placeholder_uuid(identity.smbios_uuid)) facts.uuid = identity.smbios_uuid;
  for (const auto& entry : identity.serials) {
    auto serial = parse_serial(entry);
    if (!serial || is_placeholder_value(serial->value)) continue;
    if (serial->kind == SerialKind::disk) {
      facts.disks.push_back(serial->value);
    } else {
      facts.hardware_values.push_back(serial->value);
      facts.hardware_serials.push_back(std::move(*serial));
    }
  }
  for (const auto& entry : identity.macs) {
    const auto mac = parse_mac_entry(entry);
    if (!mac) continue;
    if (mac->kind == MacKind::physical) facts.physical_macs.push_back(mac->mac);
    if (mac->kind == MacKind::physical || mac->kind == MacKind::virtual_machine) {
      facts.nic_macs.push_back(mac->mac);
    }
  }
  sort_unique(facts.hardware_values);
  sort_unique(facts.disks);
  sort_unique(facts.physical_macs);
  sort_unique(facts.nic_macs);
  facts.host = short_hostname(identity.hostname);
  return facts;
}

std::string_view serial_name(SerialKind kind) {
  switch (kind) {
    case SerialKind::system:
      return "system serial";
    case SerialKind::board:
      return "board serial";
    case SerialKind::chassis:
      return "chassis serial";
    case SerialKind::disk:
      return "disk serial";
    case SerialKind::other:
      return "serial number";
  }
  return "serial number";
}

// What agrees and what disagrees between a machine and one known device (the header's H+,
// H-, M±, D±, N±).
struct Comparison {
  std::vector<std::string> hardware_agree;   // H+, one name per distinct value
  std::vector<std::string> hardware_differ;  // H-
  bool machine_id_agree = false;
  bool machine_id_differ = false;
  bool disk_agree = false;
  bool disk_differ = false;
  bool nic_agree = false;
  bool nic_differ = false;
  bool host_agree = false;

  bool corroborated() const { return machine_id_agree || disk_agree || (nic_agree && !nic_differ); }
  int contradictions() const { return int{machine_id_differ} + int{disk_differ} + int{nic_differ}; }
  bool shares_strong_id() const { return machine_id_agree || !hardware_agree.empty(); }
  int components() const { return int{disk_agree} + int{nic_agree}; }
};

Comparison compare(const Facts& in, const Facts& known) {
  Comparison c;
  if (!in.uuid.empty() && !known.uuid.empty()) {
    (in.uuid == known.uuid ? c.hardware_agree : c.hardware_differ).emplace_back("SMBIOS UUID");
  }
  // A value both report, named after the strongest kind this machine reports it as (a
  // laptop's system serial is often its chassis serial too: one value, one id).
  std::vector<std::string> counted;
  for (const auto& serial : in.hardware_serials) {
    if (std::find(counted.begin(), counted.end(), serial.value) != counted.end()) continue;
    if (std::binary_search(known.hardware_values.begin(), known.hardware_values.end(),
                           serial.value)) {
      counted.push_back(serial.value);
      c.hardware_agree.emplace_back(serial_name(serial.kind));
    }
  }
  for (const auto kind : {SerialKind::system, SerialKind::board, SerialKind::chassis}) {
    auto mine = in.values_of(kind);
    auto theirs = known.values_of(kind);
    sort_unique(mine);
    sort_unique(theirs);
    if (!mine.empty() && !theirs.empty() && !shares(mine, known.hardware_values) &&
        !shares(theirs, in.hardware_values)) {
      c.hardware_differ.emplace_back(serial_name(kind));
    }
  }
  if (!in.machine_id.empty() && !known.machine_id.empty()) {
    c.machine_id_agree = in.machine_id == known.machine_id;
    c.machine_id_differ = !c.machine_id_agree;
  }
  if (!in.disks.empty() && !known.disks.empty()) {
    c.disk_agree = shares(in.disks, known.disks);
    c.disk_differ = !c.disk_agree;
  }
  c.nic_agree = shares(in.physical_macs, known.physical_macs);
  c.nic_differ = !in.nic_macs.empty() && !known.nic_macs.empty() &&
                 !std::includes(in.nic_macs.begin(), in.nic_macs.end(), known.nic_macs.begin(),
                                known.nic_macs.end()) &&
                 !std::includes(known.nic_macs.begin(), known.nic_macs.end(), in.nic_macs.begin(),
                                in.nic_macs.end());
  c.host_agree = !in.host.empty() && in.host == known.host;
  return c;
}

// "a", "a and b", "a, b and c".
std::string join_and(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

std::vector<std::string> agreeing_names(const Comparison& c) {
  std::vector<std::string> names = c.hardware_agree;
  if (c.machine_id_agree) names.emplace_back("machine-id");
  if (c.disk_agree) names.emplace_back("disk serial");
  if (c.nic_agree) names.emplace_back("MAC address");
  return names;
}

std::vector<std::string> differing_names(const Comparison& c) {
  std::vector<std::string> names = c.hardware_differ;
  if (c.machine_id_differ) names.emplace_back("machine-id");
  if (c.disk_differ) names.emplace_back("disk serials");
  if (c.nic_differ) names.emplace_back(c.nic_agree ? "other MAC addresses" : "MAC addresses");
  return names;
}

// The header's rules 1-5: the confidence of a match, or 0 for none.
int decide(const Comparison& c, const Facts& in, const Facts& known) {
  const std::size_t h_plus = c.hardware_agree.size();
  const std::size_t h_minus = c.hardware_differ.size();
  if (h_plus >= 2 && h_minus == 0) return 99;
  if (h_plus == 1 && h_minus == 0) {
    if (c.corroborated()) return 95;
    return c.contradictions() <= 1 ? 85 : 0;
  }
  if (h_plus >= 1) {
    const bool enough =
        (c.machine_id_agree && (c.disk_agree || c.nic_agree)) || (c.disk_agree && c.nic_agree);
    return enough ? 70 : 0;
  }
  if (c.machine_id_agree) {
    if (c.disk_agree && c.nic_agree) return h_minus == 0 ? 80 : 65;
    if (h_minus > 0) return 0;
    if (c.disk_agree) return 75;
    if (c.nic_agree && !c.nic_differ) return 70;
    const bool nothing_else = (in.uuid.empty() || known.uuid.empty()) &&
                              (in.hardware_serials.empty() || known.hardware_serials.empty()) &&
                              (in.disks.empty() || known.disks.empty()) &&
                              (in.nic_macs.empty() || known.nic_macs.empty());
    return nothing_else ? 50 : 0;
  }
  if (h_minus == 0 && c.disk_agree && c.nic_agree) return 60;
  return 0;
}

// Why a match was made, in the words a technician reads in `device show`.
std::vector<std::string> explain_match(const Comparison& c, int confidence) {
  std::vector<std::string> reasons;
  reasons.push_back("same " + join_and(agreeing_names(c)));
  if (confidence == 50) reasons.emplace_back("no hardware identifier on both sides to confirm it");
  if (!c.hardware_differ.empty()) {
    reasons.push_back(join_and(c.hardware_differ) + " changed: motherboard replaced or ids " +
                      "re-programmed");
  }
  if (c.machine_id_differ) reasons.emplace_back("machine-id changed: re-imaged or re-installed");
  if (c.disk_differ) reasons.emplace_back("no disk serial in common: disk replaced");
  if (c.nic_differ) reasons.emplace_back("MAC addresses changed: network adapter replaced");
  if (c.host_agree) reasons.emplace_back("same hostname");
  return reasons;
}

struct Candidate {
  const KnownDevice* device = nullptr;
  Comparison comparison;
  int confidence = 0;
};

bool ranks_before(const Candidate& a, const Candidate& b) {
  return std::make_tuple(-a.confidence, -static_cast<int>(a.comparison.hardware_agree.size()),
                         -a.comparison.components(), !a.comparison.host_agree,
                         std::string_view(a.device->id)) <
         std::make_tuple(-b.confidence, -static_cast<int>(b.comparison.hardware_agree.size()),
                         -b.comparison.components(), !b.comparison.host_agree,
                         std::string_view(b.device->id));
}

}  // namespace

std::string_view to_string(SerialKind kind) {
  switch (kind) {
    case SerialKind::system:
      return "system";
    case SerialKind::board:
      return "board";
    case SerialKind::chassis:
      return "chassis";
    case SerialKind::disk:
      return "disk";
    case SerialKind::other:
      return "other";
  }
  return "other";
}

std::string tagged_serial(SerialKind kind, std::string_view value) {
  if (kind == SerialKind::other) return std::string(value);
  std::string out(to_string(kind));
  out += ':';
  out += value;
  return out;
}

std::string_view to_string(MacKind kind) {
  switch (kind) {
    case MacKind::invalid:
      return "invalid";
    case MacKind::placeholder:
      return "placeholder";
    case MacKind::randomised:
      return "randomised";
    case MacKind::virtual_interface:
      return "virtual_interface";
    case MacKind::usb_adapter:
      return "usb_adapter";
    case MacKind::virtual_machine:
      return "virtual_machine";
    case MacKind::physical:
      return "physical";
  }
  return "invalid";
}

MacKind classify_mac(std::string_view entry) {
  const auto parsed = parse_mac_entry(entry);
  return parsed ? parsed->kind : MacKind::invalid;
}

std::optional<std::string> canonical_uuid(std::string_view text) {
  auto cleaned = clean(text, kMaxIdentityValue);
  if (!cleaned) return std::nullopt;
  std::string_view rest = *cleaned;
  std::string lowered = lower(std::string(rest));
  rest = lowered;
  if (starts_with(rest, "urn:uuid:")) rest.remove_prefix(9);
  if (rest.size() >= 2 && rest.front() == '{' && rest.back() == '}') {
    rest = rest.substr(1, rest.size() - 2);
  }
  std::string digits;
  for (const char c : rest) {
    if (c == '-' || c == ' ') continue;
    if (!is_hex(c)) return std::nullopt;
    digits.push_back(c);
  }
  if (digits.size() != 32) return std::nullopt;
  return digits.substr(0, 8) + '-' + digits.substr(8, 4) + '-' + digits.substr(12, 4) + '-' +
         digits.substr(16, 4) + '-' + digits.substr(20);
}

std::optional<std::string> canonical_mac(std::string_view text) {
  auto cleaned = clean(text, kMaxIdentityValue);
  if (!cleaned) return std::nullopt;
  // Groups between separators: six of one or two digits ("0:1c:42:a:b:c" as macOS prints
  // them, "AA-BB-…"), or any grouping of twelve digits ("aabb.ccdd.eeff", "aabbcc-ddeeff").
  std::vector<std::string> groups(1);
  for (const char c : *cleaned) {
    if (c == ':' || c == '-' || c == '.' || c == ' ') {
      if (groups.back().empty()) return std::nullopt;
      groups.emplace_back();
    } else if (is_hex(c)) {
      if (groups.back().size() >= 12) return std::nullopt;
      groups.back().push_back(to_lower(c));
    } else {
      return std::nullopt;
    }
  }
  if (groups.size() > 12 || groups.back().empty()) return std::nullopt;
  std::string digits;
  const bool octets =
      groups.size() == 6 &&
      std::all_of(groups.begin(), groups.end(), [](const std::string& g) { return g.size() <= 2; });
  for (const auto& group : groups) {
    if (octets && group.size() == 1) digits.push_back('0');
    digits += group;
  }
  if (digits.size() != 12) return std::nullopt;
  std::string mac;
  for (std::size_t i = 0; i < 12; i += 2) {
    if (i > 0) mac.push_back(':');
    mac += digits.substr(i, 2);
  }
  return mac;
}

bool is_placeholder_uuid(std::string_view uuid) {
  const auto canonical = canonical_uuid(uuid);
  if (!canonical) return true;
  std::string digits;
  for (const char c : *canonical) {
    if (c != '-') digits.push_back(c);
  }
  std::string distinct = digits;
  // At most two different digits ("ffff…", "fefe…", "0000…0001") or all zero but for a few.
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  if (distinct.size() <= 2) return true;
  if (std::count(digits.begin(), digits.end(), '0') >= 28) return true;
  return std::find(kPlaceholderUuids.begin(), kPlaceholderUuids.end(), *canonical) !=
         kPlaceholderUuids.end();
}

bool is_placeholder_serial(std::string_view serial) {
  const auto parsed = parse_serial(serial);
  return !parsed || is_placeholder_value(parsed->value);
}

bool is_placeholder_machine_id(std::string_view machine_id) {
  const auto id = normalize_machine_id(machine_id);
  if (!id) return true;
  std::string key;
  for (const char c : *id) {
    if (is_alnum(c)) key.push_back(c);
  }
  return key.empty() || all_same(key) || key == "uninitialized";
}

HardwareIdentity normalize_identity(const HardwareIdentity& reported) {
  HardwareIdentity out;
  out.machine_id = normalize_machine_id(reported.machine_id).value_or("");
  out.smbios_uuid = canonical_uuid(reported.smbios_uuid).value_or("");
  out.hostname = normalize_hostname(reported.hostname);

  // Usable values first, then by kind and value: the cut keeps the best, and the result does
  // not depend on the order the agent listed them in.
  std::vector<std::tuple<bool, int, std::string, SerialKind>> serials;
  const std::size_t serials_seen = std::min(reported.serials.size(), kMaxScanned);
  for (std::size_t i = 0; i < serials_seen; ++i) {
    if (auto serial = parse_serial(reported.serials[i])) {
      serials.emplace_back(is_placeholder_value(serial->value), serial_rank(serial->kind),
                           std::move(serial->value), serial->kind);
    }
  }
  sort_unique(serials);
  for (std::size_t i = 0; i < serials.size() && out.serials.size() < kMaxSerials; ++i) {
    out.serials.push_back(render(Serial{std::get<3>(serials[i]), std::get<2>(serials[i])}));
  }

  std::vector<std::tuple<int, std::string, std::string>> macs;
  const std::size_t macs_seen = std::min(reported.macs.size(), kMaxScanned);
  for (std::size_t i = 0; i < macs_seen; ++i) {
    if (auto mac = parse_mac_entry(reported.macs[i])) {
      macs.emplace_back(mac_rank(mac->kind), std::move(mac->mac), std::move(mac->name));
    }
  }
  sort_unique(macs);
  for (std::size_t i = 0; i < macs.size() && out.macs.size() < kMaxMacs; ++i) {
    const auto& [rank, mac, name] = macs[i];
    out.macs.push_back(name.empty() ? mac : name + "=" + mac);
  }
  return out;
}

IdentityMatch match_identity(const HardwareIdentity& incoming,
                             const std::vector<KnownDevice>& known) {
  IdentityMatch result;
  const Facts in = facts_of(incoming);
  if (!in.usable()) {
    result.reasons.emplace_back(
        "no usable identifier (all blank or placeholder values): a new device");
    return result;
  }

  std::vector<Candidate> matches;
  std::vector<std::string> notes;  // about devices that were not matched
  std::size_t noted = 0;
  for (const auto& device : known) {
    const Facts theirs = facts_of(device.identity);
    if (!theirs.usable()) continue;
    Candidate candidate{&device, compare(in, theirs), 0};
    candidate.confidence = decide(candidate.comparison, in, theirs);
    if (candidate.confidence > 0) {
      matches.push_back(std::move(candidate));
      continue;
    }
    const Comparison& c = candidate.comparison;
    const bool clone = c.shares_strong_id();
    if (!clone && c.components() == 0) continue;
    if (clone) {
      result.possible_clone = true;
      result.related_devices.push_back(device.id);
    }
    if (noted++ >= kMaxNotedDevices) continue;
    const auto differing = differing_names(c);
    std::string note = "shares " + join_and(agreeing_names(c)) + " with " + device.id + ", but " +
                       (differing.empty() ? std::string("too little else agrees")
                                          : join_and(differing) + " differ");
    if (clone) {
      note += ": a cloned image or an OEM duplicate; not merged";
    } else if (!c.disk_agree) {
      note += ": a dock or a network adapter moved between machines; not merged";
    } else {
      note += ": a disk moved between machines; not merged";
    }
    notes.push_back(std::move(note));
  }

  if (matches.empty()) {
    result.reasons.emplace_back("no known device matches: a new device");
  } else {
    std::sort(matches.begin(), matches.end(), ranks_before);
    const Candidate& best = matches.front();
    result.device_id = best.device->id;
    result.confidence = std::min(99, best.confidence + (best.comparison.host_agree ? 3 : 0));
    result.reasons = explain_match(best.comparison, best.confidence);
    for (std::size_t i = 1; i < matches.size(); ++i) {
      result.conflict = true;
      result.related_devices.push_back(matches[i].device->id);
      if (i <= kMaxNotedDevices) {
        result.reasons.push_back("also matches " + matches[i].device->id + " (same " +
                                 join_and(agreeing_names(matches[i].comparison)) +
                                 "): enrolled twice, or identifiers shared");
      }
    }
  }
  result.reasons.insert(result.reasons.end(), notes.begin(), notes.end());
  sort_unique(result.related_devices);
  return result;
}

std::vector<std::string> identity_keys(const HardwareIdentity& identity) {
  const Facts facts = facts_of(identity);
  std::vector<std::string> keys;
  if (!facts.uuid.empty()) keys.push_back("uuid:" + facts.uuid);
  for (const auto& serial : facts.hardware_serials) keys.push_back("serial:" + serial.value);
  if (!facts.machine_id.empty()) keys.push_back("machine-id:" + facts.machine_id);
  for (const auto& disk : facts.disks) keys.push_back("disk:" + disk);
  for (const auto& mac : facts.physical_macs) keys.push_back("mac:" + mac);
  // Keep the order (strongest first) while dropping a serial reported under two kinds.
  std::vector<std::string> unique;
  for (auto& key : keys) {
    if (std::find(unique.begin(), unique.end(), key) == unique.end()) {
      unique.push_back(std::move(key));
    }
  }
  return unique;
}

std::string identity_key(const HardwareIdentity& identity) {
  auto keys = identity_keys(identity);
  return keys.empty() ? std::string() : std::move(keys.front());
}

}  // namespace tether::relay::fleet
