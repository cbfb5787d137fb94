// fleet_load: many managed agents in one process, for the scale benchmark of issue #6.
//
// Each simulated device does what `tether-agent enroll` and `tether-agent service` do, with the
// same code where the protocol library has it: an EC P-256 key made here and a CSR traded for
// a certificate at POST /api/v1/enroll (one token with --uses N), then a WebSocket on
// /agent/v1/managed over mutual TLS (protocol::connect_agent_websocket, relay pinned by its CA),
// `hello` (mode "managed"), wait for `welcome`, then read until the connection ends: Beast
// answers the relay's pings while the read is pending and any other message is ignored. On
// disconnect it waits protocol::Backoff (full jitter, base 1 s, cap 60 s as in
// agent/include/tether/agent/managed/service.hpp) and tries again, forever.
//
//   fleet_load --relay HOST:PORT --ca DATA/ca.pem [--token TOKEN] [-n N] [--state FILE]
//              [--enroll-only] [--enroll-concurrency K] [--ramp-s S] [--threads T]
//              [--report-ms MS] [--hold-s S]
//   fleet_load --plain HOST:PORT --ca CA --state FILE [-n N] ...
//
// --state FILE keeps every device's id, key and certificate (JSON lines) so that a later run
// against the same relay data directory needs no token; devices missing from it are enrolled
// with --token and appended. --enroll-only exits after enrolling. --ramp-s spreads the first
// connection of each device uniformly over S seconds (default N/1000), as a fleet that boots
// at different times does. --plain connects N TLS clients (the same client certificates, no
// WebSocket) to plain_tls_server instead: a device counts as connected when the server's one
// byte arrives after the handshake.
//
// Output (stdout): JSON lines. {"event":"enrolled",...} once; {"event":"status",...} every
// --report-ms with the connected count; {"event":"all_connected",...} when all N are first
// connected; and after connections were lost, {"event":"reconnected",...} when all N are back,
// with the time from the first loss and from the last SIGUSR1 ("mark": run.sh sends it as the
// restarted relay starts listening) and a histogram of arrivals per second after the mark.
// SIGINT/SIGTERM (or --hold-s) end the run with {"event":"summary",...}.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "tether/protocol/backoff.hpp"
#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/limits.hpp"
#include "tether/protocol/message.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using tether::protocol::Backoff;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

struct Options {
  std::string relay;
  std::string plain;
  std::filesystem::path ca;
  std::string token;
  std::size_t count = 10000;
  std::filesystem::path state;
  bool enroll_only = false;
  int enroll_concurrency = 8;
  double ramp_s = -1;
  int threads = 1;
  int report_ms = 1000;
  double hold_s = 0;
  int retry_base_ms = 1000;  // tether-agent service's ServiceOptions::retry_base
  int retry_cap_ms = 60000;  // and retry_cap
};

std::int64_t unix_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::mutex output_mutex;
void emit(const json& line) {
  std::lock_guard lock(output_mutex);
  std::cout << line.dump() << std::endl;
}
void note(const std::string& text) {
  std::lock_guard lock(output_mutex);
  std::cerr << "fleet_load: " << text << std::endl;
}

// ---- device credentials --------------------------------------------------------------------

struct Device {
  std::string id;  // "D-7"
  std::string key_pem;
  std::string certificate_pem;
  KeyPtr key;
  CertPtr certificate;
};

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL failed to ") + what);
}

template <class Write>
std::string to_pem(Write write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio && write(bio.get()) == 1, "encode PEM");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// Parses the PEM texts into the objects each TLS connection uses.
void load_objects(Device& device) {
  BioPtr key_bio(BIO_new_mem_buf(device.key_pem.data(), static_cast<int>(device.key_pem.size())));
  device.key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  BioPtr cert_bio(BIO_new_mem_buf(device.certificate_pem.data(),
                                  static_cast<int>(device.certificate_pem.size())));
  device.certificate.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  check(device.key && device.certificate, "read a device's key or certificate");
}

