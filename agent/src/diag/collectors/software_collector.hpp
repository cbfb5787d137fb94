#pragma once
// The "software" section (docs/diagnostics.md): installed packages from dpkg, rpm, snap and
// flatpak, and the updates waiting to be installed where that is cheaply known.

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// The output of `rpm -qa --qf
/// '%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SIZE}\t%{INSTALLTIME}\n'` → packages[] objects
/// (source "rpm"). Lines without five tab-separated fields are skipped;
/// "(none)" (gpg-pubkey entries) and non-numeric sizes or times become null with a reason.
nlohmann::json parse_rpm_packages(std::string_view text);

/// /var/lib/update-notifier/updates-available (Ubuntu's motd text: "N updates can be applied
/// immediately.", "M of these updates are standard security updates.") →
/// {"total", "security", "source": "update-notifier"}; nullopt when no count is in the text.
std::optional<nlohmann::json> parse_updates_available(std::string_view text);

/// Collects the "software" section under context.root. Never throws for anything on disk.
nlohmann::json collect_software(const CollectContext& context);

}  // namespace tether::agent::diag
