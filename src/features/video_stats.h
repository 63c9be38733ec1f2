// The "stats" video encoder: a fixed-size vector of frame statistics (colour, brightness, sharpness, motion, format)
// from a few uniformly spaced decoded frames; the offline default behind the VideoEncoder interface (Eq. 3 slot).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "features/video_decode.h"
#include "features/video_encoder.h"

namespace spir {

// The 100 dimensions, in order (pixel values taken in [0, 1]; statistics pooled over all sampled frames):
//   0–2    mean_r, mean_g, mean_b          channel means
//   3–5    std_r, std_g, std_b             channel standard deviations ×2
//   6–69   rgb_hist_RGB                    4×4×4 colour histogram (R, G, B quarter ranges; fractions, sum 1)
//   70–81  hue_hist_K                      12-bin hue histogram of chromatic pixels (saturation ≥ 0.2,
//                                          value ≥ 0.15), as fractions of all pixels; bin K is centred on hue
//                                          K/12 (0 red, 4 green, 8 blue)
//   82     grey_fraction                   fraction of pixels that are not chromatic (1 − sum of 70–81)
//   83     saturation_mean                 mean HSV saturation
//   84–85  luma_mean, luma_std×2           brightness (BT.601 luma) mean and standard deviation ×2
//   86–88  luma_p10, luma_p50, luma_p90    brightness percentiles
//   89     luma_temporal_std×4             standard deviation of the per-frame mean brightness ×4
//   90     sharpness                       ln(1 + variance of the 4-neighbour Laplacian of luma on 0..255) / 8
//   91–92  motion_mean, motion_max         ln(1 + mean |Δluma| on 0..255 between consecutive sampled frames)
//                                          / ln 256: mean and maximum over frame pairs (0 for a single frame)
//   93–94  log_width, log_height           log2(pixels) / 11
//   95     fps                             frames per second / 30
//   96     log_duration                    ln(1 + seconds) / ln(301)
//   97     aspect                          log2(width / height) (portrait < 0)
//   98     colourfulness                   Hasler–Süsstrunk colourfulness on 0..255, / 100
//   99     frames_decoded                  sampled frames decoded / frames requested
std::vector<std::string> video_stats_feature_names();

// The feature vector of already decoded frames (video_stats_feature_names().size() floats into out). requested is
// the number of frames asked for (for frames_decoded). v must hold at least one frame.
void video_stats_features(const DecodedVideo& v, int requested, float* out);

// A VideoEncoder named "stats" that decodes `frames` frames per video (scaled to at most 256 pixels on the longer
// side) and returns video_stats_features. Throws spir::Error when frames < 1.
std::unique_ptr<VideoEncoder> make_stats_video_encoder(int frames);

}  // namespace spir
