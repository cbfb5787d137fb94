#include "diag/collectors/users_collector.hpp"

namespace tether::agent::diag {

nlohmann::json collect_users(const CollectContext&) {
  return unavailable("not collected yet");
}

}  // namespace tether::agent::diag
