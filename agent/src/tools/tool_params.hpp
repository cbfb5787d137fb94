#pragma once
// Small strict readers for tool params: every field known, every type and range checked.
// Each returns an error text for the technician, empty when the params are fine.

#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tether::agent {

/// "unknown parameter x" for a field not in `known`; "" when all are known.
inline std::string unknown_params(const nlohmann::json& params,
                                  std::initializer_list<std::string_view> known) {
  if (!params.is_object()) return "parameters must be an object";
  for (const auto& [key, value] : params.items()) {
    bool found = false;
    for (auto k : known) found = found || k == key;
    if (!found) return "unknown parameter \"" + key.substr(0, 32) + "\"";
  }
  return {};
}

/// Reads an optional string field of at most `max` bytes into `out`.
inline std::string read_string(const nlohmann::json& params, const char* key, std::string& out,
                               std::size_t max = 256) {
  auto it = params.find(key);
  if (it == params.end()) return {};
  if (!it->is_string() || it->get_ref<const std::string&>().size() > max) {
    return std::string("\"") + key + "\" must be text of at most " + std::to_string(max) + " bytes";
  }
  out = it->get<std::string>();
  return {};
}

}  // namespace tether::agent