// The same key and request as agent/src/managed/enrollment.cpp (make_key_and_request).
std::pair<std::string, std::string> make_key_and_request(const std::string& hostname) {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  check(key != nullptr, "generate an EC P-256 key");
  ReqPtr request(X509_REQ_new());
  check(request != nullptr, "allocate a certificate request");
  X509_REQ_set_version(request.get(), 0);
  check(X509_REQ_set_pubkey(request.get(), key.get()) == 1, "set the request's key");
  X509_NAME* subject = X509_REQ_get_subject_name(request.get());
  check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(hostname.c_str()), -1, -1,
                                   0) == 1,
        "name the request");
  check(X509_REQ_sign(request.get(), key.get(), EVP_sha256()) > 0, "sign the request");
  auto key_pem = to_pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  auto csr_pem = to_pem([&](BIO* b) { return PEM_write_bio_X509_REQ(b, request.get()); });
  return {std::move(key_pem), std::move(csr_pem)};
}

std::vector<Device> read_state(const std::filesystem::path& file) {
  std::vector<Device> devices;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto entry = json::parse(line);
    Device device;
    device.id = entry.at("device").get<std::string>();
    device.key_pem = entry.at("key").get<std::string>();
    device.certificate_pem = entry.at("certificate").get<std::string>();
    load_objects(device);
    devices.push_back(std::move(device));
  }
  return devices;
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  RAND_bytes(raw.data(), static_cast<int>(raw.size()));
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

// Enrolls devices[first..count) over a few keep-alive HTTPS connections.
class Enroller {
 public:
  Enroller(const Options& options, tether::protocol::RelayUrl url, asio::ssl::context& tls,
           std::vector<Device>& devices, std::size_t first)
      : options_(options), url_(std::move(url)), tls_(tls), devices_(devices), next_(first) {}

  // Returns how many enrollments failed for good.
  std::size_t run() {
    asio::io_context io;
    for (int i = 0; i < options_.enroll_concurrency; ++i) {
      asio::co_spawn(io, worker(), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
    }
    io.run();
    return failed_;
  }

 private:
  asio::awaitable<void> worker() {
    std::optional<tether::protocol::TlsStream> stream;
    beast::flat_buffer buffer;
    const auto run_id = random_hex(4);
    for (;;) {
      const std::size_t index = next_++;
      if (index >= devices_.size()) co_return;
      const auto hostname = "fleet-" + run_id + "-" + std::to_string(index);
      auto [key_pem, csr_pem] = make_key_and_request(hostname);
      const json body = {{"token", options_.token},
                         {"csr", csr_pem},
                         {"identity",
                          {{"hostname", hostname},
                           {"os", "fleet_load"},
                           {"machine_id", random_hex(16)},
                           {"smbios_uuid", ""},
                           {"serials", json::array()},
                           {"macs", json::array()}}}};
      http::request<http::string_body> request{http::verb::post, "/api/v1/enroll", 11};
      request.set(http::field::host, url_.authority());
      request.set(http::field::content_type, "application/json");
      request.set(http::field::user_agent, "fleet_load/" TETHER_VERSION);
      request.body() = body.dump();
      request.prepare_payload();

      bool done = false;
      for (int attempt = 0; attempt < 20 && !done; ++attempt) {
        if (!stream) {
          stream.emplace(co_await asio::this_coro::executor, tls_);
          buffer.clear();
          auto [ec] = co_await asio::co_spawn(
              co_await asio::this_coro::executor,
              tether::protocol::connect_tls(*stream, url_, std::chrono::seconds(30)),
              asio::as_tuple(asio::use_awaitable));
          if (ec) {
            stream.reset();
            note("enrollment connection failed: " + describe(ec) + "; retrying");
            co_await pause(std::chrono::seconds(1));
            continue;
          }
        }
        beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(60));
        auto [write_ec, written] =
            co_await http::async_write(*stream, request, asio::as_tuple(asio::use_awaitable));
        http::response<http::string_body> response;
        boost::system::error_code read_ec = write_ec;
        if (!write_ec) {
          auto [ec, n] = co_await http::async_read(*stream, buffer, response,
                                                   asio::as_tuple(asio::use_awaitable));
          read_ec = ec;
        }
        if (read_ec) {
          stream.reset();  // The relay closed an idle keep-alive connection: open another.
          continue;
        }
        if (!response.keep_alive()) stream.reset();
        const auto answer = json::parse(response.body(), nullptr, false);
        if (response.result_int() == 201 && answer.is_object()) {
          Device& device = devices_[index];
          device.id = answer.value("device", "");
          device.certificate_pem = answer.value("certificate", "");
          device.key_pem = std::move(key_pem);
          load_objects(device);
          done = true;
        } else if (response.result_int() == 429 || response.result_int() >= 500) {
          note("enrollment answered " + std::to_string(response.result_int()) + ": " +
               response.body().substr(0, 200) + "; waiting 5 s");
          co_await pause(std::chrono::seconds(5));
        } else {
          note("enrollment of device " + std::to_string(index) + " refused (" +
               std::to_string(response.result_int()) + "): " + response.body().substr(0, 300));
          break;
        }
      }
      if (!done) ++failed_;
      if (++finished_ % 1000 == 0) note(std::to_string(finished_) + " enrollments done");
    }
  }

