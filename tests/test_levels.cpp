// Table II level rules: strict thresholds, missing indicators ignored, all-zero → 0, thresholds from a file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/line_io.h"
#include "data/levels.h"

using namespace spir;

namespace {
using Row = std::array<double, kNumLevelIndicators>;
constexpr double kNA = NAN;
Row likes_only(double likes) { return {kNA, likes, kNA, kNA, kNA}; }
}  // namespace

// All indicators zero gives level 0; one indicator just over 0 gives level 1 (strict ">0").
TEST(Levels, AllZeroIsLevelZeroAndAnyPositiveIsLevelOne) {
  const auto t = table2_thresholds();
  EXPECT_EQ(level_of({0, 0, 0, 0, 0}, t), 0);
  EXPECT_EQ(level_of({0, 0, 0, 0, 1}, t), 1);
  EXPECT_EQ(level_of({0, 0.5, 0, 0, 0}, t), 1);
}

// Exactly at a threshold does not reach the level; just over it does (likes column of Table II).
TEST(Levels, ExactlyAtThresholdStaysBelowJustOverReaches) {
  const auto t = table2_thresholds();
  const double thr[] = {0, 0, 10, 20, 80, 300, 1000, 3000, 10000, 50000};
  for (int l = 2; l < kNumLevels; ++l) {
    EXPECT_EQ(level_of(likes_only(thr[l]), t), l - 1) << "likes == threshold of level " << l;
    EXPECT_EQ(level_of(likes_only(thr[l] + 1), t), l) << "likes just over threshold of level " << l;
  }
  EXPECT_EQ(level_of(likes_only(1e9), t), 9);
}

// Views: Table II's equal thresholds for levels 4-6 mean views over 1e6 reach level 6 (the highest level exceeded).
TEST(Levels, ViewsColumnWithEqualThresholds) {
  const auto t = table2_thresholds();
  EXPECT_EQ(level_of({100, kNA, kNA, kNA, kNA}, t), 1);
  EXPECT_EQ(level_of({101, kNA, kNA, kNA, kNA}, t), 2);
  EXPECT_EQ(level_of({100000, kNA, kNA, kNA, kNA}, t), 2);
  EXPECT_EQ(level_of({100001, kNA, kNA, kNA, kNA}, t), 3);
  EXPECT_EQ(level_of({1000000, kNA, kNA, kNA, kNA}, t), 3);
  EXPECT_EQ(level_of({1000001, kNA, kNA, kNA, kNA}, t), 6);
  EXPECT_EQ(level_of({2e8 + 1, kNA, kNA, kNA, kNA}, t), 9);
}

// The level is the maximum over indicators: any indicator over a threshold lifts the level.
TEST(Levels, HighestLevelOverAnyIndicator) {
  const auto t = table2_thresholds();
  EXPECT_EQ(level_of({50, 5, 25, 0, 301}, t), 5);   // comments > 300
  EXPECT_EQ(level_of({50, 3001, 25, 0, 301}, t), 7);  // likes > 3000
}

// A missing indicator is ignored, never read as 0; the used mask says which were present; none present → -1.
TEST(Levels, MissingIndicatorsIgnoredAndRecorded) {
  const auto t = table2_thresholds();
  uint8_t used = 0;
  EXPECT_EQ(level_of({kNA, 0, kNA, 0, kNA}, t, &used), 0);
  EXPECT_EQ(used, (1u << kLikes) | (1u << kCollects));
  EXPECT_EQ(level_of({kNA, kNA, kNA, kNA, kNA}, t, &used), -1);
  EXPECT_EQ(used, 0);
}

// Thresholds load from a JSON file; decreasing thresholds and wrong lengths are rejected naming the field.
TEST(Levels, ThresholdsFromFile) {
  const auto dir = std::filesystem::temp_directory_path() / "spir_test_levels";
  std::filesystem::create_directories(dir);
  const std::string good = (dir / "good.json").string();
  write_file_atomic(good, R"({"views":[0,1,2,3,4,5,6,7,8],"likes":[0,1,2,3,4,5,6,7,8],"shares":[0,1,2,3,4,5,6,7,8],
    "collects":[0,1,2,3,4,5,6,7,8],"comments":[0,1,2,3,4,5,6,7,8]})");
  const auto t = load_thresholds(good);
  EXPECT_EQ(level_of(likes_only(5), t), 5);  // thresholds of levels 1..9 are 0..8: 5 exceeds those of levels 1..5
  const std::string bad = (dir / "bad.json").string();
  write_file_atomic(bad, R"({"views":[0,1,2,3,4,5,6,7,8],"likes":[0,1,2,3,4,5,6,7,1],"shares":[0,1,2,3,4,5,6,7,8],
    "collects":[0,1,2,3,4,5,6,7,8],"comments":[0,1,2,3,4,5,6,7,8]})");
  try {
    load_thresholds(bad);
    FAIL() << "decreasing thresholds accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field, "likes");
  }
  std::filesystem::remove_all(dir);
}
