#pragma once
// Puts SLA breaches on the timeline: the relay calls sweep_sla_breaches every few seconds
// (RelayConfig::sla_check_interval); each clock's breach is announced once per ticket.

#include <cstddef>

#include "helpdesk/sla.hpp"
#include "tether/relay/store.hpp"

namespace tether::relay::helpdesk {

/// The clocks' input for a stored ticket.
SlaInput sla_input_of(const Ticket& ticket);

/// Appends one "sla.breached" entry (actor "relay") for every open ticket whose first-response
/// or resolution clock has breached at `now` and was not announced yet, and marks it
/// announced. Returns how many entries it wrote.
std::size_t sweep_sla_breaches(Store& store, const SlaPolicy& policy, TimePoint now);

}  // namespace tether::relay::helpdesk
