#include "models/tabular_features.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/utf8.h"

namespace spir {

namespace {

// Sums of train levels over a group of videos (a topic or an author).
struct LevelSum {
  int64_t videos = 0;
  double sum = 0;
};

float log1p_count(int64_t c) { return c == kMissing ? NAN : static_cast<float>(std::log1p(static_cast<double>(c))); }

// (sum + k·prior) / (n + k), or NaN with nothing to average.
double smoothed_mean(double sum, int64_t n, double prior, double k) {
  const double denom = static_cast<double>(n) + k;
  return denom > 0 ? (sum + k * prior) / denom : NAN;
}

}  // namespace

int64_t TabularFeatures::column(const std::string& name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int64_t>(i);
  throw Error("tabular features: no column named '" + name + "'");
}

const std::vector<std::string>& tabular_platforms() {
  static const std::vector<std::string> p = {"douyin", "kuaishou", "xigua", "toutiao", "bilibili"};
  return p;
}

std::vector<std::string> tabular_feature_names() {
  std::vector<std::string> n;
  for (int i = 0; i < kNumIndicators; ++i) n.push_back(std::string("log1p_") + indicator_name(i));
  for (int i = 0; i < kNumLevelIndicators; ++i) n.push_back(std::string("log1p_aligned_") + indicator_name(i));
  for (const char* s : {"current_level", "observed_days", "log1p_duration"}) n.push_back(s);
  for (const std::string& p : tabular_platforms()) n.push_back("platform_" + p);
  n.push_back("platform_other");
  for (const char* s : {"topic_train_videos", "topic_mean_level", "author_earlier_videos", "author_train_videos",
                        "author_mean_level", "title_chars", "desc_chars", "comments_visible", "post_hour", "post_weekday"})
    n.push_back(s);
  return n;
}

TabularFeatures tabular_features(const Dataset& ds, const LevelRule& rule, const TabularOptions& opt) {
  const std::vector<Video>& videos = ds.set.videos;
  const size_t nv = videos.size();

  // The label of each video whose samples are labelled and in the train split (-1 otherwise).
  std::vector<int> train_level(nv, -1);
  for (const Sample& s : ds.samples)
    if (s.level >= 0 && s.split == Split::kTrain) train_level[static_cast<size_t>(s.video)] = s.level;

  std::unordered_map<std::string, LevelSum> topic_sum, author_sum;
  std::unordered_map<std::string, std::vector<size_t>> author_videos;
  LevelSum global;
  auto author_key = [&](const Video& v) { return v.platform + '\t' + v.user_id; };
  for (size_t vi = 0; vi < nv; ++vi) {
    const Video& v = videos[vi];
    author_videos[author_key(v)].push_back(vi);
    if (train_level[vi] < 0) continue;
    for (LevelSum* g : {&topic_sum[v.topic], &author_sum[author_key(v)], &global}) {
      ++g->videos;
      g->sum += train_level[vi];
    }
  }
  // Number of the author's videos posted strictly before each video (ties do not count each other).
  std::vector<int64_t> earlier(nv, 0);
  for (auto& [key, list] : author_videos) {
    std::sort(list.begin(), list.end(), [&](size_t a, size_t b) { return videos[a].post_time < videos[b].post_time; });
    size_t first = 0;  // start of the current run of equal post times
    for (size_t i = 0; i < list.size(); ++i) {
      if (videos[list[i]].post_time != videos[list[first]].post_time) first = i;
      earlier[list[i]] = static_cast<int64_t>(first);
    }
  }

  TabularFeatures f;
  f.names = tabular_feature_names();
  f.cols = static_cast<int64_t>(f.names.size());
  f.rows = static_cast<int64_t>(ds.samples.size());
  f.values.assign(static_cast<size_t>(f.rows * f.cols), NAN);
  const double k = opt.smoothing;
  Progress progress("tabular features", f.rows, "samples");
  for (int64_t r = 0; r < f.rows; ++r) {
    const Sample& s = ds.samples[static_cast<size_t>(r)];
    const size_t vi = static_cast<size_t>(s.video);
    const Video& v = videos[vi];
    float* row = &f.values[static_cast<size_t>(r * f.cols)];
    int c = 0;
    for (int i = 0; i < kNumIndicators; ++i) row[c++] = log1p_count(s.counts[i]);
    const auto aligned = aligned_counts(s.counts, v.platform, rule.alphas);
    for (int i = 0; i < kNumLevelIndicators; ++i)
      row[c++] = std::isnan(aligned[i]) ? NAN : static_cast<float>(std::log1p(std::max(0.0, aligned[i])));
    const int level_now = level_of(aligned, rule.thresholds);
    row[c++] = level_now < 0 ? NAN : static_cast<float>(level_now);
    row[c++] = static_cast<float>(s.observed_days);
    row[c++] = std::isnan(v.duration) ? NAN : static_cast<float>(std::log1p(std::max(0.0, v.duration)));
    bool known = false;
    for (const std::string& p : tabular_platforms()) {
      known |= v.platform == p;
      row[c++] = v.platform == p ? 1.0f : 0.0f;
    }
    row[c++] = known ? 0.0f : 1.0f;
    // Leave the sample's own video out of every train statistic it sees.
    const int own = train_level[vi];
    const int64_t own_n = own >= 0 ? 1 : 0;
    const double own_sum = own >= 0 ? own : 0;
    const double prior = global.videos - own_n > 0 ? (global.sum - own_sum) / static_cast<double>(global.videos - own_n) : NAN;
    const auto topic_it = topic_sum.find(v.topic);
    const LevelSum topic = topic_it == topic_sum.end() ? LevelSum{} : topic_it->second;
    const auto author_it = author_sum.find(author_key(v));
    const LevelSum author = author_it == author_sum.end() ? LevelSum{} : author_it->second;
    row[c++] = static_cast<float>(topic.videos - own_n);
    row[c++] = static_cast<float>(smoothed_mean(topic.sum - own_sum, topic.videos - own_n, prior, k));
    row[c++] = static_cast<float>(earlier[vi]);
    row[c++] = static_cast<float>(author.videos - own_n);
    row[c++] = static_cast<float>(smoothed_mean(author.sum - own_sum, author.videos - own_n, prior, k));
    row[c++] = static_cast<float>(count_code_points(v.title));
    row[c++] = static_cast<float>(count_code_points(v.desc));
    row[c++] = static_cast<float>(s.comments_visible);
    const int64_t day = day_of(v.post_time);
    row[c++] = static_cast<float>((v.post_time - day * kSecondsPerDay) / 3600);
    row[c++] = static_cast<float>(((day + 3) % 7 + 7) % 7);  // 1970-01-01 was a Thursday; Monday = 0
    if (c != f.cols) throw Error("tabular features: internal column count mismatch");
    if ((r & 4095) == 0) progress.update(r);
  }
  progress.finish(f.rows);
  spdlog::info("tabular features: {} samples x {} columns ({} train videos with a level)", f.rows, f.cols, global.videos);
  return f;
}

}  // namespace spir
