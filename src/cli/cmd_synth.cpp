// spir synth: writes realistic synthetic raw crawls (RAW_FORMAT.md) with the paper's shape.
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/json_file.h"
#include "data/synth.h"

namespace spir {

void add_synth_command(CLI::App& app) {
  auto opt = std::make_shared<SynthOptions>();
  auto* cmd = app.add_subcommand("synth", "Write synthetic raw crawls with the paper's shape (docs/SYNTHETIC_DATA.md)");
  cmd->add_option("--scale", opt->scale, "tiny (~400 videos), small (~6,000) or paper (117,720)")
      ->check(CLI::IsMember({"tiny", "small", "paper"}))
      ->capture_default_str();
  cmd->add_option("--seed", opt->seed, "random seed")->capture_default_str();
  cmd->add_option("--corrupt", opt->corrupt, "fraction of lines made malformed (to exercise ingest)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--video-fraction", opt->video_fraction,
                  "fraction of videos that also get a small MP4 (in OUT-without-extension.videos/)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--out", opt->out, "output JSONL path (gzip when it ends in .gz)")->required();
  cmd->callback([opt] {
    const SynthSummary s = write_synthetic_crawl(*opt);
    std::cout << "wrote " << opt->out << ": " << s.lines << " lines, " << s.videos << " videos, " << s.frames
              << " frames, " << s.comments << " comments, " << s.corrupted_lines << " malformed lines\n";
    for (const auto& [p, n] : s.per_platform) std::cout << "  " << p << ": " << n << " videos\n";
    write_json(opt->out + ".summary.json", s.to_json());
  });
}

}  // namespace spir
