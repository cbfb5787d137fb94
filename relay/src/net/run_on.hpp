#pragma once
// Runs a function on another executor (the store's thread, the compute thread) and resumes
// the calling coroutine on its own executor with the result or the exception.
//
// Built on async_initiate and plain handlers rather than a capturing coroutine lambda:
// GCC 12 destroys the captures of such lambdas twice when they are handed to co_spawn.

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tether::relay {

template <class Executor, class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_on(Executor executor, F f) {
  using R = std::invoke_result_t<F&>;
  namespace asio = boost::asio;
  if constexpr (std::is_void_v<R>) {
    co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(
        [executor](auto handler, F work) {
          asio::post(executor, [h = std::move(handler), work = std::move(work)]() mutable {
            std::exception_ptr error;
            try {
              work();
            } catch (...) {
              error = std::current_exception();
            }
            auto back = asio::get_associated_executor(h);
            asio::post(back, [h = std::move(h), error]() mutable { std::move(h)(error); });
          });
        },
        asio::use_awaitable, std::move(f));
  } else {
    auto result = co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                                void(std::exception_ptr, std::optional<R>)>(
        [executor](auto handler, F work) {
          asio::post(executor, [h = std::move(handler), work = std::move(work)]() mutable {
            std::exception_ptr error;
            std::optional<R> value;
            try {
              value.emplace(work());
            } catch (...) {
              error = std::current_exception();
            }
            auto back = asio::get_associated_executor(h);
            asio::post(back, [h = std::move(h), error, v = std::move(value)]() mutable {
              std::move(h)(error, std::move(v));
            });
          });
        },
        asio::use_awaitable, std::move(f));
    co_return std::move(*result);
  }
}

}  // namespace tether::relay
