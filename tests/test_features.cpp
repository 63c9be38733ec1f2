// Node features (Eq. 3–7): the time encoding against hand-computed values, scalars, and the stored feature tables
// of a small synthetic dataset.
#include <gtest/gtest.h>

#include "test_util.h"

#include <cmath>
#include <filesystem>

#include "core/civil_time.h"
#include "core/json_file.h"
#include "data/annotate.h"
#include "data/dataset.h"
#include "data/ingest.h"
#include "data/synth.h"
#include "features/node_features.h"
#include "features/node_inputs.h"

using namespace spir;

// Eq. 5 by hand: column 2i is sin(v / 10000^(2i/512)), column 2i+1 the cosine; v = 0 gives 0,1,0,1,...
TEST(Features, SinusoidalTimeEncodingHandValues) {
  const torch::Tensor enc = sinusoidal_time_encoding(torch::tensor({0.0, 1.0, 5000.0}, torch::kFloat64));
  ASSERT_EQ(enc.sizes(), (std::vector<int64_t>{3, 512}));
  EXPECT_FLOAT_EQ(enc[0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(enc[0][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(enc[1][0].item<float>(), static_cast<float>(std::sin(1.0)));
  EXPECT_FLOAT_EQ(enc[1][1].item<float>(), static_cast<float>(std::cos(1.0)));
  // i = 1: frequency 10000^(-2/512)
  EXPECT_FLOAT_EQ(enc[2][2].item<float>(), static_cast<float>(std::sin(5000.0 / std::pow(10000.0, 2.0 / 512))));
  EXPECT_FLOAT_EQ(enc[2][511].item<float>(), static_cast<float>(std::cos(5000.0 / std::pow(10000.0, 510.0 / 512))));
  // the time value is hours since 2020-01-01
  EXPECT_DOUBLE_EQ(time_value_hours(*parse_datetime("2020-01-02 03:00:00")), 27.0);
}

// Eq. 6 with a missing bit: log(v+1) for a count, (0, 1) for a missing one — never read as 0.
TEST(Features, ScalarsWithMissingBit) {
  const torch::Tensor s = scalar_features({0, 9, kMissing});
  EXPECT_FLOAT_EQ(s[0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(s[0][1].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(s[1][0].item<float>(), static_cast<float>(std::log(10.0)));
  EXPECT_FLOAT_EQ(s[2][1].item<float>(), 1.0f);
}

// spir features on a tiny synthetic dataset with some MP4s: every node type has one row per graph node after
// expansion, the widths follow Eq. 5–7, and videos without a file get zeros plus the mask bit.
TEST(Features, StoredTablesMatchTheGraph) {
  const spir::testing::ScratchDir scratch("features");
  const std::string dir = scratch.path();
  SynthOptions s;
  s.scale = "tiny";
  s.video_fraction = 0.1;
  s.out = dir + "/raw.jsonl";
  const SynthSummary truth = write_synthetic_crawl(s);
  IngestOptions io;
  io.raw_path = s.out;
  io.out_dir = dir + "/ds";
  run_ingest(io);
  const AnnotateOptions annotate_opt;
  run_annotate(io.out_dir, annotate_opt);
  FeatureOptions fo;
  fo.text.spec = "hash";
  fo.text.dim = 16;
  fo.time_mode = "absolute";
  const FeatureSummary sum = run_features(io.out_dir, fo);
  EXPECT_EQ(sum.manifest["video_encoder"]["with_file"].get<int64_t>(), truth.video_files);
  EXPECT_EQ(sum.manifest["video_encoder"]["unreadable"].get<int64_t>(), 0);

  const Dataset d = load_dataset(io.out_dir);
  const PropagationGraph g = build_graph(d.set, d.samples, {});
  const NodeFeatures f = load_features(io.out_dir, g);
  const auto counts = g.node_counts();
  for (int t = 0; t < kNumNodeTypes; ++t) EXPECT_EQ(f.tables[static_cast<size_t>(t)].matrix().size(0), counts[static_cast<size_t>(t)]);
  EXPECT_EQ(f[NodeType::kTime].dim(), 512);
  EXPECT_EQ(f[NodeType::kComment].dim(), 16 + 512);  // Eq. 7: text ‖ time
  EXPECT_EQ(f[NodeType::kLikes].dim(), 2);
  EXPECT_EQ(f[NodeType::kTitle].dim(), 16);
  // mask bit: 1 exactly for the video nodes whose video has no file
  const torch::Tensor video = f[NodeType::kVideo].matrix();
  const int64_t vdim = f[NodeType::kVideo].dim();
  for (int64_t n = 0; n < g.videos; ++n) {
    const bool has_file = !d.set.videos[static_cast<size_t>(g.video_of[static_cast<size_t>(n)])].video_path.empty();
    EXPECT_EQ(video[n][vdim - 1].item<float>(), has_file ? 0.0f : 1.0f);
    if (!has_file) {
      EXPECT_EQ(video[n].slice(0, 0, vdim - 1).abs().sum().item<float>(), 0.0f);
    }
  }
  // the likes feature is log(likes + 1) of the sample's own frame
  const torch::Tensor likes = f[NodeType::kLikes].matrix();
  for (int64_t n = 0; n < std::min<int64_t>(g.videos, 50); ++n) {
    const int64_t l = d.samples[static_cast<size_t>(n)].counts[kLikes];
    if (l != kMissing) {
      EXPECT_FLOAT_EQ(likes[n][0].item<float>(), static_cast<float>(std::log1p(static_cast<double>(l))));
    }
  }
  // --time relative: Eq. 5 encodes the state's age (end of its crawl date − post time), each comment's age and the
  // post time's hour within its week.
  fo.time_mode = "relative";
  run_features(io.out_dir, fo);
  const NodeFeatures rel = load_features(io.out_dir, g);
  const NodeFeatureTable& ct = rel[NodeType::kCtime];
  for (int64_t n = 0; n < std::min<int64_t>(g.videos, 50); ++n) {
    const Sample& s = d.samples[static_cast<size_t>(n)];
    const Video& v = d.set.videos[static_cast<size_t>(s.video)];
    const double age = static_cast<double>((s.ctime_day + 1) * kSecondsPerDay - v.post_time) / 3600.0;
    EXPECT_DOUBLE_EQ(ct.hours[ct.index[n].item<int64_t>()].item<double>(), age);
    const double week_hour = rel[NodeType::kTime].hours[rel[NodeType::kTime].index[n].item<int64_t>()].item<double>();
    EXPECT_GE(week_hour, 0.0);
    EXPECT_LT(week_hour, 168.0);
  }
  const NodeFeatureTable& cm = rel[NodeType::kComment];
  for (int64_t c = 0; c < std::min<int64_t>(g.comment_nodes(), 50); ++c) {
    int64_t owner = 0;
    while (g.comment_begin[static_cast<size_t>(owner) + 1] <= c) ++owner;
    const Video& v = d.set.videos[static_cast<size_t>(g.video_of[static_cast<size_t>(owner)])];
    const Comment& com = v.comments[static_cast<size_t>(g.comment_index[static_cast<size_t>(c)])];
    EXPECT_DOUBLE_EQ(cm.hours[c].item<double>(), static_cast<double>(com.time - v.post_time) / 3600.0);
  }
}
