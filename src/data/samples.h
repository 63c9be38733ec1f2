// Samples (paper 3.1): the states of a video at its crawl dates before the label frame, with their labels and split.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/video.h"

namespace spir {

enum class Split : uint8_t { kTrain = 0, kVal = 1, kTest = 2 };
const char* split_name(Split s);  // "train", "val", "test"

// One sample: a video as seen on one crawl date (ctime).
struct Sample {
  int64_t id = 0;
  int64_t video = 0;           // index into VideoSet::videos
  int64_t ctime_day = 0;       // crawl date of the frame
  int64_t observed_days = 0;   // ctime date − post date, in days
  Counts counts{};             // the frame's raw counts (kMissing where absent)
  int64_t comments_visible = 0;  // comments posted up to the end of ctime's day (video's first n comments)
  int level = -1;              // -1: unlabelled (no label frame, or no indicator at it)
  uint8_t level_indicators = 0;  // bitmask of the indicators the label used (fewer → a lower bound)
  int64_t label_day = INT64_MIN; // crawl date of the label frame, INT64_MIN when none
  Split split = Split::kTrain;
};

// Index of the label frame: the first non-glitch frame at least horizon_days after the post date; -1 when none.
int label_frame_index(const Video& v, int horizon_days);
// Frames that become samples: non-glitch frames before the label frame (all of them when there is none), kept
// greedily from the first when at least min_gap_days after the previously kept one.
std::vector<size_t> sample_frame_indices(const Video& v, int label_index, int min_gap_days);
// Number of the video's comments whose time is not later than the end of the given day.
int64_t comments_visible_at(const Video& v, int64_t day);

struct SplitOptions {
  int64_t cutoff_day = 0;  // post date on or before → train/val, after → test
  int val_days = 5;        // the last val_days days of the train period (by post date) form the validation part
};
Split split_of(int64_t post_day, const SplitOptions& opt);

// samples.csv: a header line and one row per sample; readable by pandas/jq-style tools. Needs the videos for names.
void save_samples_csv(const std::string& path, const std::vector<Sample>& samples, const VideoSet& set);
std::vector<Sample> load_samples_csv(const std::string& path);

}  // namespace spir
