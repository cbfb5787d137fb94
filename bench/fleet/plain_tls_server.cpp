// plain_tls_server: the side-by-side baseline of the managed fleet benchmark (issue #6).
//
// The least a server can do to hold the same connections as the relay: accept TCP, complete a
// TLS handshake that asks for a client certificate and verifies it against the same CA (as the
// relay's managed endpoint does), write one byte so the client knows it was admitted, then keep
// one read pending until the peer goes. Same stack as the relay (Asio + Beast's ssl_stream over
// OpenSSL 3, the relay's server context from protocol::make_server_context, a strand per
// connection, one thread per core) minus the WebSocket, the broker and the store.
//
//   plain_tls_server --listen 127.0.0.1:0 --cert DATA/server.pem --key DATA/server.key
//                    --ca DATA/ca.pem [--threads T] [--raw] [--release-buffers] [--tickets N]
//
// --raw: no Asio; OpenSSL on the socket itself (SSL_set_fd, non-blocking, one epoll
// per thread), as nginx and HAProxy hold TLS connections. It shows what OpenSSL alone
// costs per connection, apart from the 2 x 17 KiB staging buffers and the 2 x 17 KiB BIO pair
// every Asio ssl::stream carries. Level-triggered epoll, interest as OpenSSL asks (WANT_READ:
// EPOLLIN, WANT_WRITE: EPOLLOUT). No handshake deadline in this mode.
// --release-buffers: SSL_MODE_RELEASE_BUFFERS (OpenSSL frees a connection's read and write
// buffers while they are empty; Asio's ssl::stream always sets it, so it matters for --raw).
// --tickets N: TLS 1.3 session tickets per handshake (OpenSSL sends 2 by default; Tether's
// clients never resume a session, so for them the tickets are wasted work).
//
// Prints "listening on ADDR:PORT" once bound; runs until SIGINT/SIGTERM.

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <iostream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/tls.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::atomic<long> open_connections{0};

asio::awaitable<void> hold(tcp::socket socket, asio::ssl::context& tls) {
  ++open_connections;
  tether::protocol::TlsStream stream(std::move(socket), tls);
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(std::chrono::seconds(10));  // the relay's default handshake_timeout_ms
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                              asio::as_tuple(asio::use_awaitable));
  if (!ec) {
    static constexpr char kAdmitted = '+';
    auto [write_ec, n] = co_await asio::async_write(stream, asio::buffer(&kAdmitted, 1),
                                                    asio::as_tuple(asio::use_awaitable));
    lowest.expires_never();
    char byte = 0;
    while (!write_ec) {
      auto [read_ec, got] = co_await stream.async_read_some(asio::buffer(&byte, 1),
                                                            asio::as_tuple(asio::use_awaitable));
      if (read_ec) break;
    }
  }
  --open_connections;
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, asio::ssl::context& tls) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(acceptor.get_executor()),
                                                       asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;  // out of descriptors and the like: the client retries
    auto executor = socket.get_executor();
    asio::co_spawn(executor, hold(std::move(socket), tls), asio::detached);
  }
}

// ---- --raw: OpenSSL on the socket, epoll ----------------------------------------------------

struct RawConnection {
  int fd = -1;
  SSL* ssl = nullptr;
  enum class State { handshake, admitting, holding } state = State::handshake;
};

void close_raw(RawConnection* c) {
  SSL_free(c->ssl);
  ::close(c->fd);
  delete c;
  --open_connections;
}

// Advances one connection as far as the socket allows. Returns the epoll events to wait for
// next (level-triggered), or 0 when the connection is finished.
std::uint32_t step_raw(RawConnection* c) {
  for (;;) {
    ERR_clear_error();  // SSL_get_error reads this thread's queue
    int r = 0;
    switch (c->state) {
      case RawConnection::State::handshake:
        r = SSL_do_handshake(c->ssl);
        if (r == 1) {
          c->state = RawConnection::State::admitting;
          continue;
        }
        break;
      case RawConnection::State::admitting: {
        static constexpr char kAdmitted = '+';
        r = SSL_write(c->ssl, &kAdmitted, 1);
        if (r == 1) {
          c->state = RawConnection::State::holding;
          continue;
        }
        break;
      }
      case RawConnection::State::holding: {
        char buffer[64];
        r = SSL_read(c->ssl, buffer, sizeof buffer);
        if (r > 0) continue;
        break;
      }
    }
    switch (SSL_get_error(c->ssl, r)) {
      case SSL_ERROR_WANT_READ:
        return EPOLLIN | EPOLLRDHUP;
      case SSL_ERROR_WANT_WRITE:
        return EPOLLOUT | EPOLLRDHUP;
      default:
        return 0;
    }
  }
}

