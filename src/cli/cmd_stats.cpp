// spir stats: the dataset's Figure 4 / Table I figures, as terminal tables and stats.json.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "data/stats.h"

namespace spir {

void add_stats_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("stats", "Print the dataset's distributions (paper 3.4, Figure 4) and write stats.json");
  cmd->add_option("dataset", *dir, "dataset folder written by 'spir annotate'")->required()->check(CLI::ExistingDirectory);
  cmd->callback([dir] {
    const DatasetStats s = run_stats(*dir);
    std::cout << s.text << "wrote " << *dir << "/stats.json\n";
  });
}

}  // namespace spir
