// Webhooks from a real relay to a receiver inside the test: retries through a failing and a
// slow receiver with one acknowledged delivery per event, signatures that verify, the
// delivery log, technicians never held up by a hanging receiver, and deliveries that survive
// a relay restart.
#include <openssl/evp.h>

#include <condition_variable>
#include <fstream>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "relay_fixture.hpp"
#include "tether/protocol/client_stream.hpp"

namespace tether::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;

constexpr const char* kSecret = "test-webhook-secret-0123456789";

/// What the receiver does with the n-th request (1-based) carrying one X-Tether-Delivery.
enum class Reaction {
  ok,       // 200 at once
  error,    // 500 at once
  hang_up,  // no answer: waits until the relay gives up and closes the connection
  hold,     // waits until release(), then 200
};

/// One request as the receiver saw it.
struct Received {
  std::string target;
  std::string delivery;
  std::string event;
  std::string signature;
  std::string user_agent;
  std::string content_type;
  std::string body;
  int answered = 0;        // Status written; 0 when it never answered.
  bool completed = false;  // The answer was written in full (the relay was still waiting:
                           // no reaction answers after the relay's deadline).
  bool peer_closed = false;
};

/// An HTTP server on 127.0.0.1:0 run by its own thread (Beast, one coroutine per connection).
class Receiver {
 public:
  using Script = std::function<Reaction(int attempt)>;

  explicit Receiver(Script script) : script_(std::move(script)) {
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Receiver() {
    io_.stop();
    thread_.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) +
           "/hooks/tether";
  }

  void set_script(Script script) {
    std::lock_guard lock(mutex_);
    script_ = std::move(script);
  }

  /// Answers every held request (and every later hold) with 200.
  void release() {
    asio::post(io_, [this] {
      released_ = true;
      for (auto* timer : holding_) timer->cancel();
    });
  }

  /// Waits (at most `timeout`) until `done(requests)` holds; returns whether it did.
  bool wait_until(const std::function<bool(const std::vector<Received>&)>& done,
                  std::chrono::milliseconds timeout = 60s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done(requests_); });
  }

  std::vector<Received> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [read_error, n] =
        co_await http::async_read(stream, buffer, request, asio::as_tuple(asio::use_awaitable));
    if (read_error) co_return;
    Received received{std::string(request.target()),
                      std::string(request["X-Tether-Delivery"]),
                      std::string(request["X-Tether-Event"]),
                      std::string(request["X-Tether-Signature"]),
                      std::string(request[http::field::user_agent]),
                      std::string(request[http::field::content_type]),
                      request.body()};
    std::size_t index = 0;
    Reaction reaction;
    {
      std::lock_guard lock(mutex_);
      int attempt = 1;
      for (const auto& r : requests_) attempt += r.delivery == received.delivery ? 1 : 0;
      reaction = script_(attempt);
      index = requests_.size();
      requests_.push_back(received);
    }
    changed_.notify_all();

    if (reaction == Reaction::hang_up) {
      // Never answer: the relay's deadline has to end this attempt.
      char byte;
      co_await stream.socket().async_read_some(asio::buffer(&byte, 1),
                                               asio::as_tuple(asio::use_awaitable));
      update(index, [](Received& r) { r.peer_closed = true; });
      co_return;
    }
    if (reaction == Reaction::hold && !released_) {
      asio::steady_timer timer(io_, asio::steady_timer::time_point::max());
      holding_.push_back(&timer);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      holding_.remove(&timer);
    }
    const int status = reaction == Reaction::error ? 500 : 200;
    http::response<http::string_body> response{static_cast<http::status>(status), 11};
    response.set(http::field::content_type, "text/plain");
    response.body() = status == 200 ? "ok" : "receiver failed on purpose";
    response.keep_alive(false);
    response.prepare_payload();
    auto [write_error, written] =
        co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    update(index, [&](Received& r) {
      r.answered = status;
      r.completed = !write_error;
    });
  }

  void update(std::size_t index, const std::function<void(Received&)>& change) {
    {
      std::lock_guard lock(mutex_);
      change(requests_[index]);
    }
    changed_.notify_all();
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  Script script_;
  std::vector<Received> requests_;
  std::list<asio::steady_timer*> holding_;  // Only touched on the receiver's thread.
  bool released_ = false;                   // Likewise.
};

