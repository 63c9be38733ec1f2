// spir annotate: samples, alignment (Eq. 1), levels (Table II) and the split by post date.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "data/annotate.h"

namespace spir {

void add_annotate_command(CLI::App& app) {
  auto opt = std::make_shared<AnnotateOptions>();
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("annotate", "Build samples, align indicators across platforms (Eq. 1), label levels (Table II), split");
  cmd->add_option("dataset", *dir, "dataset folder written by 'spir ingest'")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--horizon-days", opt->horizon_days, "label frame: first crawl at least this many days after posting")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--min-gap-days", opt->min_gap_days, "samples of one video at least this many days apart")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--reference", opt->align.reference, "reference platform of the alignment")->capture_default_str();
  cmd->add_option("--estimator", opt->align.estimator, "eq1 (Eq. 1 closed form) or median-log (robust)")
      ->check(CLI::IsMember({"eq1", "median-log"}))->capture_default_str();
  cmd->add_option("--min-pairs", opt->align.min_pairs, "fewer usable pairs than this: alpha = 1 with a warning")
      ->capture_default_str();
  cmd->add_option("--min-pair-count", opt->align.min_count, "both counts of a pair must be at least this")
      ->capture_default_str();
  cmd->add_option("--match-window-hours", opt->align.match_window_hours,
                  "automatic matching of the same content: post times at most this far apart")->capture_default_str();
  cmd->add_option("--thresholds", opt->thresholds_path,
                  "level thresholds JSON {\"views\": [9 values], \"likes\": ..., ...} (default: Table II)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--split-date", opt->split_cutoff, "posted on or before this date: train; after: test")
      ->capture_default_str();
  cmd->add_option("--val-days", opt->val_days, "the last days of the train period that form the validation part")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->callback([opt, dir] {
    const AnnotateSummary s = run_annotate(*dir, *opt);
    std::cout << s.to_text() << "wrote " << *dir << "/ (samples.csv, alpha.json, annotate.json) in " << s.seconds << " s\n";
  });
}

}  // namespace spir
