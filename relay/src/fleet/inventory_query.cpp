#include "fleet/inventory_query.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <utility>
#include <variant>

#include "fleet/debian_version.hpp"
#include "tether/protocol/json_access.hpp"
#include "tether/protocol/time_format.hpp"
#include "tether/protocol/utf8.hpp"

namespace tether::relay::fleet {

using nlohmann::json;
using protocol::json_member;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

enum class Op { eq, ne, lt, le, gt, ge, contains, not_contains };

/// What kind of value a field holds, which decides the operators and how VALUE is read.
enum class Type { text, number, version, boolean, time, age, severity };

/// The multi-valued parts of an inventory; comparisons on one of them are "any element".
enum class Collection { none, software, storage, battery, network, findings };

/// A value read out of a device. Text points into the device (its JSON or its strings),
/// which outlives the evaluation.
using Scalar = std::variant<std::monostate, std::string_view, double, bool, TimePoint>;
using Scalars = std::vector<Scalar>;

/// Reads one field from `element` (the inventory for device-wide fields, one collection
/// element otherwise), appending what it finds; nothing when the value is missing or mistyped.
using Extract = void (*)(const FleetDevice& device, const json& element, Scalars& out);

struct Field {
  std::string_view name;
  Collection collection;
  Type type;
  Extract extract;
};

const json& path(const json& j, std::initializer_list<std::string_view> keys) {
  const json* at = &j;
  for (const auto key : keys) at = &json_member(*at, key);
  return *at;
}

void push_text(const json& v, Scalars& out) {
  if (v.is_string()) out.emplace_back(std::string_view(v.get_ref<const std::string&>()));
}

void push_number(const json& v, Scalars& out) {
  if (v.is_number()) {
    const double d = v.get<double>();
    if (std::isfinite(d)) out.emplace_back(d);
  }
}

void push_derived(std::optional<double> v, Scalars& out) {
  if (v && std::isfinite(*v)) out.emplace_back(*v);
}

void push_bool(const json& v, Scalars& out) {
  if (v.is_boolean()) out.emplace_back(v.get<bool>());
}

void push_gib(const json& bytes, Scalars& out) {
  if (bytes.is_number()) push_derived(bytes.get<double>() / kGiB, out);
}

void push_addresses(const json& interface, std::string_view family, Scalars& out) {
  const json& addresses = json_member(interface, "addresses");
  if (!addresses.is_array()) return;
  for (const json& a : addresses) {
    const json& f = json_member(a, "family");
    if (f.is_string() && f.get_ref<const std::string&>() == family) {
      push_text(json_member(a, "address"), out);
    }
  }
}

#define TETHER_FIELD(name, collection, type, body)                                                \
  Field {                                                                                         \
    name, Collection::collection, Type::type,                                                     \
        []([[maybe_unused]] const FleetDevice& d, [[maybe_unused]] const json& e, Scalars& out) { \
          body;                                                                                   \
        }                                                                                         \
  }

// The field table of docs/inventory.md. Keep the two in the same order.
constexpr std::array kFields = {
    TETHER_FIELD("id", none, text, out.emplace_back(std::string_view(d.id))),
    TETHER_FIELD("group", none, text, out.emplace_back(std::string_view(d.group))),
    TETHER_FIELD("hostname", none, text,
                 if (!d.hostname.empty()) out.emplace_back(std::string_view(d.hostname));
                 else push_text(path(e, {"system", "hostname"}), out)),
    TETHER_FIELD("online", none, boolean, out.emplace_back(d.online)),
    TETHER_FIELD("last_seen", none, time, if (d.last_seen) out.emplace_back(*d.last_seen)),
    TETHER_FIELD("last_seen_age", none, age, if (d.last_seen) out.emplace_back(*d.last_seen)),
    TETHER_FIELD("os.name", none, text, push_text(path(e, {"system", "os", "name"}), out)),
    TETHER_FIELD("os.id", none, text, push_text(path(e, {"system", "os", "id"}), out)),
    TETHER_FIELD("os.version", none, version,
                 push_text(path(e, {"system", "os", "version_id"}), out)),
    TETHER_FIELD("os.codename", none, text, push_text(path(e, {"system", "os", "codename"}), out)),
    TETHER_FIELD("os.kernel", none, version, push_text(path(e, {"system", "kernel"}), out)),
    TETHER_FIELD("os.arch", none, text, push_text(path(e, {"system", "architecture"}), out)),
    TETHER_FIELD("hardware.vendor", none, text,
                 push_text(path(e, {"firmware", "system", "manufacturer"}), out)),
    TETHER_FIELD("hardware.model", none, text,
                 push_text(path(e, {"firmware", "system", "product"}), out)),
    TETHER_FIELD("hardware.serial", none, text,
                 push_text(path(e, {"firmware", "system", "serial"}), out)),
    TETHER_FIELD("hardware.chassis", none, text,
                 push_text(path(e, {"firmware", "chassis", "type_name"}), out)),
    TETHER_FIELD("hardware.memory_gb", none, number, push_derived(derived::memory_gb(e), out)),
    TETHER_FIELD("cpu.model", none, text, push_text(path(e, {"cpu", "model"}), out)),
    TETHER_FIELD("cpu.vendor", none, text, push_text(path(e, {"cpu", "vendor"}), out)),
    TETHER_FIELD("cpu.cores", none, number, push_number(path(e, {"cpu", "cores"}), out)),
    TETHER_FIELD("cpu.threads", none, number, push_number(path(e, {"cpu", "threads"}), out)),
    TETHER_FIELD("storage.mount", storage, text, push_text(json_member(e, "mount_point"), out)),
    TETHER_FIELD("storage.device", storage, text, push_text(json_member(e, "device"), out)),
    TETHER_FIELD("storage.type", storage, text, push_text(json_member(e, "type"), out)),
    TETHER_FIELD("storage.read_only", storage, boolean,
                 push_bool(json_member(e, "read_only"), out)),
    TETHER_FIELD("storage.size_gb", storage, number, push_gib(json_member(e, "size_bytes"), out)),
    TETHER_FIELD("storage.free_gb", storage, number,
                 push_gib(json_member(e, "available_bytes"), out)),
    TETHER_FIELD("storage.free_pct", storage, number, push_derived(derived::free_pct(e), out)),
    TETHER_FIELD("battery.wear_pct", battery, number, push_number(json_member(e, "wear_pct"), out)),
    TETHER_FIELD("battery.health", battery, number,
                 push_derived(derived::battery_health_pct(e), out)),
    TETHER_FIELD("battery.cycles", battery, number,
                 push_number(json_member(e, "cycle_count"), out)),
    TETHER_FIELD("battery.status", battery, text, push_text(json_member(e, "status"), out)),
    TETHER_FIELD("battery.model", battery, text, push_text(json_member(e, "model"), out)),
    TETHER_FIELD("software.name", software, text, push_text(json_member(e, "name"), out)),
    TETHER_FIELD("software.version", software, version, push_text(json_member(e, "version"), out)),
    TETHER_FIELD("software.source", software, text, push_text(json_member(e, "source"), out)),
    TETHER_FIELD("software.arch", software, text, push_text(json_member(e, "architecture"), out)),
    TETHER_FIELD("network.name", network, text, push_text(json_member(e, "name"), out)),
    TETHER_FIELD("network.type", network, text, push_text(json_member(e, "type"), out)),
    TETHER_FIELD("network.state", network, text, push_text(json_member(e, "state"), out)),
    TETHER_FIELD("network.mac", network, text, push_text(json_member(e, "mac"), out)),
    TETHER_FIELD("network.ipv4", network, text, push_addresses(e, "ipv4", out)),
    TETHER_FIELD("network.ipv6", network, text, push_addresses(e, "ipv6", out)),
    TETHER_FIELD("findings.id", findings, text, push_text(json_member(e, "id"), out)),
    TETHER_FIELD("findings.severity", findings, severity,
                 push_text(json_member(e, "severity"), out)),
};

#undef TETHER_FIELD

const json& elements(const json& inventory, Collection c) {
  switch (c) {
    case Collection::software:
      return path(inventory, {"software", "packages"});
    case Collection::storage:
      return path(inventory, {"storage", "filesystems"});
    case Collection::battery:
      return path(inventory, {"power", "batteries"});
    case Collection::network:
      return path(inventory, {"network", "interfaces"});
    case Collection::findings:
      return json_member(inventory, "findings");
    case Collection::none:
      break;
  }
  return inventory;
}

constexpr std::array<std::string_view, 4> kSeverities = {"ok", "info", "warning", "critical"};

std::optional<int> severity_rank(std::string_view s) {
  for (std::size_t i = 0; i < kSeverities.size(); ++i) {
    if (s == kSeverities[i]) return static_cast<int>(i);
  }
  return std::nullopt;
}

char fold(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = fold(c);
  return out;
}

// ASCII case-insensitive three-way comparison: host names, groups and vendors are compared
// the way people type them. Bytes above 0x7f compare as they are.
int compare_text(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto ca = static_cast<unsigned char>(fold(a[i]));
    const auto cb = static_cast<unsigned char>(fold(b[i]));
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

// `needle` is already folded.
bool contains_text(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    std::size_t k = 0;
    while (k < needle.size() && fold(hay[i + k]) == needle[k]) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

bool holds(int order, Op op) {
  switch (op) {
    case Op::eq:
      return order == 0;
    case Op::ne:
      return order != 0;
    case Op::lt:
      return order < 0;
    case Op::le:
      return order <= 0;
    case Op::gt:
      return order > 0;
    case Op::ge:
      return order >= 0;
    case Op::contains:
    case Op::not_contains:
      break;
  }
  return false;
}

template <typename T>
int three_way(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

std::string_view op_text(Op op) {
  switch (op) {
    case Op::eq:
      return "=";
    case Op::ne:
      return "!=";
    case Op::lt:
      return "<";
    case Op::le:
      return "<=";
    case Op::gt:
      return ">";
    case Op::ge:
      return ">=";
    case Op::contains:
      return "~";
    case Op::not_contains:
      return "!~";
  }
  return "?";
}

std::string_view type_text(Type t) {
  switch (t) {
    case Type::text:
      return "text";
    case Type::number:
      return "a number";
    case Type::version:
      return "a version";
    case Type::boolean:
      return "true or false";
    case Type::time:
      return "a time";
    case Type::age:
      return "an age";
    case Type::severity:
      return "a severity";
  }
  return "?";
}

bool op_applies(Type t, Op op) {
  switch (t) {
    case Type::text:
    case Type::version:
      return true;
    case Type::boolean:
      return op == Op::eq || op == Op::ne;
    case Type::number:
    case Type::time:
    case Type::age:
    case Type::severity:
      return op != Op::contains && op != Op::not_contains;
  }
  return false;
}

}  // namespace

// ---- The parsed form

struct InventoryQuery::Node {
  /// FIELD OP VALUE, with VALUE read once at parse time into the form the field compares.
  struct Comparison {
    const Field* field = nullptr;
    Op op = Op::eq;
    bool as_age = false;  // last_seen compared with an age: reads as last_seen_age
    std::string text;     // the value as written (unquoted, unescaped)
    std::string folded;   // text in lower case, for text fields
    double number = 0;
    bool boolean = false;
    TimePoint time{};
    std::chrono::seconds age{};
    int severity = 0;
  };

  enum class Kind { comparison, all, any, negation };
  Kind kind = Kind::comparison;
  Comparison comparison;
  std::vector<Node> children;
  // Written in parentheses: a parenthesised operand of an "and" chain is a group of its own
  // and does not share the chain's collection elements.
  bool parenthesised = false;
};

namespace {

using Node = InventoryQuery::Node;
using Comparison = Node::Comparison;

// ---- Evaluation

bool compare_scalar(const Comparison& c, const Scalar& s, TimePoint now) {
  switch (c.field->type) {
    case Type::text: {
      const auto* v = std::get_if<std::string_view>(&s);
      if (v == nullptr) return false;
      if (c.op == Op::contains) return contains_text(*v, c.folded);
      if (c.op == Op::not_contains) return !contains_text(*v, c.folded);
      return holds(compare_text(*v, c.text), c.op);
    }
    case Type::version: {
      const auto* v = std::get_if<std::string_view>(&s);
      if (v == nullptr) return false;
      if (c.op == Op::contains) return contains_text(*v, c.folded);
      if (c.op == Op::not_contains) return !contains_text(*v, c.folded);
      return holds(compare_debian_versions(*v, c.text), c.op);
    }
    case Type::number: {
      const auto* v = std::get_if<double>(&s);
      return v != nullptr && holds(three_way(*v, c.number), c.op);
    }
    case Type::boolean: {
      const auto* v = std::get_if<bool>(&s);
      return v != nullptr && holds(*v == c.boolean ? 0 : 1, c.op);
    }
    case Type::time:
    case Type::age: {
      const auto* v = std::get_if<TimePoint>(&s);
      if (v == nullptr) return false;
      if (c.as_age || c.field->type == Type::age) {
        // In whole seconds since the epoch, which cannot overflow whatever the caller passes.
        const auto seconds = [](TimePoint t) {
          return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
        };
        return holds(three_way(seconds(now) - seconds(*v), c.age.count()), c.op);
      }
      return holds(three_way(*v, c.time), c.op);
    }
    case Type::severity: {
      const auto* v = std::get_if<std::string_view>(&s);
      if (v == nullptr) return false;
      const auto rank = severity_rank(lower(*v));
      return rank && holds(three_way(*rank, c.severity), c.op);
    }
  }
  return false;
}

// One comparison against one element (the inventory itself for device-wide fields): true when
// any value the field yields there satisfies it. Missing values never do.
bool compare_on(const Comparison& c, const FleetDevice& device, const json& element, TimePoint now,
                Scalars& scratch) {
  scratch.clear();
  c.field->extract(device, element, scratch);
  return std::any_of(scratch.begin(), scratch.end(),
                     [&](const Scalar& s) { return compare_scalar(c, s, now); });
}

// Comparisons on one collection that must all hold on the same element.
bool any_element(const std::vector<const Comparison*>& group, const FleetDevice& device,
                 TimePoint now, Scalars& scratch) {
  const json& items = elements(device.inventory, group.front()->field->collection);
  if (!items.is_array()) return false;
  for (const json& item : items) {
    if (!item.is_object()) continue;
    if (std::all_of(group.begin(), group.end(), [&](const Comparison* c) {
          return compare_on(*c, device, item, now, scratch);
        })) {
      return true;
    }
  }
  return false;
}

bool bindable(const Node& n) {
  return n.kind == Node::Kind::comparison && !n.parenthesised &&
         n.comparison.field->collection != Collection::none;
}

bool evaluate(const Node& node, const FleetDevice& device, TimePoint now, Scalars& scratch) {
  switch (node.kind) {
    case Node::Kind::comparison: {
      const Comparison& c = node.comparison;
      if (c.field->collection == Collection::none) {
        return compare_on(c, device, device.inventory, now, scratch);
      }
      return any_element({&c}, device, now, scratch);
    }
    case Node::Kind::negation:
      return !evaluate(node.children.front(), device, now, scratch);
    case Node::Kind::any:
      return std::any_of(node.children.begin(), node.children.end(),
                         [&](const Node& child) { return evaluate(child, device, now, scratch); });
    case Node::Kind::all: {
      // The same-element rule: the chain's bare comparisons on one collection form one group
      // that a single element must satisfy; everything else is evaluated on its own.
      std::vector<const Comparison*> group;
      for (std::size_t i = 0; i < node.children.size(); ++i) {
        const Node& child = node.children[i];
        if (!bindable(child)) {
          if (!evaluate(child, device, now, scratch)) return false;
          continue;
        }
        const Collection collection = child.comparison.field->collection;
        const bool seen =
            std::any_of(node.children.begin(), node.children.begin() + i, [&](const Node& earlier) {
              return bindable(earlier) && earlier.comparison.field->collection == collection;
            });
        if (seen) continue;
        group.clear();
        for (std::size_t j = i; j < node.children.size(); ++j) {
          if (bindable(node.children[j]) &&
              node.children[j].comparison.field->collection == collection) {
            group.push_back(&node.children[j].comparison);
          }
        }
        if (!any_element(group, device, now, scratch)) return false;
      }
      return true;
    }
  }
  return false;
}

// ---- Describing

// A field name or keyword ends at a space, a parenthesis, a quote or an operator character.
bool is_word_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u == 0x7f) return false;
  return std::string_view("()\"=!<>~").find(c) == std::string_view::npos;
}

// A bare value only ends at a space, a parenthesis or a quote, so versions such as
// 3.0.11-1~deb12u2 need no quotes.
bool is_value_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u == 0x7f) return false;
  return c != '(' && c != ')' && c != '"';
}

