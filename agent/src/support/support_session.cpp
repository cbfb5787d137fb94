#include "tether/agent/support_session.hpp"
#include "tether/agent/host_name.hpp"

#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <deque>
#include <iostream>
#include <optional>
#include <thread>

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

#include "tether/agent/consent.hpp"
#include "tether/agent/diag/snapshot.hpp"
#include "tether/agent/session_host.hpp"
#include "tether/agent/tools/tool.hpp"
#include "tether/agent/uv_thread.hpp"
#include "tether/protocol/backoff.hpp"
#include "tether/protocol/channel_mux.hpp"
#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/limits.hpp"
#include "tether/protocol/message.hpp"
#include "tether/protocol/support_code.hpp"

namespace tether::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using protocol::Error;

std::string local_user() {
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    return pw->pw_name;
  }
  return "uid " + std::to_string(geteuid());
}

std::string os_description() {
  auto snapshot = diag::collect_snapshot({.root = "/", .sections = {"system"}});
  try {
    return snapshot.at("system").at("os").at("pretty_name").get<std::string>();
  } catch (const std::exception&) {
    return "Linux";
  }
}

// Names and titles come from other people: control characters must not reach the user's
// terminal, where they could hide or fake part of the consent prompt.
std::string printable(std::string text) {
  return SessionHost::printable(std::move(text));
}

SessionHostOptions host_options(const SupportOptions& options, std::ostream& out) {
  SessionHostOptions host;
  host.thresholds = options.thresholds;
  host.tools.files_root = options.files_root;
  host.tools.max_file_bytes = options.max_file_bytes;
  host.notify = [&out](const std::string& line) { out << line << std::endl; };
  return host;
}

class SupportAgent {
 public:
  explicit SupportAgent(const SupportOptions& options)
      : options_(options),
        out_(*options.output),
        tls_(protocol::make_client_context(options.trust)),
        signals_(io_, SIGINT, SIGTERM),
        hostname_(host_name()),
        os_(os_description()),
        host_(io_.get_executor(), uv_, host_options(options, out_)) {}

  int run() {
    signals_.async_wait([this](boost::system::error_code ec, int) {
      if (!ec) asio::co_spawn(io_, interrupted(), asio::detached);
    });
    asio::co_spawn(io_, main_loop(), asio::detached);
    io_.run();
    return exit_code_;
  }

 private:
  void finish(int code) {
    exit_code_ = code;
    done_ = true;
    signals_.cancel();
    if (consent_thread_.joinable()) consent_thread_.detach();  // Blocked on stdin; exit ends it.
    io_.stop();
  }

  asio::awaitable<void> main_loop() {
    protocol::Backoff backoff(std::chrono::milliseconds(250), std::chrono::seconds(30));
    while (!done_) {
      connection_ = std::make_shared<protocol::ChannelMux>(false, io_, tls_);
      auto connection = connection_;
      boost::system::error_code connect_error;
      try {
        co_await protocol::connect_agent_websocket(connection->ws(), options_.relay,
                                                   protocol::kHandshakeTimeout);
      } catch (const boost::system::system_error& e) {
        connect_error = e.code();
      }
      if (connect_error) {
        if (protocol::is_verification_failure(connect_error)) {
          out_ << "The relay at " << options_.relay.authority() << " is not the one you were told"
               << " to trust (" << options_.trust.describe() << "). Not connecting." << std::endl;
          std::cerr << "tether-agent: relay identity mismatch: " << connect_error.message() << "\n";
          finish(kExitIdentity);
          co_return;
        }
        const auto delay = backoff.next();
        std::cerr << "tether-agent: cannot reach relay " << options_.relay.authority() << ": "
                  << connect_error.message() << "; retrying in " << delay.count() << " ms\n";
        co_await sleep(delay);
        continue;
      }
      const bool keep_going = co_await serve(connection, backoff);
      if (!keep_going || done_) co_return;
      const auto delay = backoff.next();
      out_ << "Connection to the relay lost; reconnecting..." << std::endl;
      co_await sleep(delay);
    }
  }

