// Baselines without a graph: persistence (the level the current counts reach), tabular features, GBDT.
#include <gtest/gtest.h>

#include "test_util.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "core/error.h"
#include "core/json_file.h"
#include "core/line_io.h"
#include "data/annotate.h"
#include "data/ingest.h"
#include "data/synth.h"
#include "eval/predictions.h"
#include "models/gbdt.h"
#include "models/persistence.h"
#include "models/tabular_features.h"

using namespace spir;

namespace {

constexpr int64_t M = kMissing;

// A level rule with Table II and one α: douyin likes counted at half their raw value.
LevelRule douyin_half_likes() {
  LevelRule rule;
  rule.thresholds = table2_thresholds();
  rule.alphas.reference = "kuaishou";
  rule.alphas.estimator = "eq1";
  AlphaEntry e;
  e.platform = "douyin";
  e.indicator = kLikes;
  e.alpha = 0.5;
  rule.alphas.entries.push_back(e);
  return rule;
}

Video make_video(const std::string& platform, const std::string& topic, const std::string& user, int64_t post_time) {
  Video v;
  v.platform = platform;
  v.topic = topic;
  v.user_id = user;
  v.post_time = post_time;
  v.video_id = topic + user + std::to_string(post_time);
  return v;
}

Sample make_sample(int64_t id, int64_t video, int level, Split split, Counts counts = {10, 5, 1, 1, 2, 100}) {
  Sample s;
  s.id = id;
  s.video = video;
  s.level = level;
  s.split = split;
  s.counts = counts;
  s.observed_days = 3;
  return s;
}

// Four videos: A (train, 2), B (train, 6) and C (test, 4) share topic "t" and author "u"; D (train, 0) is alone in
// topic "d" with author "w"; E (val, 9) shares topic "t" but is not train, so its level must never count.
Dataset leakage_case(int level_a) {
  Dataset ds;
  ds.dir = "hand-made";
  ds.set.videos = {make_video("douyin", "t", "u", 1000), make_video("douyin", "t", "u", 2000),
                   make_video("douyin", "t", "u", 2000), make_video("kuaishou", "d", "w", 500),
                   make_video("douyin", "t", "x", 3000)};
  ds.samples = {make_sample(0, 0, level_a, Split::kTrain), make_sample(1, 0, level_a, Split::kTrain),
                make_sample(2, 1, 6, Split::kTrain), make_sample(3, 2, 4, Split::kTest),
                make_sample(4, 3, 0, Split::kTrain), make_sample(5, 4, 9, Split::kVal)};
  return ds;
}

std::map<int64_t, double> by_id(const std::vector<Prediction>& p) {
  std::map<int64_t, double> m;
  for (const Prediction& x : p) m[x.sample_id] = x.value;
  return m;
}

double test_mae(const Dataset& ds, const std::map<int64_t, double>& pred) {
  double sum = 0;
  int n = 0;
  for (const Sample& s : ds.samples)
    if (s.level >= 0 && s.split == Split::kTest) sum += std::abs(pred.at(s.id) - s.level), ++n;
  return sum / n;
}

// One tiny synthetic dataset (synth → ingest → annotate) shared by the dataset-level tests.
class BaselinesOnTiny : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = std::make_unique<spir::testing::ScratchDir>("baselines");
    SynthOptions s;
    s.scale = "tiny";
    s.seed = 7;
    s.out = scratch_->path("raw.jsonl.gz");
    write_synthetic_crawl(s);
    IngestOptions in;
    in.raw_path = s.out;
    in.out_dir = scratch_->path("ds");
    run_ingest(in);
    const AnnotateOptions annotate_opt;
    run_annotate(in.out_dir, annotate_opt);
  }
  static void TearDownTestSuite() { scratch_.reset(); }
  static std::string ds_dir() { return scratch_->path("ds"); }
  static std::unique_ptr<spir::testing::ScratchDir> scratch_;
};
std::unique_ptr<spir::testing::ScratchDir> BaselinesOnTiny::scratch_;

}  // namespace

