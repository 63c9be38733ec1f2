// Tests of video files: synthetic MP4 writing (src/data/synth_video.*), frame decoding (src/features/video_decode.*),
// the stats video encoder (src/features/video_stats.*) and video files in synthetic crawls (src/data/synth.*).
#include <gtest/gtest.h>

#include "test_util.h"
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/line_io.h"
#include "data/synth.h"
#include "data/synth_video.h"
#include "features/video_decode.h"
#include "features/video_stats.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Test files live in one scratch folder, removed when the test program exits.
std::string temp_path(const std::string& name) {
  static const spir::testing::ScratchDir scratch("video");
  return scratch.path(name);
}

// Index of a named stats feature.
int feature(const std::string& name) {
  const auto names = spir::video_stats_feature_names();
  const auto it = std::find(names.begin(), names.end(), name);
  EXPECT_NE(it, names.end()) << name;
  return static_cast<int>(it - names.begin());
}

// Writes a video with the given look and returns its stats features (fails the test when anything fails).
std::vector<float> stats_of(const std::string& name, const spir::SyntheticVideoLook& look) {
  const std::string path = temp_path(name);
  std::string err;
  EXPECT_TRUE(spir::write_synthetic_mp4(path, look, &err)) << err;
  const auto enc = spir::make_stats_video_encoder(8);
  std::vector<float> f(static_cast<size_t>(enc->dim()), -1.0f);
  EXPECT_TRUE(enc->encode(path, f.data())) << path;
  return f;
}

spir::SyntheticVideoLook flat_look() {
  spir::SyntheticVideoLook look;
  look.hue = 0.0;
  look.saturation = 0.6;
  look.brightness = 0.5;  // HSV (0, 0.6, 0.5) = RGB (0.5, 0.2, 0.2)
  look.motion = 0.0;
  look.texture = 0.0;
  return look;
}

}  // namespace

// A written MP4 decodes back with its size, frame rate, duration and frame count, and the sampled frames are
// uniformly spaced: frame k of 8 is frame floor((k + 0.5) · 30 / 8) of 30, at that index / fps seconds.
TEST(Video, WriteThenDecodeFacts) {
  const std::string path = temp_path("facts.mp4");
  spir::SyntheticVideoLook look;
  look.width = 96;
  look.height = 64;
  look.fps = 10;
  look.duration_s = 3;
  look.motion = 0.5;
  std::string err;
  ASSERT_TRUE(spir::write_synthetic_mp4(path, look, &err)) << err;
  spir::DecodedVideo v;
  spir::VideoDecodeOptions opt;
  opt.frames = 8;
  ASSERT_TRUE(spir::decode_video_frames(path, opt, &v, &err)) << err;
  EXPECT_EQ(v.width, 96);
  EXPECT_EQ(v.height, 64);
  EXPECT_EQ(v.frame_width, 96);
  EXPECT_EQ(v.frame_height, 64);
  EXPECT_NEAR(v.fps, 10.0, 1e-6);
  EXPECT_NEAR(v.duration_s, 3.0, 0.11);
  EXPECT_EQ(v.frame_count, 30);
  ASSERT_EQ(v.frames.size(), 8u);
  ASSERT_EQ(v.frame_times.size(), 8u);
  for (int k = 0; k < 8; ++k) {
    EXPECT_EQ(v.frames[k].size(), 96u * 64u * 3u);
    EXPECT_NEAR(v.frame_times[k], std::floor((k + 0.5) * 30 / 8) / 10.0, 1e-6) << k;
  }
}

// A long video (over 300 frames) is sampled by seeking: the frames come back at the centres of eight equal
// stretches of its duration (within a frame), in time order.
TEST(Video, LongVideoSeeks) {
  const std::string path = temp_path("long.mp4");
  spir::SyntheticVideoLook look;
  look.width = 32;
  look.height = 32;
  look.fps = 30;
  look.duration_s = 15;
  look.motion = 0.3;
  std::string err;
  ASSERT_TRUE(spir::write_synthetic_mp4(path, look, &err)) << err;
  spir::DecodedVideo v;
  spir::VideoDecodeOptions opt;
  opt.frames = 8;
  ASSERT_TRUE(spir::decode_video_frames(path, opt, &v, &err)) << err;
  EXPECT_EQ(v.frame_count, 450);
  ASSERT_EQ(v.frames.size(), 8u);
  for (int k = 0; k < 8; ++k) EXPECT_NEAR(v.frame_times[k], (k + 0.5) * 15 / 8, 1.0 / 30 + 1e-6) << k;
}

