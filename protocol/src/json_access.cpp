#include "tether/protocol/json_access.hpp"

#include <cmath>

namespace tether::protocol {

const nlohmann::json& json_null() {
  static const nlohmann::json null;
  return null;
}

const nlohmann::json& json_member(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return json_null();
  const auto it = object.find(key);
  return it == object.end() ? json_null() : *it;
}

std::optional<double> json_number(const nlohmann::json& value) {
  if (!value.is_number()) return std::nullopt;
  const auto n = value.get<double>();
  if (!std::isfinite(n)) return std::nullopt;
  return n;
}

std::optional<double> json_number(const nlohmann::json& object, std::string_view key) {
  return json_number(json_member(object, key));
}

}  // namespace tether::protocol
