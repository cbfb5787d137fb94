#pragma once
// Which enrolled device is this machine? The identifiers an agent reports (machine-id, SMBIOS
// UUID, serials, MACs, hostname) weighed against the devices the relay knows, so that one
// machine stays one device when it is re-imaged, gets a new NIC, disk or motherboard, and so
// that a cloned image, a docking station or an OEM's placeholder serial never merges two
// machines into one. Pure functions over values: no store, no clock, no I/O; thread-safe.
//
// What an agent reports is untrusted. normalize_identity() bounds it (field lengths, list
// sizes, how much of a list is even looked at) and puts every value in one canonical form;
// the other functions normalise their inputs themselves, so callers may pass raw reports.
//
// Value formats in HardwareIdentity:
//   serials  "KIND:VALUE" with KIND one of system, board, chassis, disk (case-insensitive),
//            or a bare "VALUE" when the agent does not know where it came from (counted as a
//            hardware serial). Build them with tagged_serial(). Only fixed, internal disks
//            belong here: a USB stick's serial moves between machines.
//   macs     "aa:bb:cc:dd:ee:ff", optionally with the interface name: "IFNAME=MAC". Any of
//            "AA-BB-..", "aabb.ccdd.eeff", "aabbccddeeff" is accepted. With the name, virtual
//            interfaces (docker*, veth*, virbr*, vmnet*, vboxnet*, "… Virtual …", tun0,
//            tap0, wg0, br0, br-*, lo, …) and USB adapters named by their MAC (Linux
//            "enx<mac>", typical of docks) are recognised; without it only the address
//            itself is judged, so agents should send names.
//
// Scoring rules (match_identity). Identifiers fall into four classes:
//   hardware ids (strong)      SMBIOS UUID; system, board, chassis and untagged serials.
//                              Written in the firmware; survive re-imaging. A board swap
//                              changes them, and some OEMs ship a batch with one UUID.
//   machine-id (strong, but    /etc/machine-id or the OS's install GUID. Survives hardware
//     clonable)                repairs, changes on re-install, and is copied with an image.
//   component ids (medium)     Serials of fixed disks; MACs of physical NICs. NICs and disks
//                              get replaced; a dock's NIC moves between laptops.
//   hostname (weak)            Never decides anything; +3 confidence and a reason when it
//                              agrees, and a tie-breaker between candidates.
// Placeholders never count (is_placeholder_*), nor do weak MACs (classify_mac): randomised or
// locally administered, multicast, all-zero, virtual interfaces, USB adapters. MACs with a
// hypervisor's OUI (VMware, VirtualBox, QEMU/KVM, Hyper-V, Xen, Parallels) never count for a
// match but do count against one: a cloned VM gets new ones.
//
// Against each known device, what agrees and what disagrees:
//   H+  hardware ids with the same value (distinct values: a laptop's system serial that is
//       also its chassis serial counts once)
//   H-  hardware kinds both sides report with different values (UUID, system, board, chassis)
//   M+  same machine-id            M-  both report one, different
//   D+  a disk serial in common    D-  both report disks, none in common
//   N+  a physical MAC in common   N-  both report NIC MACs (physical or hypervisor OUI) and
//                                      each has one the other lacks (a NIC replaced, a dock
//                                      shared by two machines, two machines)
//   corroborated = M+ or D+ or (N+ and not N-);  contradictions = M- + D- + N-
// The first rule that applies:
//   1. H+ >= 2, H- = 0                        match 99  "same SMBIOS UUID and board serial"
//   2. H+ = 1,  H- = 0, corroborated          match 95
//      H+ = 1,  H- = 0, contradictions <= 1   match 85  (re-imaged, or little else reported)
//      H+ = 1,  H- = 0, otherwise             none: all else differs, an OEM duplicate id
//   3. H+ >= 1, H- >= 1, (M+ and (D+ or N+)) or (D+ and N+)
//                                             match 70  (ids partly re-programmed)
//   4. H+ = 0, M+, D+ and N+                  match 80, or 65 when H- >= 1 (motherboard
//                                             replaced: the OS, its disk and a NIC stayed)
//      H+ = 0, M+, H- = 0, D+                 match 75  (same OS on the same disk)
//      H+ = 0, M+, H- = 0, N+, not N-         match 70  (same OS, same NICs: a new disk)
//      H+ = 0, M+, nothing else on either side to compare
//                                             match 50  (no hardware ids to confirm)
//   5. H+ = 0, not M+, H- = 0, D+ and N+      match 60  (blank firmware ids, re-installed)
//   Anything else: no match. Consequences: a re-imaged machine keeps its device (rules 1, 2);
//   a cloned image (same machine-id, other UUID, serials, MACs or disks) does not (rule 4
//   wants its disk, or its disk and NIC when hardware ids differ); a MAC alone never matches
//   and a dock's MAC (N+ with N-) corroborates nothing; a machine with nothing usable (blank
//   or placeholder everything) always becomes a new device, never merged with another blank.
// Flags:
//   possible_clone  a known device shares a strong id (machine-id, UUID, a hardware serial)
//                   with this machine but was not matched because the hardware disagrees: a
//                   cloned image, or an OEM duplicate. Set even when another device matched.
//   conflict        two or more known devices match; `device_id` is the best ranked
//                   (confidence, then H+, then D+ and N+, then hostname, then the smaller
//                   id); the others are in related_devices.
// Not handled: Windows reporting the first three UUID fields byte-swapped relative to
// dmidecode (an agent must report one form consistently); two VM copies that keep UUID, MACs
// and machine-id ("I moved it") are indistinguishable and stay one device.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::relay::fleet {

