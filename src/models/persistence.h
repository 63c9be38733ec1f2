// The persistence baseline: a sample's final level is predicted as the level its current counts already reach.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "data/alignment.h"
#include "data/dataset.h"
#include "data/levels.h"
#include "eval/predictions.h"

namespace spir {

// How a dataset turns counts into levels: α per (platform, indicator) and the Table II thresholds.
struct LevelRule {
  AlphaTable alphas;
  LevelThresholds thresholds;
};

// DS/alpha.json (from annotate) and the thresholds annotate recorded in DS/annotate.json (Table II when absent).
LevelRule load_level_rule(const std::string& ds_dir);
// Thresholds from annotate.json's options.thresholds ({"views": [t1..t9], ...}); Error names the file and field.
LevelThresholds thresholds_from_json(const nlohmann::json& j, const std::string& file);

// α·count for the five level indicators of one platform; NaN where the count is missing.
std::array<double, kNumLevelIndicators> aligned_counts(const Counts& counts, const std::string& platform, const AlphaTable& alphas);
// level_of(aligned current counts); -1 when every level indicator is missing.
int current_level(const Counts& counts, const std::string& platform, const LevelRule& rule);
// The persistence prediction: current_level, and 0 when every level indicator is missing (nothing observed
// above any threshold, as Table II reads an all-zero video).
int persistence_level(const Counts& counts, const std::string& platform, const LevelRule& rule);

// One prediction per labelled sample (every split), in sample order.
std::vector<Prediction> persistence_predictions(const Dataset& ds, const LevelRule& rule);

// Writes DS/models/persistence/{predictions.csv, model.json}.
void train_persistence(const std::string& ds_dir);

}  // namespace spir
