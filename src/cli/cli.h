// The spir command line: one binary, one subcommand per pipeline stage (DESIGN.md decision 5).
#pragma once

namespace spir {

// Parses argv, runs the chosen subcommand, returns the process exit code (0 ok, 1 error, 2 bad usage).
int run_cli(int argc, char** argv);

}  // namespace spir
