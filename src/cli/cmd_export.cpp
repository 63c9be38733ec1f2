// spir export: the dataset's videos as RAW_FORMAT JSON lines, for jq / pandas users (re-ingestable).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "data/video_store.h"

namespace spir {

void add_export_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("export", "Export the ingested videos as JSON lines (RAW_FORMAT.md; gzip when --out ends in .gz)");
  cmd->add_option("dataset", *dir, "dataset folder written by 'spir ingest'")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", *out, "output path (.jsonl or .jsonl.gz)")->required();
  cmd->callback([dir, out] {
    const VideoSet set = load_videos(ds_path(*dir, ds_files::kVideos));
    export_videos_jsonl(set, *out);
    std::cout << "wrote " << set.videos.size() << " videos to " << *out << "\n";
  });
}

}  // namespace spir
