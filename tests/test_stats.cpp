#include "data/stats.h"

#include <gtest/gtest.h>

#include "core/utf8.h"

#include <cmath>
#include <filesystem>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/json_file.h"
#include "data/video_store.h"

namespace spir {
namespace {

const int64_t kPost = days_from_civil(2024, 12, 1);

// A video posted at 13:53 on kPost; frames at the given days after posting with the given likes (kMissing: absent).
Video video_with_likes(const std::string& platform, const std::string& id,
                       const std::vector<std::pair<int64_t, int64_t>>& day_likes) {
  Video v;
  v.platform = platform;
  v.video_id = id;
  v.user_id = "u_" + id;
  v.topic = "t";
  v.post_time = kPost * kSecondsPerDay + 50000;
  for (const auto& [d, likes] : day_likes) {
    Frame f;
    f.day = kPost + d;
    f.counts[kViews] = 100;
    f.counts[kLikes] = likes;
    v.frames.push_back(f);
  }
  return v;
}

Sample sample_of(int64_t id, int64_t video, int level, Split split, int64_t comments_visible = 0) {
  Sample s;
  s.id = id;
  s.video = video;
  s.level = level;
  s.split = split;
  s.comments_visible = comments_visible;
  s.ctime_day = kPost + 1;
  s.observed_days = 1;
  return s;
}

// LIP(t) (Eq. 2) is the mean over contributing videos of (L(t) − L(t−1)) / (L(t) + 1).
// A: likes 0, 9, 19 on days 0, 1, 2 → t=1: 9/10 = 0.9; t=2: 10/20 = 0.5.
// B: likes 4, 4 on days 0, 1 → t=1: 0/5 = 0.  C: likes 0 on day 1, 3 on day 2 → t=2: 3/4 = 0.75.
// LIP(1) = (0.9 + 0) / 2 = 0.45 over 2 videos; LIP(2) = (0.5 + 0.75) / 2 = 0.625 over 2; LIP(3) has none.
TEST(Stats, LipIsTheMeanRelativeDailyIncrease) {
  VideoSet set;
  set.videos.push_back(video_with_likes("douyin", "a", {{0, 0}, {1, 9}, {2, 19}}));
  set.videos.push_back(video_with_likes("douyin", "b", {{0, 4}, {1, 4}}));
  set.videos.push_back(video_with_likes("douyin", "c", {{1, 0}, {2, 3}}));
  const auto lip = likes_increase_percentage(set, 3);
  ASSERT_EQ(lip.size(), 3u);
  EXPECT_EQ(lip[0].day, 1);
  EXPECT_NEAR(lip[0].lip, 0.45, 1e-12);
  EXPECT_EQ(lip[0].videos, 2);
  EXPECT_NEAR(lip[1].lip, 0.625, 1e-12);
  EXPECT_EQ(lip[1].videos, 2);
  EXPECT_TRUE(std::isnan(lip[2].lip));
  EXPECT_EQ(lip[2].videos, 0);
}

// A glitch frame, a frame without likes, or a gap of more than one day between frames breaks the (t−1, t) pair:
// only A (likes 1, 3 on days 0, 1 → 2/4 = 0.5) contributes; the others add nothing to any day.
TEST(Stats, LipSkipsGlitchesMissingLikesAndGaps) {
  VideoSet set;
  set.videos.push_back(video_with_likes("douyin", "a", {{0, 1}, {1, 3}}));
  Video glitch = video_with_likes("douyin", "g", {{0, 5}, {1, 0}, {2, 9}});
  glitch.frames[1].glitch = true;  // days 0→1 and 1→2 both lose their pair
  set.videos.push_back(glitch);
  set.videos.push_back(video_with_likes("douyin", "m", {{0, kMissing}, {1, 7}, {2, kMissing}}));
  set.videos.push_back(video_with_likes("douyin", "gap", {{3, 10}, {5, 20}, {7, 30}}));
  set.videos.push_back(video_with_likes("douyin", "before", {{-1, 0}, {0, 2}}));  // t = 0 is not in 1..max_day
  const auto lip = likes_increase_percentage(set, 21);
  ASSERT_EQ(lip.size(), 21u);
  EXPECT_NEAR(lip[0].lip, 0.5, 1e-12);
  EXPECT_EQ(lip[0].videos, 1);
  for (size_t t = 1; t < lip.size(); ++t) EXPECT_EQ(lip[t].videos, 0) << "day " << lip[t].day;
}

// Code points, not bytes: 2 Chinese characters (3 bytes each), 1 emoji (4 bytes) and 2 ASCII letters are 5.
TEST(Stats, CodePointsCountCharactersNotBytes) {
  const std::string s = "抖音😀ab";
  EXPECT_EQ(s.size(), 12u);
  EXPECT_EQ(count_code_points(s), 5);
  EXPECT_EQ(count_code_points(""), 0);
}

// A sample's text is title + desc + content + topic + its first comments_visible comments, in code points.
// Fixed part: "标题"(2) + "ab"(2) + ""(0) + "话题"(2) = 6; comments "好😀"(2), "xyz"(3), "!"(1).
TEST(Stats, SampleTextCountsOnlyVisibleComments) {
  Video v;
  v.title = "标题";
  v.desc = "ab";
  v.topic = "话题";
  for (const char* text : {"好😀", "xyz", "!"}) {
    Comment c;
    c.text = text;
    v.comments.push_back(c);
  }
  EXPECT_EQ(sample_text_code_points(v, 0), 6);
  EXPECT_EQ(sample_text_code_points(v, 2), 6 + 2 + 3);
  EXPECT_EQ(sample_text_code_points(v, 3), 12);
  EXPECT_EQ(sample_text_code_points(v, 99), 12);  // clamped to the comments the video has

  VideoSet set;
  set.videos.push_back(v);
  const auto st = compute_stats(set, {sample_of(0, 0, 3, Split::kTrain, 2), sample_of(1, 0, 4, Split::kTest, 3)});
  const auto& tl = st.json["text_length"];
  EXPECT_EQ(tl["unit"], "unicode_code_points");
  EXPECT_EQ(tl["train"]["min"], 11);
  EXPECT_EQ(tl["test"]["max"], 12);
  EXPECT_EQ(tl["all"]["samples"], 2);
  EXPECT_DOUBLE_EQ(tl["all"]["mean"].get<double>(), 11.5);
  EXPECT_DOUBLE_EQ(tl["all"]["q1"].get<double>(), 11.25);  // lengths 11, 12: linear interpolation
  EXPECT_DOUBLE_EQ(tl["all"]["median"].get<double>(), 11.5);
}

// Level histogram: labelled samples only; train side = train + val; test separate; shares sum to 1 per side.
// train: levels 3, 3, 5 (val) → counts[3] = 2, counts[5] = 1; test: 0, 3 → counts[0] = 1, counts[3] = 1.
TEST(Stats, LevelHistogramSplitsTrainAndTest) {
  VideoSet set;
  set.videos.push_back(video_with_likes("douyin", "a", {{0, 1}}));
  const std::vector<Sample> samples = {sample_of(0, 0, 3, Split::kTrain), sample_of(1, 0, 3, Split::kTrain),
                                       sample_of(2, 0, 5, Split::kVal),   sample_of(3, 0, 0, Split::kTest),
                                       sample_of(4, 0, 3, Split::kTest),  sample_of(5, 0, -1, Split::kTrain),
                                       sample_of(6, 0, -1, Split::kTest)};
  const auto st = compute_stats(set, samples);
  const auto& lv = st.json["levels"];
  EXPECT_EQ(lv["train"]["samples"], 3);
  EXPECT_EQ(lv["train"]["counts"][3], 2);
  EXPECT_EQ(lv["train"]["counts"][5], 1);
  EXPECT_EQ(lv["test"]["samples"], 2);
  EXPECT_EQ(lv["test"]["counts"][0], 1);
  EXPECT_EQ(lv["test"]["counts"][3], 1);
  EXPECT_NEAR(lv["train"]["shares"][3].get<double>(), 2.0 / 3.0, 1e-12);
  const auto& tot = st.json["totals"];
  EXPECT_EQ(tot["samples"], 7);
  EXPECT_EQ(tot["labelled_samples"], 5);
  EXPECT_EQ(tot["labelled_samples_by_split"]["train"], 2);
  EXPECT_EQ(tot["labelled_samples_by_split"]["val"], 1);
  EXPECT_EQ(tot["labelled_samples_by_split"]["test"], 2);
  EXPECT_EQ(tot["samples_by_split"]["train"], 3);
}

// Platforms are ranked by videos; samples are attributed through the sample's video; shares are of all videos/samples.
// douyin: 3 videos, 1 sample; kuaishou: 1 video, 3 samples.
TEST(Stats, PlatformCountsAndShares) {
  VideoSet set;
  set.videos.push_back(video_with_likes("kuaishou", "k", {{0, 1}}));
  for (const char* id : {"d1", "d2", "d3"}) set.videos.push_back(video_with_likes("douyin", id, {{0, 1}}));
  const std::vector<Sample> samples = {sample_of(0, 0, 2, Split::kTrain), sample_of(1, 0, 2, Split::kTrain),
                                       sample_of(2, 0, -1, Split::kTest), sample_of(3, 2, 1, Split::kTest)};
  const auto st = compute_stats(set, samples);
  const auto& p = st.json["platforms"]["platforms"];
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0]["platform"], "douyin");
  EXPECT_EQ(p[0]["videos"], 3);
  EXPECT_EQ(p[0]["samples"], 1);
  EXPECT_DOUBLE_EQ(p[0]["video_share"].get<double>(), 0.75);
  EXPECT_EQ(p[1]["platform"], "kuaishou");
  EXPECT_EQ(p[1]["samples"], 3);
  EXPECT_EQ(p[1]["labelled_samples"], 2);
  EXPECT_DOUBLE_EQ(p[1]["sample_share"].get<double>(), 0.75);
}

