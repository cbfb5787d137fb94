#include "webhooks/webhook_dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "webhooks/webhook_client.hpp"
#include "webhooks/webhook_payload.hpp"

namespace tether::relay {

namespace asio = boost::asio;

namespace {

constexpr auto kTick = std::chrono::milliseconds(500);
constexpr std::size_t kBatch = 100;
constexpr int kMaxInFlightPerWebhook = 4;
// How far rows waiting for a slot are pushed back when they fill a whole batch.
constexpr auto kPushBack = std::chrono::milliseconds(5000);
// Entries this much older than the relay's start are history for a webhook that never ran.
constexpr auto kFreshStartSlack = std::chrono::seconds(2);

TimePoint wall_now() {
  return std::chrono::system_clock::now();
}

std::string seconds_text(std::chrono::milliseconds ms) {
  return fmt::format("{:.1f} s", static_cast<double>(ms.count()) / 1000.0);
}

// What the store thread needs to turn entries into deliveries: plain copies, because the
// lambda may still run after the dispatcher is gone (the store drains its queue on shutdown).
struct EnqueuePlan {
  std::string name;
  std::vector<std::string> events;
  bool fresh = false;  // Never ran before this start: skip the history before it.
};

struct EnqueueResult {
  bool more = false;  // Some webhook got a full batch: run another round at once.
  std::size_t queued = 0;
};

EnqueueResult enqueue_round(Store& store, const std::vector<EnqueuePlan>& plans,
                            const std::string& relay_name, TimePoint started_at) {
  EnqueueResult result;
  std::map<std::int64_t, std::optional<Ticket>> tickets;
  for (const auto& plan : plans) {
    const auto cursor = store.webhook_cursor(plan.name);
    const auto entries = store.timeline_since(cursor, kBatch);
    if (entries.empty()) continue;
    if (entries.size() == kBatch) result.more = true;
    WebhookTarget matcher;
    matcher.events = plan.events;
    std::vector<WebhookDelivery> deliveries;
    const auto now = wall_now();
    for (const auto& entry : entries) {
      if (!matcher.wants(entry.kind)) continue;
      if (plan.fresh && entry.at < started_at - kFreshStartSlack) continue;
      auto ticket = tickets.find(entry.ticket_id);
      if (ticket == tickets.end()) {
        ticket = tickets.emplace(entry.ticket_id, store.find_ticket(entry.ticket_id)).first;
      }
      WebhookDelivery delivery;
      delivery.webhook = plan.name;
      delivery.entry_id = entry.id;
      delivery.ticket_id = entry.ticket_id;
      delivery.event = entry.kind;
      delivery.payload = webhook_payload(entry, ticket->second, relay_name);
      delivery.created_at = now;
      delivery.next_attempt_at = now;
      deliveries.push_back(std::move(delivery));
    }
    store.enqueue_deliveries(plan.name, deliveries, entries.back().id);
    result.queued += deliveries.size();
  }
  return result;
}

}  // namespace

struct WebhookDispatcher::Core : std::enable_shared_from_this<Core> {
  struct Flight {
    std::size_t target = 0;
    std::shared_ptr<WebhookRequest> request;
    bool finished = false;  // Outcome committed; forgotten before the next due query.
  };

  Core(asio::io_context& io, StoreExecutor& store, std::vector<WebhookTarget> targets,
       std::string relay_name)
      : strand(asio::make_strand(io)),
        store(store),
        targets(std::move(targets)),
        relay_name(std::move(relay_name)),
        timer(strand),
        running(this->targets.size(), 0),
        parked(this->targets.size()),
        random(std::random_device{}()) {
    for (const auto& target : this->targets) {
      contexts.push_back(target.tls ? make_webhook_tls_context(target) : nullptr);
    }
  }

  asio::awaitable<void> loop(std::shared_ptr<Core> self) {
    (void)self;  // Keeps this state alive while the loop runs.
    while (!stopping) {
      try {
        co_await enqueue_new_entries();
        if (!stopping) co_await send_due();
      } catch (const std::exception& e) {
        // A store failure: nothing was half-done (each call is one transaction); try again
        // next tick.
        spdlog::warn("webhooks: {}", e.what());
      }
      if (stopping) break;
      if (!poked) {
        timer.expires_after(kTick);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      poked = false;
    }
  }

  asio::awaitable<void> enqueue_new_entries() {
    if (fresh.empty()) {
      // Decided once, before anything is queued: a webhook whose cursor is still 0 has never
      // run, and must not get the history that was there before it was configured.
      std::vector<std::string> names;
      for (const auto& target : targets) names.push_back(target.name);
      fresh = co_await store.run([names = std::move(names)](Store& s) {
        std::vector<bool> out;
        for (const auto& name : names) out.push_back(s.webhook_cursor(name) == 0);
        return out;
      });
    }
    std::vector<EnqueuePlan> plans;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      plans.push_back({targets[i].name, targets[i].events, fresh[i]});
    }
    auto result =
        co_await store.run([plans = std::move(plans), name = relay_name, started = started_at](
                               Store& s) { return enqueue_round(s, plans, name, started); });
    if (result.more) poked = true;
  }

