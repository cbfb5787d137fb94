#include "webhooks/webhook_client.hpp"

#include <openssl/ssl.h>

#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "tether/protocol/tls.hpp"

namespace tether::relay {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// The Host header: the port only when it is not the scheme's default, as browsers send it.
std::string host_header(const WebhookTarget& target) {
  const bool ipv6 = target.host.find(':') != std::string::npos;
  const auto host = ipv6 ? "[" + target.host + "]" : target.host;
  const bool default_port = target.port == (target.tls ? "443" : "80");
  return default_port ? host : host + ":" + target.port;
}

// A short, printable excerpt of a receiver's error body for the delivery log.
std::string excerpt(const std::string& body) {
  std::string out;
  for (char c : body.substr(0, 200)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
  }
  if (body.size() > 200) out += "…";
  return out;
}

std::string describe(const boost::system::error_code& ec, const WebhookTarget& target) {
  if (ec == asio::error::connection_refused) {
    return "connection to " + target.authority() + " refused";
  }
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again) {
    return "cannot resolve " + target.host;
  }
  if (protocol::is_verification_failure(ec)) {
    return "TLS: the certificate of " + target.host + " did not verify (" +
           (target.ca_file.empty() ? std::string("system CA store") : target.ca_file.string()) +
           ", host name checked)";
  }
  if (ec.category() == asio::error::get_ssl_category() ||
      ec == asio::ssl::error::stream_truncated) {
    return "TLS handshake with " + target.authority() + " failed: " + ec.message();
  }
  if (ec == http::error::header_limit) return "response header larger than 16 KiB";
  if (ec == asio::error::eof || ec == http::error::end_of_stream) {
    return "the receiver closed the connection without answering";
  }
  return ec.message();
}

}  // namespace

std::unique_ptr<asio::ssl::context> make_webhook_tls_context(const WebhookTarget& target) {
  if (!target.ca_file.empty()) {
    auto anchor = protocol::TrustAnchor::from_ca_file(target.ca_file);
    if (!anchor) {
      throw std::runtime_error("webhook \"" + target.name + "\": cannot load ca_file " +
                               target.ca_file.string() + " (a PEM file of CA certificates)");
    }
    return std::make_unique<asio::ssl::context>(protocol::make_client_context(*anchor));
  }
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_options(context->native_handle(), SSL_OP_NO_RENEGOTIATION);
  boost::system::error_code ec;
  context->set_default_verify_paths(ec);
  if (ec) {
    throw std::runtime_error("webhook \"" + target.name +
                             "\": cannot load the system CA store: " + ec.message());
  }
  context->set_verify_mode(asio::ssl::verify_peer);
  return context;
}

std::shared_ptr<WebhookRequest> WebhookRequest::create(asio::any_io_executor executor,
                                                       const WebhookTarget& target,
                                                       asio::ssl::context* tls) {
  return std::shared_ptr<WebhookRequest>(new WebhookRequest(std::move(executor), target, tls));
}

WebhookRequest::WebhookRequest(asio::any_io_executor executor, const WebhookTarget& target,
                               asio::ssl::context* tls)
    : executor_(executor), target_(target), tls_(tls), resolver_(executor), deadline_(executor) {
  if (target_.tls && tls_ == nullptr) throw std::logic_error("https webhook without a context");
}

beast::tcp_stream& WebhookRequest::tcp() {
  return tls_stream_ ? beast::get_lowest_layer(*tls_stream_) : *plain_stream_;
}

void WebhookRequest::stop_io() {
  resolver_.cancel();
  if (tls_stream_ || plain_stream_) tcp().close();
}

void WebhookRequest::abort() {
  aborted_ = true;
  deadline_.cancel();
  stop_io();
}

asio::awaitable<WebhookAttemptOutcome> WebhookRequest::post(std::string delivery_id,
                                                            std::string event,
                                                            std::string signature,
                                                            std::string body) {
  auto self = shared_from_this();
  WebhookAttemptOutcome out;
  // One deadline for the whole exchange, resolution included (the resolver has no timer of
  // its own): when it fires, everything in progress is cancelled and reported as a timeout.
  deadline_.expires_after(target_.timeout);
  deadline_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto request = weak.lock()) {
      request->timed_out_ = true;
      request->stop_io();
    }
  });
  try {
    if (target_.tls) {
      tls_stream_.emplace(executor_, *tls_);
    } else {
      plain_stream_.emplace(executor_);
    }
    const auto endpoints =
        co_await resolver_.async_resolve(target_.host, target_.port, asio::use_awaitable);
    if (!timed_out_ && !aborted_) {
      co_await tcp().async_connect(endpoints, asio::use_awaitable);
      if (tls_stream_) {
        protocol::set_expected_host(tls_stream_->native_handle(), target_.host);
        co_await tls_stream_->async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
        co_await exchange(*tls_stream_, std::move(delivery_id), std::move(event),
                          std::move(signature), std::move(body), out);
      } else {
        co_await exchange(*plain_stream_, std::move(delivery_id), std::move(event),
                          std::move(signature), std::move(body), out);
      }
    }
  } catch (const boost::system::system_error& e) {
    out.error = describe(e.code(), target_);
  }
  deadline_.cancel();
  if (tls_stream_ || plain_stream_) {
    boost::system::error_code ignored;
    tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tcp().close();
  }
  if (aborted_) {
    out.aborted = true;
    out.delivered = false;
    out.error = "stopped: the relay is shutting down";
  } else if (timed_out_ && !out.delivered && !out.http_status) {
    out.error = "no answer within " + std::to_string(target_.timeout.count()) + " ms";
  }
  co_return out;
}

template <class Stream>
asio::awaitable<void> WebhookRequest::exchange(Stream& stream, std::string delivery_id,
                                               std::string event, std::string signature,
                                               std::string body, WebhookAttemptOutcome& out) {
  http::request<http::string_body> request{http::verb::post, target_.target, 11};
  request.set(http::field::host, host_header(target_));
  request.set(http::field::user_agent, "tether-relay/" TETHER_VERSION);
  request.set(http::field::content_type, "application/json");
  request.set("X-Tether-Event", event);
  request.set("X-Tether-Delivery", delivery_id);
  request.set("X-Tether-Signature", signature);
  request.keep_alive(false);
  request.body() = std::move(body);
  request.prepare_payload();
  co_await http::async_write(stream, request, asio::use_awaitable);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxWebhookResponseHeaderBytes);
  parser.body_limit(kMaxWebhookResponseBodyBytes);
  co_await http::async_read_header(stream, buffer, parser, asio::use_awaitable);
  const int status = static_cast<int>(parser.get().result_int());
  out.http_status = status;
  if (status >= 200 && status < 300) {
    // The status is the acknowledgement; the body is not needed.
    out.delivered = true;
    co_return;
  }
  // The start of the body usually says why; read what arrives within the deadline and limit.
  auto [ec, n] =
      co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
  (void)ec;
  (void)n;
  out.error = "HTTP " + std::to_string(status);
  if (const auto reason = parser.get().reason(); !reason.empty()) {
    out.error += " " + std::string(reason);
  }
  if (const auto text = excerpt(parser.get().body()); !text.empty()) out.error += ": " + text;
}

}  // namespace tether::relay
