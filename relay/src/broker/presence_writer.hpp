#pragma once
// When managed devices were last seen, written in batches: every device that connected or
// disconnected during an interval is written in one SQLite transaction, so 10 000 devices
// coming back after a relay restart cost a handful of synced writes instead of 10 000, and no
// welcome waits for the disk. A time can be up to one interval late in the database.

#include <cstdint>
#include <map>
#include <mutex>

#include <boost/asio/awaitable.hpp>

#include "tether/relay/store.hpp"

namespace tether::relay {

class StoreExecutor;

class PresenceWriter {
 public:
  /// Device `device_id` was seen at `at`. Safe from any thread; never blocks on the store.
  void seen(std::int64_t device_id, TimePoint at);
  /// Writes what is pending in one transaction (nothing when nothing is). A failed write is
  /// logged and its times are kept for the next flush (a later time wins).
  boost::asio::awaitable<void> flush(StoreExecutor& store);
  /// Times not written yet, for tests and the shutdown log.
  std::size_t pending() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::int64_t, TimePoint> pending_;
};

}  // namespace tether::relay