// Totals: comments summed over videos; users are distinct (platform, user_id), so one id on two platforms is two
// users; commenters are counted apart; topics distinct; date ranges span all frames and post dates.
TEST(Stats, TotalsCountDistinctUsersPerPlatform) {
  VideoSet set;
  Video a = video_with_likes("douyin", "a", {{0, 1}, {3, 2}});
  a.user_id = "same";
  Comment c1, c2;
  c1.user_id = "fan";
  c2.user_id = "same";  // the author commenting on their own video: already a user
  a.comments = {c1, c2};
  Video b = video_with_likes("douyin", "b", {{1, 1}});
  b.user_id = "same";
  b.topic = "other";
  Video c = video_with_likes("bilibili", "c", {{2, 1}});
  c.user_id = "same";
  c.post_time += 2 * kSecondsPerDay;
  set.videos = {a, b, c};
  const auto st = compute_stats(set, {});
  const auto& tot = st.json["totals"];
  EXPECT_EQ(tot["videos"], 3);
  EXPECT_EQ(tot["comments"], 2);
  EXPECT_EQ(tot["platforms"], 2);
  EXPECT_EQ(tot["topics"], 2);
  EXPECT_EQ(tot["users"], 2);        // (douyin, same), (bilibili, same)
  EXPECT_EQ(tot["commenters"], 2);   // (douyin, fan), (douyin, same)
  EXPECT_EQ(tot["users_incl_commenters"], 3);
  EXPECT_EQ(tot["crawl_dates"]["first"], format_date(kPost));
  EXPECT_EQ(tot["crawl_dates"]["last"], format_date(kPost + 3));
  EXPECT_EQ(tot["post_dates"]["first"], format_date(kPost));
  EXPECT_EQ(tot["post_dates"]["last"], format_date(kPost + 2));
  EXPECT_NE(st.text.find("users (video authors)"), std::string::npos);
}

