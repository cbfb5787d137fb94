#pragma once
/// Reading JSON that came from elsewhere (an agent, the relay, a file) without throwing: a
/// missing key, a value that is not an object, and null all read as null.

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tether::protocol {

/// A null that lives forever, for functions that return a reference.
const nlohmann::json& json_null();

/// object[key], or null when `object` is not an object or has no such key.
const nlohmann::json& json_member(const nlohmann::json& object, std::string_view key);

/// The value as a finite number; nullopt for anything else (text, null, NaN, infinity).
std::optional<double> json_number(const nlohmann::json& value);
/// json_number(json_member(object, key)).
std::optional<double> json_number(const nlohmann::json& object, std::string_view key);

}  // namespace tether::protocol
