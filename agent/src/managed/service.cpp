#include "tether/agent/managed/service.hpp"

#include <csignal>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "tether/agent/managed/enrollment.hpp"
#include "tether/agent/managed/state_dir.hpp"
#include "tether/protocol/backoff.hpp"
#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/limits.hpp"
#include "tether/protocol/message.hpp"

namespace tether::agent::managed {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw StateDirError("cannot read " + file.string());
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

/// The relay as agent.json pins it: its fingerprint, else the CA file given to enroll, else
/// the CA the relay returned at enrollment (kept in the state dir).
std::optional<protocol::TrustAnchor> pinned_relay(const AgentState& state,
                                                  const std::filesystem::path& dir,
                                                  std::ostream& log) {
  if (!state.fingerprint.empty()) {
    auto trust = protocol::TrustAnchor::from_fingerprint(state.fingerprint);
    if (trust) return *trust;
    log << "tether-agent: agent.json holds a malformed fingerprint\n";
    return std::nullopt;
  }
  if (!state.ca.empty()) {
    if (auto trust = protocol::TrustAnchor::from_ca_file(state.ca)) return *trust;
    log << "tether-agent: cannot read the CA file " << state.ca << "; using "
        << ca_file(dir).string() << " from enrollment\n";
  }
  auto trust = protocol::TrustAnchor::from_ca_file(ca_file(dir));
  if (trust) return *trust;
  log << "tether-agent: cannot read a CA certificate from " << ca_file(dir).string() << "\n";
  return std::nullopt;
}

class Service {
 public:
  Service(const ServiceOptions& options, AgentState state, protocol::RelayUrl url,
          protocol::TrustAnchor trust, asio::ssl::context tls, std::ostream& log)
      : options_(options),
        state_(std::move(state)),
        url_(std::move(url)),
        trust_(std::move(trust)),
        tls_(std::move(tls)),
        log_(log),
        signals_(io_, SIGINT, SIGTERM),
        pause_(io_) {
    const auto identity = machine_identity("/");
    hostname_ = identity.value("hostname", "unknown");
    os_ = identity.value("os", "");
    if (hostname_.empty()) hostname_ = "unknown";
  }

