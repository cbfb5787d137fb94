#include "diag/collectors/software_collector.hpp"

namespace tether::agent::diag {

nlohmann::json collect_software(const CollectContext&) {
  return unavailable("not collected yet");
}

}  // namespace tether::agent::diag
