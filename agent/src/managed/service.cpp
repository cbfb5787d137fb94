#include "tether/agent/managed/service.hpp"

#include <csignal>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>

#include "managed/certificate_renewal.hpp"
#include "managed/inventory_report.hpp"
#include "managed/unattended_consent.hpp"
#include "tether/agent/consent.hpp"
#include "tether/agent/diag/inventory.hpp"
#include "tether/agent/diag/snapshot.hpp"
#include "tether/agent/managed/enrollment.hpp"
#include "tether/agent/managed/state_dir.hpp"
#include "tether/agent/session_host.hpp"
#include "tether/agent/uv_thread.hpp"
#include "tether/protocol/backoff.hpp"
#include "tether/protocol/channel_mux.hpp"
#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/limits.hpp"
#include "tether/protocol/message.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::managed {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using protocol::Error;
using Clock = std::chrono::steady_clock;

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

/// A client context pinned to `trust` holding the device's key and certificate as they are
/// in the state directory now. Throws StateDirError naming the file that cannot be used.
std::shared_ptr<asio::ssl::context> device_tls(const protocol::TrustAnchor& trust,
                                               const std::filesystem::path& dir) {
  auto tls = std::make_shared<asio::ssl::context>(protocol::make_client_context(trust));
  const auto certificate = read_text(certificate_file(dir));
  const auto key = read_text(key_file(dir));
  boost::system::error_code ec;
  tls->use_certificate_chain(asio::buffer(certificate), ec);
  if (ec) throw StateDirError("cannot use the certificate in " + certificate_file(dir).string());
  tls->use_private_key(asio::buffer(key), asio::ssl::context::pem, ec);
  if (ec) throw StateDirError("cannot use the key in " + key_file(dir).string());
  return tls;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "nothing" : out;
}

std::vector<std::string> all_scopes() {
  std::vector<std::string> out;
  for (const auto& scope : scope_descriptions()) out.emplace_back(scope.name);
  return out;
}

SessionHostOptions host_options(const ServiceOptions& options, std::ostream& log) {
  SessionHostOptions host;
  host.thresholds = options.thresholds;
  host.tools.files_root = options.files_root;
  host.tools.max_file_bytes = options.max_file_bytes;
  host.refusal = "not permitted in this session";
  host.grantor = "the session";
  host.notify = [&log](const std::string& line) { log << "tether-agent: " << line << std::endl; };
  host.report_failure = [&log](const std::string& line) { log << line << std::endl; };
  return host;
}

class Service {
 public:
  Service(const ServiceOptions& options, AgentState state, protocol::RelayUrl url,
          protocol::TrustAnchor trust, std::ostream& log)
      : options_(options),
        state_(std::move(state)),
        url_(std::move(url)),
        trust_(std::move(trust)),
        log_(log),
        signals_(io_, SIGINT, SIGTERM),
        pause_(io_),
        schedule_(io_),
        host_(io_.get_executor(), uv_, host_options(options, log)),
        random_(std::random_device{}()) {
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
    asio::co_spawn(io_, inventory_schedule(), asio::detached);
    io_.run();
    return kServiceStopped;
  }

