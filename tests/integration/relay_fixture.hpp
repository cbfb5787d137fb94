#pragma once
// A real relay for integration tests: its own data directory under a temp dir, `init` with a
// known admin password, optional config overrides, `serve` on 127.0.0.1 port 0.

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "process.hpp"

namespace tether::testing {

inline constexpr const char* kAdminPassword = "correct horse battery staple";

class RelayFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// Writes overrides into relay.json (call before start_relay).
  void configure(const nlohmann::json& overrides);
  /// Starts `tether-relay serve`; `listen` defaults to 127.0.0.1:0.
  void start_relay(const std::string& listen = "127.0.0.1:0");
  void stop_relay();

  /// Runs `tether ARGS…` with this test's own config directory.
  RunResult console(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s);
  void login();
  /// `tether ARGS… --json`, asserting success; returns the parsed output.
  nlohmann::json console_json(std::vector<std::string> args);

  /// Runs `statement` on the relay's SQLite file (a second connection, as another relay or an
  /// administrator would), expecting success.
  void sql(const std::string& statement);

  /// Starts `tether-agent support` against this relay and waits for its support code.
  std::unique_ptr<Process> start_agent(const std::string& consent, std::string& code,
                                       std::vector<std::string> extra_args = {});
  /// Logs in, opens T-1, starts an agent with `--consent auto` and `agent_args`, joins it as
  /// S-1 (all scopes asked for) and waits until the user's consent is recorded.
  std::unique_ptr<Process> start_session(std::vector<std::string> agent_args = {});

  std::filesystem::path dir_;
  std::filesystem::path data_;
  std::string fingerprint_;
  std::string address_;  // 127.0.0.1:PORT
  std::unique_ptr<Process> relay_;
};

/// A machine's identity files under `dir`/`name` (etc/machine-id and the SMBIOS UUID and
/// serials in sys/class/dmi/id), distinct per `name`, for `tether-agent enroll --root`: tests
/// that enroll several devices from one host make them different machines, whatever the
/// host's own ids are. Returns the root.
std::filesystem::path machine_root(const std::filesystem::path& dir, const std::string& name);

/// The 9 digits from an agent's "support code: 123 456 789" line.
std::string digits_of(const std::string& line);

}  // namespace tether::testing