  static std::string describe(const std::exception_ptr& e) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const std::exception& x) {
      return x.what();
    }
    return "no error";
  }

  asio::awaitable<void> pause(Clock::duration d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  const Options& options_;
  tether::protocol::RelayUrl url_;
  asio::ssl::context& tls_;
  std::vector<Device>& devices_;
  std::size_t next_;
  std::size_t failed_ = 0;
  std::size_t finished_ = 0;
};

// ---- holding the connections ---------------------------------------------------------------

// Connected count and the arrivals of a reconnect episode. Shared by every thread.
class Tally {
 public:
  Tally(std::size_t total, Clock::time_point start) : total_(total), start_(start) {}

  void arrived() {
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    ++arrivals_;
    ++connected_;
    if (episode_) episode_arrivals_.push_back(now);
    if (connected_ != total_) return;
    if (!all_once_) {
      all_once_ = true;
      emit({{"event", "all_connected"},
            {"t", unix_ms()},
            {"connected", connected_},
            {"since_start_ms", ms(now - start_)}});
    } else if (episode_) {
      report_episode(now);
    }
  }

  void dropped() {
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    --connected_;
    ++drops_;
    // An episode starts with the first loss once all were connected.
    if (all_once_ && !episode_) {
      episode_ = true;
      first_drop_ = now;
      mark_.reset();
      episode_arrivals_.clear();
    }
  }

  void failed(const std::string& why) {
    std::lock_guard lock(mutex_);
    ++failures_;
    ++failure_kinds_[why];
  }

  // SIGUSR1: the relay (or server) is listening again.
  void mark() {
    std::lock_guard lock(mutex_);
    mark_ = Clock::now();
    emit({{"event", "mark"}, {"t", unix_ms()}, {"connected", connected_}});
  }

  json status() {
    std::lock_guard lock(mutex_);
    return {{"event", "status"},
            {"t", unix_ms()},
            {"connected", connected_},
            {"arrivals", arrivals_},
            {"drops", drops_},
            {"failures", failures_},
            {"of", total_},
            {"since_start_ms", ms(Clock::now() - start_)}};
  }

  json summary() {
    std::lock_guard lock(mutex_);
    json kinds = json::object();
    for (const auto& [why, n] : failure_kinds_) kinds[why] = n;
    return {{"event", "summary"},    {"t", unix_ms()},        {"connected", connected_},
            {"of", total_},          {"arrivals", arrivals_}, {"drops", drops_},
            {"failures", failures_}, {"failure_kinds", kinds}};
  }

 private:
  static std::int64_t ms(Clock::duration d) {
    return std::chrono::duration_cast<milliseconds>(d).count();
  }