// Persistence aligns before thresholding: douyin likes 400 at α 0.5 are 200 aligned, over 80 (level 4) but not
// over 300 (level 5), so level 4; the same raw count on a platform with α 1 reaches level 5.
TEST(Persistence, AlignsCountsBeforeTableII) {
  const LevelRule rule = douyin_half_likes();
  EXPECT_EQ(persistence_level({M, 400, M, M, M, M}, "douyin", rule), 4);
  EXPECT_EQ(persistence_level({M, 400, M, M, M, M}, "kuaishou", rule), 5);
  const auto a = aligned_counts({M, 400, 3, M, 0, 7}, "douyin", rule.alphas);
  EXPECT_TRUE(std::isnan(a[kViews]));
  EXPECT_DOUBLE_EQ(a[kLikes], 200);
  EXPECT_DOUBLE_EQ(a[kShares], 3);
  EXPECT_DOUBLE_EQ(a[kComments], 0);
}

// A sample whose level indicators are all missing has no current level (-1) and persistence predicts 0; fans alone
// do not count; all-zero counts are level 0; one view over 100 is level 2.
TEST(Persistence, AllMissingPredictsZeroAndZeroCountsAreLevelZero) {
  const LevelRule rule = douyin_half_likes();
  EXPECT_EQ(current_level({M, M, M, M, M, 5000}, "douyin", rule), -1);
  EXPECT_EQ(persistence_level({M, M, M, M, M, 5000}, "douyin", rule), 0);
  EXPECT_EQ(persistence_level({0, 0, 0, 0, 0, 0}, "kuaishou", rule), 0);
  EXPECT_EQ(persistence_level({101, 0, 0, 0, 0, 0}, "kuaishou", rule), 2);
}

// The level rule is read from the dataset folder: α from alpha.json, thresholds from annotate.json's options
// (a lowered likes column changes the level); a folder without alpha.json is an Error naming the file.
TEST(Persistence, LevelRuleFromDatasetFiles) {
  const spir::testing::ScratchDir scratch("level_rule");
  EXPECT_THROW(load_level_rule(scratch.path()), Error);
  write_json(scratch.path("alpha.json"), douyin_half_likes().alphas.to_json());
  LevelRule rule = load_level_rule(scratch.path());
  EXPECT_EQ(rule.thresholds.source, "Table II");
  EXPECT_DOUBLE_EQ(rule.alphas.alpha("douyin", kLikes), 0.5);
  EXPECT_EQ(persistence_level({M, 400, M, M, M, M}, "douyin", rule), 4);
  nlohmann::json t = table2_thresholds().to_json();
  t["likes"] = {0, 1, 2, 3, 4, 5, 6, 7, 8};  // levels 1..9
  write_json(scratch.path("annotate.json"), {{"options", {{"thresholds", t}, {"thresholds_source", "custom.json"}}}});
  rule = load_level_rule(scratch.path());
  EXPECT_EQ(rule.thresholds.source, "custom.json");
  EXPECT_EQ(persistence_level({M, 400, M, M, M, M}, "douyin", rule), 9);
  t["likes"] = {1, 2};
  write_json(scratch.path("annotate.json"), {{"options", {{"thresholds", t}}}});
  EXPECT_THROW(load_level_rule(scratch.path()), InputError);
}

// The tabular columns are named, one name per column, and the hand-made rows have exactly that many values.
TEST(TabularFeatures, NamedColumns) {
  const Dataset ds = leakage_case(2);
  const TabularFeatures f = tabular_features(ds, douyin_half_likes());
  EXPECT_EQ(f.cols, static_cast<int64_t>(f.names.size()));
  EXPECT_EQ(f.rows, static_cast<int64_t>(ds.samples.size()));
  EXPECT_EQ(f.values.size(), static_cast<size_t>(f.rows * f.cols));
  EXPECT_EQ(std::set<std::string>(f.names.begin(), f.names.end()).size(), f.names.size());
  EXPECT_THROW(f.column("no such column"), Error);
}