// Asking for more frames than the video has returns every frame once; max_side scales frames down with the
// aspect ratio kept while the reported size stays the coded one.
TEST(Video, ShortVideoAndDownscale) {
  const std::string path = temp_path("short.mp4");
  spir::SyntheticVideoLook look;
  look.width = 96;
  look.height = 64;
  look.fps = 10;
  look.duration_s = 0.5;
  std::string err;
  ASSERT_TRUE(spir::write_synthetic_mp4(path, look, &err)) << err;
  spir::DecodedVideo v;
  spir::VideoDecodeOptions opt;
  opt.frames = 8;
  opt.max_side = 48;
  ASSERT_TRUE(spir::decode_video_frames(path, opt, &v, &err)) << err;
  EXPECT_EQ(v.frame_count, 5);
  EXPECT_EQ(v.frames.size(), 5u);
  EXPECT_EQ(v.width, 96);
  EXPECT_EQ(v.frame_width, 48);
  EXPECT_EQ(v.frame_height, 32);
  EXPECT_EQ(v.frames[0].size(), 48u * 32u * 3u);
}

// A raw MPEG-4 stream (no container: no duration, no frame count in metadata) still decodes: frames are counted
// and the sampled frames come back.
TEST(Video, DecodesWithoutDurationMetadata) {
  const std::string path = temp_path("raw.m4v");
  spir::SyntheticVideoLook look = flat_look();
  look.duration_s = 3;
  look.fps = 10;
  std::string err;
  ASSERT_TRUE(spir::write_synthetic_mp4(path, look, &err)) << err;
  spir::DecodedVideo v;
  spir::VideoDecodeOptions opt;
  ASSERT_TRUE(spir::decode_video_frames(path, opt, &v, &err)) << err;
  EXPECT_EQ(v.frame_count, 30);
  EXPECT_EQ(v.frames.size(), 8u);
  EXPECT_GT(v.duration_s, 0.0);
  EXPECT_GT(v.fps, 0.0);
}

// A constant-colour video: channel means equal the colour written (within codec rounding), spreads, motion and
// sharpness are about zero, and all pixels fall in the one colour-histogram bin of that colour.
TEST(Video, ConstantColourStats) {
  const auto f = stats_of("flat.mp4", flat_look());
  EXPECT_NEAR(f[feature("mean_r")], 0.5, 0.02);
  EXPECT_NEAR(f[feature("mean_g")], 0.2, 0.02);
  EXPECT_NEAR(f[feature("mean_b")], 0.2, 0.02);
  for (const char* n : {"std_r", "std_g", "std_b", "luma_std", "luma_temporal_std", "motion_mean", "motion_max"})
    EXPECT_LT(f[feature(n)], 0.03) << n;
  EXPECT_LT(f[feature("sharpness")], 0.15);
  EXPECT_NEAR(f[feature("rgb_hist_100")], 1.0, 0.01);  // R in [64, 128), G and B in [0, 64)
  EXPECT_NEAR(f[feature("hue_hist_0")], 1.0, 0.01);    // red, saturated enough to count as chromatic
  EXPECT_NEAR(f[feature("grey_fraction")], 0.0, 0.01);
  EXPECT_NEAR(f[feature("saturation_mean")], 0.6, 0.04);
  EXPECT_NEAR(f[feature("luma_mean")], 0.299 * 0.5 + 0.587 * 0.2 + 0.114 * 0.2, 0.02);
  EXPECT_NEAR(f[feature("log_width")], std::log2(96.0) / 11, 1e-5);
  EXPECT_NEAR(f[feature("log_height")], std::log2(64.0) / 11, 1e-5);
  EXPECT_NEAR(f[feature("aspect")], std::log2(96.0 / 64.0), 1e-5);
  EXPECT_NEAR(f[feature("fps")], 10.0 / 30, 1e-5);
  EXPECT_NEAR(f[feature("log_duration")], std::log1p(3.0) / std::log(301.0), 0.01);
  EXPECT_NEAR(f[feature("frames_decoded")], 1.0, 1e-6);
}

