// The paper's metrics (5.2, Eq. 15-17) and their breakdowns: per platform, per observation period (Figure 8),
// the confusion matrix, and the training curves of Figure 9 (DS/models/<name>/curves.csv).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/quantile.h"  // quantile_sorted
#include "data/levels.h"  // kNumLevels

namespace spir {


// Eq. 15's rounding: nearest integer with halves rounded up (2.5 -> 3, 3.4999 -> 3), then clamped to 0..9, so a
// prediction outside the level range counts as the nearest level (-0.7 -> 0, 9.6 -> 9). Non-finite input -> 0.
int round_level(double prediction);

// ACC (Eq. 15), MSE (Eq. 16), MAE (Eq. 17) over n labelled samples; NaN when n is 0.
struct Metrics {
  int64_t n = 0;
  double acc = 0, mse = 0, mae = 0;
};
// Throws Error when the two lists differ in length.
Metrics compute_metrics(const std::vector<int>& labels, const std::vector<double>& predictions);

// Five-number summary plus mean of a list of errors (one box of Figure 8); NaN everywhere for an empty list.
struct ErrorSummary {
  double min = 0, q1 = 0, median = 0, q3 = 0, max = 0, mean = 0;
};
// Quantiles by linear interpolation between order statistics (position q·(n−1), numpy's default).
ErrorSummary summarize_errors(std::vector<double> values);

// Observation periods of 5.5 / Figure 8, by Sample::observed_days (ctime date − post date).
enum class Period : int { kShort = 0, kMedium = 1, kLong = 2 };  // ≤3 days, 4–7 days, >7 days
constexpr int kNumPeriods = 3;
Period period_of(int64_t observed_days);  // days ≤ 3 (negative included) -> kShort, 4..7 -> kMedium, > 7 -> kLong
const char* period_name(Period p);        // "<=3 days", "4-7 days", ">7 days"

// Rows: true level (0..9); columns: round_level(prediction).
using ConfusionMatrix = std::array<std::array<int64_t, kNumLevels>, kNumLevels>;
// Throws Error on a label outside 0..9 or lists of different lengths.
ConfusionMatrix confusion_matrix(const std::vector<int>& labels, const std::vector<double>& predictions);

// One evaluated sample: its label, the model's prediction and what it is broken down by.
struct ScoredSample {
  int label = 0;
  double prediction = 0;
  int64_t observed_days = 0;
  std::string platform;
};

// Metrics of one group (a platform or a period) with the Figure 8 summaries of its squared and absolute errors.
struct GroupMetrics {
  std::string group;
  Metrics metrics;
  ErrorSummary squared, absolute;
};

// Everything reported for one model on one split.
struct Evaluation {
  GroupMetrics overall;                  // group "all"
  std::vector<GroupMetrics> by_platform;  // platforms sorted by name
  std::vector<GroupMetrics> by_period;    // always the three periods, in order (an empty one has n = 0)
  ConfusionMatrix confusion{};
};
Evaluation evaluate_scored(const std::vector<ScoredSample>& rows);
GroupMetrics group_metrics(const std::string& group, const std::vector<int>& labels, const std::vector<double>& predictions);

// ---- Figure 9: training curves --------------------------------------------------------------------------------

// One row of curves.csv: ACC and MSE of one platform ("all" for every platform together) at a training step.
struct CurvePoint {
  int64_t step = 0;
  std::string platform;
  double acc = 0, mse = 0;
  int64_t n = 0;
};

std::string curves_path(const std::string& ds_dir, const std::string& name);  // DS/models/<name>/curves.csv

// ACC/MSE per platform (sorted by name) and "all" at one step, from the samples scored during training.
std::vector<CurvePoint> curve_points_at(int64_t step, const std::vector<ScoredSample>& rows);

// Appends rows to curves.csv (header "step,platform,acc,mse,n" written when the file is new). A partial last line
// left by a killed process is cut off first. Throws Error naming the file when it cannot be written.
void append_curve_points(const std::string& path, const std::vector<CurvePoint>& points);
void save_curves(const std::string& path, const std::vector<CurvePoint>& points);  // atomic rewrite
// Reads curves.csv; a later row for the same (step, platform) replaces an earlier one (a resumed training writes
// its steps again). Result sorted by platform, then step. Error names file and line on a bad row.
std::vector<CurvePoint> load_curves(const std::string& path);

}  // namespace spir
