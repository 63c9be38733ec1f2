// Tests of the synthetic crawl generator (src/data/synth.*): format, determinism, shapes, corruption, alignment.
#include <gtest/gtest.h>

#include "test_util.h"
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/line_io.h"
#include "data/synth.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* const kFields[5] = {"view_count", "like_count", "share_count", "collect_count", "comment_count"};

// Test files live in one scratch folder, removed when the test program exits.
std::string temp_path(const std::string& name) {
  static const spir::testing::ScratchDir scratch("synth");
  return scratch.path(name);
}

spir::SynthSummary make(const std::string& path, const std::string& scale = "tiny", uint64_t seed = 7,
                        double corrupt = 0.0) {
  spir::SynthOptions o;
  o.scale = scale;
  o.seed = seed;
  o.corrupt = corrupt;
  o.out = path;
  return spir::write_synthetic_crawl(o);
}

std::vector<std::string> read_lines(const std::string& path) {
  spir::LineReader r(path);
  std::vector<std::string> out;
  std::string_view l;
  while (r.next(l)) out.emplace_back(l);
  return out;
}

bool is_count(const json& c) { return c.is_null() || (c.is_number_integer() && c.get<int64_t>() >= 0); }

// The validity rules a reader applies to one raw line; seen holds the (platform, video_id) pairs accepted so far.
bool valid_line(const std::string& line, std::set<std::pair<std::string, std::string>>& seen) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception&) {
    return false;
  }
  if (!j.is_object()) return false;
  for (const char* f : {"video_id", "platform", "topic", "user_id", "post_create_time"})
    if (!j.contains(f) || !j[f].is_string() || j[f].get<std::string>().empty()) return false;
  if (!spir::parse_datetime(j["post_create_time"].get<std::string>())) return false;
  if (!j.contains("time_frames") || !j["time_frames"].is_object() || j["time_frames"].empty()) return false;
  for (auto& [date, frame] : j["time_frames"].items()) {
    if (!spir::parse_date(date) || !frame.is_object()) return false;
    for (auto& [k, c] : frame.items())
      if (!is_count(c)) return false;
  }
  return seen.insert({j["platform"].get<std::string>(), j["video_id"].get<std::string>()}).second;
}

bool all_zero(const json& frame) {
  for (auto& [k, c] : frame.items())
    if (c.is_number() && c.get<int64_t>() != 0) return false;
  return true;
}

// Eq. 1 in closed form over cross-posted pairs, comparing each pair on its latest common non-glitch crawl date.
double estimate_alpha(const std::vector<json>& videos, const std::string& platform, int ind, int& pairs) {
  std::map<std::string, const json*> kuaishou;
  for (const auto& v : videos)
    if (v["platform"] == "kuaishou") kuaishou[v["video_id"].get<std::string>()] = &v;
  double num = 0, den = 0;
  pairs = 0;
  for (const auto& v : videos) {
    if (v["platform"] != platform || !v.contains("cross_post_of")) continue;
    auto it = kuaishou.find(v["cross_post_of"]["video_id"].get<std::string>());
    if (it == kuaishou.end()) continue;
    const json& a = v["time_frames"];
    const json& b = (*it->second)["time_frames"];
    std::string best;
    for (auto& [date, f] : a.items())
      if (b.contains(date) && !all_zero(f) && !all_zero(b[date])) best = std::max(best, date);
    if (best.empty()) continue;
    const double x = a[best][kFields[ind]].get<double>(), k = b[best][kFields[ind]].get<double>();
    num += k * x / ((k + 1) * (k + 1));
    den += x * x / ((k + 1) * (k + 1));
    ++pairs;
  }
  return num / den;
}

std::vector<json> parse_all(const std::string& path) {
  std::vector<json> out;
  for (const auto& l : read_lines(path)) out.push_back(json::parse(l));
  return out;
}

}  // namespace

// The same seed and scale give identical bytes; another seed gives different bytes.
TEST(Synth, DeterministicForSeed) {
  const auto a = temp_path("det_a.jsonl"), b = temp_path("det_b.jsonl"), c = temp_path("det_c.jsonl");
  make(a, "tiny", 11);
  make(b, "tiny", 11);
  make(c, "tiny", 12);
  EXPECT_EQ(spir::read_file(a), spir::read_file(b));
  EXPECT_NE(spir::read_file(a), spir::read_file(c));
}