std::string value_text(std::string_view v) {
  const bool bare = !v.empty() && std::all_of(v.begin(), v.end(), is_value_char);
  if (bare) return std::string(v);
  std::string out = "\"";
  for (const char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void describe_into(const Node& node, std::string& out) {
  switch (node.kind) {
    case Node::Kind::comparison: {
      const Comparison& c = node.comparison;
      out += c.as_age ? std::string_view("last_seen_age") : c.field->name;
      out += op_text(c.op);
      out += value_text(c.text);
      return;
    }
    case Node::Kind::negation: {
      out += "not ";
      const Node& child = node.children.front();
      const bool wrap = child.kind == Node::Kind::all || child.kind == Node::Kind::any;
      if (wrap) out += '(';
      describe_into(child, out);
      if (wrap) out += ')';
      return;
    }
    case Node::Kind::all:
    case Node::Kind::any: {
      const bool all = node.kind == Node::Kind::all;
      for (std::size_t i = 0; i < node.children.size(); ++i) {
        const Node& child = node.children[i];
        if (i > 0) out += all ? " and " : " or ";
        // In a chain of "and", parentheses also mark a separate element group, so they stay.
        bool wrap = child.kind == Node::Kind::any;
        if (all && child.parenthesised) {
          wrap = wrap || child.kind == Node::Kind::all ||
                 (child.kind == Node::Kind::comparison &&
                  child.comparison.field->collection != Collection::none);
        }
        if (wrap) out += '(';
        describe_into(child, out);
        if (wrap) out += ')';
      }
      return;
    }
  }
}

// ---- Parsing

std::size_t column_at(std::string_view text, std::size_t offset) {
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) ++column;
  }
  return column;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string join_alternatives(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// "; did you mean software.name?" for a typo, the fields of a section for a bare section
// name ("software"), else where to look.
std::string suggest_field(std::string_view typed) {
  const std::string name = lower(typed);
  std::vector<std::string_view> prefixed;
  if (name.size() >= 2) {
    for (const Field& f : kFields) {
      if (f.name.starts_with(name)) prefixed.push_back(f.name);
    }
  }
  if (!prefixed.empty() && prefixed.size() <= 8) {
    return "; did you mean " + join_alternatives(prefixed) + "?";
  }
  if (name.size() <= 64) {
    const Field* best = nullptr;
    std::size_t best_distance = 0;
    for (const Field& f : kFields) {
      const std::size_t d = edit_distance(name, f.name);
      if (best == nullptr || d < best_distance) {
        best = &f;
        best_distance = d;
      }
    }
    if (best != nullptr && best_distance <= std::clamp<std::size_t>(best->name.size() / 3, 1, 3)) {
      return "; did you mean " + std::string(best->name) + "?";
    }
  }
  return "; the fields are listed in docs/inventory.md";
}

std::optional<double> parse_number(std::string_view s) {
  // Plain decimal only: no exponent, hex, inf or nan, so "1e3" or "0x10" are refused.
  std::size_t i = s.starts_with('-') ? 1 : 0;
  std::size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0 || i != s.size() || s.size() > 32) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// "90s", "30m", "12h", "7d", "2w".
std::optional<std::chrono::seconds> parse_age(std::string_view s) {
  if (s.size() < 2 || s.size() > 10) return std::nullopt;
  std::int64_t n = 0;
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    n = n * 10 + (s[i] - '0');
  }
  switch (fold(s.back())) {
    case 's':
      return std::chrono::seconds(n);
    case 'm':
      return std::chrono::seconds(n * 60);
    case 'h':
      return std::chrono::seconds(n * 3600);
    case 'd':
      return std::chrono::seconds(n * 86400);
    case 'w':
      return std::chrono::seconds(n * 604800);
    default:
      return std::nullopt;
  }
}

// "2026-11-01" (midnight UTC) or "2026-11-01T08:00:00Z".
std::optional<TimePoint> parse_date(std::string_view s) {
  // Years outside 1970–2200 are refused before conversion: the clock counts nanoseconds in
  // 64 bits, which overflow around 2262 and 1677.
  int year = 0;
  if (s.size() < 4 || std::from_chars(s.data(), s.data() + 4, year).ptr != s.data() + 4 ||
      !std::all_of(s.begin(), s.begin() + 4, [](char c) { return c >= '0' && c <= '9'; }) ||
      year < 1970 || year > 2200) {
    return std::nullopt;
  }
  std::string full(s);
  if (s.size() == 10) full += "T00:00:00Z";
  auto t = protocol::parse_time(full);
  if (!t) return std::nullopt;
  return *t;
}

struct Token {
  enum class Kind { word, quoted, op, open, close, end };
  Kind kind = Kind::end;
  std::string text;
  Op op = Op::eq;
  std::size_t offset = 0;

  bool is_keyword(std::string_view keyword) const {
    return kind == Kind::word && text.size() == keyword.size() && lower(text) == keyword;
  }
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) { advance(false); }

  Node parse_query() {
    if (token_.kind == Token::Kind::end) {
      fail(0, "empty query", "; expected a comparison such as os.name=debian");
    }
    Node root = parse_or(0);
    if (token_.kind == Token::Kind::close) {
      fail(token_.offset, "unexpected \")\"", " (no \"(\" is open)");
    }
    if (token_.kind != Token::Kind::end) {
      fail(token_.offset, "expected \"and\", \"or\" or the end of the query",
           ", got " + shown(token_));
    }
    return root;
  }

 private:
  [[noreturn]] void fail(std::size_t offset, const std::string& what, const std::string& rest) {
    const std::size_t column = column_at(text_, offset);
    throw QueryError(column, what + " at column " + std::to_string(column) + rest);
  }

  static std::string shown(const Token& t) {
    switch (t.kind) {
      case Token::Kind::end:
        return "the end of the query";
      case Token::Kind::open:
        return "\"(\"";
      case Token::Kind::close:
        return "\")\"";
      case Token::Kind::op:
        return "\"" + std::string(op_text(t.op)) + "\"";
      case Token::Kind::quoted:
        return value_text(t.text.size() > 40 ? t.text.substr(0, 40) : t.text);
      case Token::Kind::word:
        break;
    }
    // Cut long words on a character boundary so the message stays valid UTF-8.
    std::size_t cut = 0;
    while (cut < t.text.size() && cut < 40) {
      cut += std::max<std::size_t>(1, protocol::utf8_sequence_length(t.text, cut));
    }
    return "\"" + t.text.substr(0, cut) + (cut < t.text.size() ? "…" : "") + "\"";
  }

  // Length of the UTF-8 character at pos, refusing malformed bytes.
  std::size_t character(std::size_t pos) {
    const std::size_t n = protocol::utf8_sequence_length(text_, pos);
    if (n == 0) fail(pos, "invalid UTF-8", "");
    return n;
  }

  // Reads the next token; `value` when it follows an operator, where bare words may hold
  // operator characters.
  void advance(bool value = false) {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
    token_ = Token{};
    token_.offset = pos_;
    if (pos_ == text_.size()) return;
    const char c = text_[pos_];
    const auto u = static_cast<unsigned char>(c);
    const auto next_is = [&](char n) { return pos_ + 1 < text_.size() && text_[pos_ + 1] == n; };
    const auto op = [&](Op o, std::size_t length) {
      token_.kind = Token::Kind::op;
      token_.op = o;
      pos_ += length;
    };
    if (value && c != '"' && is_value_char(c)) {
      token_.kind = Token::Kind::word;
      const std::size_t start = pos_;
      while (pos_ < text_.size() && is_value_char(text_[pos_])) pos_ += character(pos_);
      token_.text.assign(text_.substr(start, pos_ - start));
      return;
    }
    switch (c) {
      case '(':
        token_.kind = Token::Kind::open;
        ++pos_;
        return;
      case ')':
        token_.kind = Token::Kind::close;
        ++pos_;
        return;
      case '=':
        return op(Op::eq, 1);
      case '~':
        return op(Op::contains, 1);
      case '<':
        return next_is('=') ? op(Op::le, 2) : op(Op::lt, 1);
      case '>':
        return next_is('=') ? op(Op::ge, 2) : op(Op::gt, 1);
      case '!':
        if (next_is('=')) return op(Op::ne, 2);
        if (next_is('~')) return op(Op::not_contains, 2);
        fail(pos_, "expected \"!=\" or \"!~\"", "");
      case '"':
        return quoted();
      default:
        break;
    }
    if (u < 0x20 || u == 0x7f) fail(pos_, "unexpected control character", "");
    token_.kind = Token::Kind::word;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_word_char(text_[pos_])) pos_ += character(pos_);
    token_.text.assign(text_.substr(start, pos_ - start));
  }

  void quoted() {
    token_.kind = Token::Kind::quoted;
    const std::size_t start = pos_++;
    while (true) {
      if (pos_ >= text_.size()) fail(start, "unterminated string", "; expected a closing \"");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return;
      }
      if (c == '\\') {
        const char e = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
        if (e != '"' && e != '\\') {
          fail(pos_, "unknown escape in string", R"(; only \" and \\ are allowed)");
        }
        token_.text += e;
        pos_ += 2;
        continue;
      }
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) fail(pos_, "unexpected control character in string", "");
      const std::size_t n = character(pos_);
      token_.text.append(text_.substr(pos_, n));
      pos_ += n;
    }
  }

  Node parse_or(int depth) {
    Node first = parse_and(depth);
    if (!token_.is_keyword("or")) return first;
    Node any;
    any.kind = Node::Kind::any;
    add_alternative(any, std::move(first));
    while (token_.is_keyword("or")) {
      advance();
      add_alternative(any, parse_and(depth));
    }
    return any;
  }

  static void add_alternative(Node& any, Node&& child) {
    // "or" is associative and has no element groups: (a or b) or c is a or b or c.
    if (child.kind == Node::Kind::any) {
      for (Node& grandchild : child.children) any.children.push_back(std::move(grandchild));
    } else {
      any.children.push_back(std::move(child));
    }
  }

  Node parse_and(int depth) {
    Node first = parse_unary(depth);
    if (!token_.is_keyword("and")) return first;
    Node all;
    all.kind = Node::Kind::all;
    all.children.push_back(std::move(first));
    while (token_.is_keyword("and")) {
      advance();
      all.children.push_back(parse_unary(depth));
    }
    return all;
  }

  Node parse_unary(int depth) {
    if (token_.is_keyword("not")) {
      const std::size_t at = token_.offset;
      if (depth + 1 > InventoryQuery::kMaxNesting) too_deep(at);
      advance();
      Node negation;
      negation.kind = Node::Kind::negation;
      negation.children.push_back(parse_unary(depth + 1));
      return negation;
    }
    if (token_.kind == Token::Kind::open) {
      const std::size_t open = token_.offset;
      if (depth + 1 > InventoryQuery::kMaxNesting) too_deep(open);
      advance();
      Node inner = parse_or(depth + 1);
      if (token_.kind != Token::Kind::close) {
        fail(token_.offset, "expected \"and\", \"or\" or \")\"",
             " to close the \"(\" at column " + std::to_string(column_at(text_, open)) + ", got " +
                 shown(token_));
      }
      advance();
      inner.parenthesised = true;
      return inner;
    }
    if (token_.kind != Token::Kind::word) {
      fail(token_.offset, "expected a field name, \"(\" or \"not\"", ", got " + shown(token_));
    }
    return parse_comparison();
  }

  [[noreturn]] void too_deep(std::size_t offset) {
    fail(offset, "query nested too deeply",
         " (at most " + std::to_string(InventoryQuery::kMaxNesting) +
             " levels of parentheses and \"not\")");
  }

  Node parse_comparison() {
    const Token name = token_;
    const std::string folded = lower(name.text);
    const auto field = std::find_if(kFields.begin(), kFields.end(),
                                    [&](const Field& f) { return f.name == folded; });
    if (field == kFields.end()) {
      fail(name.offset, "unknown field " + shown(name), suggest_field(name.text));
    }
    if (++comparisons_ > InventoryQuery::kMaxComparisons) {
      fail(name.offset, "too many comparisons",
           " (at most " + std::to_string(InventoryQuery::kMaxComparisons) + ")");
    }
    advance();
    if (token_.kind != Token::Kind::op) {
      fail(token_.offset,
           "expected an operator (= != < <= > >= ~ !~) after " + std::string(field->name),
           ", got " + shown(token_));
    }
    Node node;
    Comparison& c = node.comparison;
    c.field = &*field;
    c.op = token_.op;
    if (!op_applies(field->type, c.op)) {
      fail(token_.offset,
           "operator " + std::string(op_text(c.op)) + " does not apply to " +
               std::string(field->name) + " (" + std::string(type_text(field->type)) + ")",
           field->type == Type::boolean ? "; use = or !=" : "; use = != < <= > >=");
    }
    advance(true);
    if (token_.kind != Token::Kind::word && token_.kind != Token::Kind::quoted) {
      fail(token_.offset,
           "expected a value after " + std::string(field->name) + std::string(op_text(c.op)),
           ", got " + shown(token_));
    }
    c.text = token_.text;
    c.folded = lower(c.text);
    read_value(c, token_);
    advance();
    return node;
  }

  void read_value(Comparison& c, const Token& value) {
    const std::string name(c.field->name);
    switch (c.field->type) {
      case Type::text:
      case Type::version:
        return;
      case Type::number:
        if (auto n = parse_number(c.text)) {
          c.number = *n;
          return;
        }
        fail(value.offset, "expected a number for " + name, ", got " + shown(value));
      case Type::boolean:
        if (c.folded == "true" || c.folded == "false") {
          c.boolean = c.folded == "true";
          c.text = c.folded;
          return;
        }
        fail(value.offset, "expected true or false for " + name, ", got " + shown(value));
      case Type::severity:
        if (auto rank = severity_rank(c.folded)) {
          c.severity = *rank;
          c.text = c.folded;
          return;
        }
        fail(value.offset, "expected ok, info, warning or critical for " + name,
             ", got " + shown(value));
      case Type::age:
        if (auto age = parse_age(c.text)) {
          c.age = *age;
          return;
        }
        fail(value.offset, "expected an age such as 90s, 30m, 12h, 7d or 2w for " + name,
             ", got " + shown(value));
      case Type::time:
        if (auto age = parse_age(c.text)) {
          c.age = *age;
          c.as_age = true;
          return;
        }
        if (auto t = parse_date(c.text)) {
          c.time = *t;
          return;
        }
        fail(value.offset,
             "expected an age (7d, 12h, 30m) or a date (2026-11-01 or 2026-11-01T08:00:00Z) "
             "for " +
                 name,
             ", got " + shown(value));
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  Token token_;
  int comparisons_ = 0;
};

}  // namespace

