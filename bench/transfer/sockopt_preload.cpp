// sockopt_preload: an LD_PRELOAD library for experiments only. It sets socket options on every
// TCP socket a process connects or accepts, so the effect of an option on Tether can be
// measured without changing Tether:
//
//   LD_PRELOAD=.../libsockopt_preload.so TETHER_BENCH_NOTSENT_LOWAT=131072 tether-agent ...
//
//   TETHER_BENCH_NODELAY=1          TCP_NODELAY (no Nagle delay for small writes)
//   TETHER_BENCH_NOTSENT_LOWAT=N    TCP_NOTSENT_LOWAT: at most N bytes wait unsent in the
//                                   kernel; the rest stays in the program's own (fair) queue
//   TETHER_BENCH_SNDBUF=N           SO_SNDBUF (turns off the kernel's autotuning of it)
//   TETHER_BENCH_RCVBUF=N           SO_RCVBUF (likewise): bounds what waits unread
//   TETHER_BENCH_SOCKOPT_LOG=1      one line on stderr per socket changed

#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace {

int env_int(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? 0 : std::atoi(value);
}

void apply(int fd) {
  int type = 0;
  int domain = 0;
  socklen_t length = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) return;
  length = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) != 0 ||
      (domain != AF_INET && domain != AF_INET6)) {
    return;
  }
  const int saved = errno;
  if (const int on = env_int("TETHER_BENCH_NODELAY"); on > 0) {
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  if (const int lowat = env_int("TETHER_BENCH_NOTSENT_LOWAT"); lowat > 0) {
    setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
  }
  if (const int bytes = env_int("TETHER_BENCH_SNDBUF"); bytes > 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  }
  if (const int bytes = env_int("TETHER_BENCH_RCVBUF"); bytes > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  if (env_int("TETHER_BENCH_SOCKOPT_LOG") > 0) {
    std::fprintf(stderr, "sockopt_preload: fd %d nodelay=%d notsent_lowat=%d sndbuf=%d rcvbuf=%d\n",
                 fd, env_int("TETHER_BENCH_NODELAY"), env_int("TETHER_BENCH_NOTSENT_LOWAT"),
                 env_int("TETHER_BENCH_SNDBUF"), env_int("TETHER_BENCH_RCVBUF"));
  }
  errno = saved;
}

template <class F>
F next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

int connect(int fd, const sockaddr* address, socklen_t length) {
  static auto real = next<int (*)(int, const sockaddr*, socklen_t)>("connect");
  apply(fd);  // Before connecting: a non-blocking connect returns EINPROGRESS.
  return real(fd, address, length);
}

int accept(int fd, sockaddr* address, socklen_t* length) {
  static auto real = next<int (*)(int, sockaddr*, socklen_t*)>("accept");
  const int client = real(fd, address, length);
  if (client >= 0) apply(client);
  return client;
}

int accept4(int fd, sockaddr* address, socklen_t* length, int flags) {
  static auto real = next<int (*)(int, sockaddr*, socklen_t*, int)>("accept4");
  const int client = real(fd, address, length, flags);
  if (client >= 0) apply(client);
  return client;
}

}  // extern "C"