// No leakage: a train sample's topic and author means leave its own video out (A sees only B; B only A), the test
// video C sees both train videos, the val video's level 9 enters no statistic, and with smoothing the prior is the
// leave-one-out global train mean. Changing A's own label leaves A's row unchanged.
TEST(TabularFeatures, TopicAndAuthorStatisticsExcludeOwnVideo) {
  TabularOptions exact;
  exact.smoothing = 0;
  const Dataset ds = leakage_case(2);
  const TabularFeatures f = tabular_features(ds, douyin_half_likes(), exact);
  const int64_t tm = f.column("topic_mean_level"), tn = f.column("topic_train_videos");
  const int64_t am = f.column("author_mean_level"), an = f.column("author_train_videos");
  const int64_t ae = f.column("author_earlier_videos");
  EXPECT_FLOAT_EQ(f.at(0, tm), 6);  // A: B only
  EXPECT_FLOAT_EQ(f.at(1, tm), 6);
  EXPECT_FLOAT_EQ(f.at(0, tn), 1);
  EXPECT_FLOAT_EQ(f.at(2, tm), 2);  // B: A only
  EXPECT_FLOAT_EQ(f.at(3, tm), 4);  // C (test): mean of A and B
  EXPECT_FLOAT_EQ(f.at(3, tn), 2);
  EXPECT_FLOAT_EQ(f.at(5, tm), 4);  // E (val): A and B, never itself
  EXPECT_FLOAT_EQ(f.at(0, am), 6);
  EXPECT_FLOAT_EQ(f.at(3, am), 4);
  EXPECT_FLOAT_EQ(f.at(3, an), 2);
  EXPECT_TRUE(std::isnan(f.at(4, tm)));  // D: no other train video in its topic, no smoothing → nothing to average
  EXPECT_FLOAT_EQ(f.at(0, ae), 0);  // A posted first; B and C posted at the same time do not count each other
  EXPECT_FLOAT_EQ(f.at(2, ae), 1);
  EXPECT_FLOAT_EQ(f.at(3, ae), 1);

  TabularOptions smooth;
  smooth.smoothing = 1;
  const TabularFeatures g = tabular_features(ds, douyin_half_likes(), smooth);
  EXPECT_FLOAT_EQ(g.at(0, tm), (6 + 3) / 2.0f);                // A: prior = mean(B, D) = 3
  EXPECT_FLOAT_EQ(g.at(3, tm), (8 + 8 / 3.0f) / 3.0f);         // C: prior = mean(A, B, D) = 8/3
  EXPECT_FLOAT_EQ(g.at(4, tm), 4);                             // D: prior = mean(A, B) = 4, no topic mates

  const TabularFeatures h = tabular_features(leakage_case(9), douyin_half_likes(), smooth);
  for (int64_t c = 0; c < g.cols; ++c) {
    EXPECT_EQ(std::isnan(g.at(0, c)), std::isnan(h.at(0, c))) << g.names[c];
    if (!std::isnan(g.at(0, c))) {
      EXPECT_FLOAT_EQ(g.at(0, c), h.at(0, c)) << g.names[c];
    }
  }
  EXPECT_NE(g.at(3, tm), h.at(3, tm));  // while the test video does see A's label
}

