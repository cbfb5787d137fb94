#pragma once
/// The technician's side of a support session on an agent, whoever granted it: the session
/// the user (attended) or the device's policy (managed, unattended) accepted and its scopes,
/// the tools opened on channels within those scopes, and diagnostics snapshots. Both
/// `tether-agent support` and `tether-agent service` own one per process.
///
/// Everything runs on the agent's main (Asio) thread, except collecting a snapshot, which goes
/// to the UvThread. Not thread-safe.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "tether/agent/diag/findings.hpp"
#include "tether/agent/tools/tool.hpp"
#include "tether/protocol/channel_mux.hpp"
#include "tether/protocol/message.hpp"

namespace tether::agent {

class UvThread;

struct SessionHostOptions {
  diag::Thresholds thresholds;  ///< Health-check thresholds of diagnostics snapshots.
  ToolSettings tools;           ///< Files root and size limit of the file tools.
  /// The reason the technician reads when a tool or snapshot is outside the grant.
  std::string refusal = "not permitted by the user";
  /// Who granted the scopes, as the out-of-scope notice names them: "Refused: the
  /// technician asked to use "shell", which <grantor> did not allow (shell)."
  std::string grantor = "you";
  /// What the person at the PC (or the journal) is told: one line, no control characters.
  std::function<void(const std::string&)> notify;
  /// Where failures of a tool's coroutine are reported (stderr lines by default).
  std::function<void(const std::string&)> report_failure;
};

class SessionHost {
 public:
  /// `uv` must outlive the host; `executor` is the main thread's.
  SessionHost(boost::asio::any_io_executor executor, UvThread& uv, SessionHostOptions options);

  /// The session `session` is accepted with `scopes`; it replaces any earlier one.
  void grant(std::string session, std::vector<std::string> scopes);
  /// No session any more: later tools and snapshots are refused.
  void end();

  bool active() const { return !session_.empty(); }
  const std::string& session() const { return session_; }
  const std::vector<std::string>& scopes() const { return scopes_; }
  /// True when a session is active and `scope` was granted.
  bool allows(std::string_view scope) const;

  /// A technician's tool: refused (channel_close with a reason) for an unknown kind, another
  /// session, a scope not granted or a window out of range; otherwise its handler runs as a
  /// coroutine on the executor.
  void on_channel_open(protocol::ChannelOpen open,
                       const std::shared_ptr<protocol::ChannelMux>& connection);
  /// A snapshot: `error forbidden` unless `request.session` is the active session and
  /// "diagnostics" was granted; otherwise collected on the UvThread, fitted to the control
  /// message limit and sent as diag_result.
  boost::asio::awaitable<void> on_diag(protocol::DiagRequest request,
                                       std::shared_ptr<protocol::ChannelMux> connection);

  const ToolSettings& tool_settings() const { return options_.tools; }

  /// Control characters replaced by spaces: names and titles come from other people and
  /// must not fake or hide a line on the user's terminal or in the journal.
  static std::string printable(std::string text);

 private:
  void notify(const std::string& line) const;

  boost::asio::any_io_executor executor_;
  UvThread& uv_;
  SessionHostOptions options_;
  std::string session_;
  std::vector<std::string> scopes_;
};

}  // namespace tether::agent
