// Samples (paper 3.1): label frame at the horizon, the minimum gap between samples, comment cut-off, split dates.
#include <gtest/gtest.h>

#include "core/civil_time.h"
#include "data/annotate.h"

using namespace spir;

namespace {
const int64_t kPost = *parse_date("2024-12-01");

Video video_with_days(std::vector<int64_t> offsets, int64_t post_day = kPost) {
  Video v;
  v.platform = "kuaishou";
  v.video_id = "v";
  v.post_time = post_day * kSecondsPerDay + 20 * 3600;  // posted at 20:00
  for (int64_t o : offsets) {
    Frame f;
    f.day = post_day + o;
    f.counts = {1000, 50, 5, 5, 5, 100};
    v.frames.push_back(f);
  }
  return v;
}
}  // namespace

// The label frame is the first crawl at least 14 days after the post date; none → -1; glitches are skipped.
TEST(Samples, LabelFrameAtHorizon) {
  EXPECT_EQ(label_frame_index(video_with_days({1, 5, 13, 14, 20}), 14), 3);
  EXPECT_EQ(label_frame_index(video_with_days({1, 5, 13, 15}), 14), 3);
  EXPECT_EQ(label_frame_index(video_with_days({1, 5, 13}), 14), -1);
  Video v = video_with_days({1, 14, 16});
  v.frames[1].glitch = true;
  EXPECT_EQ(label_frame_index(v, 14), 2);
  EXPECT_EQ(label_frame_index(v, 7), 2);
}

// Samples are frames before the label frame, kept greedily at least min_gap days apart (days 0,1,2,3,5,6 → 0,2,5).
TEST(Samples, MinimumGapRule) {
  Video v = video_with_days({0, 1, 2, 3, 5, 6, 14, 15});
  const int label = label_frame_index(v, 14);
  ASSERT_EQ(label, 6);
  const auto idx = sample_frame_indices(v, label, 2);
  std::vector<int64_t> days;
  for (size_t i : idx) days.push_back(v.frames[i].day - kPost);
  EXPECT_EQ(days, (std::vector<int64_t>{0, 2, 5}));
  // A gap of 1 keeps every frame before the label; a glitch frame never becomes a sample.
  v.frames[1].glitch = true;
  EXPECT_EQ(sample_frame_indices(v, label, 1).size(), 5u);
  // With no label frame, all frames are candidates (the video is unlabelled context).
  EXPECT_EQ(sample_frame_indices(video_with_days({0, 2, 4}), -1, 2).size(), 3u);
}

// A sample sees the comments posted up to the end of its crawl date, not later ones.
TEST(Samples, CommentCutOffByDate) {
  Video v = video_with_days({1, 3});
  for (const char* t : {"2024-12-01 21:00:00", "2024-12-02 23:59:59", "2024-12-03 00:00:00", "2024-12-04 10:00:00"}) {
    Comment c;
    c.time = *parse_datetime(t);
    v.comments.push_back(c);
  }
  EXPECT_EQ(comments_visible_at(v, kPost), 1);
  EXPECT_EQ(comments_visible_at(v, kPost + 1), 2);  // 23:59:59 of the crawl date is included
  EXPECT_EQ(comments_visible_at(v, kPost + 2), 3);  // midnight of the next day belongs to the next day
  EXPECT_EQ(comments_visible_at(v, kPost + 10), 4);
}

// Split by post date: on or before the cutoff → train (the last val_days days → val), after → test.
TEST(Samples, SplitDates) {
  const SplitOptions opt{*parse_date("2024-12-20"), 5};
  EXPECT_EQ(split_of(*parse_date("2024-12-20"), opt), Split::kVal);
  EXPECT_EQ(split_of(*parse_date("2024-12-16"), opt), Split::kVal);
  EXPECT_EQ(split_of(*parse_date("2024-12-15"), opt), Split::kTrain);
  EXPECT_EQ(split_of(*parse_date("2024-12-21"), opt), Split::kTest);
  const SplitOptions no_val{*parse_date("2024-12-20"), 0};
  EXPECT_EQ(split_of(*parse_date("2024-12-20"), no_val), Split::kTrain);
}

// build_samples labels every sample of a video with the aligned level of its label frame; unlabelled videos keep
// their samples with level -1 and are counted.
TEST(Samples, BuildSamplesLabelsWithAlignedCounts) {
  VideoSet set;
  set.videos.push_back(video_with_days({1, 3, 14}));           // labelled
  set.videos.push_back(video_with_days({1, 3, 5}));            // no label frame
  set.videos[0].platform = "douyin";
  set.videos[0].frames[2].counts = {kMissing, 400, 0, 0, 0, 100};  // likes 400 raw
  AlphaTable alphas;
  alphas.entries.push_back({"douyin", kLikes, 0.5, 0, 0, "test", 0, 0, 0});  // aligned likes 200 → level 4 (>80, ≤300)
  AnnotateOptions opt;
  AnnotateSummary sum;
  const auto samples = build_samples(set, alphas, table2_thresholds(), opt, sum);
  ASSERT_EQ(samples.size(), 5u);
  EXPECT_EQ(samples[0].level, 4);
  EXPECT_EQ(samples[1].level, 4);
  EXPECT_EQ(samples[0].level_indicators, 0b11110);  // views missing: a lower bound
  EXPECT_EQ(samples[2].level, -1);
  EXPECT_EQ(sum.labelled_videos, 1);
  EXPECT_EQ(sum.unlabelled_no_frame, 1);
  EXPECT_EQ(sum.labelled_samples, 2);
  EXPECT_EQ(sum.partial_labels, 2);
  EXPECT_EQ(samples[1].observed_days, 3);
}

// Dates: parse/format round trip, invalid calendar dates rejected.
TEST(CivilTime, ParseFormatRoundTrip) {
  EXPECT_EQ(format_datetime(*parse_datetime("2024-02-29 23:59:59")), "2024-02-29 23:59:59");
  EXPECT_FALSE(parse_date("2023-02-29"));
  EXPECT_FALSE(parse_datetime("2024-13-45 99:00:00"));
  EXPECT_EQ(*parse_date("1970-01-02"), 1);
  EXPECT_EQ(day_of(-1), -1);
}