// A moving bar gives motion; a texture gives sharpness; a brighter look a higher brightness; a more saturated
// look more colourfulness.
TEST(Video, LookDrivesFeatures) {
  spir::SyntheticVideoLook still = flat_look();
  spir::SyntheticVideoLook moving = flat_look();
  moving.motion = 0.5;
  const auto fs0 = stats_of("still.mp4", still);
  const auto fm = stats_of("moving.mp4", moving);
  EXPECT_GT(fm[feature("motion_mean")], 0.1);
  EXPECT_GT(fm[feature("motion_mean")], fs0[feature("motion_mean")] + 0.1);

  spir::SyntheticVideoLook textured = flat_look();
  textured.texture = 0.6;
  EXPECT_GT(stats_of("textured.mp4", textured)[feature("sharpness")], fs0[feature("sharpness")] + 0.3);

  spir::SyntheticVideoLook dark = flat_look(), bright = flat_look();
  dark.brightness = 0.3;
  bright.brightness = 0.8;
  const auto fd = stats_of("dark.mp4", dark), fb = stats_of("bright.mp4", bright);
  EXPECT_GT(fb[feature("luma_mean")], fd[feature("luma_mean")] + 0.1);
  EXPECT_GT(fb[feature("luma_p50")], fd[feature("luma_p50")] + 0.1);

  spir::SyntheticVideoLook grey = flat_look();
  grey.saturation = 0.05;
  EXPECT_GT(fs0[feature("colourfulness")], stats_of("grey.mp4", grey)[feature("colourfulness")] + 0.2);
}

// Unreadable inputs — a missing file, a text file, a truncated MP4 — make decoding return false with the path in
// the message, and the encoder return false without touching its output.
TEST(Video, UnreadableFilesFail) {
  const std::string text = temp_path("notes.mp4");
  std::ofstream(text) << "this is not a video\n";
  const std::string full = temp_path("full.mp4"), cut = temp_path("cut.mp4");
  std::string err;
  ASSERT_TRUE(spir::write_synthetic_mp4(full, flat_look(), &err)) << err;
  {
    std::ifstream in(full, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, 200);
  }
  const auto enc = spir::make_stats_video_encoder(4);
  for (const std::string& path : {temp_path("missing.mp4"), text, cut}) {
    spir::DecodedVideo v;
    err.clear();
    EXPECT_FALSE(spir::decode_video_frames(path, spir::VideoDecodeOptions(), &v, &err)) << path;
    EXPECT_NE(err.find(path), std::string::npos) << err;
    EXPECT_TRUE(v.frames.empty());
    std::vector<float> out(static_cast<size_t>(enc->dim()), 7.0f);
    EXPECT_FALSE(enc->encode(path, out.data())) << path;
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](float x) { return x == 7.0f; }));
  }
  spir::SyntheticVideoLook odd = flat_look();
  odd.width = 95;
  EXPECT_FALSE(spir::write_synthetic_mp4(temp_path("odd.mp4"), odd, &err));
  EXPECT_FALSE(spir::write_synthetic_mp4(temp_path("no_such_dir/x.mp4"), flat_look(), &err));
  EXPECT_NE(err.find("no_such_dir"), std::string::npos) << err;
}

