#include "tether/agent/consent.hpp"

#include <algorithm>
#include <cctype>

#include "tether/agent/tools/tool.hpp"

namespace tether::agent {

namespace {

std::string lower_trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> parse_consent_answer(
    std::string_view answer, const std::vector<std::string>& requested) {
  const auto text = lower_trimmed(answer);
  if (text == "y" || text == "yes") return requested;
  if (text.empty() || text == "n" || text == "no") return std::vector<std::string>{};
  std::vector<std::string> granted;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == ',') {
      ++i;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    std::size_t number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      number = number * 10 + static_cast<std::size_t>(text[i] - '0');
      if (number > requested.size()) return std::nullopt;
      ++i;
    }
    if (number == 0) return std::nullopt;
    const auto& scope = requested[number - 1];
    if (std::find(granted.begin(), granted.end(), scope) == granted.end()) granted.push_back(scope);
  }
  if (granted.empty()) return std::nullopt;
  return granted;
}

std::optional<std::vector<std::string>> parse_scope_list(std::string_view list) {
  std::vector<std::string> scopes;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto name = lower_trimmed(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (name.empty()) continue;
    const auto& known = scope_descriptions();
    if (std::none_of(known.begin(), known.end(), [&](const auto& s) { return s.name == name; })) {
      return std::nullopt;
    }
    if (std::find(scopes.begin(), scopes.end(), name) == scopes.end()) scopes.push_back(name);
  }
  return scopes;
}

std::vector<std::string> intersect_scopes(const std::vector<std::string>& requested,
                                          const std::vector<std::string>& allowed) {
  std::vector<std::string> out;
  for (const auto& scope : requested) {
    if (std::find(allowed.begin(), allowed.end(), scope) != allowed.end()) out.push_back(scope);
  }
  return out;
}

}  // namespace tether::agent