// A gzip output holds exactly the bytes of the plain output.
TEST(Synth, GzipOutputMatchesPlain) {
  const auto plain = temp_path("gz_plain.jsonl"), gz = temp_path("gz.jsonl.gz");
  make(plain);
  make(gz);
  EXPECT_EQ(read_lines(plain), read_lines(gz));
  EXPECT_LT(fs::file_size(gz), fs::file_size(plain) / 2);
}

// With corrupt = 0 every line is a JSON object with the required fields and types, one line per video, and the
// summary's totals match the file.
TEST(Synth, EveryLineWellFormed) {
  const auto path = temp_path("wellformed.jsonl");
  const auto s = make(path);
  const auto lines = read_lines(path);
  ASSERT_EQ(static_cast<int64_t>(lines.size()), 400);
  EXPECT_EQ(s.lines, 400);
  EXPECT_EQ(s.videos, 400);
  EXPECT_EQ(s.corrupted_lines, 0);
  std::set<std::pair<std::string, std::string>> seen;
  int64_t comments = 0, frames = 0;
  for (const auto& l : lines) {
    ASSERT_TRUE(valid_line(l, seen)) << l;
    const json j = json::parse(l);
    for (const char* f : {"title", "desc", "content", "nickname", "url"}) EXPECT_TRUE(j[f].is_string()) << f;
    EXPECT_TRUE(j["duration"].is_number());
    EXPECT_GE(j["duration"].get<double>(), 1);
    EXPECT_LE(j["duration"].get<double>(), 300);
    EXPECT_FALSE(j.contains("video_path"));
    frames += static_cast<int64_t>(j["time_frames"].size());
    const int64_t post = *spir::parse_datetime(j["post_create_time"].get<std::string>());
    std::string last_date;
    for (auto& [date, f] : j["time_frames"].items()) last_date = date;
    const int64_t last_day_end = (*spir::parse_date(last_date) + 1) * spir::kSecondsPerDay;
    ASSERT_TRUE(j["comments"].is_array());
    EXPECT_LE(j["comments"].size(), 60u);
    for (const auto& c : j["comments"]) {
      ASSERT_TRUE(c["comment_content"].is_string());
      const auto t = spir::parse_datetime(c["comment_time"].get<std::string>());
      ASSERT_TRUE(t.has_value());
      EXPECT_GT(*t, post);
      EXPECT_LT(*t, last_day_end);
      EXPECT_TRUE(c["comment_user_id"].is_string());
      EXPECT_TRUE(c["ip_address"].is_string());
      ++comments;
    }
  }
  EXPECT_EQ(comments, s.comments);
  EXPECT_EQ(frames, s.frames);
}

// Cumulative counts never fall along a video's crawl dates, except at all-zero glitch frames in the middle.
TEST(Synth, CountsMonotoneExceptGlitches) {
  const auto path = temp_path("monotone.jsonl");
  const auto s = make(path, "tiny", 3);
  int64_t glitches = 0;
  for (const auto& j : parse_all(path)) {
    std::map<std::string, int64_t> prev;
    const auto& tf = j["time_frames"];
    size_t i = 0;
    bool prev_zero = true;
    for (auto& [date, f] : tf.items()) {
      ++i;
      const bool zero = all_zero(f);
      if (i > 1 && i < tf.size() && zero && !prev_zero) {
        ++glitches;
        continue;
      }
      prev_zero = zero;
      for (auto& [k, c] : f.items()) {
        if (c.is_null()) continue;
        EXPECT_GE(c.get<int64_t>(), prev[k]) << j["video_id"] << " " << date << " " << k;
        prev[k] = c.get<int64_t>();
      }
    }
  }
  EXPECT_EQ(glitches, s.glitch_frames);
}

