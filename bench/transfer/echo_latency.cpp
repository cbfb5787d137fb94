// echo_latency: keystroke echo round trip through the relay, as a technician's terminal sees it.
//
//   echo_latency SESSION [--kind shell|exec] [--count N] [--warmup N] [--interval-us U] [--json]
//
// Uses the saved console credentials ($TETHER_CONFIG_DIR, like `tether`) and the console's own
// channel code (run_tool). N times: send one byte, wait until it comes back, record the time,
// pause U µs (default 2000; a fast typist leaves ~50 ms between keys, so this is harsher).
//
//   shell (default): a "shell" channel, as `tether shell` opens it. The login shell is told
//     `stty -icanon; exec cat >/dev/null`, so every typed byte is echoed by the pseudo-terminal
//     itself: console → relay → agent → PTY → agent → relay (which records it in the session's
//     asciicast) → console. Ctrl-C ends it.
//   exec: an "exec" channel running `cat`; each byte goes through cat's stdin and stdout pipes
//     (output frames carry a 1-byte stream tag, protocol/tool_wire.hpp).
//
// Prints p50/p90/p99/p99.9/max in microseconds (nearest-rank percentiles), or one JSON line.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tether/console/api_client.hpp"
#include "tether/console/tool_channel.hpp"
#include "tether/protocol/tool_wire.hpp"

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using tether::console::ToolSession;

struct Options {
  std::string session;
  std::string kind = "shell";
  int count = 2000;
  int warmup = 50;
  int interval_us = 2000;
  bool json = false;
};

[[noreturn]] void usage() {
  std::fputs(
      "usage: echo_latency SESSION [--kind shell|exec] [--count N] [--warmup N] "
      "[--interval-us U] [--json]\n",
      stderr);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (arg == "--kind") {
      options.kind = value();
    } else if (arg == "--count") {
      options.count = std::atoi(value().c_str());
    } else if (arg == "--warmup") {
      options.warmup = std::atoi(value().c_str());
    } else if (arg == "--interval-us") {
      options.interval_us = std::atoi(value().c_str());
    } else if (arg == "--json") {
      options.json = true;
    } else if (options.session.empty() && !arg.starts_with("-")) {
      options.session = arg;
    } else {
      usage();
    }
  }
  if (options.session.empty() || options.count <= 0 || options.warmup < 0 ||
      (options.kind != "shell" && options.kind != "exec")) {
    usage();
  }
  return options;
}

// Nearest-rank percentile of sorted samples.
double percentile(const std::vector<double>& sorted, double q) {
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size()) + 0.999999);
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

// What the remote side printed, filled by one reader coroutine; `changed` is cancelled on
// every arrival so that the measuring loop wakes up at once.
struct Output {
  explicit Output(asio::any_io_executor executor) : changed(std::move(executor)) {}
  std::string text;
  bool ended = false;
  asio::steady_timer changed;
};

asio::awaitable<void> read_output(std::shared_ptr<tether::protocol::Channel> channel,
                                  std::shared_ptr<Output> output, bool tagged) {
  for (;;) {
    auto data = co_await channel->read();
    if (!data) break;
    if (tagged) {
      if (!data->empty() && (*data)[0] == tether::protocol::kExecStdoutTag) {
        output->text.append(*data, 1);
      }
    } else {
      output->text += *data;
    }
    output->changed.cancel();
  }
  output->ended = true;
  output->changed.cancel();
}

