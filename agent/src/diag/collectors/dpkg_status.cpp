#include "diag/collectors/dpkg_status.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

// No field we keep comes near this; a longer line is a continuation or junk, never a name.
constexpr std::size_t kMaxLine = 4096;

// A status file larger than this is not dpkg's (a big desktop's is about 10 MB).
constexpr std::uint64_t kMaxFileBytes = 256ULL * 1024 * 1024;

bool take_field(std::string_view text, std::string_view name, std::string_view& value) {
  if (text.size() <= name.size() || text.compare(0, name.size(), name) != 0 ||
      text[name.size()] != ':') {
    return false;
  }
  value = trim(text.substr(name.size() + 1));
  return true;
}

}  // namespace

void DpkgStatusParser::feed(std::string_view chunk) {
  while (!chunk.empty()) {
    const auto end = chunk.find('\n');
    if (end == std::string_view::npos) {
      if (!skipping_line_) {
        if (partial_.size() + chunk.size() > kMaxLine) {
          skipping_line_ = true;
          partial_.clear();
        } else {
          partial_.append(chunk);
        }
      }
      return;
    }
    const auto piece = chunk.substr(0, end);
    chunk.remove_prefix(end + 1);
    if (skipping_line_) {
      skipping_line_ = false;
      continue;
    }
    if (partial_.empty()) {
      line(piece);
    } else if (partial_.size() + piece.size() <= kMaxLine) {
      partial_.append(piece);
      line(partial_);
      partial_.clear();
    } else {
      partial_.clear();
    }
  }
}

void DpkgStatusParser::finish() {
  if (!skipping_line_ && !partial_.empty()) line(partial_);
  partial_.clear();
  skipping_line_ = false;
  end_stanza();
}

void DpkgStatusParser::line(std::string_view text) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (trim(text).empty()) {
    end_stanza();
    return;
  }
  // Continuation lines (Description's body, Conffiles) start with white space.
  if (text.front() == ' ' || text.front() == '\t') return;
  // Only the first letter varies among the fields we keep, so most lines leave here.
  const char first = text.front();
  if (first != 'P' && first != 'S' && first != 'V' && first != 'A' && first != 'I') return;
  std::string_view value;
  if (take_field(text, "Package", value)) {
    current_.name.assign(value);
  } else if (take_field(text, "Status", value)) {
    // "want flag status": "install ok installed", "hold ok installed", "deinstall ok
    // config-files", "install reinstreq half-installed"…
    const auto words = split_fields(value);
    installed_ = words.size() == 3 && (words[0] == "install" || words[0] == "hold") &&
                 words[1] == "ok" && words[2] == "installed";
  } else if (take_field(text, "Version", value)) {
    current_.version.assign(value);
  } else if (take_field(text, "Architecture", value)) {
    current_.architecture.assign(value);
  } else if (take_field(text, "Installed-Size", value)) {
    const auto kib = parse_integer(value);
    if (kib && *kib >= 0 && *kib < (1LL << 40)) {
      current_.installed_size_kib = static_cast<std::uint64_t>(*kib);
    }
  }
}

void DpkgStatusParser::end_stanza() {
  if (installed_ && !current_.name.empty()) {
    if (packages_.size() < kMaxPackages) {
      packages_.push_back(std::move(current_));
    } else {
      ++dropped_;
    }
  }
  current_ = DpkgPackage{};
  installed_ = false;
}

DpkgStatus read_dpkg_status(const std::filesystem::path& file) {
  DpkgStatus status;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    status.present = error != ENOENT && error != ENOTDIR;
    if (status.present) status.error = std::strerror(error);
    return status;
  }
  status.present = true;
  DpkgStatusParser parser;
  char buffer[64 * 1024];
  std::uint64_t total = 0;
  for (;;) {
    const auto got = ::read(fd, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      status.error = std::strerror(errno);
      break;
    }
    if (got == 0) break;
    total += static_cast<std::uint64_t>(got);
    if (total > kMaxFileBytes) {
      status.error = "larger than 256 MiB";
      break;
    }
    parser.feed(std::string_view(buffer, static_cast<std::size_t>(got)));
  }
  ::close(fd);
  if (!status.error.empty()) return status;
  parser.finish();
  status.packages = std::move(parser.packages());
  return status;
}

}  // namespace tether::agent::diag
