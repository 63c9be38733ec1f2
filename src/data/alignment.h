// Cross-platform indicator alignment (paper 3.2, Eq. 1): a scale factor α per (platform, indicator) against a
// reference platform, estimated from pairs of the same content posted on both.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/video.h"

namespace spir {

// Two counts of the same content on the same crawl date: ref on the reference platform, other on the platform.
struct CountPair {
  double ref = 0, other = 0;
};

// Eq. 1 in closed form: argmin_α (1/|S|) Σ ((K − αX)/(K+1))² = Σ K·X/(K+1)² / Σ X²/(K+1)².
double alpha_eq1(const std::vector<CountPair>& pairs);
// The Eq. 1 objective at a given α (mean squared percentage error relative to K+1).
double eq1_objective(const std::vector<CountPair>& pairs, double alpha);
// A robust alternative: exp(median(log(K/X))) over pairs with both counts positive.
double alpha_median_log_ratio(const std::vector<CountPair>& pairs);
// Share of the summed Eq. 1 objective carried by the k largest terms.
double top_pairs_share(const std::vector<CountPair>& pairs, double alpha, size_t k);
// Eq. 1's α is a weighted mean of the ratios K/X with weights X²/(K+1)²: the share of the total weight held by
// the k heaviest pairs (near 1: a few pairs decide α on their own).
double top_weight_share(const std::vector<CountPair>& pairs, size_t k);

struct AlignOptions {
  std::string reference = "kuaishou";
  std::string estimator = "eq1";     // "eq1" (Eq. 1, default) or "median-log"
  int64_t min_pairs = 20;            // fewer usable pairs → α = 1 with a warning
  int64_t min_count = 10;            // both counts of a pair must be at least this ("non-trivial")
  int64_t match_window_hours = 48;   // automatic matching: post times at most this far apart ...
  size_t title_min_chars = 6;        // ... and identical normalised titles of at least this many characters
  size_t top_k = 5;                  // for the top-pairs share
};

// A pair of videos believed to be the same content: reference-platform video and other-platform video.
struct VideoPairRef {
  size_t ref = 0, other = 0;
};

// Pairs from cross_post_of links (followed in both directions and through chains), grouped by the other platform.
std::map<std::string, std::vector<VideoPairRef>> cross_post_pairs(const VideoSet& set, const std::string& reference);
// Pairs found by automatic matching for one platform: same normalised title, post times within the window,
// the match unique on both sides.
std::vector<VideoPairRef> title_match_pairs(const VideoSet& set, const std::string& platform, const AlignOptions& opt);
// Lowercase, punctuation and white space removed; used for automatic matching.
std::string normalise_title(const std::string& title);
// Count pairs for one indicator: both videos compared on their latest common (non-glitch) crawl date.
std::vector<CountPair> count_pairs(const VideoSet& set, const std::vector<VideoPairRef>& pairs, int indicator, int64_t min_count);

struct AlphaEntry {
  std::string platform;
  int indicator = 0;
  double alpha = 1.0;
  int64_t video_pairs = 0;   // matched videos
  int64_t pairs_used = 0;    // pairs with both counts usable for this indicator
  std::string source;        // "reference", "cross_post", "title_match", "default"
  double objective = 0;      // Eq. 1 objective at α
  double top_share = 0;      // share of the objective carried by the top_k pairs
  double top_weight = 0;     // share of Eq. 1's weight held by the top_k pairs
};

struct AlphaTable {
  std::string reference, estimator;
  std::vector<AlphaEntry> entries;
  double alpha(const std::string& platform, int indicator) const;  // 1.0 for an unknown platform
  nlohmann::json to_json() const;
  std::string to_text() const;
  static AlphaTable from_json(const nlohmann::json& j);
};

// Estimates α for every (platform, indicator) of the data; warns where α falls back to 1.
AlphaTable estimate_alphas(const VideoSet& set, const AlignOptions& opt);

}  // namespace spir
