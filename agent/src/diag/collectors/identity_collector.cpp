#include "diag/collectors/identity_collector.hpp"

namespace tether::agent::diag {

nlohmann::json collect_identity(const CollectContext&) {
  return unavailable("not collected yet");
}

}  // namespace tether::agent::diag