// Missing counts are NaN (never 0) in the raw and aligned columns, a zero count is log1p(0) = 0, all level
// indicators missing leaves current_level NaN, an absent duration is NaN, and an unknown platform is platform_other.
TEST(TabularFeatures, MissingCountsAreNaN) {
  Dataset ds;
  ds.set.videos = {make_video("douyin", "t", "u", 0), make_video("weibo", "t", "u", 86400 * 4 + 3600 * 13)};
  ds.set.videos[1].duration = 7;
  ds.set.videos[1].title = "标题ab";
  ds.samples = {make_sample(0, 0, 3, Split::kTrain, {M, 0, M, M, M, M}),
                make_sample(1, 1, 3, Split::kTest, {M, M, M, M, M, 40})};
  const TabularFeatures f = tabular_features(ds, douyin_half_likes());
  EXPECT_TRUE(std::isnan(f.at(0, f.column("log1p_views"))));
  EXPECT_TRUE(std::isnan(f.at(0, f.column("log1p_aligned_views"))));
  EXPECT_TRUE(std::isnan(f.at(0, f.column("log1p_fans"))));
  EXPECT_FLOAT_EQ(f.at(0, f.column("log1p_likes")), 0);
  EXPECT_FLOAT_EQ(f.at(0, f.column("current_level")), 0);
  EXPECT_TRUE(std::isnan(f.at(0, f.column("log1p_duration"))));
  EXPECT_TRUE(std::isnan(f.at(1, f.column("current_level"))));
  EXPECT_FLOAT_EQ(f.at(1, f.column("log1p_fans")), std::log1p(40.0f));
  EXPECT_FLOAT_EQ(f.at(1, f.column("log1p_duration")), std::log1p(7.0f));
  EXPECT_FLOAT_EQ(f.at(0, f.column("platform_douyin")), 1);
  EXPECT_FLOAT_EQ(f.at(1, f.column("platform_douyin")), 0);
  EXPECT_FLOAT_EQ(f.at(1, f.column("platform_other")), 1);
  EXPECT_FLOAT_EQ(f.at(1, f.column("title_chars")), 4);
  EXPECT_FLOAT_EQ(f.at(1, f.column("post_hour")), 13);
  EXPECT_FLOAT_EQ(f.at(0, f.column("post_weekday")), 3);  // 1970-01-01, a Thursday (Monday = 0)
  EXPECT_FLOAT_EQ(f.at(1, f.column("post_weekday")), 0);  // four days later, a Monday
}

// Bad GBDT options are an Error naming the option, before any training.
TEST(Gbdt, BadOptionsAreErrors) {
  const Dataset ds = leakage_case(2);
  const TabularFeatures f = tabular_features(ds, douyin_half_likes());
  GbdtOptions o;
  o.nthread = 4;
  EXPECT_THROW(fit_gbdt(ds, f, o), Error);
  o = GbdtOptions{};
  o.objective = "reg:nonsense";
  EXPECT_THROW(fit_gbdt(ds, f, o), Error);
  o = GbdtOptions{};
  o.subsample = 0;
  EXPECT_THROW(fit_gbdt(ds, f, o), Error);
}

// train_persistence writes one prediction per labelled sample, each the level of the sample's aligned current
// counts, and a model.json naming the model and its input.
TEST_F(BaselinesOnTiny, PersistenceWritesOneRowPerLabelledSample) {
  train_persistence(ds_dir());
  const Dataset ds = load_dataset(ds_dir());
  const LevelRule rule = load_level_rule(ds_dir());
  const auto pred = by_id(load_predictions(model_dir(ds_dir(), "persistence") + "/predictions.csv"));
  size_t labelled = 0;
  for (const Sample& s : ds.samples) {
    if (s.level < 0) {
      EXPECT_EQ(pred.count(s.id), 0u);
      continue;
    }
    ++labelled;
    ASSERT_EQ(pred.count(s.id), 1u);
    EXPECT_EQ(pred.at(s.id), persistence_level(s.counts, ds.set.videos[s.video].platform, rule));
  }
  EXPECT_EQ(pred.size(), labelled);
  const nlohmann::json info = load_model_info(model_dir(ds_dir(), "persistence"));
  EXPECT_EQ(info.at("model"), "persistence");
  EXPECT_EQ(info.at("input"), "Counts");
  EXPECT_EQ(info.at("ablation"), "");
}

