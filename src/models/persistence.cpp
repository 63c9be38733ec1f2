#include "models/persistence.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/json_file.h"
#include "data/video_store.h"

namespace spir {

LevelThresholds thresholds_from_json(const nlohmann::json& j, const std::string& file) {
  LevelThresholds t;
  t.source = file;
  if (!j.is_object()) throw InputError(file, 0, "options.thresholds", "bad_type", "expected an object of threshold arrays");
  for (int i = 0; i < kNumLevelIndicators; ++i) {
    const std::string field = std::string("options.thresholds.") + indicator_name(i);
    if (!j.contains(indicator_name(i))) throw InputError(file, 0, field, "missing_field", "thresholds for levels 1..9 are missing");
    const nlohmann::json& col = j.at(indicator_name(i));
    if (!col.is_array() || col.size() != kNumLevels - 1)
      throw InputError(file, 0, field, "bad_value", "expected an array of 9 thresholds (levels 1..9)");
    for (int l = 1; l < kNumLevels; ++l) {
      if (!col[l - 1].is_number()) throw InputError(file, 0, field, "bad_type", "thresholds must be numbers");
      t.thresholds[l][i] = col[l - 1].get<double>();
    }
  }
  return t;
}

LevelRule load_level_rule(const std::string& ds_dir) {
  LevelRule rule;
  const std::string alpha_path = ds_path(ds_dir, ds_files::kAlpha);
  if (!std::filesystem::exists(alpha_path)) throw Error(alpha_path + ": missing; run 'spir annotate " + ds_dir + "' first");
  try {
    rule.alphas = AlphaTable::from_json(read_json(alpha_path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(alpha_path, 0, "alphas", "bad_value", e.what());
  }
  rule.thresholds = table2_thresholds();
  const std::string ann_path = ds_path(ds_dir, ds_files::kAnnotateSummary);
  if (std::filesystem::exists(ann_path)) {
    const nlohmann::json ann = read_json(ann_path);
    if (ann.contains("options") && ann["options"].contains("thresholds")) {
      rule.thresholds = thresholds_from_json(ann["options"]["thresholds"], ann_path);
      rule.thresholds.source = ann["options"].value("thresholds_source", ann_path);
    }
  }
  return rule;
}

std::array<double, kNumLevelIndicators> aligned_counts(const Counts& counts, const std::string& platform, const AlphaTable& alphas) {
  std::array<double, kNumLevelIndicators> a;
  for (int i = 0; i < kNumLevelIndicators; ++i)
    a[i] = counts[i] == kMissing ? NAN : alphas.alpha(platform, i) * static_cast<double>(counts[i]);
  return a;
}

int current_level(const Counts& counts, const std::string& platform, const LevelRule& rule) {
  return level_of(aligned_counts(counts, platform, rule.alphas), rule.thresholds);
}

int persistence_level(const Counts& counts, const std::string& platform, const LevelRule& rule) {
  const int level = current_level(counts, platform, rule);
  return level < 0 ? 0 : level;
}

std::vector<Prediction> persistence_predictions(const Dataset& ds, const LevelRule& rule) {
  std::vector<Prediction> out;
  for (const Sample& s : ds.samples) {
    if (s.level < 0) continue;
    const Video& v = ds.set.videos[static_cast<size_t>(s.video)];
    out.push_back({s.id, static_cast<double>(persistence_level(s.counts, v.platform, rule))});
  }
  return out;
}

void train_persistence(const std::string& ds_dir) {
  const auto start = std::chrono::steady_clock::now();
  const Dataset ds = load_dataset(ds_dir);
  const LevelRule rule = load_level_rule(ds_dir);
  const std::vector<Prediction> preds = persistence_predictions(ds, rule);
  const std::string dir = model_dir(ds_dir, "persistence");
  std::filesystem::create_directories(dir);
  save_predictions(dir + "/predictions.csv", preds);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  save_model_info(dir, {{"model", "persistence"}, {"input", "Counts"}, {"ablation", ""},
                        {"rule", "level of the aligned counts at the sample's crawl date (Table II); 0 when all missing"},
                        {"thresholds_source", rule.thresholds.source}, {"predictions", preds.size()},
                        {"seconds", seconds}});
  spdlog::info("persistence: {} predictions written to {} in {:.2f} s", preds.size(), dir, seconds);
}

}  // namespace spir
