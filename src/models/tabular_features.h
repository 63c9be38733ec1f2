// Per-sample tabular features for the GBDT baseline, from what is observable at the sample's crawl date plus
// topic and author statistics of the train split (leave-one-video-out for train samples).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "models/persistence.h"

namespace spir {

// A dense row-major float matrix: one row per sample of the dataset (sample order), NaN where missing.
struct TabularFeatures {
  std::vector<std::string> names;  // one per column
  int64_t rows = 0, cols = 0;
  std::vector<float> values;       // rows × cols
  float at(int64_t r, int64_t c) const { return values[static_cast<size_t>(r * cols + c)]; }
  int64_t column(const std::string& name) const;  // index of a named column; Error when absent
};

struct TabularOptions {
  double smoothing = 5.0;  // topic/author means are shrunk toward the global train mean with this many pseudo-videos
};

// Platforms that get a one-hot column (any other platform sets platform_other).
const std::vector<std::string>& tabular_platforms();
// Column names, in column order.
std::vector<std::string> tabular_feature_names();

// Features for every sample of ds (labelled or not). Topic and author levels come from labelled train-split
// videos only; a train video's own level never enters its own topic or author statistics.
TabularFeatures tabular_features(const Dataset& ds, const LevelRule& rule, const TabularOptions& opt = {});

}  // namespace spir
