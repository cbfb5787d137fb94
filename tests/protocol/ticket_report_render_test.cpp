// render_ticket_report_html / _markdown over the relay's golden report
// (tests/relay/data/report/ticket_report.json, built by build_ticket_report from a fixture
// with hostile text in its title, a note and a file path) and over malformed reports.

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "tether/protocol/ticket_report.hpp"

namespace tether::protocol {
namespace {

using json = nlohmann::json;

json golden_report() {
  std::ifstream in(TETHER_SOURCE_DIR "/tests/relay/data/report/ticket_report.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::size_t occurrences(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

std::size_t position(const std::string& haystack, const std::string& needle) {
  const auto at = haystack.find(needle);
  EXPECT_NE(at, std::string::npos) << "missing: " << needle;
  return at;
}

/// Every string in `value` replaced by `text` (keys stay).
json with_all_strings(json value, const std::string& text) {
  if (value.is_string()) return text;
  if (value.is_array() || value.is_object()) {
    for (auto& item : value) item = with_all_strings(item, text);
  }
  return value;
}

/// Parse-ish: elements nest and close; every tag is one of the few the renderer writes, with only
/// class, id, lang, charset, name and content attributes, so text can never have become
/// markup (a script, an image, a link, an event handler); and nothing is fetched from
/// anywhere.
void expect_no_active_content(const std::string& html) {
  static const std::set<std::string> kTags = {
      "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "footer", "section",
      "h1",       "h2",   "h3",   "h4",   "p",     "div",   "span", "strong", "table",  "tr",
      "th",       "td",   "ul",   "li",   "code",  "dl",    "dt",   "dd",     "br"};
  static const std::set<std::string> kAttributes = {"class", "id",      "lang",   "charset",
                                                    "name",  "content", "colspan"};
  static const std::set<std::string> kVoid = {"!DOCTYPE", "meta", "br"};
  std::size_t tags = 0;
  std::vector<std::string> open_elements;
  for (auto open = html.find('<'); open != std::string::npos; open = html.find('<', open + 1)) {
    const auto close = html.find('>', open);
    ASSERT_NE(close, std::string::npos) << html.substr(open, 80);
    std::string tag = html.substr(open + 1, close - open - 1);
    ASSERT_EQ(tag.find('<'), std::string::npos) << tag;
    const bool closing = !tag.empty() && tag[0] == '/';
    if (closing) tag.erase(0, 1);
    const auto name_end = std::min(tag.find(' '), tag.size());
    const std::string name = tag.substr(0, name_end);
    EXPECT_TRUE(kTags.contains(name)) << "<" << tag << ">";
    // Elements nest: every one opened is closed, innermost first.
    if (closing) {
      ASSERT_FALSE(open_elements.empty()) << "</" << name << "> closes nothing";
      ASSERT_EQ(open_elements.back(), name) << "</" << name << "> at " << open;
      open_elements.pop_back();
    } else if (!kVoid.contains(name)) {
      open_elements.push_back(name);
    }
    if (name == "!DOCTYPE") continue;
    // Attributes: name="value", the value free of quotes.
    for (std::size_t i = name_end; i < tag.size();) {
      if (tag[i] == ' ') {
        ++i;
        continue;
      }
      const auto equals = tag.find("=\"", i);
      ASSERT_NE(equals, std::string::npos) << tag;
      EXPECT_TRUE(kAttributes.contains(tag.substr(i, equals - i))) << tag;
      const auto end = tag.find('"', equals + 2);
      ASSERT_NE(end, std::string::npos) << tag;
      i = end + 1;
    }
    ++tags;
  }
  EXPECT_TRUE(open_elements.empty()) << open_elements.size() << " left open";
  EXPECT_GT(tags, 10u);
  for (const char* remote : {"http://", "https://", "url(", "@import", "//cdn"}) {
    EXPECT_FALSE(has(html, remote)) << remote;
  }
}

TEST(TicketReportHtml, IsOneSelfContainedPrintableDocument) {
  const auto html = render_ticket_report_html(golden_report());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">\n", 0), 0u);
  EXPECT_TRUE(html.ends_with("</html>\n"));
  for (const char* once : {"<html", "</html>", "<head>", "</head>", "<body>", "</body>", "<title>",
                           "</title>", "<style>", "<h1>", "<meta charset=\"utf-8\">"}) {
    EXPECT_EQ(occurrences(html, once), 1u) << once;
  }
  EXPECT_LT(position(html, "</title>"), position(html, "<body>"));
  expect_no_active_content(html);
  EXPECT_TRUE(has(html, "@media print"));
  EXPECT_TRUE(has(html, "print-color-adjust: exact"));
}

TEST(TicketReportHtml, HeaderWithTicketPrioritySlaAndRequester) {
  const auto html = render_ticket_report_html(golden_report());
  const std::string title =
      "T-7: Printer &quot;office&quot; stuck &amp; &lt;b&gt;invoices&lt;/b&gt; won&#39;t print";
  EXPECT_TRUE(has(html, "<title>" + title + " \xe2\x80\x94 ticket report</title>"));
  EXPECT_TRUE(has(html, "<h1>" + title + "</h1>"));
  EXPECT_TRUE(has(html,
                  "<div class=\"badges\"><span class=\"badge P2\">P2</span><span class=\"badge "
                  "status\">closed</span><span class=\"badge level\">L1</span><span "
                  "class=\"badge sla-breached\">SLA breached</span></div>"))
      << html.substr(0, 6000);
  EXPECT_TRUE(has(html, "<tr><th>Requester</th><td>Ann Example &lt;ann@example.com&gt;</td></tr>"));
  EXPECT_TRUE(has(html, "<tr><th>External reference</th><td>glpi:1234</td></tr>"));
  EXPECT_TRUE(
      has(html, "<tr><th>SLA first response</th><td>met in 2 min (target 1 h 00 min)</td>"));
  EXPECT_TRUE(has(html,
                  "<tr><th>SLA resolution</th><td>met late, 30 min over target (target 8 h 00 "
                  "min)</td>"));
  EXPECT_TRUE(has(html,
                  "<p class=\"summary\">Ann Example asked for help with \xe2\x80\x9cPrinter "
                  "&quot;office&quot; stuck"));
  // The description keeps its lines.
  EXPECT_TRUE(has(html, "Since Monday nothing prints.<br>Invoices are due today."));
}

TEST(TicketReportHtml, ASectionPerSessionWithConsentReceipt) {
  const auto report = golden_report();
  const auto html = render_ticket_report_html(report);
  EXPECT_EQ(occurrences(html, "<section class=\"session\""), report["sessions"].size());
  const auto s3 = position(html,
                           "<section class=\"session\" id=\"session-S-3\">\n<h3>S-3 "
                           "\xe2\x80\x94 alice, 21 min</h3>");
  const auto s4 = position(html,
                           "<section class=\"session\" id=\"session-S-4\">\n<h3>S-4 "
                           "\xe2\x80\x94 bob, 35 min</h3>");
  EXPECT_LT(s3, s4);
  const auto receipt = position(
      html,
      "<div class=\"consent granted\"><strong>Consent granted</strong> by Ann Example at "
      "2026-11-30 08:05:30 UTC. Scopes: <ul class=\"scopes\"><li>diagnostics</li><li>shell</li>"
      "<li>files</li><li>processes</li></ul></div>");
  EXPECT_LT(s3, receipt);
  EXPECT_LT(receipt, s4);
  // S-4's receipt came from its timeline entry.
  EXPECT_TRUE(has(html,
                  "by Ann Example at 2026-11-30 09:10:20 UTC. Scopes: <ul "
                  "class=\"scopes\"><li>diagnostics</li><li>files</li></ul>"));
  EXPECT_TRUE(has(html,
                  "<p><strong>End note:</strong> Queue cleared, driver looks wrong; "
                  "escalated to L2.</p>"));
}

TEST(TicketReportHtml, EveryActionFileHashAndRecording) {
  const auto report = golden_report();
  const auto html = render_ticket_report_html(report);
  std::size_t actions = 0;
  for (const auto& session : report["sessions"]) actions += session["actions"].size();
  ASSERT_GT(actions, 5u);
  EXPECT_EQ(occurrences(html, "<tr class=\"action\">"), actions);
  EXPECT_TRUE(has(html,
                  "<tr class=\"action\"><td class=\"time\">2026-11-30 08:08:10 UTC</td><td>alice"
                  "</td><td>service.restart</td><td>alice restart service cups: done (now "
                  "active)</td></tr>"));
  EXPECT_TRUE(has(html, "Refused killing process 812 with SIGKILL for alice: scope not granted"));
  EXPECT_TRUE(has(html,
                  "<code class=\"sha256\">9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c"
                  "15b0f00a08</code>"));
  EXPECT_TRUE(has(html,
                  "<code class=\"sha256\">2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e"
                  "886266e7ae</code>"));
  EXPECT_TRUE(has(html,
                  "<td>download (from the PC)</td><td><code>/var/log/cups/error_log</code>"
                  "</td><td>47.1 KiB</td>"));
  // The hostile file name is text: in the files table, the action and the timeline.
  EXPECT_EQ(occurrences(html, "/tmp/&lt;img src=x onerror=alert(1)&gt;.ppd"), 3u);
  EXPECT_TRUE(has(html,
                  "<li><code>shell-1.cast</code> (20.0 KiB) on the relay: "
                  "<code>/api/v1/recordings/S-3/shell-1.cast</code></li>"));
  EXPECT_TRUE(has(html,
                  "<li><code>shell-2.cast</code> <span class=\"muted\">(no longer "
                  "stored)</span></li>"));
  EXPECT_TRUE(has(html,
                  "<tr><th>Before</th><td>2026-11-30 08:05:31 UTC: 1 critical, 1 warning, "
                  "1 info, 1 ok</td></tr>"));
}

TEST(TicketReportHtml, FindingsDiffEscalationsNotesResolutionTimeline) {
  const auto report = golden_report();
  const auto html = render_ticket_report_html(report);
  const auto findings = position(html, "<section id=\"findings\">");
  EXPECT_TRUE(has(html,
                  "<div class=\"finding warning\"><span class=\"sev\">warning</span>/ is 91% "
                  "full<span class=\"id\">disk.root_low</span></div>"));
  const auto changes = position(html, "<section id=\"changes\">");
  EXPECT_TRUE(has(html, "<dt>Services restarted</dt><dd>cups</dd>"));
  EXPECT_TRUE(has(html, "<dt>Packages upgraded</dt><dd>hplip 3.22.10 \xe2\x86\x92 3.23.12</dd>"));
  EXPECT_TRUE(has(html,
                  "<dt>Storage</dt><dd>/: 2.0 GiB \xe2\x86\x92 3.5 GiB free (1.5 GiB "
                  "freed)</dd>"));
  EXPECT_TRUE(has(html,
                  "<dt>Findings cleared</dt><dd>critical Print queue &#39;office&#39; has 14 "
                  "jobs stuck [printing.queue_stuck]</dd>"));
  const auto escalations = position(html, "<section id=\"escalations\">");
  EXPECT_EQ(occurrences(html, "<tr class=\"escalation\">"), 2u);
  EXPECT_TRUE(has(html,
                  "<td>up: L1 \xe2\x86\x92 L2</td><td>needs &quot;admin&quot; rights to "
                  "reinstall the driver</td>"));
  const auto notes = position(html, "<section id=\"notes\">");
  // The internal note is marked, and its <script> is text.
  EXPECT_TRUE(has(html,
                  "<div class=\"note internal\"><div class=\"muted\">2026-11-30 08:25:00 UTC "
                  "\xe2\x80\x94 alice<span class=\"tag\">internal</span></div>Spooler restart did "
                  "not help.<br>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; driver "
                  "mismatch?</div>"));
  EXPECT_EQ(occurrences(html, "<div class=\"note\">"), 1u);
  const auto resolution = position(html, "<section id=\"resolution\">");
  EXPECT_TRUE(has(html,
                  "<div class=\"resolution\"><p>Reinstalled the HP driver and cleared the queue; "
                  "test page printed.</p><div class=\"muted\">Resolved by bob at 2026-11-30 "
                  "16:30:00 UTC.</div></div>"));
  EXPECT_TRUE(has(html, "<li>FAQ-2: Print queue stuck after driver update</li>"));
  const auto timeline = position(html, "<section id=\"timeline\">");
  EXPECT_EQ(occurrences(html, "<tr class=\"entry\">"), report["timeline"].size());
  EXPECT_LT(findings, changes);
  EXPECT_LT(changes, escalations);
  EXPECT_LT(escalations, notes);
  EXPECT_LT(notes, resolution);
  EXPECT_LT(resolution, timeline);
}

TEST(TicketReportHtml, HostileTextEverywhereStaysText) {
  const std::string hostile = "<script>alert(\"x\")</script> ' & \x1b[31m \xe2\x80\xae end";
  const auto html = render_ticket_report_html(with_all_strings(golden_report(), hostile));
  expect_no_active_content(html);
  EXPECT_TRUE(has(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#39; &amp;"));
  // No quote from the text survives unescaped, no control character, no bidi override.
  EXPECT_FALSE(has(html, "'"));
  EXPECT_FALSE(has(html, "\x1b"));
  EXPECT_FALSE(has(html, "\xe2\x80\xae"));
  // Class names never take text from the report.
  EXPECT_TRUE(has(html, "<span class=\"badge unknown\">"));
  EXPECT_TRUE(has(html, "<span class=\"badge sla-unknown\">"));
  EXPECT_FALSE(has(html, "class=\"&lt;"));
}

TEST(TicketReportMarkdown, TheStoryInMarkdown) {
  const auto report = golden_report();
  const auto md = render_ticket_report_markdown(report);
  EXPECT_EQ(md.rfind("# T-7: Printer \"office\" stuck &amp; &lt;b&gt;invoices&lt;/b&gt; won't "
                     "print\n\n**Priority** P2 \xc2\xb7 **Status** closed \xc2\xb7 **Level** L1 "
                     "\xc2\xb7 **SLA** breached\n",
                     0),
            0u)
      << md.substr(0, 400);
  EXPECT_TRUE(has(md, "| Requester | Ann Example &lt;ann@example.com&gt; |\n"));
  EXPECT_TRUE(has(md, "## Summary\n\nAnn Example asked for help"));
  EXPECT_TRUE(has(md, "## Description\n\nSince Monday nothing prints.  \nInvoices are due today."));
  EXPECT_TRUE(has(md, "### S-3 \xe2\x80\x94 alice, 21 min\n"));
  EXPECT_TRUE(has(md,
                  "**Consent:** granted by Ann Example at 2026-11-30 08:05:30 UTC; scopes: "
                  "diagnostics, shell, files, processes\n"));
  std::size_t actions = 0;
  for (const auto& session : report["sessions"]) actions += session["actions"].size();
  // Each action is one row of its session's actions table, the only rows there that start
  // with a time (the files table starts with the direction).
  const auto sessions = md.substr(position(md, "## Sessions\n"),
                                  position(md, "## Findings\n") - position(md, "## Sessions\n"));
  std::size_t rows = 0;
  std::istringstream lines(sessions);
  for (std::string row; std::getline(lines, row);) rows += row.rfind("| 2026-", 0) == 0 ? 1 : 0;
  EXPECT_EQ(rows, actions);
  EXPECT_TRUE(has(md,
                  "| download (from the PC) | /var/log/cups/error\\_log | 47.1 KiB | "
                  "`9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08` |"));
  EXPECT_TRUE(has(md, "/tmp/&lt;img src=x onerror=alert(1)&gt;.ppd"));
  EXPECT_TRUE(has(md, "- `shell-2.cast` (no longer stored)\n"));
  EXPECT_TRUE(has(md, "- **warning** / is 91% full (`disk.root_low`)\n"));
  EXPECT_TRUE(has(md, "- **Packages upgraded:** hplip 3.22.10 \xe2\x86\x92 3.23.12\n"));
  EXPECT_TRUE(
      has(md, "| up: L1 \xe2\x86\x92 L2 | needs \"admin\" rights to reinstall the driver |"));
  EXPECT_TRUE(has(md,
                  "- 2026-11-30 08:25:00 UTC, alice **(internal)**: Spooler restart did not "
                  "help. &lt;script&gt;alert('x')&lt;/script&gt; driver mismatch?\n"));
  EXPECT_TRUE(has(md,
                  "## Resolution\n\nReinstalled the HP driver and cleared the queue; test page "
                  "printed.\n\nResolved by bob at 2026-11-30 16:30:00 UTC.\n"));
  EXPECT_TRUE(has(md, "## Timeline\n\n| Time | Actor | Kind | Session | Summary |\n"));
  EXPECT_FALSE(has(md, "<script"));
  EXPECT_FALSE(has(md, "<img"));
}

TEST(TicketReportMarkdown, TextCannotBreakTablesOrBecomeMarkup) {
  json report = golden_report();
  report["sessions"][0]["actions"][0]["summary"] = "a | b `c` *d* [e](javascript:x) <b>\nnext";
  report["summary"] = "# not a heading\n- not a list\n1. not a list either";
  const auto md = render_ticket_report_markdown(report);
  EXPECT_TRUE(has(md, "a \\| b \\`c\\` \\*d\\* \\[e\\](javascript:x) &lt;b&gt; next |"));
  EXPECT_TRUE(
      has(md, "## Summary\n\n\\# not a heading  \n\\- not a list  \n1\\. not a list either\n"));
}

TEST(TicketReportRender, MalformedReportsNeverThrow) {
  const std::vector<json> inputs = {
      nullptr,
      42,
      "report",
      json::array(),
      json::object(),
      json::parse(R"({"ticket": 5, "sessions": "x", "timeline": [1, null, {"at": 5}],
                      "sla": {"first_response": []}, "findings": {"a": 1}, "notes": [7],
                      "resolution": "yes", "escalations": [null], "faq": [[]]})"),
      json::parse(R"({"ticket": {"id": 7, "title": ["x"], "sla": null},
                      "sessions": [null, 3, {"consent": "yes", "actions": {"a": 1},
                                   "files": [null, {"bytes": -5, "sha256": 9}],
                                   "recordings": [{"bytes": 1e300}],
                                   "duration_seconds": "long", "ended_at": 5,
                                   "diagnostics": {"before": [], "diff": {"findings": 1,
                                   "services": {"restarted": "cups"}, "storage": [null],
                                   "packages": {"upgraded": [1]}}}}],
                      "summary": 3, "generated_at": {}})"),
      json::parse(R"({"sessions": [{"id": "S-1", "ended_at": "2026-01-01T00:00:00Z",
                      "duration_seconds": 18446744073709551615,
                      "files": [{"bytes": 18446744073709551615}]}]})"),
  };
  for (const auto& input : inputs) {
    std::string html;
    std::string md;
    ASSERT_NO_THROW(html = render_ticket_report_html(input)) << input;
    ASSERT_NO_THROW(md = render_ticket_report_markdown(input)) << input;
    EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">\n<head>", 0), 0u) << input;
    EXPECT_TRUE(html.ends_with("</html>\n")) << input;
    EXPECT_FALSE(has(html, "could not be rendered")) << input;
    expect_no_active_content(html);
    EXPECT_EQ(md.rfind("# ", 0), 0u) << input;
    EXPECT_FALSE(has(md, "could not be rendered")) << input;
  }
  // What is missing shows as "?" or is left out.
  const auto empty = render_ticket_report_html(json::object());
  EXPECT_TRUE(has(empty, "<h1>T-?: (no title)</h1>"));
  EXPECT_TRUE(has(empty, "<tr><th>Requester</th><td>?</td></tr>"));
  EXPECT_TRUE(has(empty, "<p class=\"muted\">No remote session.</p>"));
  EXPECT_TRUE(has(empty, "<p class=\"muted\">Not resolved (status ?).</p>"));
  const auto odd = render_ticket_report_html(inputs[6]);
  EXPECT_TRUE(has(odd, "<h3>? \xe2\x80\x94 ?, not ended</h3>")) << odd;
  EXPECT_TRUE(has(odd,
                  "<td>?</td><td><code>?</code></td><td>?</td><td><code class=\"sha256\">?"
                  "</code></td>"))
      << odd;
  EXPECT_TRUE(has(odd, "<div class=\"consent none\">")) << odd;
  const auto huge = render_ticket_report_html(inputs[7]);
  EXPECT_TRUE(has(huge, "<h3>S-1 \xe2\x80\x94 ?, ?</h3>")) << huge;
}

}  // namespace
}  // namespace tether::protocol
