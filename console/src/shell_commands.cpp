#include "tether/console/tool_commands.hpp"

namespace tether::console {

// Not built yet: registers nothing.
void add_shell_commands(CLI::App& app, CLI::App& session, std::function<void()>& action) {
  (void)app;
  (void)session;
  (void)action;
}

}  // namespace tether::console
