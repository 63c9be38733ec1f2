// Registration of each subcommand on the CLI11 app; one file per command (cmd_<name>.cpp).
#pragma once
#include <CLI/CLI.hpp>

namespace spir {

void add_synth_command(CLI::App& app);
void add_ingest_command(CLI::App& app);
void add_annotate_command(CLI::App& app);
void add_stats_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_graph_command(CLI::App& app);
void add_features_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_llm_command(CLI::App& app);

}  // namespace spir