 private:
  void stop(int signal) {
    log_ << "tether-agent: " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << "; stopping"
         << std::endl;
    stopping_ = true;
    pause_.cancel();
    schedule_.cancel();
    if (auto connection = connection_) {
      if (connected_) {
        connection->close_all_channels("the agent is stopping", Error::shutting_down);
        asio::co_spawn(io_, connection->close(), asio::detached);
      } else {
        beast::get_lowest_layer(connection->ws()).cancel();
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
      std::string outcome;
      try {
        // From the files each time: a certificate renewed meanwhile is used from now on.
        tls_ = device_tls(trust_, options_.state_dir);
        auto connection = std::make_shared<protocol::ChannelMux>(false, io_, *tls_);
        connection_ = connection;
        co_await protocol::connect_agent_websocket(
            connection->ws(), url_, protocol::kHandshakeTimeout, protocol::kManagedAgentPath);
        outcome = co_await serve(connection, backoff);
      } catch (const boost::system::system_error& e) {
        outcome = protocol::describe_connection_error(e.code(), url_, trust_);
      } catch (const std::exception& e) {
        // A state file that cannot be used, or anything unexpected: this connection ends,
        // the service does not.
        outcome = e.what();
      }
      connected_ = false;
      welcomed_ = false;
      connection_.reset();
      // A report or a renewal the relay did not answer is forgotten: the next connection's
      // inventory_request resyncs, and the renewal is asked for again.
      in_flight_.clear();
      renew_id_.clear();
      if (stopping_) break;
      const auto delay = backoff.next();
      log_ << "tether-agent: " << outcome << "; retrying in " << delay.count() << " ms"
           << std::endl;
      pause_.expires_after(delay);
      co_await pause_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    io_.stop();
  }

  // One connection: hello, welcome, then serving the relay until it ends. Returns why it ended.
  asio::awaitable<std::string> serve(std::shared_ptr<protocol::ChannelMux> connection,
                                     protocol::Backoff& backoff) {
    protocol::Hello hello;
    hello.version = protocol::kProtocolVersion;
    hello.role = "agent";
    hello.mode = "managed";
    hello.device = state_.device;
    hello.agent.version = TETHER_VERSION;
    hello.agent.hostname = hostname_;
    hello.agent.os = os_;
    auto& ws = connection->ws();
    ws.text(true);
    ws.auto_fragment(false);
    ws.write_buffer_bytes(protocol::kMaxChannelFrameBytes);
    co_await ws.async_write(asio::buffer(protocol::encode(hello)), asio::use_awaitable);
    connected_ = true;
    if (stopping_) {
      co_await connection->close();
      co_return "stopping";
    }
    asio::co_spawn(io_, connection->write_loop(), asio::detached);
    std::string refusal;
    for (;;) {
      auto message = co_await connection->next_message();
      if (!message && message.error().category() != protocol::error_category()) {
        if (!refusal.empty()) co_return refusal;
        if (message.error() ==
            std::error_code(boost::system::error_code(websocket::error::closed))) {
          const auto& reason = ws.reason();
          co_return "the relay closed the connection (" + std::to_string(reason.code) +
              (reason.reason.empty()
                   ? ""
                   : " " + std::string(reason.reason.data(), reason.reason.size())) +
              ")";
        }
        co_return "connection to relay " + url_.authority() + " lost: " + message.error().message();
      }
      if (!message) {
        // Something this version does not know: say so and carry on.
        protocol::ErrorMessage error;
        error.code = std::string(protocol::to_string(static_cast<Error>(message.error().value())));
        error.message = message.error().message();
        connection->send(error);
        continue;
      }
      if (const auto* welcome = std::get_if<protocol::Welcome>(&*message)) {
        backoff.reset();
        welcomed_ = true;
        log_ << "tether-agent: connected to relay " << url_.authority() << " as "
             << welcome->device.value_or(state_.device) << std::endl;
        renew_if_due(connection);
      } else if (auto* join = std::get_if<protocol::JoinRequest>(&*message)) {
        on_join(*join, connection);
      } else if (auto* open = std::get_if<protocol::ChannelOpen>(&*message)) {
        host_.on_channel_open(std::move(*open), connection);
      } else if (auto* request = std::get_if<protocol::DiagRequest>(&*message)) {
        asio::co_spawn(io_, host_.on_diag(std::move(*request), connection), asio::detached);
      } else if (const auto* end = std::get_if<protocol::SessionEnd>(&*message)) {
        on_session_end(*end, connection);
      } else if (auto* inventory = std::get_if<protocol::InventoryRequest>(&*message)) {
        // The relay's view is the baseline of later scheduled deltas too.
        acked_ = inventory->known;
        asio::co_spawn(io_,
                       report_inventory(connection, inventory->id, inventory->full,
                                        std::move(inventory->known), true),
                       asio::detached);
      } else if (const auto* ack = std::get_if<protocol::InventoryAck>(&*message)) {
        acked_ = ack->hashes;
        if (ack->id == in_flight_) in_flight_.clear();
      } else if (const auto* issued = std::get_if<protocol::CertificateIssued>(&*message)) {
        on_certificate_issued(*issued);
      } else if (const auto* error = std::get_if<protocol::ErrorMessage>(&*message)) {
        on_relay_error(*error, refusal);
      }
    }
  }

  void on_relay_error(const protocol::ErrorMessage& error, std::string& refusal) {
    const auto message = SessionHost::printable(error.message.substr(0, 200));
    if (error.id && !in_flight_.empty() && *error.id == in_flight_) {
      // The relay asks for a full report next.
      log_ << "tether-agent: inventory: the relay refused report " << in_flight_ << ": "
           << error.code << ": " << message << std::endl;
      in_flight_.clear();
      return;
    }
    if (error.id && !renew_id_.empty() && *error.id == renew_id_) {
      log_ << "tether-agent: certificate: the relay refused to renew it: " << error.code << ": "
           << message << "; asking again on the next connection" << std::endl;
      return;
    }
    if (error.id) {
      log_ << "tether-agent: the relay reported " << error.code << " for " << *error.id << ": "
           << message << std::endl;
      return;
    }
    // The relay says why before it closes; that is the line worth logging.
    refusal = "the relay refused " + state_.device + ": " + error.code + ": " + message;
  }

  // --- Unattended sessions -------------------------------------------------------------

  void on_join(const protocol::JoinRequest& join,
               const std::shared_ptr<protocol::ChannelMux>& connection) {
    const auto users = logged_in_users(options_.utmp);
    const auto decision = decide_unattended(join.consent, users);
    const auto who = SessionHost::printable(join.technician) + " (ticket " +
                     SessionHost::printable(join.ticket.number) + ")";
    const std::string policy = join.consent ? SessionHost::printable(*join.consent) : "none";
    if (!decision.granted) {
      protocol::ErrorMessage refusal;
      refusal.code = std::string(protocol::to_string(Error::consent_refused));
      refusal.message = decision.reason;
      refusal.id = join.id;
      connection->send(refusal);
      log_ << "tether-agent: refused session " << SessionHost::printable(join.session) << " for "
           << who << ", consent policy " << policy << ": " << decision.reason << std::endl;
      return;
    }
    if (host_.active() && host_.session() != join.session) {
      log_ << "tether-agent: session " << host_.session() << " ends: the relay started "
           << SessionHost::printable(join.session) << std::endl;
      connection->close_all_channels("the session ended", Error::session_ended);
    }
    auto granted = intersect_scopes(join.scopes, all_scopes());
    host_.grant(join.session, granted);
    protocol::Consent consent;
    consent.id = join.id;
    consent.session = join.session;
    consent.granted = true;
    consent.scopes = granted;
    consent.by = decision.by;
    connection->send(consent);
    log_ << "tether-agent: session " << SessionHost::printable(join.session)
         << " started unattended for " << who << ", consent policy " << policy << " ("
         << (users ? (users->empty() ? "nobody logged in" : "users logged in") : "logins unknown")
         << "); allowed: " << joined(granted) << std::endl;
  }

  void on_session_end(const protocol::SessionEnd& end,
                      const std::shared_ptr<protocol::ChannelMux>& connection) {
    if (!host_.active() || (!end.session.empty() && end.session != host_.session())) return;
    const auto reason = end.reason.empty() ? "" : ": " + SessionHost::printable(end.reason);
    log_ << "tether-agent: session " << host_.session() << " ended by "
         << SessionHost::printable(end.by) << reason << std::endl;
    host_.end();
    connection->close_all_channels("the session ended", Error::session_ended);
  }

  // --- Inventory ------------------------------------------------------------------------

  struct Collected {
    diag::InventorySplit split;
    std::string collected_at;
  };

  // Collects on the uv thread and sends one report on `connection` if it is still the live
  // one. A relay request arriving during a collection is answered after it (only the latest
  // is kept); a scheduled one is dropped.
  asio::awaitable<void> report_inventory(std::shared_ptr<protocol::ChannelMux> connection,
                                         std::string id, bool full, protocol::SectionHashes known,
                                         bool requested) {
    if (collecting_) {
      if (requested) pending_ = protocol::InventoryRequest{id, full, std::move(known)};
      co_return;
    }
    collecting_ = true;
    std::optional<Collected> collected;
    try {
      collected = co_await uv_.run([thresholds = options_.thresholds]() {
        auto snapshot = diag::collect_snapshot({.root = "/",
                                                .sections = diag::inventory_sections(),
                                                .thresholds = thresholds,
                                                .findings = true});
        Collected out;
        out.split = diag::split_inventory(snapshot);
        auto at = snapshot.find("collected_at");
        out.collected_at = at != snapshot.end() && at->is_string()
                               ? at->get<std::string>()
                               : protocol::format_time(std::chrono::system_clock::now());
        return out;
      });
    } catch (const std::exception& e) {
      log_ << "tether-agent: inventory: collecting failed: " << e.what() << std::endl;
    }
    collecting_ = false;
    if (collected && !stopping_ && connection == connection_ && !connection->connection_closed()) {
      if (!requested) known = acked_;  // The relay's hashes may have moved meanwhile.
      auto built = build_inventory_report(collected->split, known, full, id, state_.device,
                                          collected->collected_at,
                                          protocol::kMaxControlMessageBytes - 64 * 1024);
      for (const auto& [name, bytes] : built.too_large) {
        log_ << "tether-agent: inventory: section " << name << " is too large to send (" << bytes
             << " bytes); the relay keeps its previous copy" << std::endl;
      }
      connection->send(built.report);
      in_flight_ = id;
      log_ << "tether-agent: inventory: sent " << built.sent << " of " << built.total
           << " sections (" << id << (full ? ", full" : "") << ")" << std::endl;
      reschedule();
    } else if (collected && !stopping_ && !pending_) {
      log_ << "tether-agent: inventory: not connected; the next connection resyncs" << std::endl;
    }
    if (pending_) {
      auto next = std::move(*pending_);
      pending_.reset();
      if (auto live = connection_; live && !live->connection_closed()) {
        asio::co_spawn(
            io_, report_inventory(live, std::move(next.id), next.full, std::move(next.known), true),
            asio::detached);
      }
    }
  }

  Clock::duration jittered_interval() {
    std::uniform_real_distribution<double> factor(0.9, 1.1);
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options_.inventory_interval) * factor(random_));
  }

