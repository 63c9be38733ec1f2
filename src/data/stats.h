// Dataset statistics (paper 3.4, Figure 4 and the XS-Video row of Table I), from the videos and the samples.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/samples.h"
#include "data/video.h"

namespace spir {

// The same figures, as JSON (written to stats.json) and as aligned tables for a terminal.
struct DatasetStats {
  nlohmann::json json;
  std::string text;
};

// Figure 4 / Table I figures of a dataset (paper 3.4), from the videos and the samples.
// Throws Error when a sample refers to a video that is not in the set, or carries a level outside 0..9.
DatasetStats compute_stats(const VideoSet& set, const std::vector<Sample>& samples);

// Loads ds_dir/videos.bin and ds_dir/samples.csv, computes, writes ds_dir/stats.json, returns it.
DatasetStats run_stats(const std::string& ds_dir);

// One day of Figure 4(e): LIP(day) (NaN when no video contributed) and how many videos contributed.
struct LipPoint {
  int day;
  double lip;
  int64_t videos;
};

// Eq. 2: LIP(t) = E[(Likes(t) − Likes(t−1)) / (Likes(t) + 1)] over videos with non-glitch frames on both day t and
// day t−1 after posting (day = crawl date − post date) and likes present on both; for t = 1..max_day.
std::vector<LipPoint> likes_increase_percentage(const VideoSet& set, int max_day = 21);


// Figure 4(f) stand-in: code points of a sample's text = title + desc + content + topic + the texts of the video's
// first comments_visible comments (the comments visible at the sample's crawl date).
int64_t sample_text_code_points(const Video& v, int64_t comments_visible);

}  // namespace spir
