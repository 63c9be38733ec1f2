// End to end on synthetic crawls: synth → ingest → annotate, and the spir binary's behaviour on bad use.
#include <gtest/gtest.h>

#include "test_util.h"

#include <sys/wait.h>

#include <cmath>
#include <filesystem>

#include "core/civil_time.h"
#include "core/json_file.h"
#include "data/annotate.h"
#include "data/ingest.h"
#include "data/synth.h"
#include "data/video_store.h"

using namespace spir;

namespace {


int run_spir(const std::string& args) {
  const std::string cmd = std::string(SPIR_BINARY) + " " + args + " > /dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

// Every malformed line the generator writes is quarantined, nothing else is: quarantined == corrupted, and
// read = accepted + quarantined.
TEST(Pipeline, QuarantineTotalsOnCorruptedInput) {
  const spir::testing::ScratchDir scratch("corrupt");
  const std::string dir = scratch.path();
  SynthOptions s;
  s.scale = "tiny";
  s.seed = 5;
  s.corrupt = 0.2;
  s.out = dir + "/raw.jsonl.gz";
  const SynthSummary truth = write_synthetic_crawl(s);
  ASSERT_GT(truth.corrupted_lines, 40);
  IngestOptions opt;
  opt.raw_path = s.out;
  opt.out_dir = dir + "/ds";
  const IngestSummary sum = run_ingest(opt);
  EXPECT_EQ(sum.lines_read, truth.lines);
  EXPECT_EQ(sum.lines_quarantined, truth.corrupted_lines);
  EXPECT_EQ(sum.lines_read, sum.lines_accepted + sum.lines_quarantined);
  EXPECT_EQ(sum.videos, truth.videos);
  EXPECT_GE(sum.quarantined_by_reason.size(), 5u);  // varied kinds of damage, varied reasons
}

// Eq. 1 recovers the generator's known scale factors within 15% for every platform and indicator it provides
// (small scale: tiny has too few bilibili copies for every indicator to reach the minimum number of pairs).
TEST(Pipeline, AlphaRecoveredOnSyntheticData) {
  const spir::testing::ScratchDir scratch("alpha");
  const std::string dir = scratch.path();
  SynthOptions s;
  s.scale = "small";
  s.out = dir + "/raw.jsonl";
  write_synthetic_crawl(s);
  IngestOptions opt;
  opt.raw_path = s.out;
  IngestSummary sum;
  const VideoSet set = ingest_to_memory(opt, sum, nullptr);
  for (const std::string estimator : {"eq1", "median-log"}) {
    AlignOptions align;
    align.estimator = estimator;
    const AlphaTable table = estimate_alphas(set, align);
    int checked = 0;
    for (const AlphaEntry& e : table.entries) {
      const double truth = synth_true_alpha(e.platform, e.indicator);
      if (std::isnan(truth)) {
        EXPECT_EQ(e.source, "default") << e.platform << " " << indicator_name(e.indicator);
        continue;
      }
      if (e.platform == "kuaishou") continue;
      EXPECT_NEAR(e.alpha / truth, 1.0, 0.15) << estimator << " " << e.platform << " " << indicator_name(e.indicator)
                                              << " from " << e.pairs_used << " pairs (" << e.source << ")";
      ++checked;
    }
    EXPECT_EQ(checked, 4 * 5 - 2);  // douyin views and toutiao collects do not exist
    EXPECT_EQ(table.entries.size(), 25u);
  }
}

// spir ingest → annotate writes samples whose labels are consistent with annotate.json, and the split follows the
// post date.
TEST(Pipeline, AnnotateOutputsAreConsistent) {
  const spir::testing::ScratchDir scratch("annotate");
  const std::string dir = scratch.path();
  ASSERT_EQ(run_spir("synth --scale tiny --out " + dir + "/raw.jsonl.gz"), 0);
  ASSERT_EQ(run_spir("ingest --raw " + dir + "/raw.jsonl.gz --out " + dir + "/ds"), 0);
  ASSERT_EQ(run_spir("annotate " + dir + "/ds"), 0);
  const auto summary = read_json(dir + "/ds/annotate.json");
  const auto samples = load_samples_csv(dir + "/ds/samples.csv");
  const VideoSet set = load_videos(dir + "/ds/videos.bin");
  int64_t labelled = 0;
  const int64_t cutoff = *parse_date("2024-12-20");
  for (const Sample& s : samples) {
    labelled += s.level >= 0;
    const Video& v = set.videos[static_cast<size_t>(s.video)];
    EXPECT_EQ(s.split == Split::kTest, v.post_day() > cutoff);
    EXPECT_GE(s.observed_days, 0);
    if (s.level >= 0) {
      EXPECT_GE(s.label_day - v.post_day(), 14);
    }
  }
  EXPECT_EQ(labelled, summary.at("labelled_samples").get<int64_t>());
  EXPECT_EQ(static_cast<int64_t>(samples.size()), summary.at("samples").get<int64_t>());
  EXPECT_GT(labelled, 500);
}

// Bad use exits non-zero: a missing required option (2), a missing file (1), an unknown scale (2); --help is 0.
TEST(Pipeline, CliExitCodes) {
  EXPECT_EQ(run_spir("--help"), 0);
  EXPECT_EQ(run_spir("ingest --help"), 0);
  EXPECT_EQ(run_spir("ingest --out /tmp/x"), 2);
  EXPECT_EQ(run_spir("ingest --raw /nonexistent.jsonl --out /tmp/spir_test_never"), 1);
  EXPECT_EQ(run_spir("synth --scale huge --out /tmp/x.jsonl"), 2);
  EXPECT_EQ(run_spir("annotate /nonexistent-dir"), 2);
  EXPECT_EQ(run_spir(""), 2);
}