// Waits for `events` on the connection; false when the step finished it.
bool rearm_raw(int poll, RawConnection* c, std::uint32_t events, int op) {
  if (events == 0) return false;
  epoll_event event{};
  event.events = events;
  event.data.ptr = c;
  ::epoll_ctl(poll, op, c->fd, &event);
  return true;
}

void raw_thread(int listener, SSL_CTX* ctx) {
  const int poll = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event listen_event{};
  listen_event.events = EPOLLIN | EPOLLEXCLUSIVE;
  listen_event.data.ptr = nullptr;
  ::epoll_ctl(poll, EPOLL_CTL_ADD, listener, &listen_event);
  epoll_event events[256];
  for (;;) {
    const int n = ::epoll_wait(poll, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        for (;;) {
          const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          auto* c = new RawConnection{fd, SSL_new(ctx)};
          ++open_connections;
          SSL_set_fd(c->ssl, fd);
          SSL_set_accept_state(c->ssl);
          if (!rearm_raw(poll, c, step_raw(c), EPOLL_CTL_ADD)) close_raw(c);
        }
        continue;
      }
      auto* c = static_cast<RawConnection*>(events[i].data.ptr);
      if ((events[i].events & (EPOLLERR | EPOLLHUP)) != 0 ||
          !rearm_raw(poll, c, step_raw(c), EPOLL_CTL_MOD)) {
        close_raw(c);  // closing the descriptor also takes it out of the epoll set
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"plain_tls_server: hold mutual-TLS connections (bench/fleet baseline)"};
  std::string listen = "127.0.0.1:0", cert, key, ca;
  int threads = 0;
  app.add_option("--listen", listen, "ADDR:PORT (port 0: any free port)");
  app.add_option("--cert", cert, "Server certificate chain (PEM)")->required();
  app.add_option("--key", key, "Server private key (PEM)")->required();
  app.add_option("--ca", ca, "CA that must have issued the client certificates")->required();
  app.add_option("--threads", threads, "Threads (default: one per core, as the relay)");
  bool raw = false, release_buffers = false;
  int tickets = -1;
  app.add_option("--tickets", tickets,
                 "TLS 1.3 session tickets sent after each handshake (OpenSSL's default: 2)");
  app.add_flag("--raw", raw, "OpenSSL on the socket with epoll instead of Asio");
  app.add_flag("--release-buffers", release_buffers, "SSL_MODE_RELEASE_BUFFERS");
  CLI11_PARSE(app, argc, argv);

  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  try {
    asio::io_context io;
    auto tls = tether::protocol::make_server_context(cert, key);
    // Mutual TLS like the relay's managed endpoint, but refused in the handshake itself.
    if (SSL_CTX_load_verify_locations(tls.native_handle(), ca.c_str(), nullptr) != 1) {
      throw std::runtime_error("cannot load CA certificate " + ca);
    }
    SSL_CTX_set_verify(tls.native_handle(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       nullptr);
    if (release_buffers) SSL_CTX_set_mode(tls.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    if (tickets >= 0)
      SSL_CTX_set_num_tickets(tls.native_handle(), static_cast<std::size_t>(tickets));

    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("--listen must be ADDR:PORT");
    const tcp::endpoint endpoint(asio::ip::make_address(listen.substr(0, colon)),
                                 static_cast<unsigned short>(std::stoi(listen.substr(colon + 1))));
    tcp::acceptor acceptor(io);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    const auto bound = acceptor.local_endpoint();
    std::cout << "listening on " << bound.address().to_string() << ":" << bound.port() << std::endl;

    const int count =
        threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::jthread> workers;
    if (raw) {
      acceptor.non_blocking(true);
      for (int i = 0; i < count; ++i) {
        workers.emplace_back([&] { raw_thread(acceptor.native_handle(), tls.native_handle()); });
      }
      // The threads never return; SIGINT/SIGTERM end the process (default action).
      for (auto& worker : workers) worker.join();
    }
    asio::co_spawn(io, accept_loop(acceptor, tls), asio::detached);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
    for (int i = 1; i < count; ++i) workers.emplace_back([&io] { io.run(); });
    io.run();
    io.stop();
    workers.clear();
    std::cout.flush();
    std::_Exit(0);  // the kernel closes the held connections at once
  } catch (const std::exception& e) {
    std::cerr << "plain_tls_server: " << e.what() << "\n";
    return 1;
  }
}