  void report_episode(Clock::time_point now) {
    // Histogram from the mark (the restarted relay listening) or, without one, the first loss.
    const auto origin = mark_.value_or(first_drop_);
    std::vector<std::int64_t> per_second;
    std::map<std::int64_t, std::int64_t> per_100ms;
    std::vector<std::int64_t> offsets;
    for (const auto at : episode_arrivals_) {
      const auto offset = std::max<std::int64_t>(0, ms(at - origin));
      offsets.push_back(offset);
      const auto second = static_cast<std::size_t>(offset / 1000);
      if (per_second.size() <= second) per_second.resize(second + 1, 0);
      ++per_second[second];
      ++per_100ms[offset / 100];
    }
    std::sort(offsets.begin(), offsets.end());
    auto sorted = per_second;
    std::sort(sorted.begin(), sorted.end());
    auto quantile = [](const std::vector<std::int64_t>& v, double q) -> std::int64_t {
      if (v.empty()) return 0;
      return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
    };
    std::int64_t max_100ms = 0;
    for (const auto& [bin, n] : per_100ms) max_100ms = std::max(max_100ms, n);
    emit({{"event", "reconnected"},
          {"t", unix_ms()},
          {"connected", connected_},
          {"since_first_drop_ms", ms(now - first_drop_)},
          {"since_mark_ms", mark_ ? json(ms(now - *mark_)) : json(nullptr)},
          {"mark_after_first_drop_ms", mark_ ? json(ms(*mark_ - first_drop_)) : json(nullptr)},
          {"arrivals", episode_arrivals_.size()},
          {"arrival_ms_p50", quantile(offsets, 0.5)},
          {"arrival_ms_p90", quantile(offsets, 0.9)},
          {"arrival_ms_max", offsets.empty() ? 0 : offsets.back()},
          {"per_second", per_second},
          {"per_second_p50", quantile(sorted, 0.5)},
          {"per_second_p90", quantile(sorted, 0.9)},
          {"per_second_max", sorted.empty() ? 0 : sorted.back()},
          {"per_100ms_max", max_100ms}});
    episode_ = false;
    mark_.reset();
    episode_arrivals_.clear();
  }

  std::mutex mutex_;
  const std::size_t total_;
  const Clock::time_point start_;
  std::size_t connected_ = 0;
  std::size_t arrivals_ = 0;
  std::size_t drops_ = 0;
  std::size_t failures_ = 0;
  std::map<std::string, std::size_t> failure_kinds_;
  bool all_once_ = false;
  bool episode_ = false;
  Clock::time_point first_drop_{};
  std::optional<Clock::time_point> mark_;
  std::vector<Clock::time_point> episode_arrivals_;
};

// A short, stable name for why an attempt failed, for the failure counts.
std::string failure_kind(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return "timeout";
  if (ec == asio::error::connection_refused) return "refused";
  if (ec == asio::error::connection_reset) return "reset";
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return "eof";
  return ec.category().name() + std::string(":") + std::to_string(ec.value());
}

class Fleet {
 public:
  Fleet(const Options& options, tether::protocol::RelayUrl url, asio::ssl::context& tls,
        std::vector<Device>& devices, Tally& tally)
      : options_(options), url_(std::move(url)), tls_(tls), devices_(devices), tally_(tally) {}

  asio::awaitable<void> device_loop(std::size_t index, Clock::duration first_delay) {
    const Device& device = devices_[index];
    Backoff backoff(milliseconds(options_.retry_base_ms), milliseconds(options_.retry_cap_ms),
                    std::random_device{}() ^ (static_cast<std::uint64_t>(index) << 32));
    co_await pause(first_delay);
    for (;;) {
      bool welcomed = false;
      {
        tether::protocol::WsStream ws(co_await asio::this_coro::executor, tls_);
        // One client context for all; each connection presents its own device's certificate.
        SSL* ssl = ws.next_layer().native_handle();
        SSL_use_certificate(ssl, device.certificate.get());
        SSL_use_PrivateKey(ssl, device.key.get());
        try {
          if (options_.plain.empty()) {
            co_await serve_managed(ws, device, welcomed, backoff);
          } else {
            co_await serve_plain(ws.next_layer(), welcomed, backoff);
          }
        } catch (const boost::system::system_error& e) {
          if (!welcomed) tally_.failed(failure_kind(e.code()));
        } catch (const std::exception& e) {
          tally_.failed(std::string("exception: ") + e.what());
        }
      }
      if (welcomed) tally_.dropped();
      co_await pause(backoff.next());
    }
  }