/// The requests as lines, for failure messages.
std::string describe(const std::vector<Received>& requests) {
  std::string out;
  for (const auto& r : requests) {
    out += r.delivery + " " + r.event + " answered " + std::to_string(r.answered) +
           (r.completed ? " completed" : "") + (r.peer_closed ? " peer closed" : "") + "\n";
  }
  return out;
}

std::string hmac_hex(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t size = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, sizeof mac,
            &size);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (std::size_t i = 0; i < size; ++i) {
    hex.push_back(kDigits[mac[i] >> 4]);
    hex.push_back(kDigits[mac[i] & 0xf]);
  }
  return hex;
}

/// Checks X-Tether-Signature "t=<seconds>,v1=<hex>" against the body, as a receiver would.
::testing::AssertionResult signature_verifies(const Received& r, const std::string& secret) {
  const auto& header = r.signature;
  const auto comma = header.find(",v1=");
  if (!header.starts_with("t=") || comma == std::string::npos) {
    return ::testing::AssertionFailure() << "malformed signature header \"" << header << "\"";
  }
  const auto t = header.substr(2, comma - 2);
  const auto v1 = header.substr(comma + 4);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (std::llabs(now - std::stoll(t)) > 300) {
    return ::testing::AssertionFailure() << "timestamp " << t << " is far from now " << now;
  }
  const auto expected = hmac_hex(secret, t + "." + r.body);
  if (v1 != expected) {
    return ::testing::AssertionFailure() << "v1=" << v1 << " but HMAC-SHA256 is " << expected;
  }
  return ::testing::AssertionSuccess();
}

class WebhookTest : public RelayFixture {
 protected:
  static json webhook(const std::string& name, const std::string& url, json extra = {}) {
    json entry = {{"name", name}, {"url", url}, {"secret", kSecret}, {"events", {"ticket.*"}}};
    if (extra.is_object()) entry.update(extra);
    return entry;
  }

  std::string new_ticket(const std::string& title, std::chrono::milliseconds timeout = 60s) {
    auto result = console({"ticket", "new", "--title", title, "--json"}, timeout);
    EXPECT_EQ(result.status, 0) << "tether ticket new did not return in time: " << result.err;
    auto ticket = json::parse(result.out, nullptr, false);
    return ticket.is_object() ? ticket.value("id", "") : "";
  }

  /// GET /api/v1/webhooks/deliveries as the admin.
  json delivery_log() {
    protocol::HttpsClient http(protocol::RelayUrl::parse("https://" + address_).value(),
                               protocol::TrustAnchor::from_fingerprint(fingerprint_).value());
    auto login = http.request(http::verb::post, "/api/v1/login",
                              json{{"user", "admin"}, {"password", kAdminPassword}}.dump(), "",
                              std::chrono::seconds(10));
    EXPECT_TRUE(login && login->status == 200);
    if (!login || login->status != 200) return json::array();
    const auto token = json::parse(login->body).value("token", "");
    auto log = http.request(http::verb::get, "/api/v1/webhooks/deliveries?limit=100", std::nullopt,
                            token, std::chrono::seconds(10));
    EXPECT_TRUE(log && log->status == 200) << (log ? log->body : log.error().message());
    if (!log || log->status != 200) return json::array();
    return json::parse(log->body).value("deliveries", json::array());
  }

  /// Polls the delivery log until `done(log)` or the deadline.
  json wait_for_log(const std::function<bool(const json&)>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    json log = delivery_log();
    while (!done(log) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);  // Polling interval, not synchronisation.
      log = delivery_log();
    }
    return log;
  }
};

std::size_t acknowledged(const std::vector<Received>& requests, const std::string& delivery) {
  std::size_t n = 0;
  for (const auto& r : requests) n += r.delivery == delivery && r.completed && r.answered == 200;
  return n;
}

std::set<std::string> acknowledged_deliveries(const std::vector<Received>& requests) {
  std::set<std::string> ids;
  for (const auto& r : requests) {
    if (r.completed && r.answered == 200) ids.insert(r.delivery);
  }
  return ids;
}

