// spir: the command-line tool, a thin main over the library.
#include "cli/cli.h"

int main(int argc, char** argv) { return spir::run_cli(argc, argv); }
