#include "broker/presence_writer.hpp"

#include <spdlog/spdlog.h>

#include <vector>

#include "store/store_executor.hpp"

namespace tether::relay {

void PresenceWriter::seen(std::int64_t device_id, TimePoint at) {
  std::lock_guard lock(mutex_);
  auto& slot = pending_[device_id];
  slot = std::max(slot, at);
}

std::size_t PresenceWriter::pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

boost::asio::awaitable<void> PresenceWriter::flush(StoreExecutor& store) {
  std::map<std::int64_t, TimePoint> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
  }
  if (batch.empty()) co_return;
  try {
    co_await store.run([&batch](Store& s) { s.set_devices_last_seen(batch); });
  } catch (const std::exception& e) {
    spdlog::error("cannot record when {} device(s) were last seen: {}; retrying", batch.size(),
                  e.what());
    for (const auto& [id, at] : batch) seen(id, at);
  }
}

}  // namespace tether::relay
