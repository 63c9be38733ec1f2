// Annotate (paper 3.1–3.3): samples from crawl frames, alignment α (Eq. 1), levels (Table II), split by post date.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/alignment.h"
#include "data/levels.h"
#include "data/samples.h"

namespace spir {

struct AnnotateOptions {
  int horizon_days = 14;               // label frame: first crawl at least this many days after posting
  int min_gap_days = 2;                // samples of one video at least this many days apart
  AlignOptions align;
  std::string thresholds_path;         // empty: Table II
  std::string split_cutoff = "2024-12-20";
  int val_days = 5;
};

struct AnnotateSummary {
  int64_t videos = 0, labelled_videos = 0, unlabelled_no_frame = 0, unlabelled_no_indicator = 0;
  int64_t samples = 0, labelled_samples = 0, partial_labels = 0;  // partial: some level indicator missing
  std::map<std::string, int64_t> samples_by_split;                 // labelled samples
  std::map<std::string, std::array<int64_t, kNumLevels>> levels_by_split;
  AlphaTable alphas;
  double seconds = 0;
  nlohmann::json to_json() const;
  std::string to_text() const;
};

// The pure computation: labels and samples for every video, given α and thresholds.
std::vector<Sample> build_samples(const VideoSet& set, const AlphaTable& alphas, const LevelThresholds& thresholds,
                                  const AnnotateOptions& opt, AnnotateSummary& summary);

// Loads ds_dir/videos.bin, writes samples.csv, alpha.json and annotate.json into ds_dir.
AnnotateSummary run_annotate(const std::string& ds_dir, const AnnotateOptions& opt);

}  // namespace spir
