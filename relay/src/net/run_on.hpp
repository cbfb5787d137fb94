#pragma once
// Runs a function on another executor (the store's thread, the broker's strand) and resumes
// the calling coroutine on its own executor with the result or the exception.

#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tether::relay {

template <class Executor, class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_on(Executor executor, F f) {
  using R = std::invoke_result_t<F&>;
  co_return co_await boost::asio::co_spawn(
      executor,
      [f = std::move(f)]() mutable -> boost::asio::awaitable<R> {
        if constexpr (std::is_void_v<R>) {
          f();
          co_return;
        } else {
          co_return f();
        }
      },
      boost::asio::use_awaitable);
}

}  // namespace tether::relay
