// WebhookDispatcher over a real SQLite store in a temp dir and receivers on 127.0.0.1:0:
// the behaviours the end-to-end test cannot reach cheaply (a backlog larger than a batch,
// giving up, removed webhooks, history, TLS verification).
#include "webhooks/webhook_dispatcher.hpp"

#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <functional>
#include <list>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "tether/protocol/tls.hpp"
#include "tether/relay/certificate_authority.hpp"
#include "tether/relay/sqlite_store.hpp"

namespace tether::relay {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

constexpr const char* kSecret = "dispatcher-test-secret";

enum class Reaction { ok, error, hold };

/// An HTTP(S) receiver on its own thread that counts what it sees.
class Receiver {
 public:
  explicit Receiver(Reaction reaction, asio::ssl::context* tls = nullptr)
      : reaction_(reaction), tls_(tls) {
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

  std::string url(const std::string& host = "127.0.0.1") const {
    return std::string(tls_ ? "https://" : "http://") + host + ":" +
           std::to_string(acceptor_.local_endpoint().port()) + "/hook";
  }

  void release() {
    asio::post(io_, [this] {
      released_ = true;
      for (auto* timer : holding_) timer->cancel();
    });
  }

  struct State {
    std::vector<std::string> deliveries;  // X-Tether-Delivery of each request, in arrival order.
    std::set<std::string> acknowledged;   // Answered 2xx in full.
    int active = 0;
    int max_active = 0;
  };

  bool wait_until(const std::function<bool(const State&)>& done,
                  std::chrono::milliseconds timeout = 60s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done(state_); });
  }
  State state() {
    std::lock_guard lock(mutex_);
    return state_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (tls_) {
        asio::co_spawn(io_, serve_tls(std::move(socket)), asio::detached);
      } else {
        asio::co_spawn(io_, serve(beast::tcp_stream(std::move(socket))), asio::detached);
      }
    }
  }

  asio::awaitable<void> serve_tls(asio::ip::tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls_);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                asio::as_tuple(asio::use_awaitable));
    if (!ec) co_await serve(std::move(stream));
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream stream) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [read_error, n] =
        co_await http::async_read(stream, buffer, request, asio::as_tuple(asio::use_awaitable));
    if (read_error) co_return;
    change([&](State& s) {
      s.deliveries.emplace_back(request["X-Tether-Delivery"]);
      s.max_active = std::max(s.max_active, ++s.active);
    });
    if (reaction_ == Reaction::hold && !released_) {
      asio::steady_timer timer(io_, asio::steady_timer::time_point::max());
      holding_.push_back(&timer);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      holding_.remove(&timer);
    }
    const auto status = reaction_ == Reaction::error ? http::status::internal_server_error
                                                     : http::status::no_content;
    http::response<http::string_body> response{status, 11};
    if (reaction_ == Reaction::error) response.body() = "database is down";
    response.keep_alive(false);
    response.prepare_payload();
    auto [write_error, written] =
        co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    change([&](State& s) {
      --s.active;
      if (!write_error && reaction_ != Reaction::error) {
        s.acknowledged.emplace(request["X-Tether-Delivery"]);
      }
    });
  }

  void change(const std::function<void(State&)>& f) {
    {
      std::lock_guard lock(mutex_);
      f(state_);
    }
    changed_.notify_all();
  }

  Reaction reaction_;
  asio::ssl::context* tls_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  State state_;
  std::list<asio::steady_timer*> holding_;  // Receiver thread only.
  bool released_ = false;                   // Receiver thread only.
};

WebhookTarget target(const std::string& name, const std::string& url, int timeout_ms = 5000) {
  auto targets = parse_webhook_targets(
      nlohmann::json::array(
          {{{"name", name}, {"url", url}, {"secret", kSecret}, {"timeout_ms", timeout_ms}}}),
      "/");
  return targets.at(0);
}

class WebhookDispatcherTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-webhooks-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    setup_ = SqliteStore::open(dir_ / "tether.db");
    Ticket fields;
    fields.title = "Printer offline";
    fields.created_by = "alice";
    TimelineEntry created;
    created.at = std::chrono::system_clock::now();
    created.actor = "alice";
    created.kind = "ticket.created";
    created.summary = "opened";
    ticket_ = setup_->create_ticket(fields, created, created.at);
  }

  void TearDown() override {
    if (dispatcher_) dispatcher_->stop();
    if (runner_.joinable()) {
      work_.reset();
      // Give the stop a moment to run on the loop before it is stopped.
      asio::post(io_, [this] { io_.stop(); });
      runner_.join();
    }
    dispatcher_.reset();
    store_.reset();
    setup_.reset();
    std::filesystem::remove_all(dir_);
  }

  /// `count` notes on the ticket, stamped now.
  void add_notes(int count, TimePoint at = std::chrono::system_clock::now()) {
    for (int i = 0; i < count; ++i) {
      TimelineEntry entry;
      entry.ticket_id = ticket_.id;
      entry.at = at;
      entry.actor = "alice";
      entry.kind = "ticket.note";
      entry.summary = "note " + std::to_string(i);
      entry.detail = {{"text", entry.summary}, {"internal", false}};
      setup_->append_timeline(entry);
    }
  }

  /// Marks every existing entry as already seen by `webhook`, as a relay that ran before.
  void seen_by(const std::string& webhook) {
    const auto entries = setup_->timeline(ticket_.id);
    setup_->enqueue_deliveries(webhook, {}, entries.back().id);
  }

  void start(std::vector<WebhookTarget> targets) {
    store_ = std::make_unique<StoreExecutor>(std::move(setup_));
    dispatcher_ = std::make_unique<WebhookDispatcher>(io_, *store_, std::move(targets), "test");
    dispatcher_->start();
    runner_ = std::thread([this] { io_.run(); });
  }

  /// Polls the delivery log through a second connection until `done` or 30 s.
  std::vector<WebhookDelivery> wait_for_log(
      const std::function<bool(const std::vector<WebhookDelivery>&)>& done) {
    auto reader = SqliteStore::open(dir_ / "tether.db");
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    auto log = reader->webhook_log(1000, "");
    while (!done(log) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);  // Polling interval, not synchronisation.
      log = reader->webhook_log(1000, "");
    }
    return log;
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> setup_;
  Ticket ticket_;
  asio::io_context io_{2};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::unique_ptr<StoreExecutor> store_;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
  std::thread runner_;
};

std::size_t count(const std::vector<WebhookDelivery>& log, const std::string& webhook,
                  const std::string& status) {
  return static_cast<std::size_t>(std::count_if(log.begin(), log.end(), [&](const auto& d) {
    return d.webhook == webhook && d.status == status;
  }));
}

TEST_F(WebhookDispatcherTest, HangingReceiverHoldsBackNoOtherWebhookEvenWithABacklog) {
  // More rows than one query returns, most of them the hanging receiver's, queued first.
  seen_by("hanging");
  seen_by("healthy");
  add_notes(250);
  Receiver hanging(Reaction::hold);
  Receiver healthy(Reaction::ok);
  start({target("hanging", hanging.url(), 60000), target("healthy", healthy.url(), 1000)});

  ASSERT_TRUE(healthy.wait_until([](const auto& s) { return s.acknowledged.size() == 250; }))
      << healthy.state().acknowledged.size() << " of 250 acknowledged";
  EXPECT_LE(healthy.state().max_active, 4);
  // Four attempts wait on the hanging receiver; nothing more is sent to it meanwhile.
  ASSERT_TRUE(hanging.wait_until([](const auto& s) { return s.deliveries.size() == 4; }));
  EXPECT_EQ(hanging.state().max_active, 4);
  EXPECT_EQ(hanging.state().deliveries.size(), 4u);

  hanging.release();
  ASSERT_TRUE(hanging.wait_until([](const auto& s) { return s.acknowledged.size() == 250; }))
      << hanging.state().acknowledged.size() << " of 250 acknowledged";
  EXPECT_LE(hanging.state().max_active, 4);
  const auto log = wait_for_log([](const auto& rows) {
    return count(rows, "hanging", "delivered") + count(rows, "healthy", "delivered") == 500;
  });
  EXPECT_EQ(count(log, "hanging", "delivered"), 250u);
  EXPECT_EQ(count(log, "healthy", "delivered"), 250u);
  // Each delivered once: as many requests as deliveries.
  EXPECT_EQ(healthy.state().deliveries.size(), 250u);
  EXPECT_EQ(hanging.state().deliveries.size(), 250u);
}

TEST_F(WebhookDispatcherTest, GivesUpAfterMaxAttempts) {
  seen_by("broken");
  add_notes(1);
  Receiver broken(Reaction::error);
  auto t = target("broken", broken.url());
  t.max_attempts = 3;
  t.retry_base = 100ms;
  t.retry_max = 100ms;
  start({t});
  const auto log = wait_for_log([](const auto& rows) { return count(rows, "broken", "failed"); });
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].status, "failed");
  EXPECT_EQ(log[0].attempts, 3);
  EXPECT_EQ(log[0].last_http_status, 500);
  EXPECT_NE(log[0].last_error.find("HTTP 500"), std::string::npos) << log[0].last_error;
  EXPECT_NE(log[0].last_error.find("database is down"), std::string::npos) << log[0].last_error;
  EXPECT_FALSE(log[0].delivered_at);
  const auto requests = broken.state().deliveries;
  EXPECT_EQ(requests, std::vector<std::string>(3, "D-" + std::to_string(log[0].id)));
}

