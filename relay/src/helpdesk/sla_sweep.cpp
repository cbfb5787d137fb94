#include "helpdesk/sla_sweep.hpp"

#include "tether/protocol/time_format.hpp"

namespace tether::relay::helpdesk {

SlaInput sla_input_of(const Ticket& t) {
  SlaInput input;
  input.priority = t.priority;
  input.created_at = t.created_at;
  input.first_response_at = t.first_response_at;
  input.resolved_at = t.resolved_at;
  for (const auto& p : t.pauses) input.pauses.push_back({p.from, p.to});
  return input;
}

namespace {

constexpr int kFirstResponseBit = 1;
constexpr int kResolutionBit = 2;

TimelineEntry breach_entry(const Ticket& t, const char* clock, const char* label,
                           const ClockStatus& status, TimePoint now) {
  TimelineEntry entry;
  entry.ticket_id = t.id;
  entry.at = now;
  entry.actor = "relay";
  entry.kind = "sla.breached";
  entry.summary = std::string("SLA breached: ") + label + " target of " +
                  short_duration(status.target) + " for " + t.priority + " passed" +
                  (t.assignee.empty() ? " (unassigned)" : " (assignee " + t.assignee + ")");
  const auto due = status.breached_at.value_or(now);
  entry.detail = {
      {"clock", clock},
      {"priority", t.priority},
      {"target_seconds", status.target.count()},
      {"overdue_seconds", status.overdue.count()},
      {"level", "L" + std::to_string(t.level)},
      {"assignee", t.assignee.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.assignee)},
      {"noticed_at", protocol::format_time(now)},
      {"due_at", protocol::format_time(std::chrono::time_point_cast<std::chrono::seconds>(due))}};
  return entry;
}

}  // namespace

std::size_t sweep_sla_breaches(Store& store, const SlaPolicy& policy, TimePoint now) {
  std::size_t written = 0;
  for (const auto& listed : store.open_tickets()) {
    if ((listed.sla_breaches & (kFirstResponseBit | kResolutionBit)) ==
        (kFirstResponseBit | kResolutionBit)) {
      continue;
    }
    // Re-read on a lost race with a technician's update; give up after a few tries (the next
    // sweep comes soon).
    auto ticket = std::optional<Ticket>(listed);
    for (int attempt = 0; attempt < 3 && ticket; ++attempt) {
      const auto status = compute_sla(policy, sla_input_of(*ticket), now);
      Ticket updated = *ticket;
      std::vector<TimelineEntry> entries;
      if (status.first_response.breached && !status.first_response.stopped_at &&
          !(updated.sla_breaches & kFirstResponseBit)) {
        entries.push_back(
            breach_entry(updated, "first_response", "first-response", status.first_response, now));
        updated.sla_breaches |= kFirstResponseBit;
      }
      if (status.resolution.breached && !status.resolution.stopped_at &&
          !(updated.sla_breaches & kResolutionBit)) {
        entries.push_back(
            breach_entry(updated, "resolution", "resolution", status.resolution, now));
        updated.sla_breaches |= kResolutionBit;
      }
      if (entries.empty()) break;
      if (store.update_ticket(updated, entries)) {
        written += entries.size();
        break;
      }
      ticket = store.find_ticket(listed.id);
    }
  }
  return written;
}

}  // namespace tether::relay::helpdesk
