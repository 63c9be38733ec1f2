#include <gtest/gtest.h>

#include <cstdlib>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/json_file.h"
#include "core/line_io.h"
#include "data/samples.h"
#include "data/video_store.h"
#include "eval/metrics.h"
#include "eval/predictions.h"
#include "eval/report.h"
#include "test_util.h"

namespace spir {
namespace {

// Labels 3, 4, 5 and predictions 3.4, 4.6, 2.0: rounded 3, 5, 2 → one hit of three, ACC = 1/3 (Eq. 15);
// squared errors 0.16, 0.36, 9 → MSE = 9.52 / 3 (Eq. 16); absolute errors 0.4, 0.6, 3 → MAE = 4 / 3 (Eq. 17).
TEST(EvalMetrics, EqualHandSums) {
  const Metrics m = compute_metrics({3, 4, 5}, {3.4, 4.6, 2.0});
  EXPECT_EQ(m.n, 3);
  EXPECT_NEAR(m.acc, 1.0 / 3, 1e-12);
  EXPECT_NEAR(m.mse, (0.16 + 0.36 + 9) / 3, 1e-12);
  EXPECT_NEAR(m.mae, (0.4 + 0.6 + 3) / 3, 1e-12);
}

// No samples gives NaN metrics with n = 0, and lists of different lengths are an error.
TEST(EvalMetrics, EmptyIsNaNAndLengthsMustMatch) {
  const Metrics m = compute_metrics({}, {});
  EXPECT_EQ(m.n, 0);
  EXPECT_TRUE(std::isnan(m.acc) && std::isnan(m.mse) && std::isnan(m.mae));
  EXPECT_THROW(compute_metrics({1, 2}, {1.0}), Error);
}

// Eq. 15 rounding: halves round up (2.5 → 3, 0.5 → 1, 8.5 → 9), just below a half rounds down, and the result is
// clamped to 0..9 (−0.6 → 0, 9.5 → 9, 12 → 9); a non-finite prediction counts as 0.
TEST(EvalMetrics, RoundingAtHalvesAndClamp) {
  EXPECT_EQ(round_level(2.5), 3);
  EXPECT_EQ(round_level(2.4999), 2);
  EXPECT_EQ(round_level(0.5), 1);
  EXPECT_EQ(round_level(0.4999), 0);
  EXPECT_EQ(round_level(8.5), 9);
  EXPECT_EQ(round_level(-0.5), 0);
  EXPECT_EQ(round_level(-0.6), 0);
  EXPECT_EQ(round_level(9.5), 9);
  EXPECT_EQ(round_level(12.0), 9);
  EXPECT_EQ(round_level(std::nan("")), 0);
  // ACC follows: label 3 with 2.5 is a hit, label 2 with 2.5 is not; label 9 with 11 is a hit after the clamp.
  EXPECT_NEAR(compute_metrics({3, 2, 9}, {2.5, 2.5, 11.0}).acc, 2.0 / 3, 1e-12);
}

// Observation periods: ≤3 days (0..3, and negative), 4–7 days, >7 days — the boundaries 3/4 and 7/8 fall apart.
TEST(EvalMetrics, PeriodBoundaries) {
  EXPECT_EQ(period_of(-1), Period::kShort);
  EXPECT_EQ(period_of(0), Period::kShort);
  EXPECT_EQ(period_of(3), Period::kShort);
  EXPECT_EQ(period_of(4), Period::kMedium);
  EXPECT_EQ(period_of(7), Period::kMedium);
  EXPECT_EQ(period_of(8), Period::kLong);
  EXPECT_EQ(period_of(30), Period::kLong);
  const Evaluation e = evaluate_scored({{1, 1.0, 3, "a"}, {2, 2.0, 4, "a"}, {3, 3.0, 7, "b"}, {4, 4.0, 8, "b"}});
  ASSERT_EQ(e.by_period.size(), 3u);
  EXPECT_EQ(e.by_period[0].metrics.n, 1);
  EXPECT_EQ(e.by_period[1].metrics.n, 2);
  EXPECT_EQ(e.by_period[2].metrics.n, 1);
  EXPECT_EQ(e.by_period[0].group, "<=3 days");
}

// Quartiles interpolate linearly at position q·(n−1): for 1..10, Q1 = 3.25, median = 5.5, Q3 = 7.75, mean = 5.5;
// for 1..5, Q1 = 2, median = 3, Q3 = 4; input order does not matter; an empty list is all NaN.
TEST(EvalMetrics, QuartilesOfKnownLists) {
  const ErrorSummary s = summarize_errors({10, 3, 1, 7, 2, 9, 4, 8, 6, 5});
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.q1, 3.25);
  EXPECT_DOUBLE_EQ(s.median, 5.5);
  EXPECT_DOUBLE_EQ(s.q3, 7.75);
  EXPECT_DOUBLE_EQ(s.max, 10);
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  const ErrorSummary t = summarize_errors({5, 4, 3, 2, 1});
  EXPECT_DOUBLE_EQ(t.q1, 2);
  EXPECT_DOUBLE_EQ(t.median, 3);
  EXPECT_DOUBLE_EQ(t.q3, 4);
  EXPECT_TRUE(std::isnan(summarize_errors({}).median));
}

// The squared- and absolute-error boxes of a group summarise (y − ŷ)² and |y − ŷ| of its samples:
// labels 0, 0, 0 with predictions 1, 2, 3 → squared 1, 4, 9 (median 4, mean 14/3), absolute 1, 2, 3 (median 2).
TEST(EvalMetrics, GroupBoxesSummariseErrors) {
  const GroupMetrics g = group_metrics("x", {0, 0, 0}, {1, 2, 3});
  EXPECT_DOUBLE_EQ(g.squared.median, 4);
  EXPECT_NEAR(g.squared.mean, 14.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(g.squared.max, 9);
  EXPECT_DOUBLE_EQ(g.absolute.median, 2);
  EXPECT_DOUBLE_EQ(g.absolute.min, 1);
}

// Confusion matrix cell [true][rounded prediction] counts samples: (0, 0.2) → [0][0], (0, 1.5) → [0][2],
// (3, 3.0) → [3][3], (9, 8.4) → [9][8], (9, 11) → [9][9] after the clamp; a label outside 0..9 is an error.
TEST(EvalMetrics, ConfusionMatrixCounts) {
  const ConfusionMatrix c = confusion_matrix({0, 0, 3, 9, 9}, {0.2, 1.5, 3.0, 8.4, 11.0});
  EXPECT_EQ(c[0][0], 1);
  EXPECT_EQ(c[0][2], 1);
  EXPECT_EQ(c[3][3], 1);
  EXPECT_EQ(c[9][8], 1);
  EXPECT_EQ(c[9][9], 1);
  int64_t total = 0;
  for (const auto& row : c)
    for (int64_t v : row) total += v;
  EXPECT_EQ(total, 5);
  EXPECT_THROW(confusion_matrix({10}, {1.0}), Error);
}

// The per-platform breakdown has one group per platform, sorted by name, whose sizes sum to the whole.
TEST(EvalMetrics, PerPlatformGroupsSorted) {
  const Evaluation e = evaluate_scored({{1, 1.0, 1, "xigua"}, {2, 2.0, 1, "douyin"}, {3, 0.0, 1, "xigua"}});
  ASSERT_EQ(e.by_platform.size(), 2u);
  EXPECT_EQ(e.by_platform[0].group, "douyin");
  EXPECT_EQ(e.by_platform[1].group, "xigua");
  EXPECT_EQ(e.by_platform[1].metrics.n, 2);
  EXPECT_NEAR(e.by_platform[1].metrics.acc, 0.5, 1e-12);
  EXPECT_EQ(e.overall.metrics.n, 3);
}

// curves.csv: appends keep one header, a later row for the same (step, platform) wins, a partial last line left by a
// killed writer is cut before the next append, and a bad row is an error naming the file.
TEST(EvalCurves, AppendAndLoad) {
  testing::ScratchDir tmp("eval_curves");
  const std::string path = tmp.path("m/curves.csv");
  append_curve_points(path, {{100, "douyin", 0.5, 1.25, 10}, {100, "all", 0.5, 1.25, 10}});
  append_curve_points(path, {{200, "douyin", 0.6, 1.0, 10}});
  { std::ofstream(path, std::ios::app) << "300,dou"; }  // killed mid-line
  append_curve_points(path, {{100, "douyin", 0.55, 1.2, 10}});
  const std::string text = read_file(path);
  EXPECT_EQ(text.find("step,platform,acc,mse,n"), 0u);
  EXPECT_EQ(text.find("step,platform", 1), std::string::npos);
  EXPECT_EQ(text.find("300,dou"), std::string::npos);
  const auto pts = load_curves(path);
  ASSERT_EQ(pts.size(), 3u);  // all@100, douyin@100 (replaced), douyin@200
  EXPECT_EQ(pts[0].platform, "all");
  EXPECT_EQ(pts[1].platform, "douyin");
  EXPECT_EQ(pts[1].step, 100);
  EXPECT_NEAR(pts[1].acc, 0.55, 1e-9);
  EXPECT_EQ(pts[2].step, 200);
  write_file_atomic(path, "step,platform,acc,mse,n\n1,douyin,x,1,2\n");
  try {
    load_curves(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("curves.csv"), std::string::npos) << e.what();
  }
}

// curve_points_at gives one row per platform plus "all" with that platform's ACC and MSE.
TEST(EvalCurves, PointsPerPlatform) {
  const auto pts = curve_points_at(7, {{1, 1.0, 1, "a"}, {2, 1.0, 1, "b"}});
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_EQ(pts[0].platform, "a");
  EXPECT_DOUBLE_EQ(pts[0].acc, 1);
  EXPECT_DOUBLE_EQ(pts[1].mse, 1);
  EXPECT_EQ(pts[2].platform, "all");
  EXPECT_DOUBLE_EQ(pts[2].acc, 0.5);
  EXPECT_EQ(pts[2].step, 7);
}

// ---- a tiny dataset folder ------------------------------------------------------------------------------------

const int64_t kPost = days_from_civil(2024, 12, 1);

Video make_video(const std::string& platform, const std::string& id) {
  Video v;
  v.platform = platform;
  v.video_id = id;
  v.user_id = "u_" + id;
  v.topic = "t";
  v.post_time = kPost * kSecondsPerDay + 3600;
  Frame f;
  f.day = kPost;
  f.counts[kViews] = 10;
  v.frames.push_back(f);
  return v;
}

Sample make_sample(int64_t id, int64_t video, int level, Split split, int64_t observed_days) {
  Sample s;
  s.id = id;
  s.video = video;
  s.level = level;
  s.split = split;
  s.observed_days = observed_days;
  s.ctime_day = kPost + observed_days;
  s.label_day = level >= 0 ? kPost + 14 : INT64_MIN;
  return s;
}

// Train levels 2 and 4 (mean 3); test: sample 10 (douyin, day 1, level 3), 11 (kuaishou, day 5, level 5),
// 12 (douyin, day 9, level 1), 13 unlabelled; val: sample 20 (level 2).
void write_tiny_dataset(const std::string& dir) {
  VideoSet set;
  set.videos.push_back(make_video("douyin", "a"));
  set.videos.push_back(make_video("kuaishou", "b"));
  const std::vector<Sample> samples = {make_sample(1, 0, 2, Split::kTrain, 1), make_sample(2, 1, 4, Split::kTrain, 2),
                                       make_sample(10, 0, 3, Split::kTest, 1), make_sample(11, 1, 5, Split::kTest, 5),
                                       make_sample(12, 0, 1, Split::kTest, 9), make_sample(13, 1, -1, Split::kTest, 2),
                                       make_sample(20, 0, 2, Split::kVal, 3)};
  save_videos(ds_path(dir, ds_files::kVideos), set);
  save_samples_csv(ds_path(dir, ds_files::kSamples), samples, set);
}

void write_model(const std::string& ds, const std::string& name, const nlohmann::json& info, const std::vector<Prediction>& preds) {
  save_model_info(model_dir(ds, name), info);
  save_predictions(model_dir(ds, name) + "/predictions.csv", preds);
}

// evaluate_model scores the labelled samples of the split only (the unlabelled one needs no prediction), with the
// platform from videos.bin. Test labels 3, 5, 1 vs 3.4, 4.6, 2.0: rounded 3, 5, 2 → ACC 2/3; squared errors 0.16, 0.16,
// 1 → MSE 1.32/3; absolute 0.4, 0.4, 1 → MAE 1.8/3. eval.json holds the same numbers.
TEST(EvalReport, EvaluateModelOnTestSplit) {
  testing::ScratchDir tmp("eval_model");
  const std::string ds = tmp.path();
  write_tiny_dataset(ds);
  write_model(ds, "alpha", {{"model", "alpha"}, {"input", "Graph"}, {"ablation", ""}},
              {{1, 2.0}, {2, 4.0}, {10, 3.4}, {11, 4.6}, {12, 2.0}, {20, 2.2}});
  const EvalReport r = evaluate_model(ds, "alpha");
  EXPECT_EQ(r.input, "Graph");
  EXPECT_EQ(r.eval.overall.metrics.n, 3);
  EXPECT_NEAR(r.eval.overall.metrics.acc, 2.0 / 3, 1e-9);
  EXPECT_NEAR(r.eval.overall.metrics.mse, (0.16 + 0.16 + 1.0) / 3, 1e-9);
  ASSERT_EQ(r.eval.by_platform.size(), 2u);
  EXPECT_EQ(r.eval.by_platform[0].group, "douyin");
  EXPECT_EQ(r.eval.by_platform[0].metrics.n, 2);
  EXPECT_EQ(r.eval.by_period[0].metrics.n, 1);  // day 1
  EXPECT_EQ(r.eval.by_period[1].metrics.n, 1);  // day 5
  EXPECT_EQ(r.eval.by_period[2].metrics.n, 1);  // day 9
  const auto j = read_json(model_dir(ds, "alpha") + "/eval.json");
  EXPECT_NEAR(j["mae"].get<double>(), (0.4 + 0.4 + 1.0) / 3, 1e-9);
  EXPECT_EQ(j["confusion"][5][5], 1);  // label 5 predicted 4.6 → 5
  EXPECT_EQ(evaluate_model(ds, "alpha", "val").eval.overall.metrics.n, 1);
  EXPECT_THROW(evaluate_model(ds, "alpha", "dev"), Error);
}

// A labelled test sample without a prediction is an error naming the model and the sample; so is a model folder
// without predictions.csv, and a prediction for a sample the dataset does not have.
TEST(EvalReport, MissingPredictionNamesTheModel) {
  testing::ScratchDir tmp("eval_missing");
  const std::string ds = tmp.path();
  write_tiny_dataset(ds);
  write_model(ds, "gamma", {{"model", "gamma"}}, {{10, 3.0}, {12, 1.0}});  // sample 11 missing
  try {
    evaluate_model(ds, "gamma");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("gamma"), std::string::npos) << msg;
    EXPECT_NE(msg.find("sample 11"), std::string::npos) << msg;
  }
  EXPECT_THROW(evaluate_model(ds, "nosuch"), Error);
  write_model(ds, "delta", {{"model", "delta"}}, {{10, 3.0}, {11, 5.0}, {12, 1.0}, {999, 1.0}});
  EXPECT_THROW(evaluate_model(ds, "delta"), Error);
}

// write_report covers every model folder with predictions: report.md names both models, the ablation run in a
// Table VI section beside its base, and the constant predictor row (train mean 3: test errors 0, 2, 2 → MSE 8/3);
// report.json carries the same numbers as evaluate_model; a model with incomplete predictions is listed as left out.
TEST(EvalReport, WriteReportCoversModels) {
  testing::ScratchDir tmp("eval_report");
  const std::string ds = tmp.path();
  write_tiny_dataset(ds);
  write_model(ds, "alpha", {{"model", "alpha"}, {"input", "Graph"}, {"ablation", ""}}, {{10, 3.4}, {11, 4.6}, {12, 2.0}});
  write_model(ds, "beta", {{"model", "beta"}, {"input", "Text"}}, {{10, 3.0}, {11, 5.0}, {12, 1.0}});
  write_model(ds, "alpha-V", {{"model", "alpha"}, {"input", "Graph"}, {"ablation", "V"}}, {{10, 2.0}, {11, 5.0}, {12, 1.0}});
  write_model(ds, "broken", {{"model", "broken"}}, {{10, 3.0}});
  append_curve_points(curves_path(ds, "alpha"), {{10, "douyin", 0.2, 2.0, 5}, {10, "all", 0.3, 1.5, 8}});
  append_curve_points(curves_path(ds, "alpha"), {{20, "douyin", 0.4, 1.0, 5}, {20, "all", 0.5, 0.9, 8}});
  write_report(ds);

  const std::string md = read_file(ds + "/report.md");
  for (const char* s : {"alpha", "beta", "alpha-V", "constant (reference)", "Table V", "Table VI", "Figure 8", "Figure 9",
                        "0.3333", "broken"})
    EXPECT_NE(md.find(s), std::string::npos) << s;

  const auto j = read_json(ds + "/report.json");
  ASSERT_EQ(j["models"].size(), 3u);  // alpha, alpha-V, beta (sorted); broken left out
  EXPECT_EQ(j["models"][0]["name"], "alpha");
  EXPECT_NEAR(j["models"][0]["acc"].get<double>(), 2.0 / 3, 1e-9);
  EXPECT_NEAR(j["models"][2]["mse"].get<double>(), 0.0, 1e-12);  // beta is exact
  EXPECT_NEAR(j["models"][2]["acc"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(j["constant"]["mse"].get<double>(), 8.0 / 3, 1e-9);
  EXPECT_NEAR(j["constant"]["acc"].get<double>(), 1.0 / 3, 1e-9);
  EXPECT_EQ(j["ablations"][0]["base"], "alpha");
  EXPECT_EQ(j["ablations"][0]["runs"][0], "alpha-V");
  EXPECT_EQ(j["left_out"][0]["name"], "broken");
  EXPECT_EQ(j["levels"]["train"][2], 1);
  EXPECT_EQ(j["levels"]["test"][5], 1);
  EXPECT_EQ(j["curves"]["alpha"].size(), 4u);
  // The figure data is always written; the PNGs when gnuplot is there.
  EXPECT_TRUE(std::filesystem::exists(ds + "/report/fig8_squared.dat"));
  EXPECT_TRUE(std::filesystem::exists(ds + "/report/fig9_alpha.dat"));
  EXPECT_TRUE(std::filesystem::exists(ds + "/report/levels.gp"));
  if (!j["gnuplot"].is_null()) {
    for (const auto& f : j["figures"]) EXPECT_TRUE(f["made"].get<bool>()) << f.dump();
  }
}

// report.json lists models in Table V's order (GNNs, then LLM, then NetGPT, then the practitioner baselines), each
// ablation run right after its base model, whatever the folder names sort to.
TEST(EvalReport, ModelsInTableVOrder) {
  testing::ScratchDir tmp("eval_order");
  const std::string ds = tmp.path();
  write_tiny_dataset(ds);
  const std::vector<Prediction> preds = {{10, 3.0}, {11, 5.0}, {12, 1.0}};
  for (const char* n : {"persistence", "netgpt", "rgcn-VV", "gbdt", "rgcn", "gcn", "llm", "hetsann", "han"})
    write_model(ds, n, {{"model", n}}, preds);
  write_report(ds);
  const auto j = read_json(ds + "/report.json");
  std::vector<std::string> names;
  for (const auto& m : j["models"]) names.push_back(m["name"].get<std::string>());
  const std::vector<std::string> expected = {"gcn", "han", "hetsann", "rgcn", "rgcn-VV", "llm", "netgpt", "gbdt", "persistence"};
  EXPECT_EQ(names, expected);
}

// Without gnuplot on PATH the report still succeeds: figure data and scripts are written, no PNG, and report.md says so.
TEST(EvalReport, NoGnuplotWritesDataAndSaysSo) {
  testing::ScratchDir tmp("eval_nognuplot");
  const std::string ds = tmp.path("ds");
  std::filesystem::create_directories(ds);
  std::filesystem::create_directories(tmp.path("emptybin"));
  write_tiny_dataset(ds);
  write_model(ds, "beta", {{"model", "beta"}, {"input", "Text"}}, {{10, 3.0}, {11, 5.0}, {12, 1.0}});
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  ::setenv("PATH", tmp.path("emptybin").c_str(), 1);
  EXPECT_NO_THROW(write_report(ds));
  ::setenv("PATH", saved.c_str(), 1);
  const std::string md = read_file(ds + "/report.md");
  EXPECT_NE(md.find("gnuplot was not found"), std::string::npos);
  EXPECT_TRUE(read_json(ds + "/report.json")["gnuplot"].is_null());
  EXPECT_TRUE(std::filesystem::exists(ds + "/report/fig8_absolute.dat"));
  EXPECT_TRUE(std::filesystem::exists(ds + "/report/levels.dat"));
  EXPECT_FALSE(std::filesystem::exists(ds + "/report/levels.png"));
}

}  // namespace
}  // namespace spir