  void reschedule() {
    next_report_ = Clock::now() + jittered_interval();
    schedule_.cancel();
  }

  // Unsolicited reports, every interval ± 10 %, counted from the last report sent.
  asio::awaitable<void> inventory_schedule() {
    next_report_ = Clock::now() + jittered_interval();
    while (!stopping_) {
      schedule_.expires_at(next_report_);
      co_await schedule_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (stopping_) break;
      if (Clock::now() < next_report_) continue;  // Rescheduled by a report just sent.
      next_report_ = Clock::now() + jittered_interval();
      auto connection = connection_;
      if (!connection || !welcomed_ || connection->connection_closed()) {
        log_ << "tether-agent: inventory: not connected; the next connection resyncs" << std::endl;
        continue;
      }
      renew_if_due(connection);
      if (!in_flight_.empty() || collecting_) {
        log_ << "tether-agent: inventory: report "
             << (in_flight_.empty() ? "being collected" : in_flight_)
             << " not yet acknowledged; skipping this one" << std::endl;
        continue;
      }
      asio::co_spawn(
          io_,
          report_inventory(connection, "inv-" + std::to_string(++reports_), false, acked_, false),
          asio::detached);
    }
  }

  // --- Certificate renewal --------------------------------------------------------------

  void renew_if_due(const std::shared_ptr<protocol::ChannelMux>& connection) {
    if (!renew_id_.empty()) return;  // Asked on this connection already.
    try {
      const auto certificate = read_text(certificate_file(options_.state_dir));
      const auto validity = certificate_validity(certificate);
      if (!validity) {
        log_ << "tether-agent: certificate: cannot read the validity of "
             << certificate_file(options_.state_dir).string() << std::endl;
        return;
      }
      if (!renewal_due(*validity, std::chrono::system_clock::now(), options_.renew_before)) {
        return;
      }
      const auto csr = make_request_for_key(read_text(key_file(options_.state_dir)), hostname_);
      renew_id_ = "renew-" + std::to_string(++renewals_);
      connection->send(protocol::CertificateRenew{renew_id_, csr});
      log_ << "tether-agent: certificate: valid until "
           << protocol::format_time(validity->not_after) << "; asking the relay to renew it ("
           << renew_id_ << ")" << std::endl;
    } catch (const std::exception& e) {
      log_ << "tether-agent: certificate: cannot ask for a renewal: " << e.what() << std::endl;
    }
  }

