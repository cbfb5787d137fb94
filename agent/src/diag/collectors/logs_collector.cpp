#include "diag/collectors/logs_collector.hpp"

namespace tether::agent::diag {

nlohmann::json collect_logs(const CollectContext&) {
  return unavailable("not collected yet");
}

}  // namespace tether::agent::diag
