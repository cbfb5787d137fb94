#include "tether/protocol/utf8.hpp"

namespace tether::protocol {

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = static_cast<unsigned char>(text[i]);
  const std::size_t length = byte < 0x80                           ? 1
                             : (byte >> 5) == 0x6 && byte >= 0xc2  ? 2
                             : (byte >> 4) == 0xe                  ? 3
                             : (byte >> 3) == 0x1e && byte <= 0xf4 ? 4
                                                                   : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
  }
  if (length >= 3) {
    // Overlong forms, surrogates and code points above U+10FFFF.
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if ((byte == 0xe0 && second < 0xa0) || (byte == 0xed && second >= 0xa0) ||
        (byte == 0xf0 && second < 0x90) || (byte == 0xf4 && second >= 0x90)) {
      return 0;
    }
  }
  return length;
}

}  // namespace tether::protocol