TEST_F(WebhookDispatcherTest, UnreachableReceiverIsRetriedLaterAndRemovedWebhooksFail) {
  // A row queued for a webhook that is no longer configured.
  WebhookDelivery orphan;
  orphan.webhook = "retired";
  orphan.entry_id = 1;
  orphan.ticket_id = ticket_.id;
  orphan.event = "ticket.created";
  orphan.payload = "{}";
  orphan.created_at = orphan.next_attempt_at = std::chrono::system_clock::now();
  setup_->enqueue_deliveries("retired", {orphan}, 1);
  seen_by("closed");
  add_notes(1);
  // A port that refuses connections: bound, then closed again.
  std::string refused_url;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    refused_url = "http://127.0.0.1:" + std::to_string(probe.local_endpoint().port()) + "/";
  }
  auto t = target("closed", refused_url);
  t.retry_base = 3600000ms;
  t.retry_max = 3600000ms;
  start({t});
  const auto log = wait_for_log([](const auto& rows) {
    return count(rows, "retired", "failed") == 1 &&
           std::any_of(rows.begin(), rows.end(), [](const auto& d) { return d.attempts == 1; });
  });
  ASSERT_EQ(log.size(), 2u);
  for (const auto& d : log) {
    if (d.webhook == "retired") {
      EXPECT_EQ(d.status, "failed");
      EXPECT_NE(d.last_error.find("no longer in relay.json"), std::string::npos) << d.last_error;
    } else {
      EXPECT_EQ(d.status, "pending");
      EXPECT_EQ(d.attempts, 1);
      EXPECT_FALSE(d.last_http_status);
      EXPECT_NE(d.last_error.find("refused"), std::string::npos) << d.last_error;
      EXPECT_GT(d.next_attempt_at, std::chrono::system_clock::now());
    }
  }
}

TEST_F(WebhookDispatcherTest, NewWebhookStartsAtTheRelaysStartNotWithHistory) {
  add_notes(3, std::chrono::system_clock::now() - std::chrono::hours(1));
  add_notes(1);
  Receiver receiver(Reaction::ok);
  start({target("new", receiver.url())});
  // The ticket's creation (now) and the last note arrive; the hour-old notes do not.
  ASSERT_TRUE(receiver.wait_until([](const auto& s) { return s.acknowledged.size() == 2; }));
  const auto log =
      wait_for_log([](const auto& rows) { return count(rows, "new", "delivered") == 2; });
  EXPECT_EQ(log.size(), 2u);
  std::set<std::string> events;
  for (const auto& d : log) events.insert(d.event);
  EXPECT_EQ(events, (std::set<std::string>{"ticket.created", "ticket.note"}));
}

class WebhookTlsTest : public WebhookDispatcherTest {
 protected:
  /// A receiver certificate for `ip`, signed by a CA written to DIR/ca.pem.
  std::unique_ptr<asio::ssl::context> server_context(const std::string& ip) {
    const auto ca = create_certificate_authority("webhook test", std::chrono::hours(1));
    const auto leaf = issue_server_certificate(ca, {}, {ip}, std::chrono::hours(1));
    std::ofstream(dir_ / "ca.pem") << ca.certificate_pem;
    std::ofstream(dir_ / "leaf.pem") << leaf.certificate_pem << ca.certificate_pem;
    std::ofstream(dir_ / "leaf.key") << leaf.private_key_pem;
    return std::make_unique<asio::ssl::context>(
        protocol::make_server_context(dir_ / "leaf.pem", dir_ / "leaf.key"));
  }
};

TEST_F(WebhookTlsTest, HttpsIsVerifiedAgainstTheCaFileAndTheAddress) {
  seen_by("pinned");
  seen_by("system");
  seen_by("wrong_host");
  add_notes(1);
  auto tls = server_context("127.0.0.1");
  Receiver receiver(Reaction::ok, tls.get());
  auto pinned = target("pinned", receiver.url());
  pinned.ca_file = dir_ / "ca.pem";
  // The system store does not know the test CA.
  auto system = target("system", receiver.url());
  // The certificate names 127.0.0.1, not localhost.
  auto wrong_host = target("wrong_host", receiver.url("localhost"));
  wrong_host.ca_file = dir_ / "ca.pem";
  for (auto* t : {&system, &wrong_host}) t->retry_base = t->retry_max = 3600000ms;
  start({pinned, system, wrong_host});

  const auto log = wait_for_log([](const auto& rows) {
    return rows.size() == 3 &&
           std::all_of(rows.begin(), rows.end(), [](const auto& d) { return d.attempts == 1; });
  });
  ASSERT_EQ(log.size(), 3u);
  for (const auto& d : log) {
    SCOPED_TRACE(d.webhook);
    if (d.webhook == "pinned") {
      EXPECT_EQ(d.status, "delivered");
      EXPECT_EQ(d.last_http_status, 204);
    } else {
      EXPECT_EQ(d.status, "pending");
      EXPECT_NE(d.last_error.find("did not verify"), std::string::npos) << d.last_error;
    }
  }
  EXPECT_EQ(receiver.state().acknowledged.size(), 1u);
}

}  // namespace
}  // namespace tether::relay
