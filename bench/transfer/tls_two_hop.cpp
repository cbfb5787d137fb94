// tls_two_hop: the reference ceiling for Tether's file transfer and keystroke benchmarks.
//
// Three processes on 127.0.0.1, like agent → relay → console:
//
//   sender --TLS--> middle (decrypts, re-encrypts) --TLS--> receiver
//
// Asio + OpenSSL, the same library versions and TLS defaults Tether uses (TLS 1.3, the suite
// OpenSSL picks first: TLS_AES_256_GCM_SHA384, an ECDSA P-256 certificate made at start).
// Each process reports its wall and CPU time; the throughput is bytes / (receiver's last
// byte − sender's first write), both read from CLOCK_MONOTONIC, which all processes share.
//
//   tls_two_hop [--bytes N] [--write-size N] [--ciphersuite NAME] [--plain]
//               [--file PATH] [--hash] [--out PATH] [--json]
//   tls_two_hop --ping N [--interval-us U] [--json]
//
// --file reads the payload from PATH with pread (else a random 1 MiB buffer repeated),
// --hash makes the sender and the receiver SHA-256 the stream (as `tether get` does),
// --out has the receiver write what it gets to PATH: together they do the same work as a
// Tether transfer minus Tether's own layers (WebSocket, channel frames, credit).
// --plain uses TCP without TLS (the loopback copy cost alone).
// --ping N: the sender writes 1 byte, the receiver echoes it back through the middle, N
// times with U µs (default 2000) between them; prints p50/p99/max of the round trip.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct Options {
  std::uint64_t bytes = 1ULL << 30;
  std::size_t write_size = 64 * 1024;
  std::string ciphersuite;  // empty: OpenSSL's default order
  std::string file;
  std::string out;
  bool hash = false;
  bool plain = false;
  bool json = false;
  int ping = 0;
  int interval_us = 2000;
  bool websocket = false;
  std::size_t ws_write_buffer = 0;  // 0: Beast's default (4096)
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tls_two_hop: %s\n", what.c_str());
  std::exit(1);
}

double monotonic_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// What one process reports to the parent through a pipe (fixed size, one write).
struct Report {
  char role[16] = {};
  double first = 0;  // sender: first write; receiver: first byte
  double last = 0;   // receiver: last byte
  double cpu_user = 0;
  double cpu_system = 0;
  long max_rss_kib = 0;
  std::uint64_t bytes = 0;
  char protocol[16] = {};
  char cipher[48] = {};
  unsigned char digest[32] = {};
  int samples = 0;
  double p50 = 0, p99 = 0, max = 0;
};

void fill_usage(Report& report) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  report.cpu_user = static_cast<double>(usage.ru_utime.tv_sec) + usage.ru_utime.tv_usec * 1e-6;
  report.cpu_system = static_cast<double>(usage.ru_stime.tv_sec) + usage.ru_stime.tv_usec * 1e-6;
  report.max_rss_kib = usage.ru_maxrss;
}

// ------------------------------------------------------------------ TLS setup

struct Identity {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
};

Identity make_identity() {
  Identity id;
  id.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (id.key == nullptr) die("cannot generate a P-256 key");
  id.cert = X509_new();
  X509_set_version(id.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(id.cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(id.cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(id.cert), 86400);
  X509_set_pubkey(id.cert, id.key);
  X509_NAME* name = X509_get_subject_name(id.cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tls_two_hop"), -1, -1, 0);
  X509_set_issuer_name(id.cert, name);
  if (X509_sign(id.cert, id.key, EVP_sha256()) <= 0) die("cannot sign the certificate");
  return id;
}

// Same settings as tether::protocol::make_server_context / make_client_context, minus the
// pinning (verification costs nothing once the handshake is done).
void common_settings(ssl::context& ctx, const Options& options) {
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  if (!options.ciphersuite.empty() &&
      SSL_CTX_set_ciphersuites(native, options.ciphersuite.c_str()) != 1) {
    die("unknown TLS 1.3 cipher suite " + options.ciphersuite);
  }
}

ssl::context server_context(const Identity& id, const Options& options) {
  ssl::context ctx(ssl::context::tls_server);
  common_settings(ctx, options);
  SSL_CTX_set_options(ctx.native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate(ctx.native_handle(), id.cert) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.native_handle(), id.key) != 1) {
    die("cannot load the certificate");
  }
  return ctx;
}

ssl::context client_context(const Options& options) {
  ssl::context ctx(ssl::context::tls_client);
  common_settings(ctx, options);
  ctx.set_verify_mode(ssl::verify_none);
  return ctx;
}

// ------------------------------------------------------------------ streams

void describe_tls(SSL* ssl, Report& report) {
  const char* protocol = ssl ? SSL_get_version(ssl) : "TCP";
  const char* cipher = ssl ? SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)) : "none";
  std::snprintf(report.protocol, sizeof report.protocol, "%s", protocol);
  std::snprintf(report.cipher, sizeof report.cipher, "%s", cipher);
}

