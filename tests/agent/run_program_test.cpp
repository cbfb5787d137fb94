// run_program against real programs: output, exit codes, deadlines and missing tools.

#include "tether/agent/run_program.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace tether::agent {
namespace {

using namespace std::chrono_literals;

TEST(RunProgram, CapturesOutputAndExitStatus) {
  const auto run = run_program({"sh", "-c", "printf 'out\\n'; printf 'err\\n' >&2; exit 3"}, {});
  EXPECT_EQ(run.outcome, RunOutcome::exited);
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(run.out, "out\n");
  EXPECT_EQ(run.err, "err\n");
  EXPECT_FALSE(run.succeeded());
  EXPECT_EQ(describe_failure(run), "exit status 3: err");
}

TEST(RunProgram, RunsInTheCLocaleWithoutPager) {
  const auto run = run_program({"sh", "-c", "echo \"$LC_ALL|$SYSTEMD_PAGER|$PAGER\""}, {});
  ASSERT_TRUE(run.succeeded()) << describe_failure(run);
  EXPECT_EQ(run.out, "C||cat\n");
  EXPECT_EQ(describe_failure(run), "");
}

TEST(RunProgram, MissingToolIsSaidSo) {
  const auto run = run_program({"tether-no-such-program-anywhere"}, {});
  EXPECT_EQ(run.outcome, RunOutcome::tool_missing);
  EXPECT_EQ(describe_failure(run), "tool missing");
}

TEST(RunProgram, HangingProgramIsKilledAtItsDeadline) {
  const auto started = std::chrono::steady_clock::now();
  const auto run = run_program({"sleep", "30"}, {.timeout = 200ms});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(run.outcome, RunOutcome::timed_out);
  EXPECT_EQ(describe_failure(run), "timed out");
  EXPECT_LT(took, 10s);  // the deadline held: far below the program's 30 s
}

TEST(RunProgram, GrandchildHoldingThePipesDoesNotHoldTheRun) {
  // The shell exits at once but leaves a sleeper with our stdout open.
  const auto started = std::chrono::steady_clock::now();
  const auto run = run_program({"sh", "-c", "echo early; sleep 30 & exit 0"}, {.timeout = 300ms});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(run.outcome, RunOutcome::exited);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out, "early\n");
  EXPECT_LT(took, 10s);
}

TEST(RunProgram, OutputBeyondTheLimitIsCutAndFlagged) {
  const auto run = run_program({"sh", "-c", "head -c 100000 /dev/zero"}, {.max_output = 1000});
  EXPECT_TRUE(run.succeeded());
  EXPECT_EQ(run.out.size(), 1000U);
  EXPECT_TRUE(run.truncated);
}

TEST(RunProgram, EmptyArgvIsRefused) {
  const auto run = run_program({}, {});
  EXPECT_EQ(run.outcome, RunOutcome::failed_to_start);
}

}  // namespace
}  // namespace tether::agent
