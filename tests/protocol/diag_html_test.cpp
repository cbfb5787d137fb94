// render_diagnostics_html: one self-contained, escaped, printable file.

#include <fstream>

#include <gtest/gtest.h>

#include "../fixture_json.hpp"
#include "tether/protocol/diag_report.hpp"

namespace tether::protocol {
namespace {

using json = nlohmann::json;

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::size_t position(const std::string& haystack, const std::string& needle) {
  const auto at = haystack.find(needle);
  EXPECT_NE(at, std::string::npos) << "missing: " << needle;
  return at;
}

TEST(DiagHtml, IsOneSelfContainedDocument) {
  const auto html = render_diagnostics_html(laptop_snapshot());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n", 0), 0u);
  EXPECT_TRUE(html.ends_with("</html>\n"));
  EXPECT_TRUE(has(html, "<meta charset=\"utf-8\">"));
  EXPECT_TRUE(has(html, "<style>"));
  // Nothing fetched from anywhere, nothing run.
  for (const char* remote : {"http://", "https://", "src=", "href=", "url(", "@import", "<link",
                             "<script", "<img", "<iframe", "//cdn"}) {
    EXPECT_FALSE(has(html, remote)) << remote;
  }
  EXPECT_TRUE(has(html, "@media print")) << "printable";
}

TEST(DiagHtml, FindingsOnTopInSeverityColours) {
  const auto html = render_diagnostics_html(laptop_snapshot());
  const auto critical = position(html,
                                 "<div class=\"finding critical\"><span class=\"sev\">critical"
                                 "</span>/media/anna/My Backup Disk is 97% full");
  const auto warning = position(html, "<div class=\"finding warning\">");
  const auto info = position(html, "<div class=\"finding info\">");
  const auto first_section = position(html, "<section id=\"identity\">");
  EXPECT_LT(critical, warning);
  EXPECT_LT(warning, info);
  EXPECT_LT(info, first_section);
  EXPECT_TRUE(has(html, "<div class=\"hint\">Free space or move files to another disk.</div>"));
  EXPECT_TRUE(has(html, "2 checks passed"));
  EXPECT_TRUE(has(html, "smart.health: tool missing: smartctl"));
  // The severity colours exist in the style sheet.
  EXPECT_TRUE(has(html, ".finding.critical {"));
  EXPECT_TRUE(has(html, ".finding.warning {"));
}

TEST(DiagHtml, BarsForFilesystemsMemorySwapAndBattery) {
  const auto html = render_diagnostics_html(laptop_snapshot());
  // "/" is 64% used (df rounding): a green bar.
  EXPECT_TRUE(has(html,
                  "<div class=\"bar-label\">/</div><div class=\"bar\"><span "
                  "style=\"width:64.0%\"></span></div>"))
      << html;
  // The backup disk is 97% full: amber (warning at 90, critical at 98).
  EXPECT_TRUE(has(html,
                  "<div class=\"bar-label\">/media/anna/My Backup Disk</div><div "
                  "class=\"bar\"><span class=\"warn\" style=\"width:97.0%\">"))
      << html;
  EXPECT_TRUE(has(html,
                  "<div class=\"bar-label\">Memory</div><div class=\"bar\"><span "
                  "style=\"width:33.1%\">"))
      << html;
  EXPECT_TRUE(has(html,
                  "<div class=\"bar-label\">Swap</div><div class=\"bar\"><span "
                  "style=\"width:25.0%\">"))
      << html;
  EXPECT_TRUE(has(html,
                  "<div class=\"bar-label\">BAT0 charge</div><div class=\"bar\"><span "
                  "style=\"width:64.0%\">"))
      << html;
  EXPECT_TRUE(has(html,
                  "<div class=\"bar-label\">BAT0 wear</div><div class=\"bar\"><span "
                  "class=\"warn\" style=\"width:27.0%\">"))
      << html;
}

TEST(DiagHtml, LowChargeIsRed) {
  auto snapshot = laptop_snapshot();
  snapshot["power"]["batteries"][0]["capacity_pct"] = 6;
  const auto html = render_diagnostics_html(snapshot);
  EXPECT_TRUE(has(html,
                  "<div class=\"bar-label\">BAT0 charge</div><div class=\"bar\"><span "
                  "class=\"crit\" style=\"width:6.0%\">"))
      << html;
}

TEST(DiagHtml, EveryStringIsEscaped) {
  auto snapshot = laptop_snapshot();
  snapshot["system"]["hostname"] = "<script>alert(1)</script>";
  snapshot["storage"]["filesystems"][0]["mount_point"] = "/mnt/\"><img src=x onerror=alert(2)>";
  snapshot["findings"][0]["summary"] = "<b>bold</b> & 'quoted'";
  snapshot["errors"] = json::parse(R"([{"section": "<i>x</i>", "message": "a&b"}])");
  snapshot["logs"]["errors"][0]["message"] = "</td></tr></table><script>x()</script>";
  const auto html = render_diagnostics_html(snapshot);
  EXPECT_FALSE(has(html, "<script")) << html;
  EXPECT_FALSE(has(html, "<img")) << html;
  EXPECT_FALSE(has(html, "<b>bold")) << html;
  EXPECT_FALSE(has(html, "<i>x")) << html;
  EXPECT_TRUE(has(html,
                  "<title>Diagnostics \xe2\x80\x94 &lt;script&gt;alert(1)&lt;/script&gt;"
                  "</title>"))
      << html;
  EXPECT_TRUE(has(html, "/mnt/&quot;&gt;&lt;img src=x onerror=alert(2)&gt;")) << html;
  EXPECT_TRUE(has(html, "&lt;b&gt;bold&lt;/b&gt; &amp; &#39;quoted&#39;")) << html;
  EXPECT_TRUE(has(html, "&lt;i&gt;x&lt;/i&gt; (a&amp;b)")) << html;
}

TEST(DiagHtml, UnavailableSectionsAndUnknownValuesSayWhy) {
  auto snapshot = laptop_snapshot();
  snapshot["logs"] = {{"unavailable", "timed out"}};
  const auto html = render_diagnostics_html(snapshot);
  EXPECT_TRUE(has(html,
                  "<section id=\"logs\">\n<h2>Logs</h2>\n<p class=\"unavailable\">Not "
                  "collected: timed out</p>"))
      << html;
  EXPECT_TRUE(has(html,
                  "<tr><th>Asset tag</th><td><span class=\"unknown\">\xe2\x80\x94  (not "
                  "present)</span></td></tr>"))
      << html;
}

TEST(DiagHtml, HostileInputNeverThrows) {
  for (const char* input :
       {"null", "[]", "7", "{}", R"({"findings": [1, {"severity": "<x>"}]})",
        R"({"memory": {"total_bytes": 10, "available_bytes": 1e308}})",
        R"({"storage": {"filesystems": [{"size_bytes": 1, "free_bytes": -4}]}})",
        R"({"power": {"batteries": [{"capacity_pct": "full", "wear_pct": 1e300}]}})"}) {
    std::string html;
    ASSERT_NO_THROW(html = render_diagnostics_html(json::parse(input))) << input;
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u) << input;
    EXPECT_TRUE(html.ends_with("</html>\n")) << input;
    EXPECT_FALSE(has(html, "<x>")) << input;
  }
}

}  // namespace
}  // namespace tether::protocol