// TLS or plain TCP behind one interface, so each role is written once.
class Stream {
 public:
  Stream(asio::io_context& io, ssl::context* tls) : socket_(io) {
    if (tls != nullptr) tls_.emplace(socket_, *tls);
  }
  tcp::socket& socket() { return socket_; }

  asio::awaitable<void> handshake(bool server) {
    socket_.set_option(tcp::no_delay(true));
    if (tls_) {
      co_await tls_->async_handshake(server ? ssl::stream_base::server : ssl::stream_base::client,
                                     asio::use_awaitable);
    }
  }
  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) {
    if (tls_) co_return co_await tls_->async_read_some(buffer, asio::use_awaitable);
    co_return co_await socket_.async_read_some(buffer, asio::use_awaitable);
  }
  asio::awaitable<void> write(asio::const_buffer buffer) {
    if (tls_) {
      co_await asio::async_write(*tls_, buffer, asio::use_awaitable);
    } else {
      co_await asio::async_write(socket_, buffer, asio::use_awaitable);
    }
  }
  void describe(Report& report) { describe_tls(tls_ ? tls_->native_handle() : nullptr, report); }

 private:
  tcp::socket socket_;
  std::optional<ssl::stream<tcp::socket&>> tls_;
};

// Reads fully or fails; EOF before `size` bytes is an error.
asio::awaitable<void> read_exactly(Stream& stream, char* data, std::size_t size) {
  while (size > 0) {
    const auto n = co_await stream.read_some(asio::buffer(data, size));
    data += n;
    size -= n;
  }
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void update(const void* data, std::size_t size) { EVP_DigestUpdate(ctx_, data, size); }
  void final(unsigned char* out) {
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
  }

 private:
  EVP_MD_CTX* ctx_;
};

// ------------------------------------------------------------------ roles

// What a sender writes: the file's bytes in order (--file), or a random 1 MiB buffer used
// over and over.
class Payload {
 public:
  explicit Payload(const Options& options)
      : buffer_(std::max<std::size_t>(options.write_size, 1 << 20), '\0'), file_(options.file) {
    if (!file_.empty()) {
      fd_ = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) die("cannot open " + file_);
      buffer_.resize(options.write_size);
    } else {
      RAND_bytes(reinterpret_cast<unsigned char*>(buffer_.data()),
                 static_cast<int>(buffer_.size()));
    }
  }
  ~Payload() {
    if (fd_ >= 0) ::close(fd_);
  }
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;

  /// The next `n` bytes, which start at `offset` of the stream.
  const char* next(std::size_t n, std::uint64_t offset) {
    if (fd_ >= 0) {
      if (::pread(fd_, buffer_.data(), n, static_cast<off_t>(offset)) != static_cast<ssize_t>(n)) {
        die("short read from " + file_);
      }
      return buffer_.data();
    }
    if (cursor_ + n > buffer_.size()) cursor_ = 0;
    const char* data = buffer_.data() + cursor_;
    cursor_ += n;
    return data;
  }

 private:
  std::string buffer_;
  std::string file_;
  int fd_ = -1;
  std::size_t cursor_ = 0;
};

