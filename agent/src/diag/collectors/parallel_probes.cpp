#include "diag/collectors/parallel_probes.hpp"

#include <exception>
#include <system_error>
#include <thread>

namespace tether::agent::diag {

std::pair<ProgramRun, ProgramRun> run_probes_together(const CollectContext& context,
                                                      const std::vector<std::string>& first,
                                                      const std::vector<std::string>& second) {
  ProgramRun first_run;
  const auto run_first = [&]() noexcept {
    try {
      first_run = run_probe(context, first);
    } catch (const std::exception& e) {
      first_run = ProgramRun{};
      first_run.error = e.what();
    } catch (...) {
      first_run = ProgramRun{};
      first_run.error = "internal error";
    }
  };
  std::thread helper;
  try {
    helper = std::thread(run_first);
  } catch (const std::system_error&) {
    run_first();
  }
  // The helper thread reads `context` and writes `first_run`: it is joined before either goes
  // away, also when this thread's probe throws.
  struct Joiner {
    std::thread& thread;
    ~Joiner() {
      if (thread.joinable()) thread.join();
    }
  } joiner{helper};
  ProgramRun second_run = run_probe(context, second);
  if (helper.joinable()) helper.join();
  return {std::move(first_run), std::move(second_run)};
}

}  // namespace tether::agent::diag