// The encoder's dimension matches the named features (100, all distinct), its name is "stats", and it rejects
// a frame count below one.
TEST(Video, EncoderShape) {
  const auto names = spir::video_stats_feature_names();
  EXPECT_EQ(names.size(), 100u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  const auto enc = spir::make_stats_video_encoder(8);
  EXPECT_EQ(enc->dim(), static_cast<int>(names.size()));
  EXPECT_EQ(enc->name(), "stats");
  EXPECT_THROW(spir::make_stats_video_encoder(0), spir::Error);
}

// synth with video_fraction = 0.2 at tiny scale gives about a fifth of the videos a file beside the output, named
// by video_path relative to the output's folder; every file exists and decodes; the crawl lines are otherwise those
// of video_fraction = 0, and the same seed gives the same lines.
TEST(Video, SynthWritesVideoFiles) {
  spir::SynthOptions o;
  o.scale = "tiny";
  o.seed = 7;
  o.out = temp_path("plain.jsonl");
  spir::write_synthetic_crawl(o);
  EXPECT_FALSE(fs::exists(temp_path("plain.videos")));
  o.video_fraction = 0.2;
  o.out = temp_path("crawl.jsonl.gz");
  const auto s = spir::write_synthetic_crawl(o);
  EXPECT_GT(s.video_files, 50);
  EXPECT_LT(s.video_files, 110);
  EXPECT_EQ(s.to_json()["video_files"].get<int64_t>(), s.video_files);

  spir::LineReader plain(temp_path("plain.jsonl")), with(o.out);
  std::string_view a, b;
  int64_t with_path = 0;
  const auto enc = spir::make_stats_video_encoder(4);
  std::vector<float> f(static_cast<size_t>(enc->dim()));
  while (with.next(b)) {
    ASSERT_TRUE(plain.next(a));
    json ja = json::parse(a), jb = json::parse(b);
    if (jb.contains("video_path")) {
      ++with_path;
      const std::string rel = jb["video_path"].get<std::string>();
      EXPECT_EQ(rel.rfind("crawl.videos/", 0), 0u) << rel;
      const std::string path = temp_path(rel);
      EXPECT_TRUE(fs::exists(path)) << path;
      EXPECT_TRUE(enc->encode(path, f.data())) << path;
      jb.erase("video_path");
    }
    EXPECT_EQ(ja, jb);
  }
  EXPECT_FALSE(plain.next(a));
  EXPECT_EQ(with_path, s.video_files);

  o.out = temp_path("again.jsonl.gz");
  spir::write_synthetic_crawl(o);
  spir::LineReader first(temp_path("crawl.jsonl.gz")), again(o.out);
  while (first.next(a)) {
    ASSERT_TRUE(again.next(b));
    std::string fixed(b);
    for (size_t p; (p = fixed.find("again.videos/")) != std::string::npos;) fixed.replace(p, 13, "crawl.videos/");
    EXPECT_EQ(std::string(a), fixed);
  }
  o.video_fraction = 1.5;
  EXPECT_THROW(spir::write_synthetic_crawl(o), spir::Error);
}

// The video look follows latent popularity mildly: with every video given a file, the more-liked half of the
// videos (final aligned likes) is on average brighter and moves more than the less-liked half.
TEST(Video, SynthLookFollowsPopularity) {
  spir::SynthOptions o;
  o.scale = "tiny";
  o.seed = 3;
  o.video_fraction = 1.0;
  o.out = temp_path("all.jsonl");
  const auto s = spir::write_synthetic_crawl(o);
  ASSERT_EQ(s.video_files, 400);
  spir::LineReader r(o.out);
  std::string_view line;
  std::vector<std::pair<double, std::vector<float>>> rows;
  const auto enc = spir::make_stats_video_encoder(4);
  while (r.next(line)) {
    const json j = json::parse(line);
    const json& frames = j["time_frames"];
    const double likes = frames.back()["like_count"].get<double>();
    const double alpha = spir::synth_true_alpha(j["platform"].get<std::string>(), 1);
    std::vector<float> f(static_cast<size_t>(enc->dim()));
    ASSERT_TRUE(enc->encode(temp_path(j["video_path"].get<std::string>()), f.data()));
    rows.emplace_back(std::log1p(alpha * likes), std::move(f));
  }
  std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  const size_t half = rows.size() / 2;
  auto mean = [&](int k, size_t from, size_t to) {
    double m = 0;
    for (size_t i = from; i < to; ++i) m += rows[i].second[k];
    return m / static_cast<double>(to - from);
  };
  const int luma = feature("luma_mean"), motion = feature("motion_mean");
  EXPECT_GT(mean(luma, half, rows.size()), mean(luma, 0, half) + 0.02);
  EXPECT_GT(mean(motion, half, rows.size()), mean(motion, 0, half) + 0.01);
}
