#include "tether/console/tool_commands.hpp"

namespace tether::console {

// Not built yet: registers nothing.
void add_file_commands(CLI::App& app, std::function<void()>& action) {
  (void)app;
  (void)action;
}

}  // namespace tether::console
