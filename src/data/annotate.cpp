#include "data/annotate.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <sstream>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/json_file.h"
#include "data/video_store.h"

namespace spir {

nlohmann::json AnnotateSummary::to_json() const {
  nlohmann::json levels;
  for (const auto& [split, hist] : levels_by_split) levels[split] = hist;
  return {{"videos", videos},
          {"labelled_videos", labelled_videos},
          {"unlabelled_videos_no_label_frame", unlabelled_no_frame},
          {"unlabelled_videos_no_indicator", unlabelled_no_indicator},
          {"samples", samples},
          {"labelled_samples", labelled_samples},
          {"labels_from_partial_indicators", partial_labels},
          {"labelled_samples_by_split", samples_by_split},
          {"levels_by_split", levels},
          {"alignment", alphas.to_json()},
          {"seconds", seconds}};
}

std::string AnnotateSummary::to_text() const {
  std::ostringstream s;
  s << alphas.to_text();
  s << "videos " << videos << ": " << labelled_videos << " labelled, " << unlabelled_no_frame
    << " unlabelled (no crawl at the horizon), " << unlabelled_no_indicator << " unlabelled (no indicator)\n";
  s << "samples " << samples << ": " << labelled_samples << " labelled (" << partial_labels
    << " from fewer than 5 indicators: lower bounds)\n";
  for (const auto& [split, n] : samples_by_split) {
    s << "  " << split << ": " << n << " samples, levels 0-9:";
    for (int64_t c : levels_by_split.at(split)) s << " " << c;
    s << "\n";
  }
  return s.str();
}

std::vector<Sample> build_samples(const VideoSet& set, const AlphaTable& alphas, const LevelThresholds& thresholds,
                                  const AnnotateOptions& opt, AnnotateSummary& sum) {
  auto cutoff = parse_date(opt.split_cutoff);
  if (!cutoff) throw Error("--split-date '" + opt.split_cutoff + "' is not a date YYYY-MM-DD");
  const SplitOptions split_opt{*cutoff, opt.val_days};
  std::vector<Sample> samples;
  sum.videos = static_cast<int64_t>(set.videos.size());
  for (size_t vi = 0; vi < set.videos.size(); ++vi) {
    const Video& v = set.videos[vi];
    const int label_idx = label_frame_index(v, opt.horizon_days);
    int level = -1;
    uint8_t used = 0;
    int64_t label_day = INT64_MIN;
    if (label_idx < 0) {
      ++sum.unlabelled_no_frame;
    } else {
      const Frame& lf = v.frames[static_cast<size_t>(label_idx)];
      std::array<double, kNumLevelIndicators> aligned;
      for (int i = 0; i < kNumLevelIndicators; ++i)
        aligned[i] = lf.counts[i] == kMissing ? NAN : alphas.alpha(v.platform, i) * static_cast<double>(lf.counts[i]);
      level = level_of(aligned, thresholds, &used);  // Table II on aligned indicators (Eq. 1)
      if (level < 0) ++sum.unlabelled_no_indicator;
      else ++sum.labelled_videos, label_day = lf.day;
    }
    const Split split = split_of(v.post_day(), split_opt);
    for (size_t fi : sample_frame_indices(v, label_idx, opt.min_gap_days)) {
      Sample s;
      s.id = static_cast<int64_t>(samples.size());
      s.video = static_cast<int64_t>(vi);
      s.ctime_day = v.frames[fi].day;
      s.observed_days = s.ctime_day - v.post_day();
      s.counts = v.frames[fi].counts;
      s.comments_visible = comments_visible_at(v, s.ctime_day);
      s.level = level;
      s.level_indicators = level >= 0 ? used : 0;
      s.label_day = label_day;
      s.split = split;
      if (level >= 0) {
        ++sum.labelled_samples;
        ++sum.samples_by_split[split_name(split)];
        auto& hist = sum.levels_by_split[split_name(split)];
        ++hist[static_cast<size_t>(level)];
        if (used != (1u << kNumLevelIndicators) - 1) ++sum.partial_labels;
      }
      samples.push_back(s);
    }
  }
  sum.samples = static_cast<int64_t>(samples.size());
  return samples;
}

AnnotateSummary run_annotate(const std::string& ds_dir, const AnnotateOptions& opt) {
  const auto start = std::chrono::steady_clock::now();
  const VideoSet set = load_videos(ds_path(ds_dir, ds_files::kVideos));
  spdlog::info("annotate: {} videos loaded from {}", set.videos.size(), ds_dir);
  const LevelThresholds thresholds = opt.thresholds_path.empty() ? table2_thresholds() : load_thresholds(opt.thresholds_path);
  AnnotateSummary sum;
  sum.alphas = estimate_alphas(set, opt.align);
  const std::vector<Sample> samples = build_samples(set, sum.alphas, thresholds, opt, sum);
  if (sum.labelled_samples == 0) spdlog::warn("annotate: no labelled sample (is --horizon-days {} longer than the crawls?)", opt.horizon_days);
  save_samples_csv(ds_path(ds_dir, ds_files::kSamples), samples, set);
  write_json(ds_path(ds_dir, ds_files::kAlpha), sum.alphas.to_json());
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json j = sum.to_json();
  j["options"] = {{"horizon_days", opt.horizon_days}, {"min_gap_days", opt.min_gap_days},
                  {"split_cutoff", opt.split_cutoff}, {"val_days", opt.val_days},
                  {"thresholds", thresholds.to_json()}, {"thresholds_source", thresholds.source}};
  write_json(ds_path(ds_dir, ds_files::kAnnotateSummary), j);
  return sum;
}

}  // namespace spir
