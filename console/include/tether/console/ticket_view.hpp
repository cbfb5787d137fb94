#pragma once
/// Human-readable views of the API's JSON for the terminal. Input comes from the network, so
/// every function tolerates missing or mistyped fields (shown as "?") and never throws.

#include <string>

#include <nlohmann/json.hpp>

namespace tether::console {

/// A table of tickets: ID, STATUS, UPDATED, REQUESTER, TITLE.
std::string render_ticket_list(const nlohmann::json& tickets);
/// A ticket's fields, its sessions, and its timeline in order.
std::string render_ticket(const nlohmann::json& ticket);
/// One line for a session: id, status, device, consent.
std::string render_session(const nlohmann::json& session);

}  // namespace tether::console