TEST_F(WebhookTest, FailingThenSlowReceiverGetsEveryEventOnceSigned) {
  // Each delivery's first attempt gets a 500, its second no answer until the relay's timeout
  // ends it, its third a 200.
  Receiver receiver([](int attempt) {
    return attempt == 1 ? Reaction::error : attempt == 2 ? Reaction::hang_up : Reaction::ok;
  });
  configure({{"webhooks",
              {webhook("itsm", receiver.url(),
                       {{"timeout_ms", 3000},
                        {"retry_base_ms", 100},
                        {"retry_max_ms", 300},
                        {"max_attempts", 5}})}}});
  start_relay();
  login();
  const auto relay_hostname =
      json::parse(std::ifstream(data_ / "relay.json")).value("hostname", "localhost");
  ASSERT_EQ(new_ticket("Printer offline"), "T-1");
  ASSERT_EQ(new_ticket("VPN drops"), "T-2");
  ASSERT_EQ(console({"ticket", "note", "T-1", "Asked the user to power-cycle it"}).status, 0);
  ASSERT_EQ(console({"ticket", "take", "T-2"}).status, 0);

  // What the receiver must end up with: every ticket.* entry on the two timelines.
  std::multiset<std::pair<std::string, std::string>> expected;
  for (const std::string id : {"T-1", "T-2"}) {
    const auto ticket = console_json({"ticket", "show", id});
    for (const auto& entry : ticket.at("timeline")) {
      if (entry.at("kind").get<std::string>().starts_with("ticket.")) {
        expected.emplace(id, entry.at("kind").get<std::string>());
      }
    }
  }
  ASSERT_GE(expected.size(), 4u);  // Two created, a note, an assignment (and what it implies).

  ASSERT_TRUE(receiver.wait_until([&](const std::vector<Received>& requests) {
    return acknowledged_deliveries(requests).size() >= expected.size();
  })) << acknowledged_deliveries(receiver.requests()).size()
      << " of " << expected.size() << " events acknowledged";
  // Once the log says delivered, nothing is sent again; count only then.
  const auto log = wait_for_log([&](const json& rows) {
    return rows.size() >= expected.size() &&
           std::all_of(rows.begin(), rows.end(),
                       [](const json& row) { return row.value("status", "") == "delivered"; });
  });
  const auto requests = receiver.requests();

  std::map<std::string, std::vector<Received>> by_delivery;
  for (const auto& r : requests) by_delivery[r.delivery].push_back(r);
  std::multiset<std::pair<std::string, std::string>> delivered;
  std::set<std::string> event_ids;
  for (const auto& [delivery, attempts] : by_delivery) {
    SCOPED_TRACE(delivery);
    ASSERT_FALSE(delivery.empty());
    // Exactly one acknowledged answer per delivery, after a 500 and a hang-up.
    EXPECT_EQ(acknowledged(requests, delivery), 1u);
    ASSERT_EQ(attempts.size(), 3u);
    EXPECT_EQ(attempts[0].answered, 500);
    EXPECT_TRUE(attempts[1].peer_closed);
    EXPECT_EQ(attempts[1].answered, 0);
    EXPECT_TRUE(attempts[2].completed);
    for (const auto& attempt : attempts) {
      // Same delivery, same body on every retry; fresh signature each time, all valid.
      EXPECT_EQ(attempt.body, attempts[0].body);
      EXPECT_TRUE(signature_verifies(attempt, kSecret));
      EXPECT_FALSE(signature_verifies(attempt, "some-other-secret-of-length"));
      EXPECT_EQ(attempt.target, "/hooks/tether");
      EXPECT_EQ(attempt.content_type, "application/json");
      EXPECT_TRUE(attempt.user_agent.starts_with("tether-relay/")) << attempt.user_agent;
    }
    const auto payload = json::parse(attempts[0].body);
    EXPECT_EQ(payload.at("event"), attempts[0].event);
    EXPECT_TRUE(payload.at("id").get<std::string>().starts_with("evt-"));
    EXPECT_TRUE(event_ids.insert(payload.at("id").get<std::string>()).second)
        << "two deliveries for " << payload.at("id");
    EXPECT_EQ(payload.at("relay"), relay_hostname);
    EXPECT_TRUE(payload.at("session").is_null());
    EXPECT_FALSE(payload.at("actor").get<std::string>().empty());
    delivered.emplace(payload.at("ticket").at("id").get<std::string>(),
                      payload.at("event").get<std::string>());
    if (payload.at("event") == "ticket.created") {
      const auto& ticket = payload.at("ticket");
      EXPECT_EQ(ticket.at("title"), ticket.at("id") == "T-1" ? "Printer offline" : "VPN drops");
      EXPECT_TRUE(ticket.at("priority").get<std::string>().starts_with("P")) << ticket;
      EXPECT_EQ(ticket.at("level"), "L1");
      EXPECT_TRUE(ticket.at("external").is_null());
    }
    if (payload.at("event") == "ticket.note") {
      EXPECT_EQ(payload.at("detail").at("text"), "Asked the user to power-cycle it");
    }
  }
  EXPECT_EQ(delivered, expected);

  // The delivery log shows the same deliveries, each after three attempts.
  ASSERT_EQ(log.size(), expected.size()) << log.dump(2);
  for (const auto& row : log) {
    SCOPED_TRACE(row.dump());
    EXPECT_TRUE(by_delivery.contains(row.at("id").get<std::string>()));
    EXPECT_EQ(row.at("webhook"), "itsm");
    EXPECT_EQ(row.at("status"), "delivered");
    EXPECT_EQ(row.at("attempts"), 3);
    EXPECT_EQ(row.at("last_http_status"), 200);
    EXPECT_EQ(row.at("last_error"), "");
    EXPECT_FALSE(row.at("delivered_at").is_null());
    EXPECT_TRUE(row.at("event").get<std::string>().starts_with("ticket."));
  }
}

