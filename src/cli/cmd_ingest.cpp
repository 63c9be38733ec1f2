// spir ingest: raw crawl JSONL → validated videos in a dataset folder; bad lines quarantined with reasons.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "data/ingest.h"

namespace spir {

void add_ingest_command(CLI::App& app) {
  auto opt = std::make_shared<IngestOptions>();
  auto* cmd = app.add_subcommand("ingest", "Parse and validate raw crawls (JSONL, plain or gzip) into a dataset folder");
  cmd->add_option("--raw", opt->raw_path, "raw crawl file (RAW_FORMAT.md)")->required();
  cmd->add_option("--out", opt->out_dir, "dataset folder to write (videos.bin, quarantine.jsonl, ingest.json)")->required();
  cmd->add_option("--glitch-drop", opt->glitch_drop_ratio,
                  "a count falling below this share of the previous good one flags the frame as a glitch")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->callback([opt] {
    const IngestSummary s = run_ingest(*opt);
    std::cout << s.to_text() << "wrote " << opt->out_dir << "/ (videos.bin, quarantine.jsonl, ingest.json) in "
              << s.seconds << " s\n";
  });
}

}  // namespace spir
