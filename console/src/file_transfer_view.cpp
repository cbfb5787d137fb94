#include "file_transfer_view.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tether::console {

namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

double seconds_of(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

std::string transfer_rate_text(double bytes_per_second) {
  char text[32];
  if (!(bytes_per_second >= 0) || std::isinf(bytes_per_second)) return "-- MB/s";
  if (bytes_per_second >= 1e9) {
    std::snprintf(text, sizeof text, "%.1f GB/s", bytes_per_second / 1e9);
  } else if (bytes_per_second >= 1e6) {
    std::snprintf(text, sizeof text, "%.0f MB/s", bytes_per_second / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.0f kB/s", bytes_per_second / 1e3);
  }
  return text;
}

std::string eta_text(double seconds) {
  if (!(seconds >= 0) || seconds > 99 * 3600.0) return "--:--";
  const auto total = static_cast<long long>(std::ceil(seconds));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60,
                  total % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", total / 60, total % 60);
  }
  return text;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    // C1 controls are U+0080..U+009F, encoded 0xC2 0x80..0x9F in UTF-8.
    const bool c1 = c == 0xc2 && i + 1 < text.size() &&
                    static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if (c < 0x20 || c == 0x7f || c1) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x",
                    c1 ? static_cast<unsigned char>(text[++i]) : c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string progress_line(const TransferProgress& p, std::size_t width) {
  const double fraction =
      p.total == 0 ? 1.0
                   : std::min(1.0, static_cast<double>(p.done) / static_cast<double>(p.total));
  char percent[8];
  std::snprintf(percent, sizeof percent, "%3d%%", static_cast<int>(fraction * 100));
  std::string info = std::string(percent) + "  " + transfer_size_text(p.done) + " / " +
                     transfer_size_text(p.total);
  const double seconds = seconds_of(p.elapsed);
  const auto moved = p.done > p.resumed_from ? p.done - p.resumed_from : 0;
  if (moved > 0 && seconds > 0) {
    const double rate = static_cast<double>(moved) / seconds;
    info += "  " + transfer_rate_text(rate);
    const auto left = p.total > p.done ? p.total - p.done : 0;
    info += "  ETA " + eta_text(static_cast<double>(left) / rate);
  }
  // The bar takes what the numbers leave, between 10 and 40 columns; without room, numbers only.
  // Room is kept for the longest numbers ("100%  1023.9 MiB / 1023.9 MiB  999 MB/s  ETA
  // 1:00:00") so the bar does not change length while they vary.
  constexpr std::size_t kMinBar = 10;
  constexpr std::size_t kMaxBar = 40;
  constexpr std::size_t kInfoRoom = 56;
  const std::size_t room = std::max(info.size(), kInfoRoom);
  std::size_t bar = 0;
  if (width >= room + kMinBar + 4) {
    bar = std::min(kMaxBar, width - room - 4);
  } else if (width >= info.size() + kMinBar + 4) {
    bar = std::min(kMaxBar, width - info.size() - 4);  // Narrow: the bar gives way.
  } else {
    return info.substr(0, width);
  }
  const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(bar));
  return "[" + std::string(filled, '#') + std::string(bar - filled, '.') + "]  " + info;
}

std::string transfer_summary(std::string_view verb, std::string_view from, std::string_view to,
                             std::uint64_t size, std::uint64_t resumed_from,
                             std::chrono::steady_clock::duration elapsed, std::string_view sha256) {
  const double seconds = seconds_of(elapsed);
  char time[32];
  std::snprintf(time, sizeof time, "%.1f s", seconds);
  std::string line = std::string(verb) + " " + printable(from) + " \u2192 " + printable(to) + ": " +
                     transfer_size_text(size) + " in " + time;
  const auto moved = size > resumed_from ? size - resumed_from : 0;
  if (seconds > 0 && moved > 0) {
    line += " (" + transfer_rate_text(static_cast<double>(moved) / seconds);
    if (resumed_from > 0) line += ", resumed at " + transfer_size_text(resumed_from);
    line += ")";
  } else if (resumed_from > 0) {
    line += " (resumed at " + transfer_size_text(resumed_from) + ")";
  }
  line += ", SHA-256 " + printable(sha256.substr(0, 16)) + (sha256.size() > 16 ? "\u2026" : "");
  return line;
}

std::string interrupted_text(std::uint64_t done, std::uint64_t total) {
  return "interrupted at " + transfer_size_text(done) + " of " + transfer_size_text(total) +
         "; run the same command again to resume";
}

ProgressBar::ProgressBar(std::ostream& out, bool enabled, std::uint64_t total,
                         std::uint64_t resumed_from, std::size_t width, Clock clock)
    : out_(out),
      enabled_(enabled),
      total_(total),
      resumed_from_(resumed_from),
      width_(width == 0 ? 80 : width),
      clock_(std::move(clock)),
      started_(clock_()) {}

void ProgressBar::update(std::uint64_t done, bool force) {
  if (!enabled_) return;
  const auto now = clock_();
  if (drawn_ && !force && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  drawn_ = true;
  ++draws_;
  // One column short of the width: writing the last column makes some terminals wrap.
  out_ << '\r' << progress_line({done, total_, resumed_from_, now - started_}, width_ - 1)
       << "\x1b[K" << std::flush;
}

void ProgressBar::clear() {
  if (!enabled_ || !drawn_) return;
  drawn_ = false;
  out_ << "\r\x1b[K" << std::flush;
}

std::chrono::steady_clock::duration ProgressBar::elapsed() const {
  return clock_() - started_;
}

std::size_t terminal_columns(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

}  // namespace tether::console
