// The GBDT baseline: gradient-boosted regression trees (libxgboost) on the tabular features, early-stopped on val.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "eval/predictions.h"
#include "models/tabular_features.h"

namespace spir {

struct GbdtOptions {
  int rounds = 1000;                      // most boosting rounds
  int early_stopping = 50;                // stop when val MAE has not improved for this many rounds
  int depth = 6;                          // max_depth
  double eta = 0.05;                      // learning rate
  double min_child_weight = 5;            // least hessian sum in a leaf
  double subsample = 0.8;                 // row sampling per tree
  double colsample = 0.8;                 // column sampling per tree
  uint64_t seed = 7;                      // xgboost's seed: same data + seed → same model
  int nthread = 1;                        // 1 or 2; same model either way; 2 threads spin-wait badly on a busy machine
  std::string objective = "reg:squarederror";  // or "reg:pseudohubererror", "reg:absoluteerror"
  bool from_persistence = false;          // boost from each sample's current level (base_margin) instead of the train mean
  nlohmann::json to_json() const;
};

// The outcome of one fit.
struct GbdtFit {
  std::vector<Prediction> predictions;  // every labelled sample (sample order), clamped to [0, 9]
  int best_iteration = -1;              // 0-based round whose model is kept
  int rounds_trained = 0;               // rounds run before early stopping
  double val_mae = NAN, train_mae = NAN;  // of the kept model, clamped predictions
  double seconds = 0;                   // training time (boosting rounds)
  std::string model;                    // the kept model, xgboost UBJSON
};

// Trains on labelled train samples, stops on labelled val samples, predicts every labelled sample.
// Throws Error on bad options, no labelled train sample, or any xgboost failure (with its message).
GbdtFit fit_gbdt(const Dataset& ds, const TabularFeatures& features, const GbdtOptions& opt);

// Writes DS/models/gbdt/{predictions.csv, model.json, model.ubj}.
void train_gbdt(const std::string& ds_dir, const GbdtOptions& opt);

}  // namespace spir
