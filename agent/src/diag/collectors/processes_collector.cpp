#include "diag/collectors/processes_collector.hpp"

namespace tether::agent::diag {

nlohmann::json collect_processes(const CollectContext&) {
  return unavailable("not collected yet");
}

}  // namespace tether::agent::diag
