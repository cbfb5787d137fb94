#include "fleet/debian_version.hpp"

#include <cstddef>
#include <tuple>

namespace tether::relay::fleet {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// dpkg's order() in lib/dpkg/version.c: digits and the end weigh 0 (the digit loop handles
// them), letters their ASCII code, "~" less than the end, everything else after letters.
int weight(char c) {
  if (is_digit(c)) return 0;
  if (is_alpha(c)) return static_cast<unsigned char>(c);
  if (c == '~') return -1;
  if (c != '\0') return static_cast<unsigned char>(c) + 256;
  return 0;
}

// dpkg's verrevcmp(), over string_views: '\0' stands for "past the end".
int compare_part(std::string_view a, std::string_view b) {
  std::size_t i = 0;
  std::size_t j = 0;
  const auto at = [](std::string_view s, std::size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
      const int wa = weight(at(a, i));
      const int wb = weight(at(b, j));
      if (wa != wb) return wa < wb ? -1 : 1;
      ++i;
      ++j;
    }
    while (at(a, i) == '0') ++i;
    while (at(b, j) == '0') ++j;
    int first_diff = 0;
    while (is_digit(at(a, i)) && is_digit(at(b, j))) {
      if (first_diff == 0) first_diff = at(a, i) - at(b, j);
      ++i;
      ++j;
    }
    if (is_digit(at(a, i))) return 1;
    if (is_digit(at(b, j))) return -1;
    if (first_diff != 0) return first_diff < 0 ? -1 : 1;
  }
  return 0;
}

std::tuple<std::string_view, std::string_view, std::string_view> split(std::string_view v) {
  std::string_view epoch;
  if (const auto colon = v.find(':');
      colon != std::string_view::npos && colon > 0 &&
      v.substr(0, colon).find_first_not_of("0123456789") == std::string_view::npos) {
    epoch = v.substr(0, colon);
    v.remove_prefix(colon + 1);
  }
  std::string_view revision;
  if (const auto dash = v.rfind('-'); dash != std::string_view::npos) {
    revision = v.substr(dash + 1);
    v = v.substr(0, dash);
  }
  return {epoch, v, revision};
}

}  // namespace

int compare_debian_versions(std::string_view a, std::string_view b) {
  const auto [epoch_a, upstream_a, revision_a] = split(a);
  const auto [epoch_b, upstream_b, revision_b] = split(b);
  if (const int c = compare_part(epoch_a, epoch_b); c != 0) return c;
  if (const int c = compare_part(upstream_a, upstream_b); c != 0) return c;
  return compare_part(revision_a, revision_b);
}

}  // namespace tether::relay::fleet
