#include "data/levels.h"

#include <cmath>

#include "core/error.h"
#include "core/json_file.h"

namespace spir {

LevelThresholds table2_thresholds() {
  // Table II: views, likes, shares, collects, comments. Level 0 = all zero.
  LevelThresholds t;
  const double views[kNumLevels] = {0, 0, 100, 1e5, 1e6, 1e6, 1e6, 1e7, 1e8, 2e8};
  const double others[kNumLevels] = {0, 0, 10, 20, 80, 300, 1000, 3000, 10000, 50000};
  for (int l = 0; l < kNumLevels; ++l) {
    t.thresholds[l][kViews] = views[l];
    for (int i = kLikes; i < kNumLevelIndicators; ++i) t.thresholds[l][i] = others[l];
  }
  return t;
}

nlohmann::json LevelThresholds::to_json() const {
  nlohmann::json j;
  for (int i = 0; i < kNumLevelIndicators; ++i) {
    std::vector<double> col;
    for (int l = 1; l < kNumLevels; ++l) col.push_back(thresholds[l][i]);
    j[indicator_name(i)] = col;
  }
  return j;
}

LevelThresholds load_thresholds(const std::string& path) {
  const nlohmann::json j = read_json(path);
  LevelThresholds t;
  t.source = path;
  for (int i = 0; i < kNumLevelIndicators; ++i) {
    const char* name = indicator_name(i);
    if (!j.contains(name)) throw InputError(path, 0, name, "missing_field", "thresholds for levels 1..9 are missing");
    const auto& col = j.at(name);
    if (!col.is_array() || col.size() != kNumLevels - 1)
      throw InputError(path, 0, name, "bad_value", "expected an array of 9 thresholds (levels 1..9)");
    for (int l = 1; l < kNumLevels; ++l) {
      if (!col[l - 1].is_number()) throw InputError(path, 0, name, "bad_type", "thresholds must be numbers");
      t.thresholds[l][i] = col[l - 1].get<double>();
      if (t.thresholds[l][i] < t.thresholds[l - 1][i])
        throw InputError(path, 0, name, "bad_value", "thresholds must not decrease with the level (level " + std::to_string(l) + ")");
    }
  }
  return t;
}

int level_of(const std::array<double, kNumLevelIndicators>& aligned, const LevelThresholds& t, uint8_t* used) {
  int level = 0;
  uint8_t mask = 0;
  for (int i = 0; i < kNumLevelIndicators; ++i) {
    if (std::isnan(aligned[i])) continue;
    mask |= static_cast<uint8_t>(1u << i);
    for (int l = kNumLevels - 1; l > level; --l)
      if (aligned[i] > t.thresholds[l][i]) {
        level = l;
        break;
      }
  }
  if (used) *used = mask;
  return mask == 0 ? -1 : level;
}

}  // namespace spir
