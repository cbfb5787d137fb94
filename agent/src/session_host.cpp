#include "tether/agent/session_host.hpp"

#include <algorithm>
#include <iostream>

#include <boost/asio/co_spawn.hpp>

#include "tether/agent/diag/snapshot.hpp"
#include "tether/agent/uv_thread.hpp"
#include "tether/protocol/limits.hpp"

namespace tether::agent {

namespace asio = boost::asio;
using protocol::Error;

SessionHost::SessionHost(asio::any_io_executor executor, UvThread& uv, SessionHostOptions options)
    : executor_(std::move(executor)), uv_(uv), options_(std::move(options)) {
  if (!options_.report_failure) {
    options_.report_failure = [](const std::string& line) { std::cerr << line << "\n"; };
  }
}

void SessionHost::grant(std::string session, std::vector<std::string> scopes) {
  session_ = std::move(session);
  scopes_ = std::move(scopes);
}

void SessionHost::end() {
  session_.clear();
  scopes_.clear();
}

bool SessionHost::allows(std::string_view scope) const {
  return active() && std::find(scopes_.begin(), scopes_.end(), scope) != scopes_.end();
}

std::string SessionHost::printable(std::string text) {
  for (auto& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return text;
}

void SessionHost::notify(const std::string& line) const {
  if (options_.notify) options_.notify(line);
}

void SessionHost::on_channel_open(protocol::ChannelOpen open,
                                  const std::shared_ptr<protocol::ChannelMux>& connection) {
  const auto* tool = find_tool(open.kind);
  if (tool == nullptr) {
    connection->refuse(open, Error::bad_request,
                       "this agent has no tool \"" + printable(open.kind.substr(0, 64)) + "\"");
    return;
  }
  if (session_.empty() || open.session != session_) {
    connection->refuse(open, Error::forbidden, options_.refusal);
    return;
  }
  if (!allows(tool->scope)) {
    notify("Refused: the technician asked to use \"" + printable(open.kind) + "\", which " +
           options_.grantor + " did not allow (" + std::string(tool->scope) + ").");
    connection->refuse(open, Error::forbidden, options_.refusal);
    return;
  }
  if (open.window == 0 || open.window > protocol::kMaxChannelWindow) {
    connection->refuse(open, Error::bad_message, "channel window out of range");
    return;
  }
  ToolContext context;
  context.executor = executor_;
  context.mux = connection;
  context.uv = &uv_;
  context.settings = &options_.tools;
  context.notify = [notify = options_.notify](const std::string& line) {
    if (notify) notify(printable(line));
  };
  asio::co_spawn(executor_, tool->handler(std::move(open), std::move(context)),
                 [report = options_.report_failure](std::exception_ptr error) {
                   if (!error) return;
                   try {
                     std::rethrow_exception(error);
                   } catch (const std::exception& e) {
                     report(std::string("tether-agent: a tool failed: ") + e.what());
                   }
                 });
}

asio::awaitable<void> SessionHost::on_diag(protocol::DiagRequest request,
                                           std::shared_ptr<protocol::ChannelMux> connection) {
  if (request.session != session_ || !allows("diagnostics")) {
    protocol::ErrorMessage refusal;
    refusal.code = std::string(protocol::to_string(Error::forbidden));
    refusal.message = options_.refusal;
    refusal.id = request.id;
    connection->send(refusal);
    co_return;
  }
  auto sections = request.sections;
  auto snapshot = co_await uv_.run([sections, thresholds = options_.thresholds]() {
    auto collected =
        diag::collect_snapshot({.root = "/", .sections = sections, .thresholds = thresholds});
    // Leave room for the envelope around the snapshot.
    if (!diag::fit_snapshot(collected, protocol::kMaxControlMessageBytes - 64 * 1024)) {
      collected = nlohmann::json{
          {"errors", nlohmann::json::array({nlohmann::json{{"section", "snapshot"},
                                                           {"message", "too large to send"}}})}};
    }
    return collected;
  });
  protocol::DiagResult result;
  result.id = request.id;
  result.session = request.session;
  result.snapshot = std::move(snapshot);
  connection->send(result);
  notify("The technician took a diagnostics snapshot.");
}

}  // namespace tether::agent
