#include "helpdesk/json_text.hpp"

#include "tether/protocol/utf8.hpp"

namespace tether::relay::helpdesk {

const nlohmann::json* member(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string clip_text(std::string_view text, std::size_t max) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (chars == max) {
      out += "…";
      break;
    }
    const std::size_t length = protocol::utf8_sequence_length(text, i);
    const auto byte = static_cast<unsigned char>(text[i]);
    if (length == 0) {
      out += '?';
      ++i;
    } else if (byte < 0x20 || byte == 0x7f) {
      out += ' ';
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
    ++chars;
  }
  return out;
}

}  // namespace tether::relay::helpdesk