  asio::awaitable<void> sleep(std::chrono::milliseconds delay) {
    asio::steady_timer timer(io_, delay);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  // Serves one connection. Returns false when the agent should stop (finish() was called).
  asio::awaitable<bool> serve(std::shared_ptr<protocol::ChannelMux> connection,
                              protocol::Backoff& backoff) {
    protocol::Hello hello;
    hello.version = protocol::kProtocolVersion;
    hello.role = "agent";
    hello.mode = "attended";
    hello.agent.version = TETHER_VERSION;
    hello.agent.hostname = hostname_;
    hello.agent.os = os_;
    if (!code_.empty()) hello.resume = protocol::Hello::Resume{code_, secret_};
    auto& ws = connection->ws();
    ws.auto_fragment(false);
    // Clients mask what they send through this buffer: a small one cuts every frame into
    // many small TLS records.
    ws.write_buffer_bytes(protocol::kMaxChannelFrameBytes);
    auto [write_ec, n] = co_await ws.async_write(asio::buffer(protocol::encode(hello)),
                                                 asio::as_tuple(asio::use_awaitable));
    if (write_ec) co_return true;
    asio::co_spawn(io_, connection->write_loop(), asio::detached);

    for (;;) {
      auto message = co_await connection->next_message();
      if (!message && message.error().category() != protocol::error_category()) {
        // The connection ended; its channels are closed (their processes stop).
        co_return !done_;
      }
      if (!message) {
        // The relay sent something this agent does not understand: say so and carry on.
        protocol::ErrorMessage error;
        error.code = std::string(protocol::to_string(static_cast<Error>(message.error().value())));
        error.message = message.error().message();
        connection->send(error);
        continue;
      }
      if (auto* welcome = std::get_if<protocol::Welcome>(&*message)) {
        backoff.reset();
        on_welcome(*welcome);
      } else if (auto* join = std::get_if<protocol::JoinRequest>(&*message)) {
        on_join(*join, connection);
      } else if (auto* open = std::get_if<protocol::ChannelOpen>(&*message)) {
        host_.on_channel_open(std::move(*open), connection);
      } else if (auto* request = std::get_if<protocol::DiagRequest>(&*message)) {
        asio::co_spawn(io_, host_.on_diag(*request, connection), asio::detached);
      } else if (auto* end = std::get_if<protocol::SessionEnd>(&*message)) {
        if (end->session.empty() || end->session == host_.session() ||
            end->session == asked_session_) {
          const auto reason = end->reason.empty() ? "" : ": " + printable(end->reason);
          if (!host_.session().empty()) {
            out_ << "Session " << host_.session() << " ended by " << printable(end->by) << reason
                 << "." << std::endl;
          } else if (!asked_session_.empty()) {
            out_ << "Session " << asked_session_ << " did not start" << reason << "." << std::endl;
          } else {
            out_ << "The relay ended this support request" << reason << "." << std::endl;
          }
          connection->close_all_channels("the session ended", Error::session_ended);
          co_await connection->close();
          finish(host_.session().empty() ? kExitFailed : kExitSessionEnded);
          co_return false;
        }
      } else if (auto* error = std::get_if<protocol::ErrorMessage>(&*message)) {
        if (on_relay_error(*error)) {
          co_await connection->close();
          co_return false;
        }
      }
    }
  }

  void on_welcome(const protocol::Welcome& welcome) {
    if (welcome.resumed) {
      out_ << "Reconnected to the relay; support code " << display_code(welcome.support_code)
           << " is still valid." << std::endl;
      return;
    }
    code_ = welcome.support_code;
    secret_ = welcome.secret.value_or("");
    out_ << "support code: " << display_code(code_) << std::endl;
    out_ << "Read this code to your technician. It is valid until " << welcome.expires_at
         << " and works once." << std::endl;
  }

  static std::string display_code(const std::string& digits) {
    auto code = protocol::SupportCode::parse(digits);
    return code ? code->display() : digits;
  }

  // Returns true when the error ends the agent.
  bool on_relay_error(const protocol::ErrorMessage& error) {
    const auto code = protocol::error_from_string(error.code);
    switch (code) {
      case Error::code_expired:
        out_ << "The support code expired before a technician joined. Run tether-agent support "
                "again for a new code."
             << std::endl;
        finish(kExitFailed);
        return true;
      case Error::code_invalid:
      case Error::code_used:
      case Error::session_ended:
        out_ << "The relay no longer knows this support session (" << error.message
             << "). Run tether-agent support again." << std::endl;
        finish(kExitFailed);
        return true;
      case Error::shutting_down:
        out_ << "The relay is restarting; reconnecting..." << std::endl;
        return false;
      default:
        std::cerr << "tether-agent: relay reported " << error.code << ": " << error.message << "\n";
        return false;
    }
  }

  void on_join(const protocol::JoinRequest& join,
               std::shared_ptr<protocol::ChannelMux> connection) {
    asked_session_ = join.session;
    out_ << "\n"
         << printable(join.technician) << " wants to join this PC for ticket "
         << printable(join.ticket.number) << " (" << printable(join.ticket.title) << ") as session "
         << printable(join.session) << ".\n"
         << "They ask to:\n";
    for (std::size_t i = 0; i < join.scopes.size(); ++i) {
      std::string_view meaning = "(unknown permission)";
      for (const auto& known : scope_descriptions()) {
        if (known.name == join.scopes[i]) meaning = known.meaning;
      }
      out_ << "  " << (i + 1) << ". " << printable(join.scopes[i]) << ": " << meaning << "\n";
    }
    out_ << std::flush;
    auto reply = [this, join, connection](std::vector<std::string> granted) {
      protocol::Consent consent;
      consent.id = join.id;
      consent.session = join.session;
      consent.granted = !granted.empty();
      consent.scopes = granted;
      consent.by = local_user();
      if (consent.granted) {
        host_.grant(join.session, granted);
        out_ << "Session " << join.session << " started; allowed: ";
        for (std::size_t i = 0; i < granted.size(); ++i) out_ << (i ? ", " : "") << granted[i];
        out_ << ".\nPress Ctrl-C (or type q and Enter) to end it at any time." << std::endl;
        start_end_key_reader();
      } else {
        out_ << "You refused the session; nothing was shared." << std::endl;
      }
      connection->send(consent);
    };
    if (options_.consent == ConsentMode::auto_grant) {
      auto granted = intersect_scopes(join.scopes, options_.grant);
      out_ << "Consent granted automatically (--consent auto)." << std::endl;
      reply(std::move(granted));
      return;
    }
    out_ << "Allow all of this? [y/N, or the numbers to allow only those, e.g. 1 3] " << std::flush;
    // Reading the terminal blocks, so it happens on its own thread; the answer comes back to
    // the network thread by post, and the connection keeps answering the relay's pings.
    if (consent_thread_.joinable()) consent_thread_.join();
    consent_thread_ = std::thread([this, reply, requested = join.scopes]() {
      std::optional<std::vector<std::string>> granted;
      std::string line;
      for (int attempt = 0; attempt < 3 && !granted; ++attempt) {
        if (!std::getline(*options_.input, line)) break;
        granted = parse_consent_answer(line, requested);
        if (!granted) {
          asio::post(io_, [this]() {
            out_ << "Please answer y, n, or the numbers of what to allow: " << std::flush;
          });
        }
      }
      asio::post(io_, [reply, g = granted.value_or(std::vector<std::string>{})]() { reply(g); });
    });
  }

  // After consent the user can end the session by typing q: read lines on a thread.
  void start_end_key_reader() {
    if (options_.input == nullptr || end_key_thread_started_) return;
    // Only from a terminal this agent has in the foreground: a background agent reading its
    // terminal would be stopped by the shell (SIGTTIN).
    if (options_.input != &std::cin || !isatty(STDIN_FILENO) ||
        tcgetpgrp(STDIN_FILENO) != getpgrp()) {
      return;
    }
    end_key_thread_started_ = true;
    std::thread([this]() {
      std::string line;
      while (std::getline(*options_.input, line)) {
        if (line == "q" || line == "Q" || line == "quit") {
          asio::post(io_, [this]() { asio::co_spawn(io_, interrupted(), asio::detached); });
          return;
        }
      }
    }).detach();
  }

  asio::awaitable<void> interrupted() {
    if (host_.session().empty()) {
      out_ << "\nStopped; no session was started." << std::endl;
      if (connection_) co_await connection_->close();
      finish(kExitInterrupted);
      co_return;
    }
    out_ << "\nEnding session " << host_.session() << "." << std::endl;
    if (connection_ && !connection_->connection_closed()) {
      connection_->close_all_channels("the user ended the session", Error::session_ended);
      connection_->send(protocol::SessionEnd{host_.session(), "ended by the user", local_user()});
      co_await connection_->close();
    }
    finish(kExitSessionEnded);
  }

  const SupportOptions& options_;
  std::ostream& out_;
  asio::io_context io_;
  asio::ssl::context tls_;
  asio::signal_set signals_;
  UvThread uv_;
  std::thread consent_thread_;
  std::shared_ptr<protocol::ChannelMux> connection_;
  std::string hostname_;
  std::string os_;
  std::string code_;
  std::string secret_;
  SessionHost host_;           // The session the user accepted, its scopes and tools.
  std::string asked_session_;  // The session the user was last asked about.
  bool end_key_thread_started_ = false;
  int exit_code_ = kExitFailed;
  bool done_ = false;
};

}  // namespace

std::filesystem::path home_directory() {
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') return home;
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return pw->pw_dir;
  }
  return "/";
}

int run_support(const SupportOptions& options) {
  SupportAgent agent(options);
  return agent.run();
}

}  // namespace tether::agent
