// spir features: node features of the propagation graph (Eq. 3–7), stored per node type as safetensors.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "features/node_features.h"

namespace spir {

void add_features_command(CLI::App& app) {
  auto opt = std::make_shared<FeatureOptions>();
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("features", "Compute node features (Eq. 3-7) into DS/features/ (safetensors + manifest.json)");
  cmd->add_option("dataset", *dir, "dataset folder written by 'spir annotate'")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--text", opt->text.spec, "text encoder: fasttext (trained on the dataset), hash, or bert:DIR (a Hugging Face BERT/RoBERTa folder)")
      ->capture_default_str();
  cmd->add_option("--text-dim", opt->text.dim, "output size of the fasttext and hash encoders")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--video", opt->video.spec, "video encoder: stats (FFmpeg frame statistics) or vit:DIR (a Hugging Face ViT folder)")
      ->capture_default_str();
  cmd->add_option("--video-frames", opt->video.frames, "frames decoded per video")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--video-root", opt->video_root, "folder that video_path is relative to (default: the raw crawl file's folder)");
  cmd->add_option("--seed", opt->text.seed, "seed of fastText training")->capture_default_str();
  cmd->add_option("--time", opt->time_mode,
                  "what Eq. 5 encodes: absolute timestamps (the paper's) or relative (post hour-of-week, state and comment age)")
      ->check(CLI::IsMember({"absolute", "relative"}))->capture_default_str();
  cmd->callback([opt, dir] {
    const FeatureSummary s = run_features(*dir, *opt);
    std::cout << s.to_text() << "wrote " << *dir << "/features/ (one .safetensors per node type, manifest.json)\n";
  });
}

}  // namespace spir