// Durations: 1 s bins below 60 s, 10 s bins to 300 s; NaN counted as missing; the highest peak is the first mode and
// a separate lower peak is the second (7 s ×4, 38 s ×2).
TEST(Stats, DurationHistogramAndModes) {
  VideoSet set;
  for (double d : {7.0, 7.0, 7.0, 7.5, 38.0, 38.2, 120.0, 300.0, 0.5, 301.0, std::nan("")}) {
    Video v = video_with_likes("douyin", "v", {{0, 1}});
    v.duration = d;
    set.videos.push_back(v);
  }
  const auto st = compute_stats(set, {});
  const auto& du = st.json["duration"];
  EXPECT_EQ(du["missing"], 1);
  EXPECT_EQ(du["under_1s"], 1);
  EXPECT_EQ(du["over_300s"], 1);
  EXPECT_EQ(du["with_duration"], 10);
  const auto& bins = du["bins"];
  ASSERT_EQ(bins.size(), 59u + 24u);
  EXPECT_EQ(bins[6]["lo"], 7.0);
  EXPECT_EQ(bins[6]["videos"], 4);
  EXPECT_EQ(bins[37]["videos"], 2);
  EXPECT_EQ(bins[59 + 6]["lo"], 120.0);
  EXPECT_EQ(bins[59 + 6]["videos"], 1);
  EXPECT_EQ(bins[59 + 23]["videos"], 1);  // 300 s falls in the last bin
  ASSERT_GE(du["modes"].size(), 2u);
  EXPECT_EQ(du["modes"][0]["seconds"], 7);
  EXPECT_EQ(du["modes"][0]["videos"], 4);
  EXPECT_EQ(du["modes"][1]["seconds"], 38);
}

