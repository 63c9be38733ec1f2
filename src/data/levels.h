// Influence levels 0–9 from aligned indicators, by the thresholds of Table II (or a thresholds file).
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "data/video.h"

namespace spir {

constexpr int kNumLevels = 10;

// thresholds[L][i]: level L is reached when aligned indicator i is strictly greater than this (L = 1..9).
struct LevelThresholds {
  std::array<std::array<double, kNumLevelIndicators>, kNumLevels> thresholds{};
  std::string source = "Table II";
  nlohmann::json to_json() const;
};

LevelThresholds table2_thresholds();                        // the paper's Table II
LevelThresholds load_thresholds(const std::string& path);   // JSON: {"views": [t1..t9], "likes": [...], ...}

// The level of one set of aligned indicators (Table II): the highest L whose threshold any present indicator
// exceeds (strictly); a missing (NaN) indicator is ignored, never read as 0; no indicator above any threshold → 0.
// used (optional) receives a bitmask of the indicators that were present. Returns -1 when every indicator is missing.
int level_of(const std::array<double, kNumLevelIndicators>& aligned, const LevelThresholds& t, uint8_t* used = nullptr);

}  // namespace spir