  asio::awaitable<void> send_due() {
    // Outcomes of finished attempts are committed by now, so the query below sees them: an
    // attempt that finished while an earlier query ran can never be started a second time.
    std::erase_if(flights, [](const auto& flight) { return flight.second.finished; });
    // Rows parked by an earlier round were due before anything fetched now: they go first.
    for (std::size_t i = 0; i < targets.size(); ++i) {
      while (running[i] < kMaxInFlightPerWebhook && !parked[i].empty()) {
        auto delivery = std::move(parked[i].front());
        parked[i].pop_front();
        parked_ids.erase(delivery.id);
        start_attempt(std::move(delivery), i);
      }
      if (!parked[i].empty()) waiting = true;
    }
    const auto now = wall_now();
    auto due = co_await store.run([now](Store& s) { return s.due_deliveries(now, kBatch); });
    if (stopping) co_return;

    std::vector<WebhookDelivery> deferred;
    std::vector<WebhookDelivery> orphans;
    for (auto& delivery : due) {
      if (flights.contains(delivery.id) || parked_ids.contains(delivery.id)) continue;
      const auto target = std::find_if(targets.begin(), targets.end(),
                                       [&](const auto& t) { return t.name == delivery.webhook; });
      if (target == targets.end()) {
        delivery.status = "failed";
        delivery.last_error = "webhook \"" + delivery.webhook + "\" is no longer in relay.json";
        orphans.push_back(std::move(delivery));
        continue;
      }
      const auto index = static_cast<std::size_t>(target - targets.begin());
      if (running[index] >= kMaxInFlightPerWebhook) {
        waiting = true;
        // A full batch may be all one slow webhook's rows and hide the rows of the others
        // (the store has no per-webhook query). Such rows are pushed back a little in the
        // store, so that the next query reaches past them, and parked here (at most a batch
        // per webhook) to be started as soon as their webhook has a free slot.
        if (due.size() == kBatch) {
          delivery.next_attempt_at =
              now + std::min<std::chrono::milliseconds>(target->timeout, kPushBack);
          deferred.push_back(delivery);
          if (parked[index].size() < kBatch) {
            parked_ids.insert(delivery.id);
            parked[index].push_back(std::move(delivery));
          }
        }
        continue;
      }
      start_attempt(std::move(delivery), index);
    }
    if (!deferred.empty() || !orphans.empty()) {
      for (const auto& orphan : orphans) {
        spdlog::warn("webhooks: {} ({}) gave up: {}", delivery_number(orphan.id), orphan.event,
                     orphan.last_error);
      }
      deferred.insert(deferred.end(), std::make_move_iterator(orphans.begin()),
                      std::make_move_iterator(orphans.end()));
      co_await store.run([rows = std::move(deferred)](Store& s) {
        for (const auto& row : rows) s.record_delivery_attempt(row);
      });
    }
  }

  void start_attempt(WebhookDelivery delivery, std::size_t index) {
    auto request = WebhookRequest::create(strand, targets[index], contexts[index].get());
    flights[delivery.id] = Flight{index, request, false};
    ++running[index];
    asio::co_spawn(strand, attempt(shared_from_this(), std::move(delivery), index, request),
                   asio::detached);
  }

  asio::awaitable<void> attempt(std::shared_ptr<Core> self, WebhookDelivery delivery,
                                std::size_t index, std::shared_ptr<WebhookRequest> request) {
    (void)self;
    const auto& target = targets[index];
    const auto id = delivery.id;
    try {
      const auto started = wall_now();
      const auto unix_seconds =
          std::chrono::duration_cast<std::chrono::seconds>(started.time_since_epoch()).count();
      auto signature = webhook_signature(target.secret, unix_seconds, delivery.payload);
      auto outcome = co_await request->post(delivery_number(id), delivery.event,
                                            std::move(signature), delivery.payload);
      if (!outcome.aborted) {
        record(delivery, target, outcome, started);
        co_await store.run([delivery](Store& s) { s.record_delivery_attempt(delivery); });
        log(delivery, target, outcome);
      }
    } catch (const std::exception& e) {
      // The outcome could not be stored: the row stays pending and is sent again later, which
      // receivers absorb by deduplicating on X-Tether-Delivery.
      spdlog::warn("webhook {}: {} could not be recorded: {}", target.name, delivery_number(id),
                   e.what());
    }
    if (auto flight = flights.find(id); flight != flights.end()) flight->second.finished = true;
    --running[index];
    if (waiting && !stopping) {
      waiting = false;
      poke();
    }
  }