TEST_F(WebhookTest, HangingReceiverHoldsUpNeitherTechniciansNorOtherWebhooks) {
  Receiver hanging([](int) { return Reaction::hold; });
  Receiver healthy([](int) { return Reaction::ok; });
  configure({{"webhooks",
              {webhook("slow", hanging.url(), {{"timeout_ms", 60000}}),
               webhook("fast", healthy.url())}}});
  start_relay();
  login();
  ASSERT_EQ(new_ticket("First"), "T-1");
  ASSERT_TRUE(hanging.wait_until([](const auto& requests) { return requests.size() == 1; }))
      << "the hanging receiver never got T-1's event";

  // The relay waits up to 60 s for the hanging receiver; a technician does not.
  ASSERT_EQ(new_ticket("Second", 30s), "T-2");
  ASSERT_EQ(new_ticket("Third", 30s), "T-3");
  EXPECT_EQ(hanging.requests().at(0).answered, 0) << "answered before the technician returned";

  // The other webhook gets all three events meanwhile.
  ASSERT_TRUE(healthy.wait_until([](const auto& requests) {
    return acknowledged_deliveries(requests).size() == 3;
  })) << describe(healthy.requests())
      << relay_->err();
  for (const auto& r : hanging.requests()) EXPECT_EQ(r.answered, 0);

  hanging.release();
  ASSERT_TRUE(hanging.wait_until(
      [](const auto& requests) { return acknowledged_deliveries(requests).size() == 3; }));
  const auto log = wait_for_log([](const json& rows) {
    return rows.size() == 6 && std::all_of(rows.begin(), rows.end(), [](const json& row) {
             return row.value("status", "") == "delivered";
           });
  });
  EXPECT_EQ(log.size(), 6u) << log.dump(2);
  for (const auto& row : log) EXPECT_EQ(row.at("attempts"), 1) << row.dump();
}

TEST_F(WebhookTest, DeliveryInFlightAtShutdownIsSentAgainAfterRestart) {
  Receiver receiver([](int) { return Reaction::hold; });
  configure({{"webhooks", {webhook("itsm", receiver.url(), {{"timeout_ms", 60000}})}}});
  start_relay();
  login();
  ASSERT_EQ(new_ticket("Before the restart"), "T-1");
  ASSERT_TRUE(receiver.wait_until([](const auto& requests) { return requests.size() == 1; }));
  const auto first = receiver.requests().at(0);

  // Shutdown does not wait for the receiver (stop_relay asserts exit 0 within 10 s).
  stop_relay();
  receiver.set_script([](int) { return Reaction::ok; });
  start_relay();
  ASSERT_TRUE(receiver.wait_until([&](const auto& requests) {
    return acknowledged(requests, first.delivery) == 1;
  })) << describe(receiver.requests())
      << relay_->err();
  const auto requests = receiver.requests();
  EXPECT_EQ(requests.back().body, first.body);
  EXPECT_TRUE(signature_verifies(requests.back(), kSecret));
  const auto log = wait_for_log([](const json& rows) {
    return rows.size() == 1 && rows[0].value("status", "") == "delivered";
  });
  ASSERT_EQ(log.size(), 1u) << log.dump(2);
  EXPECT_EQ(log[0].at("id"), first.delivery);
  // The attempt cut short by the shutdown is not counted.
  EXPECT_EQ(log[0].at("attempts"), 1);
}

}  // namespace
}  // namespace tether::testing