  int run() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (!ec) stop(signal);
    });
    asio::co_spawn(io_, main_loop(), asio::detached);
    io_.run();
    return kServiceStopped;
  }

 private:
  void stop(int signal) {
    log_ << "tether-agent: " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << "; stopping"
         << std::endl;
    stopping_ = true;
    pause_.cancel();
    if (auto ws = current_) {
      if (connected_) {
        ws->async_close(websocket::close_code::going_away, [ws](boost::system::error_code) {
          boost::system::error_code ignored;
          beast::get_lowest_layer(*ws).socket().close(ignored);
        });
      } else {
        beast::get_lowest_layer(*ws).cancel();
      }
    }
    // Whatever is still in flight (a DNS lookup, a relay that never answers the close) ends
    // with the loop, a moment later.
    auto backstop = std::make_shared<asio::steady_timer>(io_, std::chrono::seconds(3));
    backstop->async_wait([this, backstop](boost::system::error_code) { io_.stop(); });
  }

  asio::awaitable<void> main_loop() {
    protocol::Backoff backoff(options_.retry_base, options_.retry_cap);
    while (!stopping_) {
      auto ws = std::make_shared<protocol::WsStream>(io_, tls_);
      current_ = ws;
      std::string outcome;
      try {
        co_await protocol::connect_agent_websocket(*ws, url_, protocol::kHandshakeTimeout,
                                                   protocol::kManagedAgentPath);
        outcome = co_await serve(*ws, backoff);
      } catch (const boost::system::system_error& e) {
        outcome = protocol::describe_connection_error(e.code(), url_, trust_);
      }
      connected_ = false;
      current_.reset();
      if (stopping_) break;
      const auto delay = backoff.next();
      log_ << "tether-agent: " << outcome << "; retrying in " << delay.count() << " ms"
           << std::endl;
      pause_.expires_after(delay);
      co_await pause_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    io_.stop();
  }

  // One connection: hello, welcome, then reading until it ends. Returns why it ended.
  asio::awaitable<std::string> serve(protocol::WsStream& ws, protocol::Backoff& backoff) {
    protocol::Hello hello;
    hello.version = protocol::kProtocolVersion;
    hello.role = "agent";
    hello.mode = "managed";
    hello.device = state_.device;
    hello.agent.version = TETHER_VERSION;
    hello.agent.hostname = hostname_;
    hello.agent.os = os_;
    ws.text(true);
    co_await ws.async_write(asio::buffer(protocol::encode(hello)), asio::use_awaitable);
    connected_ = true;
    beast::flat_buffer buffer;
    std::string refusal;
    for (;;) {
      buffer.clear();
      auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (!refusal.empty()) co_return refusal;
        if (ec == websocket::error::closed) {
          const auto& reason = ws.reason();
          co_return "the relay closed the connection (" + std::to_string(reason.code) +
              (reason.reason.empty()
                   ? ""
                   : " " + std::string(reason.reason.data(), reason.reason.size())) +
              ")";
        }
        co_return "connection to relay " + url_.authority() + " lost: " + ec.message();
      }
      if (!ws.got_text()) continue;
      auto message = protocol::parse_message(beast::buffers_to_string(buffer.data()));
      if (!message) {
        // Something this version does not know: say so and carry on.
        protocol::ErrorMessage error;
        error.code =
            std::string(protocol::to_string(static_cast<protocol::Error>(message.error().value())));
        error.message = message.error().message();
        co_await ws.async_write(asio::buffer(protocol::encode(error)), asio::use_awaitable);
        continue;
      }
      if (const auto* welcome = std::get_if<protocol::Welcome>(&*message)) {
        backoff.reset();
        log_ << "tether-agent: connected to relay " << url_.authority() << " as "
             << welcome->device.value_or(state_.device) << std::endl;
      } else if (const auto* error = std::get_if<protocol::ErrorMessage>(&*message)) {
        // The relay says why before it closes; that is the line worth logging.
        refusal = "the relay refused " + state_.device + ": " + error->code + ": " +
                  error->message.substr(0, 200);
      } else if (const auto* request = std::get_if<protocol::DiagRequest>(&*message)) {
        protocol::ErrorMessage error;
        error.code = std::string(protocol::to_string(protocol::Error::forbidden));
        error.message = "diagnostics of managed devices are not available in this version";
        error.id = request->id;
        co_await ws.async_write(asio::buffer(protocol::encode(error)), asio::use_awaitable);
      }
    }
  }

 private:
  const ServiceOptions& options_;
  AgentState state_;
  protocol::RelayUrl url_;
  protocol::TrustAnchor trust_;
  asio::io_context io_;
  asio::ssl::context tls_;
  std::ostream& log_;
  asio::signal_set signals_;
  asio::steady_timer pause_;
  std::shared_ptr<protocol::WsStream> current_;
  bool connected_ = false;
  bool stopping_ = false;
  std::string hostname_;
  std::string os_;
};

}  // namespace

int run_service(const ServiceOptions& options, std::ostream& log) {
  std::optional<AgentState> state;
  try {
    state = read_state(options.state_dir);
  } catch (const StateDirError& e) {
    log << "tether-agent: " << e.what() << "\n";
    return kServiceNotEnrolled;
  }
  if (!state) {
    log << "tether-agent: " << options.state_dir.string()
        << " holds no enrollment; run `tether-agent enroll` first\n";
    return kServiceNotEnrolled;
  }
  auto url = protocol::RelayUrl::parse(state->relay);
  if (!url) {
    log << "tether-agent: agent.json names an unusable relay URL: " << state->relay << "\n";
    return kServiceNotEnrolled;
  }
  auto trust = pinned_relay(*state, options.state_dir, log);
  if (!trust) return kServiceNotEnrolled;
  auto tls = protocol::make_client_context(*trust);
  try {
    const auto certificate = read_text(certificate_file(options.state_dir));
    const auto key = read_text(key_file(options.state_dir));
    boost::system::error_code ec;
    tls.use_certificate_chain(asio::buffer(certificate), ec);
    if (ec)
      throw StateDirError("cannot use the certificate in " +
                          certificate_file(options.state_dir).string());
    tls.use_private_key(asio::buffer(key), asio::ssl::context::pem, ec);
    if (ec) throw StateDirError("cannot use the key in " + key_file(options.state_dir).string());
  } catch (const StateDirError& e) {
    log << "tether-agent: " << e.what() << "\n";
    return kServiceFailed;
  }
  log << "tether-agent: service for " << state->device << " starting; relay " << url->authority()
      << " (" << trust->describe() << ")" << std::endl;
  Service service(options, *state, *url, *trust, std::move(tls), log);
  return service.run();
}

}  // namespace tether::agent::managed
