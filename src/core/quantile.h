// Quantiles of sorted values by linear interpolation between order statistics (position q·(n−1), numpy's default),
// shared by the dataset statistics and the evaluation report.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

namespace spir {

// q in [0, 1] (clamped); sorted ascending; NaN for an empty list.
template <typename T>
double quantile_sorted(const std::vector<T>& sorted, double q) {
  if (sorted.empty()) return NAN;
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return static_cast<double>(sorted[lo]) + (pos - static_cast<double>(lo)) * static_cast<double>(sorted[hi] - sorted[lo]);
}

}  // namespace spir
