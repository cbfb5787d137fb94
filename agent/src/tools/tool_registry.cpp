#include <array>

#include "tether/agent/tools/tool.hpp"

namespace tether::agent {

const ToolSpec* find_tool(std::string_view kind) {
  static const std::array<ToolSpec, 9> kTools = {{
      {"shell", "shell", run_shell_tool},
      {"exec", "shell", run_exec_tool},
      {"file.put", "files", run_file_put_tool},
      {"file.get", "files", run_file_get_tool},
      {"ps", "processes", run_ps_tool},
      {"kill", "processes", run_kill_tool},
      {"services", "processes", run_services_tool},
      {"service", "processes", run_service_tool},
      {"logs", "logs", run_logs_tool},
  }};
  for (const auto& tool : kTools) {
    if (tool.kind == kind) return &tool;
  }
  return nullptr;
}

const std::vector<ScopeDescription>& scope_descriptions() {
  static const std::vector<ScopeDescription> kScopes = {
      {"diagnostics", "read this PC's hardware, software and health information"},
      {"shell", "open a terminal and run commands as you"},
      {"files", "copy files to and from your home folder"},
      {"processes", "list and stop programs, start and stop services"},
      {"logs", "read the system logs"},
  };
  return kScopes;
}

}  // namespace tether::agent