  void record(WebhookDelivery& delivery, const WebhookTarget& target,
              const WebhookAttemptOutcome& outcome, TimePoint started) {
    const auto now = wall_now();
    delivery.attempts += 1;
    delivery.last_attempt_at = started;
    delivery.last_http_status = outcome.http_status;
    if (outcome.delivered) {
      delivery.status = "delivered";
      delivery.delivered_at = now;
      delivery.last_error.clear();
    } else if (delivery.attempts >= target.max_attempts) {
      delivery.status = "failed";
      delivery.last_error = outcome.error;
    } else {
      delivery.last_error = outcome.error;
      delivery.next_attempt_at = now + retry_delay(target, delivery.attempts, random);
    }
  }

  static void log(const WebhookDelivery& delivery, const WebhookTarget& target,
                  const WebhookAttemptOutcome& outcome) {
    const auto what = fmt::format("webhook {}: {} ({} T-{})", target.name,
                                  delivery_number(delivery.id), delivery.event, delivery.ticket_id);
    if (outcome.delivered) {
      if (delivery.attempts > 1) {
        spdlog::info("{} delivered after {} attempts", what, delivery.attempts);
      } else {
        spdlog::debug("{} delivered", what);
      }
    } else if (delivery.status == "failed") {
      spdlog::warn("{} failed after {} attempts, giving up: {}", what, delivery.attempts,
                   outcome.error);
    } else {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
          delivery.next_attempt_at - wall_now());
      spdlog::warn("{} attempt {}/{} failed: {}; next in {}", what, delivery.attempts,
                   target.max_attempts, outcome.error,
                   seconds_text(std::max(wait, std::chrono::milliseconds(0))));
    }
  }

  // On the strand.
  void poke() {
    poked = true;
    timer.cancel();
  }

  void halt() {
    if (stopping) return;
    stopping = true;
    timer.cancel();
    for (auto& [id, flight] : flights) {
      if (!flight.finished) flight.request->abort();
    }
  }

  asio::strand<asio::io_context::executor_type> strand;
  StoreExecutor& store;
  const std::vector<WebhookTarget> targets;
  const std::string relay_name;
  std::vector<std::unique_ptr<asio::ssl::context>> contexts;  // Per target; null for http.
  asio::steady_timer timer;
  std::map<std::int64_t, Flight> flights;
  std::vector<int> running;                         // Unfinished attempts per target.
  std::vector<std::deque<WebhookDelivery>> parked;  // Per target: due, waiting for a slot.
  std::set<std::int64_t> parked_ids;
  std::vector<bool> fresh;  // Per target, once read (see enqueue_new_entries).
  std::mt19937_64 random;
  TimePoint started_at = wall_now();
  bool stopping = false;
  bool poked = false;
  bool waiting = false;  // A due row waited for a free slot: look again when one frees.
};

WebhookDispatcher::WebhookDispatcher(asio::io_context& io, StoreExecutor& store,
                                     std::vector<WebhookTarget> targets, std::string relay_name)
    : core_(std::make_shared<Core>(io, store, std::move(targets), std::move(relay_name))) {}

WebhookDispatcher::~WebhookDispatcher() {
  stop();
}

void WebhookDispatcher::start() {
  if (core_->targets.empty()) return;
  for (const auto& target : core_->targets) {
    spdlog::info("webhook {}: sending {} to {}", target.name, fmt::join(target.events, ", "),
                 target.url);
  }
  asio::post(core_->strand, [core = core_] {
    core->started_at = wall_now();
    asio::co_spawn(core->strand, core->loop(core), asio::detached);
  });
}

void WebhookDispatcher::notify() {
  asio::post(core_->strand, [core = core_] {
    if (!core->stopping) core->poke();
  });
}

void WebhookDispatcher::stop() {
  asio::post(core_->strand, [core = core_] { core->halt(); });
}

}  // namespace tether::relay
