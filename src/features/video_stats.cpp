#include "features/video_stats.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"

namespace spir {

namespace {

constexpr int kDim = 100;
constexpr int kHueBins = 12;
constexpr int kMaxSide = 256;  // frames are scaled down to this before the statistics

// Running sum and sum of squares.
struct Moments {
  double s = 0, ss = 0;
  int64_t n = 0;
  void add(double x) {
    s += x;
    ss += x * x;
    ++n;
  }
  double mean() const { return n ? s / n : 0.0; }
  double sd() const { return n ? std::sqrt(std::max(0.0, ss / n - mean() * mean())) : 0.0; }
};

// HSV hue in [0, 1), saturation and value of an RGB pixel (components in [0, 1]).
void rgb_to_hsv(double r, double g, double b, double& h, double& s, double& v) {
  const double mx = std::max({r, g, b}), mn = std::min({r, g, b}), d = mx - mn;
  v = mx;
  s = mx > 0 ? d / mx : 0.0;
  if (d <= 0) {
    h = 0;
    return;
  }
  if (mx == r) h = (g - b) / d;
  else if (mx == g) h = 2.0 + (b - r) / d;
  else h = 4.0 + (r - g) / d;
  h /= 6.0;
  if (h < 0) h += 1.0;
}

// Variance of the 4-neighbour Laplacian over the interior of a luma plane (0..255).
double laplacian_variance(const std::vector<float>& y, int w, int h) {
  if (w < 3 || h < 3) return 0.0;
  Moments m;
  for (int r = 1; r < h - 1; ++r)
    for (int c = 1; c < w - 1; ++c) {
      const size_t i = static_cast<size_t>(r) * w + c;
      m.add(static_cast<double>(y[i - 1]) + y[i + 1] + y[i - w] + y[i + w] - 4.0 * y[i]);
    }
  const double sd = m.sd();
  return sd * sd;
}

const char* const kChannel[3] = {"r", "g", "b"};

}  // namespace

std::vector<std::string> video_stats_feature_names() {
  std::vector<std::string> n;
  for (const char* c : kChannel) n.push_back(std::string("mean_") + c);
  for (const char* c : kChannel) n.push_back(std::string("std_") + c);
  for (int r = 0; r < 4; ++r)
    for (int g = 0; g < 4; ++g)
      for (int b = 0; b < 4; ++b) n.push_back("rgb_hist_" + std::to_string(r) + std::to_string(g) + std::to_string(b));
  for (int k = 0; k < kHueBins; ++k) n.push_back("hue_hist_" + std::to_string(k));
  for (const char* s : {"grey_fraction", "saturation_mean", "luma_mean", "luma_std", "luma_p10", "luma_p50",
                        "luma_p90", "luma_temporal_std", "sharpness", "motion_mean", "motion_max", "log_width",
                        "log_height", "fps", "log_duration", "aspect", "colourfulness", "frames_decoded"})
    n.push_back(s);
  return n;
}

void video_stats_features(const DecodedVideo& v, int requested, float* out) {
  std::fill(out, out + kDim, 0.0f);
  if (v.frames.empty()) return;
  const int w = v.frame_width, h = v.frame_height;
  const size_t npx = static_cast<size_t>(w) * h;

  Moments ch[3], luma, sat, rg, yb, frame_luma, motion;
  std::array<int64_t, 64> rgb_hist{};
  std::array<int64_t, kHueBins> hue_hist{};
  std::array<int64_t, 256> luma_hist{};
  double sharp = 0, motion_max = 0;
  std::vector<float> y(npx), prev_y;
  for (const auto& f : v.frames) {
    Moments this_luma;
    for (size_t i = 0; i < npx; ++i) {
      const int R = f[3 * i], G = f[3 * i + 1], B = f[3 * i + 2];
      const double r = R / 255.0, g = G / 255.0, b = B / 255.0;
      ch[0].add(r);
      ch[1].add(g);
      ch[2].add(b);
      ++rgb_hist[(R >> 6) * 16 + (G >> 6) * 4 + (B >> 6)];
      double hh, ss, vv;
      rgb_to_hsv(r, g, b, hh, ss, vv);
      sat.add(ss);
      if (ss >= 0.2 && vv >= 0.15) ++hue_hist[static_cast<int>(hh * kHueBins + 0.5) % kHueBins];
      const double l = 0.299 * R + 0.587 * G + 0.114 * B;  // 0..255
      y[i] = static_cast<float>(l);
      luma.add(l / 255.0);
      this_luma.add(l / 255.0);
      ++luma_hist[std::min(255, static_cast<int>(std::lround(l)))];
      rg.add(R - G);
      yb.add(0.5 * (R + G) - B);
    }
    frame_luma.add(this_luma.mean());
    sharp += laplacian_variance(y, w, h);
    if (!prev_y.empty()) {
      double d = 0;
      for (size_t i = 0; i < npx; ++i) d += std::fabs(static_cast<double>(y[i]) - prev_y[i]);
      d /= static_cast<double>(npx);
      const double m = std::log1p(d) / std::log(256.0);
      motion.add(m);
      motion_max = std::max(motion_max, m);
    }
    prev_y.swap(y);
    y.resize(npx);
  }
  const double total = static_cast<double>(npx) * v.frames.size();

  // Luma percentiles from the 256-bin histogram.
  auto percentile = [&](double q) {
    const double want = q * total;
    double seen = 0;
    for (int k = 0; k < 256; ++k) {
      seen += static_cast<double>(luma_hist[k]);
      if (seen >= want) return k / 255.0;
    }
    return 1.0;
  };

  int k = 0;
  for (auto& c : ch) out[k++] = static_cast<float>(c.mean());
  for (auto& c : ch) out[k++] = static_cast<float>(2.0 * c.sd());
  for (int64_t c : rgb_hist) out[k++] = static_cast<float>(c / total);
  double chromatic = 0;
  for (int64_t c : hue_hist) {
    out[k++] = static_cast<float>(c / total);
    chromatic += c / total;
  }
  out[k++] = static_cast<float>(1.0 - chromatic);
  out[k++] = static_cast<float>(sat.mean());
  out[k++] = static_cast<float>(luma.mean());
  out[k++] = static_cast<float>(2.0 * luma.sd());
  out[k++] = static_cast<float>(percentile(0.1));
  out[k++] = static_cast<float>(percentile(0.5));
  out[k++] = static_cast<float>(percentile(0.9));
  out[k++] = static_cast<float>(4.0 * frame_luma.sd());
  out[k++] = static_cast<float>(std::log1p(sharp / v.frames.size()) / 8.0);
  out[k++] = static_cast<float>(motion.mean());
  out[k++] = static_cast<float>(motion_max);
  out[k++] = static_cast<float>(std::log2(std::max(1, v.width)) / 11.0);
  out[k++] = static_cast<float>(std::log2(std::max(1, v.height)) / 11.0);
  out[k++] = static_cast<float>(v.fps / 30.0);
  out[k++] = static_cast<float>(std::log1p(std::max(0.0, v.duration_s)) / std::log(301.0));
  out[k++] = static_cast<float>(v.height > 0 ? std::log2(static_cast<double>(v.width) / v.height) : 0.0);
  const double colourful = std::sqrt(rg.sd() * rg.sd() + yb.sd() * yb.sd()) +
                           0.3 * std::sqrt(rg.mean() * rg.mean() + yb.mean() * yb.mean());
  out[k++] = static_cast<float>(colourful / 100.0);
  out[k++] = static_cast<float>(requested > 0 ? static_cast<double>(v.frames.size()) / requested : 0.0);
}

namespace {

// Decodes frames_ frames and computes the statistics.
class StatsVideoEncoder : public VideoEncoder {
 public:
  explicit StatsVideoEncoder(int frames) : frames_(frames) {}
  std::string name() const override { return "stats"; }
  int dim() const override { return kDim; }
  bool encode(const std::string& path, float* out) const override {
    VideoDecodeOptions opt;
    opt.frames = frames_;
    opt.max_side = kMaxSide;
    DecodedVideo v;
    if (!decode_video_frames(path, opt, &v, nullptr)) return false;
    video_stats_features(v, frames_, out);
    return true;
  }

 private:
  int frames_;
};

}  // namespace

std::unique_ptr<VideoEncoder> make_stats_video_encoder(int frames) {
  if (frames < 1) throw Error("video_stats: frames per video must be at least 1, got " + std::to_string(frames));
  return std::make_unique<StatsVideoEncoder>(frames);
}

}  // namespace spir
