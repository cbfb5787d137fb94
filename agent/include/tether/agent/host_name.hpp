#pragma once
/// This PC's host name as the agent reports it.

#include <string>

namespace tether::agent {

/// gethostname(), or "unknown" when it fails or is empty.
std::string host_name();

}  // namespace tether::agent
