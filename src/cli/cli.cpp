#include "cli/cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "tensor/torch_info.h"

namespace spir {

int run_cli(int argc, char** argv) {
  CLI::App app{"spir: rates how far a short video will spread (influence level 0-9 two weeks after posting),\n"
               "from raw crawls to labelled samples, graph, models and evaluation."};
  app.require_subcommand(1);
  app.fallthrough();
  if (!spdlog::get("spir")) spdlog::set_default_logger(spdlog::stderr_color_mt("spir"));  // logs go to stderr
  spdlog::set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  spdlog::set_level(spdlog::level::info);
  app.add_option("--log-level", "trace, debug, info, warn, error or off (default info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->each([](const std::string& s) { spdlog::set_level(spdlog::level::from_str(s)); });
  app.add_option("--threads", "LibTorch threads (default: OMP_NUM_THREADS, else every core)")
      ->check(CLI::PositiveNumber)
      ->each([](const std::string& s) { configure_torch_threads(std::stoi(s)); });
  configure_torch_threads(0);
  app.set_version_flag("--version", [] { return std::string("spir 0.1.0 (") + torch_build_summary() + ")"; });

  add_synth_command(app);
  add_ingest_command(app);
  add_annotate_command(app);
  add_stats_command(app);
  add_export_command(app);
  add_graph_command(app);
  add_features_command(app);
  add_train_command(app);
  add_eval_command(app);
  add_run_command(app);
  add_llm_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const Error& e) {
    std::cerr << "spir: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "spir: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace spir
