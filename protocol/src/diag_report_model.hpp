#pragma once
// The report both renderers draw: a snapshot read once, tolerantly, into plain strings
// (already made printable, not yet HTML-escaped), grouped the way a technician reads it.
// diag_report.cpp builds it and writes it as text; diag_html.cpp writes it as HTML.

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::protocol::diag_report {

/// One "Key   value" line.
struct Field {
  std::string key;
  std::string value;
};

/// A small table; `more` rows were left out to keep it short ("… and 12 more").
struct Table {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::size_t more = 0;
};

/// A usage figure the HTML report draws as a bar (the text report has it in its tables).
struct Bar {
  std::string label;
  double pct = 0;  ///< 0–100, clamped.
  std::string caption;
  /// Where the colour turns amber and red; for a charge, lower is worse (inverted).
  double warn = 90;
  double critical = 98;
  bool lower_is_worse = false;
};

/// A line of prose ("No batteries.").
struct Note {
  std::string text;
};

using Block = std::variant<std::vector<Field>, Table, std::vector<Bar>, Note>;

struct Section {
  std::string name;         ///< Schema key: "storage".
  std::string title;        ///< "Storage".
  std::string unavailable;  ///< Non-empty: the section could not be collected, and why.
  std::vector<Block> blocks;
};

struct Finding {
  std::string severity;  ///< "critical", "warning", "info" (ok ones are only counted).
  std::string id;
  std::string summary;
  std::string hint;
  std::string evidence;  ///< "key=value, …", bounded.
};

struct Report {
  bool empty = true;  ///< The snapshot was not an object.
  std::string host;
  std::vector<Field> header;
  bool has_findings = false;  ///< The snapshot has a findings list at all.
  std::vector<Finding> findings;
  std::size_t passed = 0;
  std::vector<std::string> skipped;  ///< "id: reason".
  std::vector<Section> sections;
  std::vector<std::string> not_collected;  ///< Snapshot errors: "gpu (unknown section)".
};

/// Reads `snapshot`; never throws on any JSON value.
Report build_report(const nlohmann::json& snapshot);

/// "—", the mark of a value that is not there.
inline constexpr const char* kNone = "\xe2\x80\x94";

}  // namespace tether::protocol::diag_report
