#include "relay_fixture.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <random>

namespace tether::testing {

namespace fs = std::filesystem;

void RelayFixture::SetUp() {
  std::random_device random;
  dir_ = fs::temp_directory_path() /
         ("tether-it-" + std::to_string(getpid()) + "-" + std::to_string(random()));
  fs::create_directories(dir_);
  data_ = dir_ / "relay";
  std::ofstream(dir_ / "admin-password") << kAdminPassword << "\n";
  auto init = run({TETHER_RELAY_BIN, "init", "--data", data_.string(), "--admin-password-file",
                   (dir_ / "admin-password").string()});
  ASSERT_EQ(init.status, 0) << init.err;
  const auto pos = init.out.find("fingerprint: ");
  ASSERT_NE(pos, std::string::npos) << init.out;
  fingerprint_ = init.out.substr(pos + 13, init.out.find('\n', pos) - pos - 13);
  ASSERT_EQ(fingerprint_.size(), 7u + 64u) << fingerprint_;
}

void RelayFixture::TearDown() {
  stop_relay();
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

void RelayFixture::configure(const nlohmann::json& overrides) {
  nlohmann::json config;
  {
    std::ifstream in(data_ / "relay.json");
    config = nlohmann::json::parse(in);
  }
  config.update(overrides);
  std::ofstream(data_ / "relay.json") << config.dump(2);
}

void RelayFixture::start_relay(const std::string& listen) {
  relay_ = std::make_unique<Process>(std::vector<std::string>{TETHER_RELAY_BIN, "serve", "--data",
                                                              data_.string(), "--listen", listen});
  auto line = relay_->wait_for_line("listening on ");
  ASSERT_TRUE(line) << "relay did not start: " << relay_->err();
  address_ = line->substr(line->find("listening on ") + 13);
}

void RelayFixture::stop_relay() {
  if (!relay_) return;
  relay_->signal(SIGTERM);
  const auto status = relay_->wait(10s);
  EXPECT_TRUE(status.has_value()) << "relay did not stop within 10 s of SIGTERM";
  if (status) EXPECT_EQ(*status, 0) << relay_->err();
  relay_.reset();
}

void RelayFixture::sql(const std::string& statement) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_ / "tether.db").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

RunResult RelayFixture::console(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  args.insert(args.begin(), TETHER_CONSOLE_BIN);
  return run(std::move(args), {{"TETHER_CONFIG_DIR", (dir_ / "console").string()}}, timeout);
}

void RelayFixture::login() {
  auto result = console({"login", "--relay", "https://" + address_, "--fingerprint", fingerprint_,
                         "--user", "admin", "--password-file", (dir_ / "admin-password").string()});
  ASSERT_EQ(result.status, 0) << result.err;
}

nlohmann::json RelayFixture::console_json(std::vector<std::string> args) {
  args.push_back("--json");
  auto result = console(args);
  EXPECT_EQ(result.status, 0) << result.err;
  auto json = nlohmann::json::parse(result.out, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << result.out;
  return json;
}

std::unique_ptr<Process> RelayFixture::start_agent(const std::string& consent, std::string& code,
                                                   std::vector<std::string> extra_args) {
  std::vector<std::string> argv{TETHER_AGENT_BIN, "support",    "--relay",   "wss://" + address_,
                                "--fingerprint",  fingerprint_, "--consent", consent};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto agent = std::make_unique<Process>(argv);
  auto line = agent->wait_for_line("support code: ");
  EXPECT_TRUE(line) << "agent printed no support code: " << agent->out() << agent->err();
  code = line ? digits_of(*line) : "";
  return agent;
}

std::unique_ptr<Process> RelayFixture::start_session(std::vector<std::string> agent_args) {
  if (!relay_) start_relay();
  login();
  auto ticket = console_json({"ticket", "new", "--title", "Printer offline"});
  EXPECT_EQ(ticket.value("id", ""), "T-1");
  std::string code;
  auto agent = start_agent("auto", code, std::move(agent_args));
  auto session = console_json({"session", "join", code, "--ticket", "T-1"});
  EXPECT_EQ(session.value("id", ""), "S-1");
  EXPECT_TRUE(agent->wait_for_line("Consent granted automatically"));
  return agent;
}

std::string digits_of(const std::string& line) {
  std::string digits;
  for (char c : line.substr(line.find(':') + 1)) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  return digits;
}

std::filesystem::path machine_root(const std::filesystem::path& dir, const std::string& name) {
  const auto root = dir / (name + "-root");
  std::filesystem::create_directories(root / "etc");
  std::filesystem::create_directories(root / "sys/class/dmi/id");
  // Distinct, well-formed, not placeholders: derived from the name's hash.
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016zx%016zx", std::hash<std::string>{}(name),
                std::hash<std::string>{}(name + "!"));
  const std::string id(hex, 32);
  std::ofstream(root / "etc/machine-id") << id << "\n";
  std::ofstream(root / "sys/class/dmi/id/product_uuid")
      << id.substr(0, 8) << "-" << id.substr(8, 4) << "-" << id.substr(12, 4) << "-"
      << id.substr(16, 4) << "-" << id.substr(20, 12) << "\n";
  std::ofstream(root / "sys/class/dmi/id/product_serial") << "SN" << id.substr(0, 10) << "\n";
  std::ofstream(root / "sys/class/dmi/id/board_serial") << "BD" << id.substr(10, 10) << "\n";
  return root;
}

}  // namespace tether::testing
