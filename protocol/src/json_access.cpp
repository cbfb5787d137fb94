#include "tether/protocol/json_access.hpp"

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

}  // namespace tether::protocol
