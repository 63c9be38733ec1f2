// Synthetic raw crawls in the format of docs RAW_FORMAT.md, shaped like the paper's XS-Video data (Section 3).
// The generative model is described in docs/SYNTHETIC_DATA.md.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace spir {

struct SynthOptions {
  std::string scale = "small";  // "tiny" (400 videos), "small" (6,000), "paper" (117,720)
  uint64_t seed = 7;
  double corrupt = 0.0;         // probability that a line is replaced by a malformed variant
  std::string out;              // output path; gzip when it ends in .gz
  double video_fraction = 0.0;  // fraction of videos given a small MP4 beside out (raw.jsonl.gz → raw.videos/)
};

struct SynthSummary {
  // videos: well-formed video lines written (= lines - corrupted_lines). lines: all lines written.
  // comments / frames: totals over the well-formed lines. corrupted_lines: malformed lines written; each of them
  // replaced a well-formed line, so a reader that accepts videos and quarantines the rest sees exactly these totals.
  int64_t videos = 0, lines = 0, comments = 0, corrupted_lines = 0, frames = 0;
  int64_t cross_posts = 0;     // well-formed lines that are a copy of a kuaishou video (with or without cross_post_of)
  int64_t glitch_frames = 0;   // all-zero frames in the middle of a series (API glitches), in well-formed lines
  int64_t video_files = 0;     // MP4 files written (video_fraction > 0; also for lines then made malformed)
  std::map<std::string, int64_t> per_platform, corrupt_kinds;
  std::string scale;
  uint64_t seed = 0;
  nlohmann::json to_json() const;
};

// Writes the synthetic crawl to opt.out. Deterministic: the same seed and scale give the same bytes.
// With video_fraction > 0, that fraction of videos (chosen from the seed) also get an MP4 whose look mildly follows
// the video's latent popularity, and their line a `video_path` relative to the output's folder.
// Throws spir::Error on a bad scale name, a corrupt or video fraction outside [0, 1], an empty path, or a write
// failure.
SynthSummary write_synthetic_crawl(const SynthOptions& opt);

// The true scale factor alpha (Eq. 1) the generator used: aligned count = alpha * raw count on that platform,
// relative to the reference platform kuaishou (alpha = 1 there). indicator is 0..4 = views, likes, shares,
// collects, comments. NaN for an indicator the platform does not provide (douyin views, toutiao collects).
// Throws spir::Error for an unknown platform or indicator.
double synth_true_alpha(const std::string& platform, int indicator);

std::vector<std::string> synth_platforms();  // {"douyin","kuaishou","xigua","toutiao","bilibili"}

}  // namespace spir
