#include "tether/agent/run_program.hpp"

#include <uv.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <memory>
#include <string_view>

extern char** environ;

namespace tether::agent {
namespace {

constexpr std::size_t kMaxStderr = 4 * 1024;

// Everything one run's callbacks touch; lives on the caller's stack for the whole loop.
struct RunState {
  uv_loop_t loop{};
  uv_process_t process{};
  uv_pipe_t out_pipe{};
  uv_pipe_t err_pipe{};
  uv_timer_t timer{};
  ProgramRun result;
  std::size_t max_output = 0;
  bool exited = false;
  bool timed_out = false;
};

struct PipeSink {
  RunState* state;
  std::string* text;
  std::size_t limit;
  bool* truncated;  // null for stderr: its excess is dropped silently
};

bool is_closing(void* handle) {
  return uv_is_closing(static_cast<uv_handle_t*>(handle)) != 0;
}

// The deadline timer stays armed until the process has exited and both pipes reached EOF:
// a grandchild that inherited our pipes must not hold the run open past the deadline.
void finish_when_done(RunState* state) {
  if (state->exited && is_closing(&state->out_pipe) && is_closing(&state->err_pipe) &&
      !is_closing(&state->timer)) {
    uv_timer_stop(&state->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&state->timer), nullptr);
  }
}

void allocate(uv_handle_t*, std::size_t suggested, uv_buf_t* buffer) {
  // One buffer per read; the loop reads until EOF, so a small fixed size is enough.
  static thread_local char storage[64 * 1024];
  (void)suggested;
  *buffer = uv_buf_init(storage, sizeof storage);
}

void on_read(uv_stream_t* stream, ssize_t count, const uv_buf_t* buffer) {
  auto* sink = static_cast<PipeSink*>(stream->data);
  if (count > 0) {
    const auto room = sink->limit - std::min(sink->limit, sink->text->size());
    const auto take = std::min<std::size_t>(room, static_cast<std::size_t>(count));
    sink->text->append(buffer->base, take);
    if (take < static_cast<std::size_t>(count) && sink->truncated) *sink->truncated = true;
    return;
  }
  if (count < 0) {
    uv_read_stop(stream);
    if (!is_closing(stream)) uv_close(reinterpret_cast<uv_handle_t*>(stream), nullptr);
    finish_when_done(sink->state);
  }
}

void on_exit(uv_process_t* process, int64_t status, int signal) {
  auto* state = static_cast<RunState*>(process->data);
  state->exited = true;
  if (state->timed_out) {
    state->result.outcome = RunOutcome::timed_out;
  } else if (signal != 0) {
    state->result.outcome = RunOutcome::killed;
    state->result.exit_code = signal;
  } else {
    state->result.outcome = RunOutcome::exited;
    state->result.exit_code = static_cast<int>(status);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(process), nullptr);
  finish_when_done(state);
}

void on_timeout(uv_timer_t* timer) {
  auto* state = static_cast<RunState*>(timer->data);
  if (!state->exited) {
    state->timed_out = true;
    uv_process_kill(&state->process, SIGKILL);
  }
  for (auto* pipe : {&state->out_pipe, &state->err_pipe}) {
    if (!is_closing(pipe)) uv_close(reinterpret_cast<uv_handle_t*>(pipe), nullptr);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(timer), nullptr);
}

std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    // Locale and pager settings are ours to decide: parsers expect C-locale text.
    if (text.starts_with("LC_") || text.starts_with("LANG=") || text.starts_with("LANGUAGE=") ||
        text.starts_with("PAGER=") || text.starts_with("SYSTEMD_PAGER=") ||
        text.starts_with("SYSTEMD_COLORS=")) {
      continue;
    }
    env.emplace_back(text);
  }
  env.emplace_back("LC_ALL=C");
  env.emplace_back("PAGER=cat");
  env.emplace_back("SYSTEMD_PAGER=");
  env.emplace_back("SYSTEMD_COLORS=0");
  return env;
}

}  // namespace

ProgramRun run_program(const std::vector<std::string>& argv, const RunLimits& limits) {
  RunState state;
  state.max_output = limits.max_output;
  if (argv.empty()) {
    state.result.error = "no program given";
    return state.result;
  }
  if (const int rc = uv_loop_init(&state.loop); rc != 0) {
    state.result.error = std::string("cannot start an event loop: ") + uv_strerror(rc);
    return state.result;
  }

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  auto env_strings = child_environment();
  std::vector<char*> env;
  for (auto& entry : env_strings) env.push_back(entry.data());
  env.push_back(nullptr);

  uv_pipe_init(&state.loop, &state.out_pipe, 0);
  uv_pipe_init(&state.loop, &state.err_pipe, 0);
  PipeSink out_sink{&state, &state.result.out, limits.max_output, &state.result.truncated};
  PipeSink err_sink{&state, &state.result.err, kMaxStderr, nullptr};
  state.out_pipe.data = &out_sink;
  state.err_pipe.data = &err_sink;

  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&state.out_pipe);
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&state.err_pipe);

  uv_process_options_t options{};
  options.exit_cb = on_exit;
  options.file = args[0];
  options.args = args.data();
  options.env = env.data();
  options.stdio_count = 3;
  options.stdio = stdio;
  state.process.data = &state;

  const int spawned = uv_spawn(&state.loop, &state.process, &options);
  if (spawned != 0) {
    state.result.outcome = spawned == UV_ENOENT || spawned == UV_EACCES
                               ? RunOutcome::tool_missing
                               : RunOutcome::failed_to_start;
    state.result.error = uv_strerror(spawned);
    uv_close(reinterpret_cast<uv_handle_t*>(&state.process), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&state.out_pipe), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&state.err_pipe), nullptr);
    uv_run(&state.loop, UV_RUN_DEFAULT);
    uv_loop_close(&state.loop);
    return state.result;
  }

  uv_read_start(reinterpret_cast<uv_stream_t*>(&state.out_pipe), allocate, on_read);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&state.err_pipe), allocate, on_read);
  uv_timer_init(&state.loop, &state.timer);
  state.timer.data = &state;
  uv_timer_start(&state.timer, on_timeout, static_cast<std::uint64_t>(limits.timeout.count()), 0);

  uv_run(&state.loop, UV_RUN_DEFAULT);
  uv_loop_close(&state.loop);
  return state.result;
}

std::string describe_failure(const ProgramRun& run) {
  switch (run.outcome) {
    case RunOutcome::tool_missing:
      return "tool missing";
    case RunOutcome::timed_out:
      return "timed out";
    case RunOutcome::failed_to_start:
      return run.error.starts_with("not supported") ? run.error : "could not start: " + run.error;
    case RunOutcome::killed:
      return "killed by signal " + std::to_string(run.exit_code);
    case RunOutcome::exited:
      break;
  }
  if (run.exit_code == 0) return {};
  std::string line = run.err.substr(0, run.err.find('\n'));
  if (line.size() > 200) line.resize(200);
  return "exit status " + std::to_string(run.exit_code) + (line.empty() ? "" : ": " + line);
}

}  // namespace tether::agent
