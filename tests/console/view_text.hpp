#pragma once
// Reading what the console's text views render, in their tests: the output split into lines,
// and how many terminal columns a line takes.

#include <cstddef>
#include <string>
#include <vector>

namespace tether::testing {

/// Columns a line takes: one per code point ("…" and "→" are one each).
inline std::size_t columns(const std::string& line) {
  std::size_t n = 0;
  for (const char c : line) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

/// The lines of `text`, without their "\n"; a last line without one is kept too.
inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

}  // namespace tether::testing
