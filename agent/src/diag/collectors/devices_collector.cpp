#include "diag/collectors/devices_collector.hpp"

namespace tether::agent::diag {

nlohmann::json collect_devices(const CollectContext&) {
  return unavailable("not collected yet");
}

}  // namespace tether::agent::diag
