#include "html_text.hpp"

namespace tether::protocol {
namespace {

// The palette and page both reports start their style sheet with; each adds its own rules.
constexpr std::string_view kPageStyle = R"css(
:root { --ok: #2e7d32; --warn: #b26a00; --crit: #c62828; --info: #1565c0; --line: #d6d9de; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1d2127; margin: 0 auto; padding: 24px; max-width: 1100px; background: #fff; })css";

}  // namespace

std::string_view html_entity(char c) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '"':
      return "&quot;";
    case '\'':
      return "&#39;";
    default:
      return {};
  }
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (const auto entity = html_entity(c); !entity.empty()) {
      out += entity;
    } else {
      out += c;
    }
  }
  return out;
}

void write_html_head(std::ostream& out, std::string_view title_html, std::string_view style) {
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>" << title_html << "</title>\n<style>" << kPageStyle << style
      << "</style>\n</head>\n<body>\n";
}

}  // namespace tether::protocol