InventoryQuery InventoryQuery::parse(std::string_view text) {
  if (text.size() > kMaxBytes) {
    throw QueryError(1, "query too long at column 1 (" + std::to_string(text.size()) +
                            " bytes; at most " + std::to_string(kMaxBytes) + ")");
  }
  return InventoryQuery(std::make_shared<const Node>(Parser(text).parse_query()));
}

bool InventoryQuery::matches(const FleetDevice& device, TimePoint now) const {
  Scalars scratch;
  scratch.reserve(4);
  return evaluate(*root_, device, now, scratch);
}

std::string InventoryQuery::describe() const {
  std::string out;
  describe_into(*root_, out);
  return out;
}

std::vector<std::string_view> inventory_query_fields() {
  std::vector<std::string_view> names;
  for (const Field& f : kFields) names.push_back(f.name);
  return names;
}

namespace derived {

std::optional<double> memory_gb(const json& inventory) {
  const json& memory = json_member(inventory, "memory");
  const json& dimms = json_member(memory, "dimms");
  if (dimms.is_array() && !dimms.empty()) {
    double sum = 0;
    bool all_known = true;
    for (const json& dimm : dimms) {
      const json& size = json_member(dimm, "size_bytes");
      all_known = all_known && size.is_number() && size.get<double>() > 0;
      if (all_known) sum += size.get<double>();
    }
    if (all_known) return sum / kGiB;
  }
  const json& total = json_member(memory, "total_bytes");
  if (total.is_number() && total.get<double>() >= 0) return total.get<double>() / kGiB;
  return std::nullopt;
}

std::optional<double> free_pct(const json& filesystem) {
  const json& used = json_member(filesystem, "used_pct");
  if (used.is_number()) return 100.0 - used.get<double>();
  const json& size = json_member(filesystem, "size_bytes");
  const json& available = json_member(filesystem, "available_bytes");
  if (size.is_number() && available.is_number() && size.get<double>() > 0) {
    return available.get<double>() / size.get<double>() * 100.0;
  }
  return std::nullopt;
}

std::optional<double> battery_health_pct(const json& battery) {
  const json& wear = json_member(battery, "wear_pct");
  if (wear.is_number()) return 100.0 - wear.get<double>();
  return std::nullopt;
}

}  // namespace derived

}  // namespace tether::relay::fleet
