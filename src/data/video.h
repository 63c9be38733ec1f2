// The in-memory form of ingested crawls: one Video per (platform, video_id), its crawl frames and comments.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace spir {

// Interaction indicators, in the order of Table II (views..comments), then fans (not a level indicator).
enum Indicator : int { kViews = 0, kLikes, kShares, kCollects, kComments, kFans, kNumIndicators };
constexpr int kNumLevelIndicators = 5;  // Table II uses views, likes, shares, collects, comments
constexpr int64_t kMissing = -1;        // a count the platform does not provide (null), never read as 0

const char* indicator_name(int i);       // "views", "likes", ..., "fans"
const char* indicator_raw_field(int i);  // "view_count", "like_count", ..., "fans_count"

using Counts = std::array<int64_t, kNumIndicators>;

// Counts of one crawl date. A glitch frame (counts fell sharply: cumulative counts never do) is kept but not used.
struct Frame {
  int64_t day = 0;  // crawl date, days since 1970-01-01
  Counts counts{kMissing, kMissing, kMissing, kMissing, kMissing, kMissing};
  bool glitch = false;
};

struct Comment {
  int64_t time = 0;  // seconds since 1970-01-01
  std::string text, user_id, nickname, ip_address;
};

struct Video {
  std::string platform, video_id, topic, title, desc, content, user_id, nickname, url, video_path;
  double duration = NAN;  // seconds; NaN when absent
  int64_t post_time = 0;  // seconds since 1970-01-01
  std::vector<Frame> frames;      // sorted by day, one per day
  std::vector<Comment> comments;  // sorted by time
  std::string cross_platform, cross_video_id;  // cross_post_of, empty when absent
  int64_t source_line = 0;        // line of the raw file it came from (first line when merged)

  int64_t post_day() const;
};

// All accepted videos of a dataset, in order of first appearance in the raw file.
struct VideoSet {
  std::vector<Video> videos;
  std::string source;  // the raw file they came from
};

}  // namespace spir