// Platforms lack the indicators they do not provide (null, never 0); kuaishou and bilibili provide all six.
TEST(Synth, PlatformIndicatorAvailability) {
  const auto path = temp_path("avail.jsonl");
  make(path);
  std::map<std::string, int> seen;
  for (const auto& j : parse_all(path)) {
    const std::string p = j["platform"];
    ++seen[p];
    for (auto& [date, f] : j["time_frames"].items()) {
      if (p == "douyin") {
        EXPECT_TRUE(f.contains("view_count") && f["view_count"].is_null());
      }
      if (p == "toutiao") {
        EXPECT_TRUE(f.contains("collect_count") && f["collect_count"].is_null());
      }
      if (p == "kuaishou" || p == "bilibili") {
        for (const char* k : {"view_count", "like_count", "share_count", "collect_count", "comment_count", "fans_count"})
          EXPECT_TRUE(f.contains(k) && f[k].is_number_integer()) << p << " " << k;
      }
    }
  }
  for (const auto& p : spir::synth_platforms()) EXPECT_GT(seen[p], 0) << p;
}

// At small scale douyin holds over half of the videos and bilibili the fewest; the total is exact.
TEST(Synth, SmallScalePlatformShares) {
  const auto path = temp_path("small.jsonl.gz");
  const auto s = make(path, "small");
  EXPECT_EQ(s.videos, 6000);
  int64_t sum = 0;
  for (const auto& [p, n] : s.per_platform) sum += n;
  EXPECT_EQ(sum, 6000);
  EXPECT_GT(s.per_platform.at("douyin"), 3000);
  for (const auto& p : {"kuaishou", "xigua", "toutiao"}) EXPECT_LT(s.per_platform.at("bilibili"), s.per_platform.at(p));
  EXPECT_EQ(static_cast<int64_t>(read_lines(path).size()), 6000);
}

// With corrupt = 0.2 about a fifth of the lines are malformed in the listed ways; corrupted_lines equals the number
// of lines failing the reader's checks, the kinds add up, and each malformed line replaced a good line in place.
TEST(Synth, CorruptionCountsMatch) {
  const auto clean = temp_path("clean.jsonl"), dirty = temp_path("dirty.jsonl");
  make(clean, "tiny", 5, 0.0);
  const auto s = make(dirty, "tiny", 5, 0.2);
  const auto good = read_lines(clean), lines = read_lines(dirty);
  ASSERT_EQ(lines.size(), good.size());
  std::set<std::pair<std::string, std::string>> seen;
  int64_t bad = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!valid_line(lines[i], seen)) ++bad;
    else EXPECT_EQ(lines[i], good[i]);
  }
  EXPECT_EQ(bad, s.corrupted_lines);
  EXPECT_EQ(s.videos + s.corrupted_lines, s.lines);
  EXPECT_GT(bad, 50);
  EXPECT_LT(bad, 115);
  int64_t kinds = 0;
  for (const auto& [k, n] : s.corrupt_kinds) kinds += n;
  EXPECT_EQ(kinds, s.corrupted_lines);
  EXPECT_GE(s.corrupt_kinds.size(), 7u);
}

// Eq. 1 over the cross-posted pairs (cross_post_of) recovers the generator's alpha within 15% for every indicator
// douyin, xigua and toutiao provide.
TEST(Synth, AlphaRecoverableFromCrossPosts) {
  const auto path = temp_path("alpha.jsonl");
  make(path);
  const auto videos = parse_all(path);
  for (const std::string p : {"douyin", "xigua", "toutiao"}) {
    for (int ind = 0; ind < 5; ++ind) {
      const double truth = spir::synth_true_alpha(p, ind);
      if (std::isnan(truth)) continue;
      int pairs = 0;
      const double est = estimate_alpha(videos, p, ind, pairs);
      EXPECT_GE(pairs, 20) << p;
      EXPECT_NEAR(est / truth, 1.0, 0.15) << p << " indicator " << ind << " est " << est << " true " << truth;
    }
  }
}

// Bilibili copies carry no cross_post_of but share their title with a kuaishou video posted within a few hours.
TEST(Synth, BilibiliCopiesMatchByTitle) {
  const auto path = temp_path("bili.jsonl");
  make(path);
  const auto videos = parse_all(path);
  std::map<std::string, int64_t> kuaishou_title_time;
  for (const auto& v : videos)
    if (v["platform"] == "kuaishou")
      kuaishou_title_time[v["title"].get<std::string>()] = *spir::parse_datetime(v["post_create_time"].get<std::string>());
  int matched = 0;
  for (const auto& v : videos) {
    if (v["platform"] != "bilibili") continue;
    EXPECT_FALSE(v.contains("cross_post_of"));
    auto it = kuaishou_title_time.find(v["title"].get<std::string>());
    if (it == kuaishou_title_time.end()) continue;
    ++matched;
    EXPECT_LE(std::llabs(*spir::parse_datetime(v["post_create_time"].get<std::string>()) - it->second), 5 * 3600);
  }
  EXPECT_GE(matched, 20);
}

