#pragma once
// Debian's version order (deb-version(7)): the fleet queries compare package and OS versions
// with it, and the before/after diff of a session tells upgrades from downgrades.

#include <string_view>

namespace tether::relay::fleet {

/// Compares two version strings the way dpkg does: epoch ("1:" prefix, numeric; 0 when
/// absent), then upstream version, then revision (after the last "-"). Within each part runs
/// of digits compare as numbers (leading zeros ignored, any length), letters sort before
/// other characters, and "~" sorts before everything, even the end ("1.0~rc1" < "1.0").
/// Any byte string is accepted; an epoch that is not all digits is read as part of the
/// upstream version. Returns <0, 0 or >0. Also orders rpm, snap and flatpak versions sensibly.
int compare_debian_versions(std::string_view a, std::string_view b);

}  // namespace tether::relay::fleet
