// Managed devices for technicians: who is enrolled, who is online, and revoking a device
// (which also disconnects it at once).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "api/api_util.hpp"
#include "broker/agent_connection.hpp"
#include "broker/device_auth.hpp"
#include "broker/session_broker.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay {

namespace asio = boost::asio;
using json = nlohmann::json;
using api::fail;
using protocol::Error;

namespace {

json optional_time(const std::optional<TimePoint>& at) {
  return at ? json(protocol::format_time(*at)) : json(nullptr);
}

json device_json(const Device& d, bool online) {
  return {{"id", device_number(d.id)},
          {"group", d.group_name},
          {"hostname", d.hostname},
          {"os", d.os},
          {"online", online},
          {"last_seen", optional_time(d.last_seen_at)},
          {"enrolled_at", protocol::format_time(d.enrolled_at)},
          {"status", d.status},
          {"certificate_not_after", optional_time(d.certificate_not_after)}};
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::int64_t device_param(const ApiRequest& r) {
  auto id = parse_object_id(r.params.at(0), 'D');
  if (!id) fail(Error::not_found, "no such device " + api::shorten(r.params.at(0), 32));
  return *id;
}

}  // namespace

asio::awaitable<json> RestApi::list_devices(ApiRequest& r) {
  std::optional<bool> online;
  std::string group, search;
  for (const auto& [key, value] : r.query) {
    if (key == "online") {
      if (value != "1" && value != "0") fail(Error::bad_request, "online must be 1 or 0");
      online = value == "1";
    } else if (key == "group") {
      group = value;
    } else if (key == "search") {
      search = lower(value);
    } else {
      fail(Error::bad_request, "unknown query parameter \"" + api::shorten(key, 32) +
                                   "\"; this endpoint takes online, group, search");
    }
  }
  co_await context_.presence.flush(context_.store);  // last_seen as of now
  auto devices = co_await context_.store.run([](Store& store) { return store.list_devices(); });
  const auto connected = co_await context_.broker.online_devices();
  json out = json::array();
  for (const auto& d : devices) {
    const bool is_online = connected.contains(d.id);
    if (online && *online != is_online) continue;
    if (!group.empty() && d.group_name != group) continue;
    if (!search.empty() && lower(d.hostname).find(search) == std::string::npos &&
        lower(d.os).find(search) == std::string::npos && lower(device_number(d.id)) != search) {
      continue;
    }
    out.push_back(device_json(d, is_online));
  }
  co_return json{{"devices", out}};
}

asio::awaitable<json> RestApi::show_device(ApiRequest& r) {
  const auto id = device_param(r);
  co_await context_.presence.flush(context_.store);  // last_seen as of now
  auto device = co_await context_.store.run([id](Store& store) { return store.find_device(id); });
  if (!device) fail(Error::not_found, "no such device " + device_number(id));
  const bool online = co_await context_.broker.device_connection(id) != nullptr;
  auto out = device_json(*device, online);
  out["revoked_reason"] = device->revoked_reason;
  out["revoked_at"] = optional_time(device->revoked_at);
  out["identity_flags"] = device->identity_flags;  // {} unless enrollment noticed something
  co_return out;
}

asio::awaitable<json> RestApi::revoke_device(ApiRequest& r) {
  if (r.user.role != "admin") fail(Error::forbidden, "only admins may revoke devices");
  const auto id = device_param(r);
  const auto reason = api::text_field(r.body, "reason", true, 4096);
  const auto at = now();
  auto [found, revoked] = co_await context_.store.run([id, reason, at](Store& store) {
    const bool changed = store.revoke_device(id, reason, at);
    return std::pair(store.find_device(id), changed);
  });
  if (!found) fail(Error::not_found, "no such device " + device_number(id));
  if (!revoked) fail(Error::conflict, device_number(id) + " is already revoked");
  spdlog::info("{} revoked {} ({})", r.user.name, device_number(id), api::shorten(reason, 200));
  bool online = false;
  if (auto connection = co_await context_.broker.device_connection(id)) {
    connection->close(Error::forbidden, "device " + device_number(id) + " is revoked");
    online = true;
  }
  auto out = device_json(*found, false);
  out["revoked_reason"] = found->revoked_reason;
  out["revoked_at"] = optional_time(found->revoked_at);
  out["disconnected"] = online;
  co_return out;
}

}  // namespace tether::relay
