// The fleet inventory for technicians: one device's current inventory and its history, queries
// over every device's inventory (docs/inventory.md) and exports (CSV, JSON, GLPI).
//
// Queries and exports load every device and inventory from the store, then compose, match and
// write the rows on the compute thread: the store stays one short read, the network threads do
// no CPU-heavy work, and one `now` judges every device of a request.
#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <vector>

#include "api/api_util.hpp"
#include "broker/device_auth.hpp"
#include "broker/session_broker.hpp"
#include "fleet/fleet_view.hpp"
#include "fleet/glpi_export.hpp"
#include "fleet/inventory_export.hpp"
#include "fleet/inventory_query.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay {

namespace asio = boost::asio;
using json = nlohmann::json;
using api::fail;
using protocol::Error;

namespace {

constexpr std::size_t kDefaultHistory = 100;
constexpr std::size_t kMaxHistory = 1000;

std::int64_t device_param(const ApiRequest& r) {
  auto id = parse_object_id(r.params.at(0), 'D');
  if (!id) fail(Error::not_found, "no such device " + api::shorten(r.params.at(0), 32));
  return *id;
}

void only_parameters(const ApiRequest& r, std::initializer_list<std::string_view> known,
                     std::string_view list) {
  for (const auto& [key, value] : r.query) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      fail(Error::bad_request, "unknown query parameter \"" + api::shorten(key, 32) +
                                   "\"; this endpoint takes " + std::string(list));
    }
  }
}

/// A positive decimal integer query parameter; nullopt when absent.
std::optional<std::int64_t> positive_parameter(const ApiRequest& r, const std::string& key) {
  auto it = r.query.find(key);
  if (it == r.query.end()) return std::nullopt;
  std::int64_t value = 0;
  const auto& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    fail(Error::bad_request,
         key + " must be a positive whole number, not \"" + api::shorten(text, 32) + "\"");
  }
  return value;
}

/// The filter of `q`, parsed; 400 with the parser's message and column when it is not a query.
std::optional<fleet::InventoryQuery> query_parameter(const ApiRequest& r, bool required) {
  auto it = r.query.find("q");
  if (it == r.query.end() || (!required && it->second.empty())) {
    if (required) {
      fail(Error::bad_request,
           "give a filter in q, e.g. q=storage.free_pct<10 (docs/inventory.md)");
    }
    return std::nullopt;
  }
  if (it->second.size() > fleet::InventoryQuery::kMaxBytes) {
    fail(Error::bad_request,
         "the query is longer than " + std::to_string(fleet::InventoryQuery::kMaxBytes) + " bytes");
  }
  try {
    return fleet::InventoryQuery::parse(it->second);
  } catch (const fleet::QueryError& e) {
    throw ApiError{Error::bad_request, e.what(), {}, {{"column", e.column()}}};
  }
}

json change_json(const InventoryChange& c) {
  return {{"id", c.id},           {"at", protocol::format_time(c.at)},
          {"section", c.section}, {"kind", c.kind},
          {"summary", c.summary}, {"detail", c.detail}};
}

/// Every device as queries see it (those matching `query` when there is one), in id order.
asio::awaitable<std::vector<fleet::FleetDevice>> load_fleet(
    RelayContext& context, std::optional<fleet::InventoryQuery> query) {
  co_await context.presence.flush(context.store);  // last_seen as of now
  auto [devices, inventories] = co_await context.store.run(
      [](Store& store) { return std::pair(store.list_devices(), store.all_inventories()); });
  const auto online = co_await context.broker.online_devices();
  co_return co_await context.store.compute([devices = std::move(devices),
                                            inventories = std::move(inventories), online,
                                            query = std::move(query), at = now()] {
    std::map<std::int64_t, const DeviceInventory*> by_device;
    for (const auto& inventory : inventories) by_device[inventory.device_id] = &inventory;
    std::vector<fleet::FleetDevice> out;
    for (const auto& device : devices) {
      auto it = by_device.find(device.id);
      auto fleet_device = fleet::fleet_device(device, it == by_device.end() ? nullptr : it->second,
                                              online.contains(device.id));
      if (!query || query->matches(fleet_device, at)) out.push_back(std::move(fleet_device));
    }
    return out;
  });
}

}  // namespace

