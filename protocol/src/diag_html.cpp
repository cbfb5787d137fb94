// render_diagnostics_html: the report as one self-contained HTML file an end user can attach
// to an e-mail. Inline CSS only: no script, no image, font or style sheet from anywhere, so
// the file shows the same offline, in a mail client that blocks remote content, and printed.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "diag_report_model.hpp"
#include "html_text.hpp"
#include "tether/protocol/diag_report.hpp"

namespace tether::protocol {
namespace {

using diag_report::Bar;
using diag_report::Field;
using diag_report::Note;
using diag_report::Report;
using diag_report::Table;

/// Text for HTML element content and attribute values: printable first, then escaped.
std::string escape(const std::string& text) {
  return html_escape(printable_text(text));
}

// The rules of this report; the palette and body come first, from write_html_head().
constexpr const char* kStyle = R"css(
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 14px; margin: 14px 0 6px; color: #444; }
table { border-collapse: collapse; margin: 4px 0 10px; width: 100%; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; border-bottom: 1px solid #eceef1; }
th { font-size: 12px; color: #5f6670; text-transform: uppercase; letter-spacing: .03em; }
table.kv th { text-transform: none; font-size: 14px; color: #5f6670; width: 190px; font-weight: normal; }
td { overflow-wrap: break-word; }
.header { color: #444; margin-bottom: 8px; }
.unknown, .muted { color: #7a808a; }
.findings { margin: 16px 0; }
.finding { border-left: 6px solid var(--info); background: #f3f7fc; padding: 8px 12px; margin: 8px 0; border-radius: 3px; }
.finding.critical { border-color: var(--crit); background: #fdecec; }
.finding.warning { border-color: var(--warn); background: #fff5e5; }
.finding .sev { font-weight: bold; text-transform: uppercase; font-size: 12px; margin-right: 8px; }
.finding.critical .sev { color: var(--crit); } .finding.warning .sev { color: var(--warn); }
.finding.info .sev { color: var(--info); }
.finding .id { color: #7a808a; font-size: 12px; margin-left: 8px; }
.finding .hint { margin-top: 4px; } .finding .evidence { color: #5f6670; font-size: 12px; margin-top: 2px; }
.passed { color: var(--ok); margin-top: 8px; }
.bars { margin: 6px 0 12px; }
.bar-row { display: flex; align-items: center; margin: 4px 0; }
.bar-label { width: 220px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; padding-right: 10px; }
.bar { flex: 0 0 320px; height: 14px; background: #e8eaee; border-radius: 7px; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--ok); }
.bar > span.warn { background: var(--warn); } .bar > span.crit { background: var(--crit); }
.bar-caption { padding-left: 10px; color: #444; }
.unavailable { color: #7a808a; font-style: italic; }
footer { margin-top: 30px; color: #7a808a; font-size: 12px; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  h2 { break-after: avoid; } table, .finding, .bar-row { break-inside: avoid; }
  .bar, .bar > span, .finding { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
)css";

std::string cell_html(const std::string& text) {
  // "—  (not root)": the reason in grey, so real values stand out.
  if (text.rfind(diag_report::kNone, 0) == 0)
    return "<span class=\"unknown\">" + escape(text) + "</span>";
  return escape(text);
}

void write_fields(const std::vector<Field>& fields, std::ostream& out) {
  out << "<table class=\"kv\">\n";
  for (const auto& field : fields) {
    out << "<tr><th>" << escape(field.key) << "</th><td>" << cell_html(field.value)
        << "</td></tr>\n";
  }
  out << "</table>\n";
}

void write_table(const Table& table, std::ostream& out) {
  if (!table.title.empty()) out << "<h3>" << escape(table.title) << "</h3>\n";
  out << "<table>\n<tr>";
  for (const auto& heading : table.header) out << "<th>" << escape(heading) << "</th>";
  out << "</tr>\n";
  for (const auto& row : table.rows) {
    out << "<tr>";
    for (const auto& value : row) out << "<td>" << cell_html(value) << "</td>";
    out << "</tr>\n";
  }
  if (table.more > 0) {
    out << "<tr><td class=\"muted\" colspan=\"" << table.header.size() << "\">\xe2\x80\xa6 and "
        << table.more << " more</td></tr>\n";
  }
  out << "</table>\n";
}

void write_bars(const std::vector<Bar>& bars, std::ostream& out) {
  out << "<div class=\"bars\">\n";
  for (const auto& bar : bars) {
    const double pct = std::isfinite(bar.pct) ? std::clamp(bar.pct, 0.0, 100.0) : 0.0;
    const bool critical = bar.lower_is_worse ? pct <= bar.critical : pct >= bar.critical;
    const bool warning = bar.lower_is_worse ? pct <= bar.warn : pct >= bar.warn;
    char width[32];
    std::snprintf(width, sizeof width, "%.1f", pct);
    out << "<div class=\"bar-row\"><div class=\"bar-label\">" << escape(bar.label)
        << "</div><div class=\"bar\"><span"
        << (critical  ? " class=\"crit\""
            : warning ? " class=\"warn\""
                      : "")
        << " style=\"width:" << width << "%\"></span></div><div class=\"bar-caption\">"
        << escape(bar.caption) << "</div></div>\n";
  }
  out << "</div>\n";
}

std::string render_html(const Report& report) {
  std::ostringstream out;
  const std::string title =
      "Diagnostics" + (report.host.empty() ? std::string() : " \xe2\x80\x94 " + report.host);
  write_html_head(out, escape(title), kStyle);
  out << "<h1>" << escape(title) << "</h1>\n";
  if (report.empty) {
    out << "<p class=\"unavailable\">No diagnostics in this snapshot.</p>\n</body>\n</html>\n";
    return out.str();
  }
  out << "<div class=\"header\">\n";
  write_fields(report.header, out);
  out << "</div>\n";

  if (report.has_findings || !report.skipped.empty()) {
    out << "<section class=\"findings\">\n<h2>Findings</h2>\n";
    if (report.findings.empty()) out << "<p>No problems found.</p>\n";
    for (const auto& finding : report.findings) {
      out << "<div class=\"finding " << finding.severity << "\"><span class=\"sev\">"
          << finding.severity << "</span>" << escape(finding.summary) << "<span class=\"id\">"
          << escape(finding.id) << "</span>";
      if (finding.severity != "info" && !finding.hint.empty()) {
        out << "<div class=\"hint\">" << escape(finding.hint) << "</div>";
      }
      if (finding.severity != "info" && !finding.evidence.empty()) {
        out << "<div class=\"evidence\">" << escape(finding.evidence) << "</div>";
      }
      out << "</div>\n";
    }
    out << "<div class=\"passed\">" << report.passed << (report.passed == 1 ? " check" : " checks")
        << " passed";
    if (!report.skipped.empty()) {
      out << "<span class=\"muted\">, " << report.skipped.size() << " skipped (inputs missing): ";
      for (std::size_t i = 0; i < report.skipped.size(); ++i) {
        out << (i ? "; " : "") << escape(report.skipped[i]);
      }
      out << "</span>";
    }
    out << "</div>\n</section>\n";
  }

  for (const auto& section : report.sections) {
    out << "<section id=\"" << escape(section.name) << "\">\n<h2>" << escape(section.title)
        << "</h2>\n";
    if (!section.unavailable.empty()) {
      out << "<p class=\"unavailable\">Not collected: " << escape(section.unavailable)
          << "</p>\n</section>\n";
      continue;
    }
    if (section.blocks.empty()) out << "<p class=\"muted\">Nothing reported.</p>\n";
    for (const auto& block : section.blocks) {
      if (const auto* fields = std::get_if<std::vector<Field>>(&block)) {
        write_fields(*fields, out);
      } else if (const auto* table = std::get_if<Table>(&block)) {
        write_table(*table, out);
      } else if (const auto* bars = std::get_if<std::vector<Bar>>(&block)) {
        write_bars(*bars, out);
      } else if (const auto* note = std::get_if<Note>(&block)) {
        out << "<p class=\"muted\">" << cell_html(note->text) << "</p>\n";
      }
    }
    out << "</section>\n";
  }
  if (!report.not_collected.empty()) {
    out << "<section>\n<h2>Not collected</h2>\n<ul>\n";
    for (const auto& line : report.not_collected) out << "<li>" << escape(line) << "</li>\n";
    out << "</ul>\n</section>\n";
  }
  out << "<footer>Generated by Tether from a diagnostics snapshot (schema 2).</footer>\n"
      << "</body>\n</html>\n";
  return out.str();
}

}  // namespace

std::string render_diagnostics_html(const nlohmann::json& snapshot) {
  try {
    return render_html(diag_report::build_report(snapshot));
  } catch (const std::exception&) {
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Diagnostics"
           "</title></head><body><p>The diagnostics snapshot could not be rendered.</p></body>"
           "</html>\n";
  }
}

}  // namespace tether::protocol
