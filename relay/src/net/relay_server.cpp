#include "tether/relay/relay_server.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <fstream>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "broker/session_broker.hpp"
#include "helpdesk/sla_sweep.hpp"
#include "net/connection.hpp"
#include "relay_context.hpp"
#include "tether/protocol/tls.hpp"
#include "tether/relay/sqlite_store.hpp"
#include "webhooks/webhook_dispatcher.hpp"

namespace tether::relay {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw ConfigError("listen must be ADDR:PORT, got " + listen);
  auto host = listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw ConfigError("listen address " + host + " is not an IP address");
  const auto port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    throw ConfigError("listen port " + port + " is not a port number");
  }
  return {address, static_cast<unsigned short>(std::stoul(port))};
}

}  // namespace

struct RelayServer::Impl {
  explicit Impl(RelayConfig config)
      : io(config.threads > 0
               ? config.threads
               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        store(SqliteStore::open(config.database_file())),
        broker(io),
        tls(protocol::make_server_context(config.server_chain_file(), config.server_key_file())),
        context{config,
                io,
                store,
                broker,
                FailureLimiter(config.join_failure_limit, config.failure_window),
                FailureLimiter(config.login_failure_limit, config.failure_window)},
        acceptor(io),
        signals(io, SIGINT, SIGTERM) {
    // Managed agents prove who they are with a certificate from the relay's own CA; everyone
    // else presents none, which is fine everywhere but on the managed endpoint.
    if (std::filesystem::exists(config.ca_certificate_file())) {
      protocol::request_client_certificates(tls, config.ca_certificate_file());
    }
  }

  // Puts SLA breaches on the timeline as they happen, once per clock.
  asio::awaitable<void> sla_loop() {
    const auto& policy = rest.sla_policy();
    asio::steady_timer timer(io);
    while (!context.stopping) {
      try {
        const auto written = co_await store.run(
            [&policy](Store& s) { return helpdesk::sweep_sla_breaches(s, policy, now()); });
        if (written > 0) spdlog::info("{} SLA breach(es) put on tickets' timelines", written);
      } catch (const std::exception& e) {
        spdlog::error("SLA check failed: {}", e.what());
      }
      timer.expires_after(context.config.sla_check_interval);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  // Writes managed devices' last_seen times once a second, all in one transaction.
  asio::awaitable<void> presence_loop() {
    asio::steady_timer timer(io);
    while (!context.stopping) {
      timer.expires_after(std::chrono::seconds(1));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      co_await context.presence.flush(store);
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io),
                                                         asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || context.stopping) co_return;
      if (ec) {
        // Out of descriptors and the like: log, breathe, keep serving.
        spdlog::warn("accept failed: {}", ec.message());
        asio::steady_timer pause(io, std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (context.open_connections >= context.config.max_connections) {
        spdlog::warn("connection limit {} reached; refusing a connection",
                     context.config.max_connections);
        continue;  // The socket closes as it goes out of scope.
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, serve_connection(std::move(socket), tls, context, rest),
                     asio::detached);
    }
  }

  void begin_shutdown() {
    if (context.stopping.exchange(true)) return;
    spdlog::info("shutting down");
    boost::system::error_code ignored;
    acceptor.close(ignored);
    signals.cancel(ignored);
    close_all_connections(context);
    webhooks.stop();
    asio::co_spawn(io, drain(), asio::detached);
  }

  // Waits for connections to finish, at most a grace period, then stops the loop.
  asio::awaitable<void> drain() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    asio::steady_timer tick(io);
    while (context.open_connections > 0 && std::chrono::steady_clock::now() < deadline) {
      tick.expires_after(std::chrono::milliseconds(20));
      co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    // The disconnections just seen are written before the relay exits.
    co_await context.presence.flush(store);
    io.stop();
  }

  asio::io_context io;
  StoreExecutor store;
  SessionBroker broker;
  asio::ssl::context tls;
  RelayContext context;
  RestApi rest{context};
  tcp::acceptor acceptor;
  asio::signal_set signals;
  WebhookDispatcher webhooks{
      io, store, parse_webhook_targets(context.config.webhooks, context.config.data_dir),
      context.config.hostname};
};

RelayServer::RelayServer(RelayConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
RelayServer::~RelayServer() = default;

std::string RelayServer::bind() {
  auto& impl = *impl_;
  const auto endpoint = parse_listen(impl.context.config.listen);
  boost::system::error_code ec;
  impl.acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw ConfigError("cannot listen on " + impl.context.config.listen + ": " + ec.message());
  const auto bound = impl.acceptor.local_endpoint();
  const auto address = (bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                : bound.address().to_string()) +
                       ":" + std::to_string(bound.port());
  const auto file = impl.context.config.address_file();
  std::ofstream(file, std::ios::trunc) << address << "\n";
  return address;
}

void RelayServer::run() {
  auto& impl = *impl_;
  impl.signals.async_wait([&impl](boost::system::error_code ec, int) {
    if (!ec) impl.begin_shutdown();
  });
  asio::co_spawn(impl.io, impl.accept_loop(), asio::detached);
  impl.webhooks.start();
  asio::co_spawn(impl.io, impl.sla_loop(), asio::detached);
  asio::co_spawn(impl.io, impl.presence_loop(), asio::detached);
  const int threads = impl.context.config.threads > 0
                          ? impl.context.config.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::jthread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back([&impl] { impl.io.run(); });
  impl.io.run();
  impl.io.stop();
  workers.clear();
  std::error_code ignored;
  std::filesystem::remove(impl.context.config.address_file(), ignored);
}

void RelayServer::stop() {
  asio::post(impl_->io, [this] { impl_->begin_shutdown(); });
}

}  // namespace tether::relay
