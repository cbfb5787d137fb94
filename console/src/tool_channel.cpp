#include "tether/console/tool_channel.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "tether/protocol/limits.hpp"

namespace tether::console {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using protocol::Error;

namespace {

// How long the relay and the agent get to accept a channel (the agent may hash a file first).
constexpr auto kOpenTimeout = std::chrono::seconds(60);

std::string error_text(const std::string& body, unsigned status) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    const auto& error = json["error"];
    std::string message = error.value("message", std::string("refused"));
    if (status == 401) message += " (run `tether login` again)";
    return message;
  }
  return "the relay answered HTTP " + std::to_string(status);
}

}  // namespace

std::string session_id_argument(const std::string& text) {
  std::string digits = text;
  if (digits.size() > 2 && (digits[0] == 'S' || digits[0] == 's') && digits[1] == '-') {
    digits = digits.substr(2);
  }
  if (digits.empty() || digits.size() > 18 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    throw CommandError("\"" + text.substr(0, 40) + "\" is not a session; use its number, e.g. S-1",
                       2);
  }
  return "S-" + digits;
}

int exit_status_for(const protocol::ChannelClose& close) {
  if (!close.code) return 0;
  const auto code = protocol::error_from_string(*close.code);
  if (code == Error::forbidden) return 4;
  if (code == Error::agent_offline || code == Error::session_ended) return 5;
  return 1;
}

void throw_if_failed(const protocol::ChannelClose& close) {
  if (!close.code) return;
  std::string message =
      close.reason.empty()
          ? std::string(protocol::describe(protocol::error_from_string(*close.code)))
          : close.reason;
  throw CommandError(message, exit_status_for(close));
}

protocol::ChannelClose run_tool(ApiClient& client, const ToolRequest& request, ToolBody body) {
  asio::io_context io;
  auto tls = protocol::make_client_context(client.trust());
  auto mux = std::make_shared<protocol::ChannelMux>(true, io, tls);
  std::optional<CommandError> failure;
  protocol::ChannelClose outcome;

  auto session = [&]() -> asio::awaitable<void> {
    auto& ws = mux->ws();
    try {
      co_await protocol::connect_tls(ws.next_layer(), client.url(), protocol::kHandshakeTimeout);
    } catch (const boost::system::system_error& e) {
      const bool identity = protocol::is_verification_failure(e.code());
      const std::error_code code = identity ? protocol::make_error_code(Error::identity_mismatch)
                                            : std::error_code(e.code());
      failure.emplace(protocol::describe_connection_error(code, client.url(), client.trust()),
                      identity ? kExitIdentity : 1);
      co_return;
    }
    websocket::stream_base::timeout limits{};
    limits.handshake_timeout = protocol::kHandshakeTimeout;
    limits.idle_timeout = protocol::kIdleTimeout;
    limits.keep_alive_pings = true;
    ws.set_option(limits);
    ws.read_message_max(protocol::kMaxControlMessageBytes);
    ws.auto_fragment(false);
    // Clients mask what they send through this buffer: a small one cuts every frame into
    // many small TLS records.
    ws.write_buffer_bytes(protocol::kMaxChannelFrameBytes);
    const std::string token = client.token();
    ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      req.set(http::field::user_agent, "tether/" TETHER_VERSION);
      req.set(http::field::authorization, "Bearer " + token);
    }));
    websocket::response_type response;
    const auto target = "/api/v1/sessions/" + request.session + "/channel";
    auto [ec] = co_await ws.async_handshake(response, client.url().authority(), target,
                                            asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (response.result_int() != 0 && response.result() != http::status::switching_protocols) {
        const auto status = response.result_int();
        failure.emplace(error_text(response.body(), status), status == 403   ? 4
                                                             : status == 409 ? 5
                                                                             : 1);
      } else {
        failure.emplace("cannot open a channel on the relay: " + ec.message());
      }
      co_return;
    }
    asio::co_spawn(io, mux->write_loop(), asio::detached);
    // The reader routes frames to the channel; anything else from the relay ends the tool.
    asio::co_spawn(
        io,
        [mux]() -> asio::awaitable<void> {
          for (;;) {
            auto message = co_await mux->next_message();
            if (!message && message.error().category() != protocol::error_category()) co_return;
          }
        },
        asio::detached);
    std::optional<protocol::ChannelClose> refusal;
    auto channel = co_await mux->open(request.kind, request.session, request.params, request.window,
                                      kOpenTimeout, &refusal);
    if (!channel) {
      if (refusal) {
        outcome = *refusal;
        co_await mux->close();
        co_return;
      }
      failure.emplace(std::string(protocol::describe(static_cast<Error>(channel.error().value()))),
                      channel.error() == Error::agent_offline ? 5 : 1);
      co_await mux->close();
      co_return;
    }
    ToolSession tool{*channel, mux, io.get_executor()};
    co_await body(tool);
    auto closed = co_await (*channel)->wait_closed();
    if (closed) {
      outcome = *closed;
    } else {
      outcome.reason = "stopped";
      outcome.code = "interrupted";
    }
    co_await mux->close();
  };
  asio::co_spawn(io, session(), [&](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const CommandError& e) {
        failure.emplace(e);
      } catch (const std::exception& e) {
        failure.emplace(std::string("tool failed: ") + e.what());
      }
    }
    io.stop();
  });
  io.run();
  if (failure) throw *failure;
  return outcome;
}

}  // namespace tether::console
