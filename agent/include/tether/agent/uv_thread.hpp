#pragma once
/// The agent's host-OS layer: a libuv loop on its own thread. Asio owns networking; work that
/// touches the operating system (collecting diagnostics now; child processes and PTYs later)
/// runs here. Coroutines on Asio executors hand work over with run() and resume on their own
/// executor with the result.

#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

struct uv_loop_s;
struct uv_async_s;

namespace tether::agent {

class UvThread {
 public:
  /// Starts the loop thread. Throws std::runtime_error when libuv cannot initialise.
  UvThread();
  /// Stops the loop and joins the thread; queued work that has not started is dropped.
  ~UvThread();
  UvThread(const UvThread&) = delete;
  UvThread& operator=(const UvThread&) = delete;

  /// Runs `f()` on the loop thread; the awaiting coroutine resumes on its own executor with
  /// the result, or with the exception `f` threw.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F&>> run(F f) {
    using R = std::invoke_result_t<F&>;
    static_assert(!std::is_void_v<R>, "return a value from work handed to the loop");
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                       void(std::exception_ptr, R)>(
        [this](auto handler, F work) {
          submit(std::make_unique<Task<F, decltype(handler)>>(std::move(work), std::move(handler)));
        },
        boost::asio::use_awaitable, std::move(f));
  }

 private:
  struct TaskBase {
    virtual ~TaskBase() = default;
    virtual void run() = 0;
  };
  template <class F, class Handler>
  struct Task final : TaskBase {
    Task(F f, Handler h) : work(std::move(f)), handler(std::move(h)) {}
    void run() override {
      std::exception_ptr error;
      std::invoke_result_t<F&> result{};
      try {
        result = work();
      } catch (...) {
        error = std::current_exception();
      }
      auto executor = boost::asio::get_associated_executor(handler);
      boost::asio::post(executor, [h = std::move(handler), error, r = std::move(result)]() mutable {
        std::move(h)(error, std::move(r));
      });
    }
    F work;
    Handler handler;
  };

  void submit(std::unique_ptr<TaskBase> task);
  static void on_async(uv_async_s* handle);

  std::unique_ptr<uv_loop_s> loop_;
  std::unique_ptr<uv_async_s> wakeup_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<TaskBase>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tether::agent
