#include "diag/collectors/power_collector.hpp"

namespace tether::agent::diag {

nlohmann::json collect_power(const CollectContext&) {
  return unavailable("not collected yet");
}

}  // namespace tether::agent::diag