// On synth tiny the GBDT trains in a few seconds, stops early on val, and its test MAE is at least 40% below the
// constant predictor's (the train mean level); two fits give identical predictions and identical model bytes.
TEST_F(BaselinesOnTiny, GbdtBeatsConstantAndIsDeterministic) {
  const Dataset ds = load_dataset(ds_dir());
  const TabularFeatures f = tabular_features(ds, load_level_rule(ds_dir()));
  GbdtOptions o;
  o.rounds = 300;
  o.early_stopping = 30;
  const GbdtFit a = fit_gbdt(ds, f, o);
  const GbdtFit b = fit_gbdt(ds, f, o);
  EXPECT_LT(a.seconds, 30);
  EXPECT_LT(a.rounds_trained, o.rounds);
  EXPECT_EQ(a.rounds_trained - a.best_iteration - 1, o.early_stopping);
  ASSERT_EQ(a.predictions.size(), b.predictions.size());
  for (size_t i = 0; i < a.predictions.size(); ++i) {
    EXPECT_EQ(a.predictions[i].sample_id, b.predictions[i].sample_id);
    EXPECT_EQ(a.predictions[i].value, b.predictions[i].value);
  }
  EXPECT_EQ(a.model, b.model);

  double mean = 0;
  int n = 0;
  for (const Sample& s : ds.samples)
    if (s.level >= 0 && s.split == Split::kTrain) mean += s.level, ++n;
  mean /= n;
  std::map<int64_t, double> constant;
  for (const Sample& s : ds.samples)
    if (s.level >= 0) constant[s.id] = mean;
  const double gbdt_mae = test_mae(ds, by_id(a.predictions)), constant_mae = test_mae(ds, constant);
  EXPECT_LT(gbdt_mae, 0.6 * constant_mae) << "gbdt " << gbdt_mae << " constant " << constant_mae;
  for (const Prediction& p : a.predictions) {
    EXPECT_GE(p.value, 0);
    EXPECT_LE(p.value, 9);
  }
}

// Boosting from persistence puts each sample's current level in as the base margin: one round at a tiny learning
// rate predicts within 0.01 of the persistence level for every labelled sample.
TEST_F(BaselinesOnTiny, GbdtFromPersistenceStartsAtCurrentLevel) {
  const Dataset ds = load_dataset(ds_dir());
  const LevelRule rule = load_level_rule(ds_dir());
  GbdtOptions o;
  o.from_persistence = true;
  o.rounds = 1;
  o.eta = 0.001;
  const auto pred = by_id(fit_gbdt(ds, tabular_features(ds, rule), o).predictions);
  for (const Sample& s : ds.samples) {
    if (s.level >= 0) {
      EXPECT_NEAR(pred.at(s.id), persistence_level(s.counts, ds.set.videos[s.video].platform, rule), 0.01);
    }
  }
}

// train_gbdt writes predictions.csv with exactly one row per labelled sample, model.json with the feature names,
// best iteration, val MAE and training time, and the xgboost model file.
TEST_F(BaselinesOnTiny, GbdtWritesModelFolder) {
  GbdtOptions o;
  o.rounds = 200;
  o.early_stopping = 20;
  train_gbdt(ds_dir(), o);
  const Dataset ds = load_dataset(ds_dir());
  const std::string dir = model_dir(ds_dir(), "gbdt");
  const std::vector<Prediction> rows = load_predictions(dir + "/predictions.csv");
  std::set<int64_t> labelled, written;
  for (const Sample& s : ds.samples)
    if (s.level >= 0) labelled.insert(s.id);
  for (const Prediction& p : rows) written.insert(p.sample_id);
  EXPECT_EQ(rows.size(), labelled.size());
  EXPECT_EQ(written, labelled);
  const nlohmann::json info = load_model_info(dir);
  EXPECT_EQ(info.at("model"), "gbdt");
  EXPECT_EQ(info.at("ablation"), "");
  EXPECT_EQ(info.at("features").size(), tabular_feature_names().size());
  EXPECT_GE(info.at("best_iteration").get<int>(), 0);
  EXPECT_GT(info.at("val_mae").get<double>(), 0);
  EXPECT_GT(info.at("training_seconds").get<double>(), 0);
  EXPECT_GT(std::filesystem::file_size(dir + "/model.ubj"), 1000u);
}