asio::awaitable<void> run_sender(Stream& stream, tcp::endpoint to, const Options& options,
                                 Report& report) {
  co_await stream.socket().async_connect(to, asio::use_awaitable);
  co_await stream.handshake(false);
  stream.describe(report);
  if (options.ping > 0) {
    std::vector<double> rtts;
    rtts.reserve(static_cast<std::size_t>(options.ping));
    asio::steady_timer pause(co_await asio::this_coro::executor);
    char byte = 'a';
    char back = 0;
    for (int i = 0; i < options.ping; ++i) {
      byte = static_cast<char>('a' + i % 26);
      const auto t0 = std::chrono::steady_clock::now();
      co_await stream.write(asio::buffer(&byte, 1));
      co_await read_exactly(stream, &back, 1);
      const auto t1 = std::chrono::steady_clock::now();
      if (back != byte) die("echo mismatch");
      rtts.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      pause.expires_after(std::chrono::microseconds(options.interval_us));
      co_await pause.async_wait(asio::use_awaitable);
    }
    std::sort(rtts.begin(), rtts.end());
    auto at = [&](double q) {
      return rtts[std::min(rtts.size() - 1, static_cast<std::size_t>(q * rtts.size()))];
    };
    report.samples = static_cast<int>(rtts.size());
    report.p50 = at(0.50);
    report.p99 = at(0.99);
    report.max = rtts.back();
    co_return;
  }
  Payload payload(options);
  Sha256 digest;
  report.first = monotonic_seconds();
  std::uint64_t sent = 0;
  while (sent < options.bytes) {
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(options.write_size, options.bytes - sent));
    const char* data = payload.next(n, sent);
    if (options.hash) digest.update(data, n);
    co_await stream.write(asio::buffer(data, n));
    sent += n;
  }
  if (options.hash) digest.final(report.digest);
  report.bytes = sent;
  // Wait for the receiver's one-byte acknowledgement so the connection is not torn down while
  // the middle still forwards.
  char ack = 0;
  co_await read_exactly(stream, &ack, 1);
}

asio::awaitable<void> run_receiver(Stream& stream, tcp::acceptor& acceptor, const Options& options,
                                   Report& report) {
  co_await acceptor.async_accept(stream.socket(), asio::use_awaitable);
  co_await stream.handshake(true);
  stream.describe(report);
  if (options.ping > 0) {
    char byte = 0;
    for (int i = 0; i < options.ping; ++i) {
      co_await read_exactly(stream, &byte, 1);
      co_await stream.write(asio::buffer(&byte, 1));
    }
    co_return;
  }
  std::string buffer(64 * 1024, '\0');
  int fd = -1;
  if (!options.out.empty()) {
    fd = ::open(options.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) die("cannot create " + options.out);
  }
  Sha256 digest;
  std::uint64_t received = 0;
  while (received < options.bytes) {
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), options.bytes - received));
    const auto n = co_await stream.read_some(asio::buffer(buffer.data(), want));
    if (received == 0) report.first = monotonic_seconds();
    if (options.hash) digest.update(buffer.data(), n);
    if (fd >= 0 && ::write(fd, buffer.data(), n) != static_cast<ssize_t>(n)) {
      die("cannot write " + options.out);
    }
    received += n;
  }
  report.last = monotonic_seconds();
  report.bytes = received;
  if (options.hash) digest.final(report.digest);
  if (fd >= 0) ::close(fd);
  const char ack = 'k';
  co_await stream.write(asio::buffer(&ack, 1));
}

// One direction of the middle: read what arrives (one TLS record at most), write it on.
asio::awaitable<void> forward(Stream& from, Stream& to, std::uint64_t* counted) {
  std::string buffer(64 * 1024, '\0');
  for (;;) {
    std::size_t n = 0;
    try {
      n = co_await from.read_some(asio::buffer(buffer));
    } catch (const boost::system::system_error&) {
      co_return;  // The peer finished.
    }
    co_await to.write(asio::buffer(buffer.data(), n));
    if (counted) *counted += n;
  }
}

asio::awaitable<void> run_middle(Stream& upstream, tcp::acceptor& acceptor, Stream& downstream,
                                 tcp::endpoint to, Report& report) {
  co_await downstream.socket().async_connect(to, asio::use_awaitable);
  co_await downstream.handshake(false);
  co_await acceptor.async_accept(upstream.socket(), asio::use_awaitable);
  co_await upstream.handshake(true);
  upstream.describe(report);
  auto executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, forward(downstream, upstream, nullptr), asio::detached);
  co_await forward(upstream, downstream, &report.bytes);
}

// ------------------------------------------------------------------ WebSocket variant
// The same hops with Beast WebSockets the way Tether uses them: the sender and the receiver
// are WebSocket clients (the agent and the console), the middle is the server of both (the
// relay). Binary messages of --write-size bytes, auto_fragment off, client frames masked,
// TCP_NODELAY left off; --ws-write-buffer sets Beast's write_buffer_bytes (default 4096),
// which is the size of the pieces a client masks and writes one at a time.

using Ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

void ws_settings(Ws& ws, const Options& options) {
  ws.auto_fragment(false);
  ws.binary(true);
  ws.read_message_max(64u << 20);
  if (options.ws_write_buffer > 0) ws.write_buffer_bytes(options.ws_write_buffer);
}

asio::awaitable<void> ws_connect(Ws& ws, tcp::endpoint to, const char* target,
                                 const Options& options) {
  co_await beast::get_lowest_layer(ws).async_connect(to, asio::use_awaitable);
  co_await ws.next_layer().async_handshake(ssl::stream_base::client, asio::use_awaitable);
  ws_settings(ws, options);
  co_await ws.async_handshake("127.0.0.1", target, asio::use_awaitable);
}

asio::awaitable<std::string> ws_accept(Ws& ws, tcp::acceptor& acceptor, const Options& options) {
  co_await acceptor.async_accept(beast::get_lowest_layer(ws).socket(), asio::use_awaitable);
  co_await ws.next_layer().async_handshake(ssl::stream_base::server, asio::use_awaitable);
  beast::flat_buffer buffer;
  beast::http::request<beast::http::string_body> request;
  co_await beast::http::async_read(ws.next_layer(), buffer, request, asio::use_awaitable);
  ws_settings(ws, options);
  co_await ws.async_accept(request, asio::use_awaitable);
  co_return std::string(request.target());
}

asio::awaitable<void> run_ws_sender(Ws& ws, tcp::endpoint to, const Options& options,
                                    Report& report) {
  co_await ws_connect(ws, to, "/send", options);
  describe_tls(ws.next_layer().native_handle(), report);
  Payload payload(options);
  Sha256 digest;
  report.first = monotonic_seconds();
  std::uint64_t sent = 0;
  while (sent < options.bytes) {
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(options.write_size, options.bytes - sent));
    const char* data = payload.next(n, sent);
    if (options.hash) digest.update(data, n);
    co_await ws.async_write(asio::buffer(data, n), asio::use_awaitable);
    sent += n;
  }
  if (options.hash) digest.final(report.digest);
  report.bytes = sent;
  beast::flat_buffer ack;
  co_await ws.async_read(ack, asio::use_awaitable);
}

asio::awaitable<void> run_ws_receiver(Ws& ws, tcp::endpoint to, const Options& options,
                                      Report& report) {
  co_await ws_connect(ws, to, "/recv", options);
  describe_tls(ws.next_layer().native_handle(), report);
  int fd = -1;
  if (!options.out.empty()) {
    fd = ::open(options.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) die("cannot create " + options.out);
  }
  Sha256 digest;
  beast::flat_buffer buffer;
  std::uint64_t received = 0;
  while (received < options.bytes) {
    buffer.clear();
    const auto n = co_await ws.async_read(buffer, asio::use_awaitable);
    const auto* data = static_cast<const char*>(buffer.data().data());
    if (options.hash) digest.update(data, n);
    if (fd >= 0 && ::write(fd, data, n) != static_cast<ssize_t>(n))
      die("cannot write " + options.out);
    received += n;
  }
  report.last = monotonic_seconds();
  report.bytes = received;
  if (options.hash) digest.final(report.digest);
  if (fd >= 0) ::close(fd);
  const char ack = 'k';
  co_await ws.async_write(asio::buffer(&ack, 1), asio::use_awaitable);
}

// Forwards whole messages, as the relay does.
asio::awaitable<void> ws_forward(Ws& from, Ws& to, std::uint64_t* counted) {
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [read_error, n] = co_await from.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (read_error) co_return;
    auto [write_error, m] =
        co_await to.async_write(buffer.data(), asio::as_tuple(asio::use_awaitable));
    if (write_error) co_return;
    if (counted) *counted += n;
  }
}

asio::awaitable<void> run_ws_middle(Ws& first, Ws& second, tcp::acceptor& acceptor,
                                    const Options& options, Report& report) {
  const auto first_target = co_await ws_accept(first, acceptor, options);
  co_await ws_accept(second, acceptor, options);
  Ws& from_sender = first_target == "/send" ? first : second;
  Ws& to_receiver = first_target == "/send" ? second : first;
  describe_tls(from_sender.next_layer().native_handle(), report);
  asio::co_spawn(co_await asio::this_coro::executor, ws_forward(to_receiver, from_sender, nullptr),
                 asio::detached);
  co_await ws_forward(from_sender, to_receiver, &report.bytes);
}