 private:
  // One managed connection, like agent/src/managed/service.cpp's serve(): returns when it ends.
  asio::awaitable<void> serve_managed(tether::protocol::WsStream& ws, const Device& device,
                                      bool& welcomed, Backoff& backoff) {
    co_await tether::protocol::connect_agent_websocket(
        ws, url_, tether::protocol::kHandshakeTimeout, tether::protocol::kManagedAgentPath);
    tether::protocol::Hello hello;
    hello.version = tether::protocol::kProtocolVersion;
    hello.role = "agent";
    hello.mode = "managed";
    hello.device = device.id;
    hello.agent.version = TETHER_VERSION;
    hello.agent.hostname = "fleet-" + device.id;
    hello.agent.os = "fleet_load";
    ws.text(true);
    co_await ws.async_write(asio::buffer(tether::protocol::encode(hello)), asio::use_awaitable);
    beast::flat_buffer buffer;
    for (;;) {
      buffer.clear();
      auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (!welcomed) tally_.failed("closed before welcome: " + failure_kind(ec));
        co_return;
      }
      if (welcomed || !ws.got_text()) continue;  // inventory_request and the like: ignored
      const auto message = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
      const auto type = message.is_object() ? message.value("type", "") : std::string();
      if (type == "welcome") {
        welcomed = true;
        backoff.reset();
        tally_.arrived();
      } else if (type == "error") {
        tally_.failed("refused: " + message.value("code", "?"));
      }
    }
  }

  // One plain TLS connection to plain_tls_server: connected once its byte arrives.
  asio::awaitable<void> serve_plain(tether::protocol::TlsStream& stream, bool& welcomed,
                                    Backoff& backoff) {
    co_await tether::protocol::connect_tls(stream, url_, tether::protocol::kHandshakeTimeout);
    char byte = 0;
    for (;;) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(&byte, 1),
                                                     asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (!welcomed) tally_.failed("closed before its byte: " + failure_kind(ec));
        co_return;
      }
      if (!welcomed) {
        welcomed = true;
        backoff.reset();
        tally_.arrived();
      }
    }
  }

  static asio::awaitable<void> pause(Clock::duration d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  const Options& options_;
  tether::protocol::RelayUrl url_;
  asio::ssl::context& tls_;
  std::vector<Device>& devices_;
  Tally& tally_;
};

void raise_descriptor_limit(std::size_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t want = std::max<rlim_t>(limit.rlim_cur, needed);
  if (limit.rlim_max < want) {
    rlimit raised{want, want};  // Works as root (CAP_SYS_RESOURCE); else keep the hard limit.
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
  }
  limit.rlim_cur = std::min(want, limit.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < needed) {
    note("descriptor limit " + std::to_string(limit.rlim_cur) + " is below the " +
         std::to_string(needed) + " needed; run `ulimit -n " + std::to_string(needed) + "` first");
  }
}