// Topics ranked by videos; the top 10% of 10 topics is 1 topic: 11 of 20 videos = 55%.
TEST(Stats, TopicRankingAndHeadShare) {
  VideoSet set;
  for (int i = 0; i < 11; ++i) set.videos.push_back(video_with_likes("douyin", "h", {{0, 1}}));
  for (int k = 0; k < 9; ++k) {
    Video v = video_with_likes("douyin", "t", {{0, 1}});
    v.topic = "tail" + std::to_string(k);
    set.videos.push_back(v);
  }
  const auto st = compute_stats(set, {});
  const auto& tp = st.json["topics"];
  EXPECT_EQ(tp["topics"], 10);
  EXPECT_EQ(tp["ranked"][0]["topic"], "t");
  EXPECT_EQ(tp["ranked"][0]["videos"], 11);
  EXPECT_EQ(tp["ranked"][1]["topic"], "tail0");  // ties by name
  EXPECT_EQ(tp["top_10pct_topics"], 1);
  EXPECT_DOUBLE_EQ(tp["top_10pct_share"].get<double>(), 0.55);
}

// A sample that refers to a video outside the set is an error, not a crash.
TEST(Stats, SampleOutsideTheSetIsAnError) {
  VideoSet set;
  set.videos.push_back(video_with_likes("douyin", "a", {{0, 1}}));
  EXPECT_THROW(compute_stats(set, {sample_of(0, 5, 1, Split::kTrain)}), Error);
}

// run_stats reads videos.bin and samples.csv from the dataset folder and writes the same JSON it returns to stats.json.
TEST(Stats, RunStatsWritesStatsJson) {
  const auto dir = std::filesystem::temp_directory_path() / "spir_test_stats";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  VideoSet set;
  set.videos.push_back(video_with_likes("douyin", "a", {{0, 0}, {1, 9}}));
  set.videos.push_back(video_with_likes("kuaishou", "b", {{0, 1}, {1, 1}}));
  Sample s0 = sample_of(0, 0, 4, Split::kTrain);
  s0.counts = set.videos[0].frames[0].counts;
  s0.label_day = kPost + 14;
  Sample s1 = sample_of(1, 1, 2, Split::kTest);
  s1.counts = set.videos[1].frames[0].counts;
  s1.label_day = kPost + 14;
  save_videos(ds_path(dir.string(), ds_files::kVideos), set);
  save_samples_csv(ds_path(dir.string(), ds_files::kSamples), {s0, s1}, set);
  const auto st = run_stats(dir.string());
  const auto written = read_json(ds_path(dir.string(), ds_files::kStats));
  EXPECT_EQ(written["totals"], st.json["totals"]);
  EXPECT_EQ(written["totals"]["videos"], 2);
  EXPECT_EQ(written["levels"]["train"]["counts"][4], 1);
  EXPECT_EQ(written["levels"]["test"]["counts"][2], 1);
  EXPECT_NEAR(written["lip"]["days"][0]["lip"].get<double>(), (0.9 + 0.0) / 2, 1e-12);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace spir
