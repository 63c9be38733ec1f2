#include "data/video.h"

#include "core/civil_time.h"

namespace spir {

const char* indicator_name(int i) {
  static const char* kNames[kNumIndicators] = {"views", "likes", "shares", "collects", "comments", "fans"};
  return kNames[i];
}

const char* indicator_raw_field(int i) {
  static const char* kNames[kNumIndicators] = {"view_count",    "like_count",    "share_count",
                                               "collect_count", "comment_count", "fans_count"};
  return kNames[i];
}

int64_t Video::post_day() const { return day_of(post_time); }

}  // namespace spir