/// Identifiers as an agent reports them (see the value formats above).
struct HardwareIdentity {
  std::string machine_id;
  std::string smbios_uuid;
  std::vector<std::string> serials;  ///< system, board, chassis, disk serials ("KIND:VALUE")
  std::vector<std::string> macs;     ///< "MAC" or "IFNAME=MAC"
  std::string hostname;
  bool operator==(const HardwareIdentity&) const = default;
};

/// A device the relay already knows, with the identity it last reported.
struct KnownDevice {
  std::string id;  ///< e.g. "D-1"
  HardwareIdentity identity;
};

/// The answer of match_identity.
struct IdentityMatch {
  std::optional<std::string> device_id;  ///< the known device this machine is; none: new device
  int confidence = 0;                    ///< 0..100; 0 when device_id is empty
  std::vector<std::string> reasons;      ///< sentences, e.g. "same SMBIOS UUID and board serial"
  bool possible_clone = false;
  bool conflict = false;
  std::vector<std::string> related_devices;  ///< the other devices behind the flags, sorted
};

// Bounds on untrusted input. Longer values are dropped, not truncated: a truncated serial could
// equal another machine's. Lists are looked at up to kMaxScanned entries, deduplicated, ordered
// strongest first then by value, and cut to their maximum.
inline constexpr std::size_t kMaxIdentityValue = 128;  ///< bytes of a serial, MAC entry, ids
inline constexpr std::size_t kMaxHostname = 253;
inline constexpr std::size_t kMaxSerials = 16;
inline constexpr std::size_t kMaxMacs = 32;
inline constexpr std::size_t kMaxScanned = 256;

enum class SerialKind { system, board, chassis, disk, other };
std::string_view to_string(SerialKind kind);
/// "system:ABC123" (the form `serials` holds).
std::string tagged_serial(SerialKind kind, std::string_view value);

/// What a MAC address is worth as identity.
enum class MacKind {
  invalid,            ///< not a 48-bit MAC
  placeholder,        ///< all-zero, broadcast, multicast
  randomised,         ///< locally administered (bit 0x02 of the first octet)
  virtual_interface,  ///< named docker0, veth…, virbr…, tun…, wg…, lo, …
  usb_adapter,        ///< named enx<mac>: a USB NIC or a dock's, it moves between machines
  virtual_machine,    ///< a hypervisor's OUI: stable per VM, counts only against a match
  physical,           ///< a NIC's burned-in address: a medium identifier
};
std::string_view to_string(MacKind kind);
/// Classifies one `macs` entry ("MAC" or "IFNAME=MAC", raw or normalised).
MacKind classify_mac(std::string_view entry);

/// Canonical forms; nullopt when the text is not one. UUID: lower-case 8-4-4-4-12 from braces,
/// "urn:uuid:", upper case, missing dashes. MAC: lower-case colon form from ':', '-', '.' or
/// no separators.
std::optional<std::string> canonical_uuid(std::string_view text);
std::optional<std::string> canonical_mac(std::string_view text);

/// Placeholder values that must not count as identity. Inputs may be raw (any case,
/// whitespace, punctuation). UUID: all one digit, all-zero but for at most 4 digits, and
/// OEM defaults such as 03000200-0400-0500-0006-000700080009. Serial: "To be filled by
/// O.E.M.", "Default string", "System Serial Number", "0123456789", "None", "N/A", … , one
/// repeated character, fewer than 3 letters or digits, QEMU's "QM0000n" disks. Machine-id:
/// empty, one repeated character, "uninitialized".
bool is_placeholder_uuid(std::string_view uuid);
bool is_placeholder_serial(std::string_view serial);
bool is_placeholder_machine_id(std::string_view machine_id);

/// A bounded, canonical copy: control characters removed, whitespace trimmed; machine-id
/// lower-case (32 hex digits without dashes when it is a UUID or hex id); UUID canonical or
/// empty; serials "kind:VALUE" upper-case without whitespace (a bare VALUE stays bare); MACs
/// canonical, "ifname=mac" when named; hostname lower-case without a trailing dot.
/// Placeholders are kept (for display) and sorted last; invalid values are dropped.
/// Idempotent.
HardwareIdentity normalize_identity(const HardwareIdentity& reported);

/// Which known device `incoming` is, by the rules above. O(known.size() × identifiers):
/// for a large fleet, narrow `known` first with identity_keys() over an index.
IdentityMatch match_identity(const HardwareIdentity& incoming,
                             const std::vector<KnownDevice>& known);

/// A stable key for the strongest usable identifier, for indexing: "uuid:<uuid>", else
/// "serial:<VALUE>" (system, board, untagged, chassis in that order), else
/// "machine-id:<id>", else "disk:<VALUE>", else "mac:<mac>" (physical only); "" when the
/// machine has nothing usable (never index or merge on ""). Keys of different kinds never
/// collide. Not unique: clones and OEM duplicates share keys; use it to find candidates, not
/// as a primary key.
std::string identity_key(const HardwareIdentity& identity);

/// Every usable identifier as a key in identity_key()'s forms (deduplicated, bounded by the
/// normalisation limits): index a device under all of them, and look a machine up by all of
/// them to find the candidates to pass to match_identity().
std::vector<std::string> identity_keys(const HardwareIdentity& identity);

}  // namespace tether::relay::fleet
