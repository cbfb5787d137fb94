#pragma once
/// The user's answer to the consent prompt, as a list of granted scopes (pure; tested alone).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::agent {

/// "y"/"yes" grants every requested scope; "", "n", "no" refuses (an empty list); numbers
/// such as "1 3" or "1,3" grant those entries of `requested` (1-based). Anything else, or a
/// number out of range, is not understood: nullopt, and the user is asked again.
std::optional<std::vector<std::string>> parse_consent_answer(
    std::string_view answer, const std::vector<std::string>& requested);

/// Scopes from a comma-separated list ("diagnostics,logs"); nullopt for a name that is not a
/// scope. Used by `--grant` with `--consent auto`.
std::optional<std::vector<std::string>> parse_scope_list(std::string_view list);

/// `requested` restricted to `allowed`, in the order requested.
std::vector<std::string> intersect_scopes(const std::vector<std::string>& requested,
                                          const std::vector<std::string>& allowed);

}  // namespace tether::agent
