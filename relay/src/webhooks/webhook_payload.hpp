#pragma once
/// What a webhook receiver gets: the JSON body for one timeline entry, the headers, and the
/// signature that proves the relay sent it. Pure functions (no I/O), shared by the dispatcher,
/// the REST API's delivery log and the tests.
///
/// ## Request
/// `POST <url path>` with the headers
/// ```
/// Content-Type: application/json
/// User-Agent: tether-relay/<version>
/// X-Tether-Event: ticket.escalated                 (the entry's kind)
/// X-Tether-Delivery: D-42                          (same on every retry of this delivery)
/// X-Tether-Signature: t=1796019254,v1=5f0c…e1      (see below)
/// ```
/// and the body (one JSON object, UTF-8, no trailing newline):
/// ```
/// {
///   "id": "evt-117",                  // the timeline entry: same for every webhook
///   "event": "ticket.escalated",      // = X-Tether-Event
///   "at": "2026-11-30T06:14:14Z",     // when it happened (RFC 3339, UTC)
///   "actor": "alice",                 // user name, "agent:<host>" or "relay"
///   "summary": "escalated to L2: printer driver needs admin rights",
///   "ticket": {                       // the ticket as it was when the delivery was queued
///     "id": "T-12", "title": "Printer offline", "status": "open", "priority": "P2",
///     "level": "L2", "assignee": "bob" | null, "requester": "Ann Example",
///     "external": {"system": "glpi", "key": "1234"} | null
///   },                                // null only if the ticket no longer exists
///   "session": "S-3" | null,          // the remote session the event belongs to
///   "detail": {...},                  // the entry's structured facts, by kind (see
///                                     // docs/integrations.md); {"truncated": true,
///                                     // "bytes": N} when larger than 64 KiB
///   "relay": "relay.example.com"      // the relay's "hostname" from relay.json
/// }
/// ```
/// Note: ticket.note entries carry {"text", "internal"}; internal notes are sent too, and a
/// receiver that mirrors notes to the requester must skip "internal": true.
///
/// ## Signature
/// `X-Tether-Signature: t=<unix seconds of this attempt>,v1=<hex>` where hex is the lower-case
/// HMAC-SHA256, keyed with the webhook's secret, of the ASCII decimal `t`, a ".", and the raw
/// body bytes exactly as received. A receiver recomputes it over the raw body (before any
/// JSON parsing), compares in constant time, and rejects a `t` more than a few minutes from
/// its own clock (replays). `t` and the signature change on each retry; the body does not.
///
/// ## Delivery semantics
/// At least once: a receiver answers any 2xx within the webhook's timeout to acknowledge;
/// anything else (another status, timeout, refused connection, TLS failure) is retried with
/// backoff up to max_attempts. A retry after a lost 2xx repeats the delivery, so receivers
/// dedupe on X-Tether-Delivery (or on "id" plus the webhook). Deliveries of one webhook may
/// arrive out of order (up to 4 are in flight at once); order by "at" and "id" (entry ids
/// grow with time).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tether/relay/store.hpp"

namespace tether::relay {

/// Largest "detail" copied into a payload; larger ones become {"truncated": true, "bytes": N}.
inline constexpr std::size_t kMaxWebhookDetailBytes = 64 * 1024;

/// The body sent for `entry`, given its ticket (nullopt if it no longer exists) and the
/// relay's host name. Invalid UTF-8 in texts is replaced, so the result is always valid JSON.
std::string webhook_payload(const TimelineEntry& entry, const std::optional<Ticket>& ticket,
                            std::string_view relay_name);

/// "D-<id>": the X-Tether-Delivery header and the "id" of the delivery log.
std::string delivery_number(std::int64_t id);

/// Lower-case hex HMAC-SHA256 of `message` keyed with `key` (OpenSSL).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

/// The X-Tether-Signature value for `body` sent at `unix_seconds`:
/// "t=<unix_seconds>,v1=<hmac_sha256_hex(secret, "<unix_seconds>.<body>")>".
std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds,
                              std::string_view body);

/// One row of GET /api/v1/webhooks/deliveries:
/// {"id": "D-42", "webhook": "glpi", "event": "ticket.created", "ticket": "T-1",
///  "entry": 117, "status": "pending|delivered|failed", "attempts": 2,
///  "created_at": T, "next_attempt_at": T|null (null unless pending),
///  "last_attempt_at": T|null, "last_http_status": 500|null, "last_error": "" ,
///  "delivered_at": T|null}. Times are RFC 3339 UTC. The payload itself is not included.
nlohmann::json webhook_delivery_json(const WebhookDelivery& delivery);

}  // namespace tether::relay
