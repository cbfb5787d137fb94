#include "diag/collectors/services_collector.hpp"

namespace tether::agent::diag {

nlohmann::json collect_services(const CollectContext&) {
  return unavailable("not collected yet");
}

}  // namespace tether::agent::diag