int run(const Options& options) {
  const bool plain = !options.plain.empty();
  auto url = tether::protocol::RelayUrl::parse("wss://" + (plain ? options.plain : options.relay));
  if (!url) {
    note("cannot parse the address " + (plain ? options.plain : options.relay));
    return 2;
  }
  auto trust = tether::protocol::TrustAnchor::from_ca_file(options.ca);
  if (!trust) {
    note("cannot read a CA certificate from " + options.ca.string());
    return 2;
  }
  asio::ssl::context tls = tether::protocol::make_client_context(*trust);
  raise_descriptor_limit(options.count + options.enroll_concurrency + 64);

  // Credentials: from --state, then enroll what is missing.
  std::vector<Device> devices;
  if (!options.state.empty() && std::filesystem::exists(options.state)) {
    devices = read_state(options.state);
    note("read " + std::to_string(devices.size()) + " devices from " + options.state.string());
  }
  const std::size_t known = std::min(devices.size(), options.count);
  devices.resize(options.count);
  if (known < options.count) {
    if (plain || options.token.empty()) {
      note("need " + std::to_string(options.count - known) +
           " more enrolled devices: give --token (and --relay), or a --state file with enough");
      return 2;
    }
    const auto started = Clock::now();
    Enroller enroller(options, *url, tls, devices, known);
    const auto failed = enroller.run();
    const auto took = std::chrono::duration<double>(Clock::now() - started).count();
    emit({{"event", "enrolled"},
          {"t", unix_ms()},
          {"enrolled", options.count - known - failed},
          {"failed", failed},
          {"seconds", took},
          {"per_second", static_cast<double>(options.count - known - failed) / took}});
    if (failed > 0) return 1;
    if (!options.state.empty()) {
      std::ofstream out(options.state, std::ios::app);
      for (std::size_t i = known; i < options.count; ++i) {
        out << json{{"device", devices[i].id},
                    {"key", devices[i].key_pem},
                    {"certificate", devices[i].certificate_pem}}
                   .dump()
            << "\n";
      }
      std::filesystem::permissions(
          options.state, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
  }
  if (options.enroll_only) return 0;

  asio::io_context io(options.threads);
  const auto start = Clock::now();
  Tally tally(options.count, start);
  Fleet fleet(options, *url, tls, devices, tally);
  const double ramp_s =
      options.ramp_s >= 0 ? options.ramp_s : static_cast<double>(options.count) / 1000.0;
  std::mt19937_64 random(std::random_device{}());
  std::uniform_int_distribution<std::int64_t> spread(
      0, std::max<std::int64_t>(0, static_cast<std::int64_t>(ramp_s * 1000)));
  for (std::size_t i = 0; i < options.count; ++i) {
    asio::co_spawn(asio::make_strand(io), fleet.device_loop(i, milliseconds(spread(random))),
                   asio::detached);
  }

  // Status lines, the mark, and the end of the run.
  asio::steady_timer report(io);
  std::function<void()> tick = [&] {
    report.expires_after(milliseconds(options.report_ms));
    report.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      emit(tally.status());
      tick();
    });
  };
  tick();
  asio::signal_set mark(io, SIGUSR1);
  std::function<void()> wait_mark = [&] {
    mark.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      tally.mark();
      wait_mark();
    });
  };
  wait_mark();
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](boost::system::error_code, int) { io.stop(); });
  asio::steady_timer hold(io);
  if (options.hold_s > 0) {
    hold.expires_after(milliseconds(static_cast<std::int64_t>(options.hold_s * 1000)));
    hold.async_wait([&](boost::system::error_code ec) {
      if (!ec) io.stop();
    });
  }
  std::vector<std::jthread> workers;
  for (int i = 1; i < options.threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  io.stop();
  workers.clear();
  emit(tally.summary());
  // Thousands of connections would close one by one in the destructors: the kernel does it
  // at once when the process ends.
  std::cout.flush();
  std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fleet_load: enroll and hold many managed agents (bench/fleet, issue #6)"};
  Options options;
  app.add_option("--relay", options.relay, "Relay HOST:PORT (managed agents)");
  app.add_option("--plain", options.plain, "plain_tls_server HOST:PORT (TLS clients only)");
  app.add_option("--ca", options.ca, "CA certificate pinning the relay (DATA/ca.pem)")->required();
  app.add_option("--token", options.token, "Enrollment token (tether-relay token create)");
  app.add_option("-n,--count", options.count, "Number of devices (default 10000)");
  app.add_option("--state", options.state, "Keep keys and certificates in FILE (JSON lines)");
  app.add_flag("--enroll-only", options.enroll_only, "Exit after enrolling");
  app.add_option("--enroll-concurrency", options.enroll_concurrency,
                 "Enrollment requests in flight (default 8)");
  app.add_option("--ramp-s", options.ramp_s, "Spread first connections over S s (default N/1000)");
  app.add_option("--threads", options.threads, "Threads running the connections (default 1)");
  app.add_option("--report-ms", options.report_ms, "Status line interval (default 1000)");
  app.add_option("--hold-s", options.hold_s, "Stop after S s (default: at SIGINT/SIGTERM)");
  app.add_option("--retry-base-ms", options.retry_base_ms, "Backoff base (default 1000)");
  app.add_option("--retry-cap-ms", options.retry_cap_ms, "Backoff cap (default 60000)");
  CLI11_PARSE(app, argc, argv);
  if (options.relay.empty() == options.plain.empty()) {
    std::cerr << "fleet_load: give exactly one of --relay and --plain\n";
    return 2;
  }
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "fleet_load: " << e.what() << "\n";
    return 1;
  }
}
