#pragma once
/// The `tether` command line: every subcommand, its options and what it prints. Human output
/// by default, `--json` for scripts; errors are one line on stderr and a non-zero status.

namespace tether::console {

/// Parses `argv`, runs the command, returns the process exit status.
int run_cli(int argc, char** argv);

}  // namespace tether::console
