#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace tether::testing {

namespace {

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

Process::Process(std::vector<std::string> argv, std::map<std::string, std::string> env) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  stdin_ = in[1];
  stdout_ = out[0];
  stderr_ = err[0];
  set_nonblocking(stdout_);
  set_nonblocking(stderr_);
}

Process::~Process() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    wait(5s);
  }
  for (int fd : {stdin_, stdout_, stderr_}) {
    if (fd >= 0) close(fd);
  }
}

void Process::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{stdout_, POLLIN, 0}, {stderr_, POLLIN, 0}};
  if (poll(fds, 2, static_cast<int>(timeout.count())) <= 0) return;
  char buffer[65536];
  for (auto& p : fds) {
    if (!(p.revents & (POLLIN | POLLHUP))) continue;
    for (;;) {
      const ssize_t n = read(p.fd, buffer, sizeof buffer);
      if (n <= 0) break;
      (p.fd == stdout_ ? out_ : err_).append(buffer, static_cast<std::size_t>(n));
    }
  }
}

std::optional<std::string> Process::wait_for_line(const std::string& needle,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (;;) {
      const auto newline = out_.find('\n', scanned_);
      if (newline == std::string::npos) break;
      std::string line = out_.substr(scanned_, newline - scanned_);
      scanned_ = newline + 1;
      if (line.find(needle) != std::string::npos) return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return std::nullopt;
    if (status_ || (wait(0ms) && out_.find('\n', scanned_) == std::string::npos)) {
      pump(0ms);
      if (out_.find('\n', scanned_) == std::string::npos) return std::nullopt;
      continue;
    }
    pump(std::min(left, 100ms));
  }
}

std::string Process::out() {
  pump(0ms);
  return out_;
}

std::string Process::err() {
  pump(0ms);
  return err_;
}

void Process::write_stdin(const std::string& text) {
  if (::write(stdin_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    throw std::runtime_error("write to child stdin failed");
  }
}

void Process::close_stdin() {
  if (stdin_ >= 0) close(stdin_);
  stdin_ = -1;
}

void Process::signal(int sig) {
  if (!status_) ::kill(pid_, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int raw = 0;
    const pid_t done = waitpid(pid_, &raw, WNOHANG);
    if (done == pid_) {
      status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
      pump(0ms);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    pump(20ms);  // Keeps the pipes drained so the child never blocks on a full pipe.
  }
}

RunResult run(std::vector<std::string> argv, std::map<std::string, std::string> env,
              std::chrono::milliseconds timeout, const std::string& input) {
  Process process(std::move(argv), std::move(env));
  if (!input.empty()) process.write_stdin(input);
  process.close_stdin();
  RunResult result;
  const auto status = process.wait(timeout);
  result.status = status ? *status : -1;
  result.out = process.out();
  result.err = process.err();
  return result;
}

}  // namespace tether::testing
