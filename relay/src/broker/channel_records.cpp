#include "broker/channel_records.hpp"

#include <cstdio>

#include "tether/protocol/size_text.hpp"

namespace tether::relay {

using json = nlohmann::json;

namespace {

// Text from the technician or the agent, made safe for one line of a timeline.
std::string one_line(std::string_view text, std::size_t max = 300) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= max) {
      out += "…";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

std::string str(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return one_line(it->get<std::string>());
}

std::string seconds_text(std::chrono::milliseconds d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", d.count() / 1000.0);
  return text;
}

std::string what_of(const protocol::ChannelOpen& open) {
  const auto& p = open.params;
  if (open.kind == "shell") return "a remote shell";
  if (open.kind == "exec") return "the command " + display_command(p.value("argv", json::array()));
  if (open.kind == "file.put") return "an upload to " + str(p, "path");
  if (open.kind == "file.get") return "a download of " + str(p, "path");
  if (open.kind == "ps") return "the process list";
  if (open.kind == "kill") {
    return "killing process " + std::to_string(p.value("pid", 0)) + " with SIG" + str(p, "signal");
  }
  if (open.kind == "services") return "the service list";
  if (open.kind == "service") return str(p, "action") + " of service " + str(p, "name");
  if (open.kind == "logs") return "the system logs";
  return "a " + one_line(open.kind) + " channel";
}

}  // namespace

std::string display_command(const json& argv) {
  std::string out;
  if (!argv.is_array()) return out;
  for (const auto& arg : argv) {
    if (!arg.is_string()) continue;
    const auto text = arg.get<std::string>();
    if (!out.empty()) out += ' ';
    const bool plain = !text.empty() && text.find_first_not_of(
                                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      out += one_line(text, 200);
    } else {
      std::string quoted = "'";
      for (const char c : text) {
        if (c == '\'')
          quoted += "'\\''";
        else
          quoted += c;
      }
      out += one_line(quoted + "'", 200);
    }
    if (out.size() > 1000) {
      out += " …";
      break;
    }
  }
  return out;
}

ChannelRecord describe_channel(const std::string& technician, const protocol::ChannelOpen& open,
                               const protocol::ChannelClose& close,
                               std::chrono::milliseconds duration, std::uint64_t bytes_to_console,
                               std::uint64_t bytes_from_console) {
  const auto& p = open.params;
  const auto& r = close.result;
  ChannelRecord record;
  record.detail = {{"channel_kind", open.kind},
                   {"params", p},
                   {"result", r},
                   {"reason", close.reason},
                   {"code", close.code ? json(*close.code) : json(nullptr)},
                   {"duration_ms", duration.count()},
                   {"bytes_to_technician", bytes_to_console},
                   {"bytes_from_technician", bytes_from_console}};
  const std::string who = one_line(technician);
  const std::string why = close.reason.empty() ? std::string() : ": " + one_line(close.reason);

  if (close.code && *close.code == "forbidden") {
    record.kind = "action.refused";
    record.summary = "Refused " + what_of(open) + " for " + who + why;
    return record;
  }
  if (open.kind == "shell" && close.code) {
    // However a shell ends (the technician left, the agent or the session went away), it ran:
    // it stays a shell on the ticket, with its recording.
    record.kind = "shell.closed";
    record.summary = who + " used a remote shell for " + seconds_text(duration) +
                     " (ended: " + one_line(close.reason) + ")";
    if (!str(r, "recording").empty()) record.summary += "; recording " + str(r, "recording");
    return record;
  }
  if (close.code) {
    record.kind = "action.failed";
    record.summary =
        who + " tried " + what_of(open) + "; it failed (" + one_line(*close.code) + ")" + why;
    return record;
  }
  if (open.kind == "exec") {
    record.kind = "command.run";
    std::string outcome;
    if (r.value("timed_out", false)) {
      outcome = "timed out and was killed";
    } else if (r.contains("exit_code") && r["exit_code"].is_number_integer()) {
      outcome = "exit " + std::to_string(r["exit_code"].get<int>());
    } else if (r.contains("signal") && r["signal"].is_string()) {
      outcome = "killed by " + str(r, "signal");
    } else {
      outcome = "ended";
    }
    record.summary = who + " ran " + display_command(p.value("argv", json::array())) + ": " +
                     outcome + " in " + seconds_text(duration);
    if (r.value("output_truncated", false)) record.summary += " (output cut at the limit)";
    return record;
  }
  if (open.kind == "shell") {
    record.kind = "shell.closed";
    record.summary = who + " used a remote shell for " + seconds_text(duration);
    if (!r.value("recording", std::string()).empty()) {
      record.summary += "; recording " + str(r, "recording");
    }
    return record;
  }
  if (open.kind == "file.put" || open.kind == "file.get") {
    const bool up = open.kind == "file.put";
    record.kind = up ? "file.uploaded" : "file.downloaded";
    const auto size = r.value("size", std::uint64_t{0});
    record.summary = who + (up ? " uploaded " : " downloaded ") +
                     str(r.contains("path") ? r : p, "path") + " (" + protocol::size_text(size) +
                     ", SHA-256 " + str(r, "sha256") + ")";
    if (r.value("resumed_from", std::uint64_t{0}) > 0) {
      record.summary +=
          ", resumed at " + protocol::size_text(r.value("resumed_from", std::uint64_t{0}));
    }
    return record;
  }
  if (open.kind == "kill") {
    record.kind = "process.killed";
    record.summary = who + " sent SIG" + str(r.contains("signal") ? r : p, "signal") +
                     " to process " + std::to_string(r.value("pid", p.value("pid", 0))) + " (" +
                     str(r, "name") + ")";
    if (!r.value("ok", true)) record.summary += ": " + str(r, "error");
    return record;
  }
  if (open.kind == "service") {
    record.kind = "service." + str(p, "action");
    record.summary =
        who + " " + str(p, "action") + " service " + str(p, "name") + ": " +
        (r.value("ok", false) ? "done" : "failed") +
        (!str(r, "active").empty() ? " (now " + str(r, "active") + ")" : std::string());
    if (!r.value("ok", false) && !str(r, "error").empty())
      record.summary += " — " + str(r, "error");
    return record;
  }
  if (open.kind == "ps") {
    record.kind = "processes.listed";
    record.summary = who + " listed the processes";
    return record;
  }
  if (open.kind == "services") {
    record.kind = "services.listed";
    record.summary = who + " listed the services" +
                     (p.value("failed", false) ? std::string(" (failed only)") : std::string());
    return record;
  }
  if (open.kind == "logs") {
    record.kind = "logs.read";
    record.summary = who + " read the logs";
    if (!str(p, "unit").empty()) record.summary += " of " + str(p, "unit");
    if (r.contains("lines"))
      record.summary += " (" + std::to_string(r.value("lines", 0)) + " lines)";
    return record;
  }
  record.kind = "channel.closed";
  record.summary = who + " used " + what_of(open) + why;
  return record;
}

}  // namespace tether::relay