// Labelling with the downstream rule (first frame >= 14 days after posting; levels of Table II on aligned counts)
// leaves a few videos unlabelled and gives a level distribution whose mode is level 3.
TEST(Synth, LabelsPeakAtLevelThree) {
  const auto path = temp_path("levels.jsonl");
  make(path, "tiny", 9);
  const double views_thr[10] = {0, 0, 100, 1e5, 1e6, 1e6, 1e6, 1e7, 1e8, 2e8};
  const double other_thr[10] = {0, 0, 10, 20, 80, 300, 1000, 3000, 10000, 50000};
  std::vector<int> hist(10, 0);
  int unlabelled = 0;
  for (const auto& v : parse_all(path)) {
    const int64_t post_day = spir::day_of(*spir::parse_datetime(v["post_create_time"].get<std::string>()));
    const json* label = nullptr;
    for (auto& [date, f] : v["time_frames"].items())
      if (!label && *spir::parse_date(date) >= post_day + 14) label = &f;
    if (!label) {
      ++unlabelled;
      continue;
    }
    int level = 0;
    for (int ind = 0; ind < 5; ++ind) {
      const auto& c = (*label)[kFields[ind]];
      if (!c.is_number()) continue;
      const double a = spir::synth_true_alpha(v["platform"], ind) * c.get<double>();
      for (int l = 9; l >= 1; --l)
        if (a > (ind == 0 ? views_thr[l] : other_thr[l])) {
          level = std::max(level, l);
          break;
        }
    }
    ++hist[level];
  }
  EXPECT_GT(unlabelled, 0);
  EXPECT_LT(unlabelled, 40);
  EXPECT_EQ(std::max_element(hist.begin(), hist.end()) - hist.begin(), 3);
  EXPECT_GT(hist[4] + hist[5] + hist[6], 0);
}

// True alpha is 1 on kuaishou, NaN where a platform lacks the indicator, and unknown names are errors.
TEST(Synth, TrueAlphaAndErrors) {
  EXPECT_EQ(spir::synth_platforms(), (std::vector<std::string>{"douyin", "kuaishou", "xigua", "toutiao", "bilibili"}));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(spir::synth_true_alpha("kuaishou", i), 1.0);
  EXPECT_TRUE(std::isnan(spir::synth_true_alpha("douyin", 0)));
  EXPECT_TRUE(std::isnan(spir::synth_true_alpha("toutiao", 3)));
  EXPECT_LT(spir::synth_true_alpha("douyin", 1), 1.0);
  EXPECT_GT(spir::synth_true_alpha("bilibili", 1), 1.0);
  EXPECT_THROW(spir::synth_true_alpha("youtube", 1), spir::Error);
  EXPECT_THROW(spir::synth_true_alpha("douyin", 5), spir::Error);
  spir::SynthOptions o;
  o.scale = "huge";
  o.out = temp_path("never.jsonl");
  EXPECT_THROW(spir::write_synthetic_crawl(o), spir::Error);
  EXPECT_FALSE(fs::exists(o.out));
}

// The summary serialises every total, and per-platform counts add up to the videos written.
TEST(Synth, SummaryToJson) {
  const auto s = make(temp_path("summary.jsonl"), "tiny", 7, 0.1);
  const json j = s.to_json();
  EXPECT_EQ(j["videos"].get<int64_t>(), s.videos);
  EXPECT_EQ(j["corrupted_lines"].get<int64_t>(), s.corrupted_lines);
  EXPECT_EQ(j["lines"].get<int64_t>(), 400);
  int64_t sum = 0;
  for (auto& [p, n] : j["per_platform"].items()) sum += n.get<int64_t>();
  EXPECT_EQ(sum, s.videos);
}
