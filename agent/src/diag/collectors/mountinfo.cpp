#include "diag/collectors/mountinfo.hpp"

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

// Appends the superblock options that are not already among the per-mount ones, leaving out
// rw/ro (the per-mount flag is the one in force), as the kernel does for /proc/mounts.
std::string merge_options(std::string_view mount_options, std::string_view super_options) {
  std::string merged(mount_options);
  while (!super_options.empty()) {
    const auto comma = super_options.find(',');
    const auto option = super_options.substr(0, comma);
    if (!option.empty() && option != "rw" && option != "ro" &&
        !has_mount_option(mount_options, option)) {
      if (!merged.empty()) merged += ',';
      merged += option;
    }
    if (comma == std::string_view::npos) break;
    super_options.remove_prefix(comma + 1);
  }
  return merged;
}

}  // namespace

std::string decode_mount_path(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '\\' && i + 3 < escaped.size()) {
      const auto digits = escaped.substr(i + 1, 3);
      if (is_octal(digits[0]) && is_octal(digits[1]) && is_octal(digits[2])) {
        const int value = (digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0');
        if (value > 0 && value < 256) {
          out += static_cast<char>(value);
          i += 3;
          continue;
        }
      }
    }
    out += escaped[i];
  }
  return out;
}

bool has_mount_option(std::string_view options, std::string_view wanted) {
  while (!options.empty()) {
    const auto comma = options.find(',');
    if (options.substr(0, comma) == wanted) return true;
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

std::vector<MountEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountEntry> entries;
  for (const auto line : split_lines(text)) {
    // Fields are separated by single spaces; paths never hold a raw space (it is \040).
    const auto fields = split_fields(line);
    if (fields.size() < 10) continue;
    std::size_t separator = 6;
    while (separator < fields.size() && fields[separator] != "-") ++separator;
    if (separator + 2 >= fields.size()) continue;
    MountEntry entry;
    entry.dev = std::string(fields[2]);
    entry.root = decode_mount_path(fields[3]);
    entry.mount_point = decode_mount_path(fields[4]);
    entry.type = decode_mount_path(fields[separator + 1]);
    entry.device = decode_mount_path(fields[separator + 2]);
    const auto super_options =
        separator + 3 < fields.size() ? fields[separator + 3] : std::string_view{};
    entry.options = merge_options(fields[5], super_options);
    entry.read_only = has_mount_option(fields[5], "ro") || has_mount_option(super_options, "ro");
    if (entry.mount_point.empty() || entry.mount_point.front() != '/') continue;
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<MountEntry> parse_mounts_table(std::string_view text) {
  std::vector<MountEntry> entries;
  for (const auto line : split_lines(text)) {
    const auto fields = split_fields(line);
    if (fields.size() < 4) continue;
    MountEntry entry;
    entry.device = decode_mount_path(fields[0]);
    entry.mount_point = decode_mount_path(fields[1]);
    entry.type = decode_mount_path(fields[2]);
    entry.options = std::string(fields[3]);
    entry.read_only = has_mount_option(fields[3], "ro");
    entry.root = "/";
    if (entry.mount_point.empty() || entry.mount_point.front() != '/') continue;
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace tether::agent::diag