  void on_certificate_issued(const protocol::CertificateIssued& issued) {
    if (renew_id_.empty() || issued.id != renew_id_) {
      log_ << "tether-agent: certificate: ignored a certificate this agent did not ask for ("
           << SessionHost::printable(issued.id.substr(0, 64)) << ")" << std::endl;
      return;
    }
    try {
      const auto key = read_text(key_file(options_.state_dir));
      std::string ca;
      if (std::error_code ec; std::filesystem::exists(ca_file(options_.state_dir), ec)) {
        ca = read_text(ca_file(options_.state_dir));
      }
      const auto problem = check_issued_certificate(issued.certificate, key, ca, state_.device);
      if (!problem.empty()) {
        log_ << "tether-agent: certificate: the relay's renewed certificate is not used: "
             << problem << std::endl;
        return;
      }
      const auto validity = certificate_validity(issued.certificate);
      const auto not_after = validity ? protocol::format_time(validity->not_after)
                                      : SessionHost::printable(issued.expires_at.substr(0, 64));
      replace_certificate(options_.state_dir, issued.certificate, not_after);
      state_.not_after = not_after;
      log_ << "tether-agent: certificate: renewed, valid until " << not_after
           << "; used from the next connection" << std::endl;
    } catch (const std::exception& e) {
      log_ << "tether-agent: certificate: cannot keep the renewed certificate: " << e.what()
           << std::endl;
    }
  }

