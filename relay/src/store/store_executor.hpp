#pragma once
// The store and CPU-heavy work (password hashing) run on their own threads so no event-loop
// thread ever blocks on disk or on scrypt. Coroutines reach them with co_await.

#include <memory>

#include <boost/asio/thread_pool.hpp>

#include "net/run_on.hpp"
#include "tether/relay/store.hpp"

namespace tether::relay {

class StoreExecutor {
 public:
  explicit StoreExecutor(std::unique_ptr<Store> store) : store_(std::move(store)) {}
  ~StoreExecutor() {
    store_pool_.join();
    compute_pool_.join();
  }
  StoreExecutor(const StoreExecutor&) = delete;
  StoreExecutor& operator=(const StoreExecutor&) = delete;

  /// Runs `f(Store&)` on the store's single thread; StoreError propagates to the caller.
  template <class F>
  auto run(F f) {
    return run_on(store_pool_.get_executor(),
                  [this, f = std::move(f)]() mutable { return f(*store_); });
  }

  /// Runs CPU-heavy `f()` (password hashing) on the compute thread.
  template <class F>
  auto compute(F f) {
    return run_on(compute_pool_.get_executor(), std::move(f));
  }

 private:
  std::unique_ptr<Store> store_;
  boost::asio::thread_pool store_pool_{1};
  boost::asio::thread_pool compute_pool_{1};
};

}  // namespace tether::relay
