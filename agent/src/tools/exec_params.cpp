#include "tether/agent/tools/exec_params.hpp"

#include <csignal>
#include <cstring>

namespace tether::agent {

namespace {
constexpr std::size_t kMaxArgs = 256;
constexpr std::size_t kMaxCommandBytes = 64 * 1024;
}  // namespace

boost::system::result<ExecParams, std::string> parse_exec_params(const nlohmann::json& params) {
  ExecParams out;
  if (!params.is_object()) return std::string("exec params must be an object");
  for (const auto& [key, value] : params.items()) {
    if (key != "argv" && key != "timeout_ms" && key != "max_output_bytes") {
      return "unknown exec parameter \"" + key.substr(0, 32) + "\"";
    }
  }
  auto argv = params.find("argv");
  if (argv == params.end() || !argv->is_array() || argv->empty() || argv->size() > kMaxArgs) {
    return std::string("give the command as 1 to 256 arguments");
  }
  std::size_t total = 0;
  for (const auto& arg : *argv) {
    if (!arg.is_string()) return std::string("every argument must be text");
    const auto& text = arg.get_ref<const std::string&>();
    if (text.find('\0') != std::string::npos) return std::string("an argument contains a NUL byte");
    total += text.size() + 1;
    out.argv.push_back(text);
  }
  if (total > kMaxCommandBytes) return std::string("the command line is over 64 KiB");
  if (out.argv.front().empty()) return std::string("the command name is empty");
  if (auto t = params.find("timeout_ms"); t != params.end()) {
    if (!t->is_number_integer() || t->get<std::int64_t>() <= 0 ||
        t->get<std::int64_t>() > kMaxExecTimeout.count()) {
      return std::string("the timeout must be from 1 ms to 24 h");
    }
    out.timeout = std::chrono::milliseconds(t->get<std::uint64_t>());
  }
  if (auto m = params.find("max_output_bytes"); m != params.end()) {
    if (!m->is_number_integer() || m->get<std::int64_t>() <= 0 ||
        m->get<std::uint64_t>() > kMaxExecOutputBytes) {
      return std::string("the output limit must be from 1 byte to 1 GiB");
    }
    out.max_output_bytes = m->get<std::uint64_t>();
  }
  for (const auto& arg : out.argv) {
    if (!out.display.empty()) out.display += ' ';
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      out.display += arg;
    } else {
      // Single quotes, each quote inside written '\'' as a shell would need it.
      out.display += '\'';
      for (const char c : arg) {
        if (c == '\'') {
          out.display += "'\\''";
        } else {
          out.display += c;
        }
      }
      out.display += '\'';
    }
    if (out.display.size() > 300) {
      out.display = out.display.substr(0, 300) + "…";
      break;
    }
  }
  return out;
}

std::string signal_name(int signal) {
  switch (signal) {
    case SIGTERM:
      return "TERM";
    case SIGKILL:
      return "KILL";
    case SIGINT:
      return "INT";
    case SIGHUP:
      return "HUP";
    case SIGQUIT:
      return "QUIT";
    case SIGSEGV:
      return "SEGV";
    case SIGABRT:
      return "ABRT";
    case SIGPIPE:
      return "PIPE";
    case SIGBUS:
      return "BUS";
    case SIGFPE:
      return "FPE";
    case SIGILL:
      return "ILL";
    case SIGSTOP:
      return "STOP";
    case SIGCONT:
      return "CONT";
    case SIGUSR1:
      return "USR1";
    case SIGUSR2:
      return "USR2";
    case SIGALRM:
      return "ALRM";
    default:
      return std::to_string(signal);
  }
}

}  // namespace tether::agent