  const ServiceOptions& options_;
  AgentState state_;
  protocol::RelayUrl url_;
  protocol::TrustAnchor trust_;
  asio::io_context io_;
  std::ostream& log_;
  asio::signal_set signals_;
  asio::steady_timer pause_;
  asio::steady_timer schedule_;
  UvThread uv_;
  SessionHost host_;
  std::mt19937_64 random_;
  std::shared_ptr<asio::ssl::context> tls_;  // Of the current attempt.
  std::shared_ptr<protocol::ChannelMux> connection_;
  bool connected_ = false;
  bool welcomed_ = false;
  bool stopping_ = false;
  std::string hostname_;
  std::string os_;
  // Inventory: the hashes the relay holds, the report awaiting its ack, a relay request that
  // arrived during a collection.
  protocol::SectionHashes acked_;
  std::string in_flight_;
  bool collecting_ = false;
  std::optional<protocol::InventoryRequest> pending_;
  std::uint64_t reports_ = 0;
  Clock::time_point next_report_;
  // Certificate renewal asked for on this connection.
  std::string renew_id_;
  std::uint64_t renewals_ = 0;
};

}  // namespace

std::optional<std::chrono::seconds> parse_interval(std::string_view text) {
  const auto interval = protocol::parse_duration(text, std::chrono::seconds(1));
  if (!interval || *interval <= std::chrono::seconds(0) || *interval > std::chrono::days(365)) {
    return std::nullopt;
  }
  return interval;
}

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
  try {
    device_tls(*trust, options.state_dir);  // Unusable files end the service at once.
  } catch (const StateDirError& e) {
    log << "tether-agent: " << e.what() << "\n";
    return kServiceFailed;
  }
  log << "tether-agent: service for " << state->device << " starting; relay " << url->authority()
      << " (" << trust->describe() << ")" << std::endl;
  Service service(options, *state, *url, *trust, log);
  return service.run();
}

}  // namespace tether::agent::managed