// Waits until nothing arrived for `quiet` (the shell finished printing its prompt).
asio::awaitable<void> wait_until_quiet(Output& output, std::chrono::milliseconds quiet) {
  for (;;) {
    const auto before = output.text.size();
    output.changed.expires_after(quiet);
    auto [ec] = co_await output.changed.async_wait(asio::as_tuple(asio::use_awaitable));
    if (output.ended || (!ec && output.text.size() == before)) co_return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  std::vector<double> samples_us;
  samples_us.reserve(static_cast<std::size_t>(options.count));
  std::string failure;
  try {
    auto client = tether::console::ApiClient::from_saved_credentials();
    tether::console::ToolRequest request;
    request.session = tether::console::session_id_argument(options.session);
    request.kind = options.kind;
    request.params = options.kind == "shell"
                         ? nlohmann::json{{"cols", 200}, {"rows", 50}, {"term", "dumb"}}
                         : nlohmann::json{{"argv", {"cat"}}, {"timeout_ms", 600000}};
    const bool shell = options.kind == "shell";
    auto close =
        tether::console::run_tool(client, request, [&](ToolSession& tool) -> asio::awaitable<void> {
          auto output = std::make_shared<Output>(tool.executor);
          asio::co_spawn(tool.executor, read_output(tool.channel, output, !shell), asio::detached);
          if (shell) {
            co_await wait_until_quiet(*output, std::chrono::milliseconds(500));
            co_await tool.channel->write("stty -icanon; exec cat >/dev/null\r");
            co_await wait_until_quiet(*output, std::chrono::milliseconds(500));
          }
          asio::steady_timer pause(tool.executor);
          const int total = options.warmup + options.count;
          for (int i = 0; i < total; ++i) {
            const char byte = static_cast<char>('a' + i % 26);
            const auto from = output->text.size();
            const auto sent = Clock::now();
            if (!co_await tool.channel->write(std::string_view(&byte, 1))) {
              failure = "the channel closed while writing";
              co_return;
            }
            while (output->text.size() == from && !output->ended) {
              output->changed.expires_at(Clock::time_point::max());
              co_await output->changed.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            const auto back = Clock::now();
            if (output->ended) {
              failure = "the channel closed while waiting for the echo";
              co_return;
            }
            if (output->text[from] != byte) {
              failure = "the echo was not the byte sent";
              co_return;
            }
            if (i >= options.warmup) {
              samples_us.push_back(std::chrono::duration<double, std::micro>(back - sent).count());
            }
            pause.expires_after(std::chrono::microseconds(options.interval_us));
            co_await pause.async_wait(asio::use_awaitable);
          }
          if (shell) {
            co_await tool.channel->write("\x03");  // cat (the shell's exec) ends: so does the PTY
          } else {
            tool.channel->send_eof();  // cat ends; the agent closes the channel
          }
          while (!output->ended) {
            output->changed.expires_at(Clock::time_point::max());
            co_await output->changed.async_wait(asio::as_tuple(asio::use_awaitable));
          }
        });
    if (close.code) failure = "the channel ended with " + *close.code + ": " + close.reason;
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (samples_us.size() < static_cast<std::size_t>(options.count)) {
    std::fprintf(stderr, "echo_latency: %s\n",
                 failure.empty() ? "too few samples" : failure.c_str());
    return 1;
  }
  std::sort(samples_us.begin(), samples_us.end());
  double sum = 0;
  for (double s : samples_us) sum += s;
  const double mean = sum / static_cast<double>(samples_us.size());
  if (options.json) {
    std::printf(
        "{\"kind\":\"%s\",\"samples\":%zu,\"mean_us\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
        "\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f}\n",
        options.kind.c_str(), samples_us.size(), mean, percentile(samples_us, 0.50),
        percentile(samples_us, 0.90), percentile(samples_us, 0.99), percentile(samples_us, 0.999),
        samples_us.back());
  } else {
    std::printf(
        "%s, %zu round trips: mean %.0f us, p50 %.0f us, p90 %.0f us, p99 %.0f us, p99.9 %.0f us, "
        "max %.0f us\n",
        options.kind.c_str(), samples_us.size(), mean, percentile(samples_us, 0.50),
        percentile(samples_us, 0.90), percentile(samples_us, 0.99), percentile(samples_us, 0.999),
        samples_us.back());
  }
  return 0;
}
