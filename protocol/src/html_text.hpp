#pragma once
// What the two self-contained HTML reports (diag_html.cpp, ticket_report.cpp) share: escaping,
// and the page's head with the palette and body font both follow, so the diagnostics report
// and the ticket report an end user receives look like one product.

#include <ostream>
#include <string>
#include <string_view>

namespace tether::protocol {

/// The entity for one of & < > " ', else an empty view: for escapers with rules of their own.
std::string_view html_entity(char c);

/// Text for HTML element content and quoted attribute values: & < > " ' become entities, every
/// other byte is kept (make the text printable first; this does not check UTF-8).
std::string html_escape(std::string_view text);

/// Writes the start of a page, up to and including "<body>\n": doctype, UTF-8, viewport, the
/// title (`title_html` is written as it is, so escape it) and one <style> element holding the
/// shared palette and body font followed by `style` (the report's own rules).
void write_html_head(std::ostream& out, std::string_view title_html, std::string_view style);

}  // namespace tether::protocol
