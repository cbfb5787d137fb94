#pragma once
// Runs a blocking function (a /proc sampling pass, systemctl, journalctl) on a thread of its
// own and resumes the calling coroutine on its executor with the result, so the agent's main
// thread keeps serving the connection meanwhile.

#include <exception>
#include <thread>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tether::agent {

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_blocking(F f) {
  using R = std::invoke_result_t<F&>;
  namespace asio = boost::asio;
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, R)>(
      [](auto handler, F work) {
        std::thread([handler = std::move(handler), work = std::move(work)]() mutable {
          std::exception_ptr error;
          R result{};
          try {
            result = work();
          } catch (...) {
            error = std::current_exception();
          }
          auto executor = asio::get_associated_executor(handler);
          asio::post(executor, [h = std::move(handler), error, r = std::move(result)]() mutable {
            std::move(h)(error, std::move(r));
          });
        }).detach();
      },
      asio::use_awaitable, std::move(f));
}

}  // namespace tether::agent