// ------------------------------------------------------------------ processes

tcp::acceptor listen_any(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor;
}

template <class Body>
pid_t spawn_role(int report_fd, const char* role, Body body) {
  const pid_t pid = fork();
  if (pid < 0) die("fork failed");
  if (pid > 0) return pid;
  Report report;
  std::snprintf(report.role, sizeof report.role, "%s", role);
  try {
    body(report);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tls_two_hop %s: %s\n", role, e.what());
    _exit(1);
  }
  fill_usage(report);
  if (::write(report_fd, &report, sizeof report) != static_cast<ssize_t>(sizeof report)) _exit(1);
  _exit(0);
}

std::string hex(const unsigned char* data, std::size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 15]);
  }
  return out;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--bytes") {
      options.bytes = std::stoull(value());
    } else if (arg == "--write-size") {
      options.write_size = std::stoul(value());
    } else if (arg == "--ciphersuite") {
      options.ciphersuite = value();
    } else if (arg == "--file") {
      options.file = value();
    } else if (arg == "--out") {
      options.out = value();
    } else if (arg == "--hash") {
      options.hash = true;
    } else if (arg == "--plain") {
      options.plain = true;
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--ping") {
      options.ping = std::stoi(value());
    } else if (arg == "--interval-us") {
      options.interval_us = std::stoi(value());
    } else if (arg == "--websocket") {
      options.websocket = true;
    } else if (arg == "--ws-write-buffer") {
      options.ws_write_buffer = std::stoul(value());
    } else {
      die("usage: tls_two_hop [--bytes N] [--write-size N] [--ciphersuite NAME] [--plain] "
          "[--file PATH] [--hash] [--out PATH] [--ping N [--interval-us U]] "
          "[--websocket [--ws-write-buffer N]] [--json]");
    }
  }
  if (options.write_size == 0 || options.write_size > (16u << 20)) die("bad --write-size");
  if (options.websocket && (options.plain || options.ping > 0)) {
    die("--websocket goes with neither --plain nor --ping");
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const Identity identity = make_identity();

  // Listening sockets first, in the parent, so every child knows where to connect.
  asio::io_context setup;
  auto receiver_listener = listen_any(setup);
  auto middle_listener = listen_any(setup);
  const auto receiver_at = receiver_listener.local_endpoint();
  const auto middle_at = middle_listener.local_endpoint();
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) die("pipe failed");
  setup.notify_fork(asio::io_context::fork_prepare);

  std::vector<pid_t> children;
  auto rethrow = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  if (options.websocket) {
    receiver_listener.close();
    children.push_back(spawn_role(pipe_fds[1], "middle", [&](Report& report) {
      setup.notify_fork(asio::io_context::fork_child);
      asio::io_context io;
      auto ctx = server_context(identity, options);
      Ws first(io, ctx), second(io, ctx);
      tcp::acceptor acceptor(io, tcp::v4(), middle_listener.release());
      asio::co_spawn(io, run_ws_middle(first, second, acceptor, options, report), rethrow);
      io.run();
    }));
    children.push_back(spawn_role(pipe_fds[1], "receiver", [&](Report& report) {
      setup.notify_fork(asio::io_context::fork_child);
      asio::io_context io;
      auto ctx = client_context(options);
      Ws ws(io, ctx);
      asio::co_spawn(io, run_ws_receiver(ws, middle_at, options, report), rethrow);
      io.run();
    }));
    children.push_back(spawn_role(pipe_fds[1], "sender", [&](Report& report) {
      setup.notify_fork(asio::io_context::fork_child);
      asio::io_context io;
      auto ctx = client_context(options);
      Ws ws(io, ctx);
      asio::co_spawn(io, run_ws_sender(ws, middle_at, options, report), rethrow);
      io.run();
    }));
  } else {
    children.push_back(spawn_role(pipe_fds[1], "receiver", [&](Report& report) {
      setup.notify_fork(asio::io_context::fork_child);
      asio::io_context io;
      auto ctx = server_context(identity, options);
      Stream stream(io, options.plain ? nullptr : &ctx);
      tcp::acceptor acceptor(io, tcp::v4(), receiver_listener.release());
      asio::co_spawn(io, run_receiver(stream, acceptor, options, report), rethrow);
      io.run();
    }));
    children.push_back(spawn_role(pipe_fds[1], "middle", [&](Report& report) {
      setup.notify_fork(asio::io_context::fork_child);
      asio::io_context io;
      auto server = server_context(identity, options);
      auto client = client_context(options);
      Stream upstream(io, options.plain ? nullptr : &server);
      Stream downstream(io, options.plain ? nullptr : &client);
      tcp::acceptor acceptor(io, tcp::v4(), middle_listener.release());
      asio::co_spawn(io, run_middle(upstream, acceptor, downstream, receiver_at, report), rethrow);
      io.run();
    }));
    children.push_back(spawn_role(pipe_fds[1], "sender", [&](Report& report) {
      setup.notify_fork(asio::io_context::fork_child);
      asio::io_context io;
      auto ctx = client_context(options);
      Stream stream(io, options.plain ? nullptr : &ctx);
      asio::co_spawn(io, run_sender(stream, middle_at, options, report), rethrow);
      io.run();
    }));
  }
  setup.notify_fork(asio::io_context::fork_parent);
  ::close(pipe_fds[1]);
  if (receiver_listener.is_open()) receiver_listener.close();
  middle_listener.close();

  Report sender, middle, receiver;
  Report one;
  while (::read(pipe_fds[0], &one, sizeof one) == static_cast<ssize_t>(sizeof one)) {
    const std::string role = one.role;
    (role == "sender" ? sender : role == "middle" ? middle : receiver) = one;
  }
  bool ok = true;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (!ok) die("a process failed");

  if (options.ping > 0) {
    if (options.json) {
      std::printf(
          "{\"samples\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"protocol\":\"%s\","
          "\"cipher\":\"%s\"}\n",
          sender.samples, sender.p50, sender.p99, sender.max, sender.protocol, sender.cipher);
    } else {
      std::printf("%s %s, %d round trips: p50 %.1f us, p99 %.1f us, max %.1f us\n", sender.protocol,
                  sender.cipher, sender.samples, sender.p50, sender.p99, sender.max);
    }
    return 0;
  }
  if (options.hash && std::memcmp(sender.digest, receiver.digest, 32) != 0) {
    die("the receiver's SHA-256 differs from the sender's");
  }
  const double seconds = receiver.last - sender.first;
  const double mb_s = static_cast<double>(receiver.bytes) / seconds / 1e6;
  const double mib_s = static_cast<double>(receiver.bytes) / seconds / (1024.0 * 1024.0);
  if (options.json) {
    std::printf(
        "{\"bytes\":%llu,\"seconds\":%.4f,\"mb_s\":%.1f,\"mib_s\":%.1f,\"protocol\":\"%s\","
        "\"cipher\":\"%s\",\"cpu_s\":{\"sender\":[%.3f,%.3f],\"middle\":[%.3f,%.3f],"
        "\"receiver\":[%.3f,%.3f]},\"max_rss_kib\":{\"sender\":%ld,\"middle\":%ld,"
        "\"receiver\":%ld}%s%s%s}\n",
        static_cast<unsigned long long>(receiver.bytes), seconds, mb_s, mib_s, sender.protocol,
        sender.cipher, sender.cpu_user, sender.cpu_system, middle.cpu_user, middle.cpu_system,
        receiver.cpu_user, receiver.cpu_system, sender.max_rss_kib, middle.max_rss_kib,
        receiver.max_rss_kib, options.hash ? ",\"sha256\":\"" : "",
        options.hash ? hex(receiver.digest, 32).c_str() : "", options.hash ? "\"" : "");
  } else {
    std::printf("%s %s: %llu bytes in %.3f s = %.1f MB/s (%.1f MiB/s)\n", sender.protocol,
                sender.cipher, static_cast<unsigned long long>(receiver.bytes), seconds, mb_s,
                mib_s);
    std::printf("CPU user+sys s: sender %.2f+%.2f, middle %.2f+%.2f, receiver %.2f+%.2f\n",
                sender.cpu_user, sender.cpu_system, middle.cpu_user, middle.cpu_system,
                receiver.cpu_user, receiver.cpu_system);
  }
  return 0;
}
