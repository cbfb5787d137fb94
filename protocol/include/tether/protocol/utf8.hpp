#pragma once
/// UTF-8 validation shared by everything that turns bytes from a user's machine (host names,
/// mount paths, log lines) into JSON strings or terminal text.

#include <cstddef>
#include <string_view>

namespace tether::protocol {

/// Length (1–4) of the well-formed UTF-8 sequence starting at text[i], or 0 when the bytes
/// there are not one (stray continuation byte, overlong form, surrogate, above U+10FFFF,
/// cut short by the end of text).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

}  // namespace tether::protocol