asio::awaitable<json> RestApi::device_inventory(ApiRequest& r) {
  const auto id = device_param(r);
  auto [device, inventory] = co_await context_.store.run([id](Store& store) {
    auto device = store.find_device(id);
    return std::pair(device, device ? store.device_inventory(id) : std::nullopt);
  });
  if (!device) fail(Error::not_found, "no such device " + device_number(id));
  if (!inventory) fail(Error::not_found, device_number(id) + " has not reported an inventory yet");
  const auto reported_at = inventory->reported_at;
  const auto reports = inventory->reports;
  json sections = json::object();
  for (const auto& [name, section] : inventory->sections) {
    sections[name] = {{"hash", section.hash},
                      {"updated_at", protocol::format_time(section.updated_at)}};
  }
  auto composed = co_await context_.store.compute(
      [inventory = std::move(*inventory)] { return fleet::compose_inventory(inventory); });
  co_return json{{"device", device_number(id)},
                 {"collected_at", composed["collected_at"]},
                 {"reported_at", protocol::format_time(reported_at)},
                 {"reports", reports},
                 {"sections", std::move(sections)},
                 {"inventory", std::move(composed)}};
}

asio::awaitable<json> RestApi::device_history(ApiRequest& r) {
  only_parameters(r, {"limit", "before"}, "limit, before");
  const auto id = device_param(r);
  const auto limit = positive_parameter(r, "limit").value_or(kDefaultHistory);
  if (limit > static_cast<std::int64_t>(kMaxHistory)) {
    fail(Error::bad_request, "limit must be at most " + std::to_string(kMaxHistory));
  }
  const auto before = positive_parameter(r, "before");
  auto [device, changes] = co_await context_.store.run([id, limit, before](Store& store) {
    auto device = store.find_device(id);
    std::vector<InventoryChange> changes;
    if (device) changes = store.inventory_history(id, static_cast<std::size_t>(limit), before);
    return std::pair(std::move(device), std::move(changes));
  });
  if (!device) fail(Error::not_found, "no such device " + device_number(id));
  json list = json::array();
  for (const auto& c : changes) list.push_back(change_json(c));
  co_return json{{"device", device_number(id)}, {"changes", std::move(list)}};
}

asio::awaitable<json> RestApi::query_inventory(ApiRequest& r) {
  only_parameters(r, {"q"}, "q");
  auto query = query_parameter(r, true);
  const auto described = query->describe();
  auto devices = co_await load_fleet(context_, std::move(query));
  const auto count = devices.size();
  auto rows = co_await context_.store.compute(
      [devices = std::move(devices)] { return fleet::export_json(devices); });
  co_return json{{"query", described}, {"count", count}, {"devices", std::move(rows)}};
}

asio::awaitable<json> RestApi::export_inventory(ApiRequest& r) {
  only_parameters(r, {"format", "q"}, "format, q");
  std::string format = "csv";
  if (auto it = r.query.find("format"); it != r.query.end()) format = it->second;
  if (format != "csv" && format != "json" && format != "glpi") {
    fail(Error::bad_request,
         "format must be csv, json or glpi, not \"" + api::shorten(format, 32) + "\"");
  }
  auto devices = co_await load_fleet(context_, query_parameter(r, false));
  if (format == "csv") {
    r.content_type = "text/csv; charset=utf-8";
    co_return co_await context_.store.compute(
        [devices = std::move(devices)] { return json(fleet::export_csv(devices)); });
  }
  if (format == "json") {
    co_return co_await context_.store.compute(
        [devices = std::move(devices)] { return fleet::export_json(devices); });
  }
  co_return co_await context_.store.compute([devices = std::move(devices)] {
    json out = json::array();
    for (const auto& d : devices) out.push_back(fleet::glpi_device_inventory(d));
    return out;
  });
}

}  // namespace tether::relay
