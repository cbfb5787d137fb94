#include "diag/collectors/firmware_collector.hpp"

namespace tether::agent::diag {

nlohmann::json collect_firmware(const CollectContext&) {
  return unavailable("not collected yet");
}

}  // namespace tether::agent::diag
