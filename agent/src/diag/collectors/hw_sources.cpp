#include "diag/collectors/hw_sources.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "tether/protocol/utf8.hpp"

namespace tether::agent::diag {

RawFile read_raw(const std::filesystem::path& root, std::string_view path, std::size_t max_bytes) {
  RawFile result;
  const auto full = under_root(root, path);
  const int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    result.error = errno;
    return result;
  }
  std::string bytes;
  char buffer[4096];
  while (bytes.size() < max_bytes) {
    const auto want = std::min(sizeof buffer, max_bytes - bytes.size());
    const auto got = ::read(fd, buffer, want);
    if (got < 0) {
      if (errno == EINTR) continue;
      result.error = errno;
      ::close(fd);
      return result;
    }
    if (got == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  result.bytes = std::move(bytes);
  return result;
}

std::string reason_for_errno(int error, unsigned uid) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return "not present";
    case EACCES:
    case EPERM:
      return uid != 0 ? "not root" : "could not read: permission denied";
    case EOPNOTSUPP:
      return "not supported on this platform";
    default:
      return std::string("could not read: ") + std::strerror(error);
  }
}

namespace {

// Printable UTF-8 without control characters: what a sysfs string attribute holds.
bool is_text(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (byte < 0x20 || byte == 0x7f) return false;
      ++i;
      continue;
    }
    const std::size_t length = protocol::utf8_sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

}  // namespace

SysfsValue read_value(const std::filesystem::path& root, std::string_view path, unsigned uid) {
  SysfsValue result;
  const auto raw = read_raw(root, path, 4096);
  if (!raw.bytes) {
    result.reason = reason_for_errno(raw.error, uid);
    return result;
  }
  const auto text = trim(*raw.bytes);
  if (text.empty()) {
    result.reason = "not present";
    return result;
  }
  if (!is_text(text)) {
    result.reason = "could not read: not text";
    return result;
  }
  result.value = std::string(text);
  return result;
}

std::optional<long long> read_integer(const std::filesystem::path& root, std::string_view path) {
  const auto raw = read_raw(root, path, 256);
  if (!raw.bytes) return std::nullopt;
  return parse_integer(*raw.bytes);
}

void put_value(nlohmann::json& object, const std::string& field, const SysfsValue& value) {
  if (value.value) {
    object[field] = *value.value;
  } else {
    mark_unknown(object, field, value.reason);
  }
}

std::vector<std::string> list_directory(const std::filesystem::path& root, std::string_view path,
                                        std::size_t limit) {
  std::vector<std::string> names;
  std::error_code ec;
  std::filesystem::directory_iterator it(under_root(root, path), ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (names.size() >= limit) break;
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return natural_less(a, b); });
  return names;
}

bool source_exists(const std::filesystem::path& root, std::string_view path) {
  std::error_code ec;
  return std::filesystem::exists(under_root(root, path), ec);
}

std::optional<std::string> link_name(const std::filesystem::path& root, std::string_view path) {
  std::error_code ec;
  const auto target = std::filesystem::read_symlink(under_root(root, path), ec);
  if (ec) return std::nullopt;
  auto name = target.filename().string();
  if (name.empty()) return std::nullopt;
  return name;
}

bool natural_less(std::string_view a, std::string_view b) {
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      auto end_a = i;
      auto end_b = j;
      while (end_a < a.size() && is_digit(a[end_a])) ++end_a;
      while (end_b < b.size() && is_digit(b[end_b])) ++end_b;
      // Compare the runs by value without converting: drop leading zeros, then length wins.
      auto start_a = i;
      auto start_b = j;
      while (start_a + 1 < end_a && a[start_a] == '0') ++start_a;
      while (start_b + 1 < end_b && b[start_b] == '0') ++start_b;
      const auto run_a = a.substr(start_a, end_a - start_a);
      const auto run_b = b.substr(start_b, end_b - start_b);
      if (run_a.size() != run_b.size()) return run_a.size() < run_b.size();
      if (run_a != run_b) return run_a < run_b;
      i = end_a;
      j = end_b;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
  return a < b;
}

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Collected from dmidecode bug reports, fwupd's and systemd's placeholder lists and real
// machines: what board makers leave in the SMBIOS string fields.
constexpr std::array<std::string_view, 28> kPlaceholders = {
    "To Be Filled By O.E.M.",
    "To be filled by O.E.M",
    "Default string",
    "System Serial Number",
    "Base Board Serial Number",
    "Chassis Serial Number",
    "System Product Name",
    "Not Specified",
    "Not Applicable",
    "Not Available",
    "None",
    "N/A",
    "NA",
    "Unknown",
    "Invalid",
    "Default",
    "0123456789",
    "123456789",
    "1234567890",
    "O.E.M.",
    "O.E.M",
    "OEM",
    "Serial",
    "SerialNumber",
    "Type2 - Board Serial Number",
    "Type1 - System Serial Number",
    // An AMI default that thousands of boards ship with, so it identifies nothing.
    "03000200-0400-0500-0006-000700080009",
    "Empty",
};

}  // namespace

bool is_placeholder_identifier(std::string_view value) {
  value = trim(value);
  if (value.empty()) return true;
  for (const auto placeholder : kPlaceholders) {
    if (equals_ignoring_case(value, placeholder)) return true;
  }
  // One character repeated, separators aside: all-zero or all-F UUIDs, "xxxxxxxx", "........".
  char first = 0;
  for (const char c : value) {
    if (c == '-' || c == ' ' || c == ':') continue;
    if (first == 0) {
      first = lower(c);
    } else if (lower(c) != first) {
      return false;
    }
  }
  return true;
}

SysfsValue read_dmi_id(const CollectContext& context, std::string_view name) {
  static constexpr std::string_view kRootOnly[] = {"product_serial", "product_uuid", "board_serial",
                                                   "chassis_serial"};
  const auto uid = effective_uid(context);
  if (!source_exists(context.root, "/sys/class/dmi/id")) return {std::nullopt, "not present"};
  for (const auto root_only : kRootOnly) {
    if (name == root_only && uid != 0) return {std::nullopt, "not root"};
  }
  return read_value(context.root, "/sys/class/dmi/id/" + std::string(name), uid);
}

double round1(double value) {
  return std::round(value * 10.0) / 10.0;
}

std::optional<std::string> hex_id(std::string_view text, std::size_t width) {
  text = trim(text);
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  if (text.empty() || text.size() > width) return std::nullopt;
  std::string out(width - text.size(), '0');
  for (const char c : text) {
    const char l = lower(c);
    if (!((l >= '0' && l <= '9') || (l >= 'a' && l <= 'f'))) return std::nullopt;
    out += l;
  }
  return out;
}

}  // namespace tether::agent::diag
