#include "models/gbdt.h"

#include <spdlog/spdlog.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "core/line_io.h"
#include "core/progress.h"
#include "data/levels.h"
#include "models/persistence.h"

namespace spir {

namespace {

// Turns a failed xgboost call into an Error carrying xgboost's own message.
void check(int rc, const char* call) {
  if (rc != 0) throw Error(std::string("xgboost ") + call + " failed: " + XGBGetLastError());
}

// Owns a DMatrix handle.
struct DMatrix {
  DMatrixHandle h = nullptr;
  DMatrix() = default;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix() {
    if (h) XGDMatrixFree(h);
  }
};

// Owns a Booster handle.
struct Booster {
  BoosterHandle h = nullptr;
  Booster() = default;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster() {
    if (h) XGBoosterFree(h);
  }
};

// A DMatrix of the given feature rows (NaN = missing), with labels, feature names and, when margin_column >= 0, a
// base margin per row: that column's value (0 where NaN).
void make_matrix(DMatrix& m, const TabularFeatures& f, const std::vector<size_t>& rows, const std::vector<float>& labels,
                 int64_t margin_column) {
  std::vector<float> data;
  data.reserve(rows.size() * static_cast<size_t>(f.cols));
  for (size_t r : rows) {
    const float* row = &f.values[r * static_cast<size_t>(f.cols)];
    data.insert(data.end(), row, row + f.cols);
  }
  check(XGDMatrixCreateFromMat(data.data(), rows.size(), static_cast<bst_ulong>(f.cols), NAN, &m.h), "XGDMatrixCreateFromMat");
  std::vector<const char*> names;
  for (const std::string& n : f.names) names.push_back(n.c_str());
  check(XGDMatrixSetStrFeatureInfo(m.h, "feature_name", names.data(), names.size()), "XGDMatrixSetStrFeatureInfo");
  check(XGDMatrixSetFloatInfo(m.h, "label", labels.data(), labels.size()), "XGDMatrixSetFloatInfo");
  if (margin_column < 0) return;
  std::vector<float> margin;
  margin.reserve(rows.size());
  for (size_t r : rows) {
    const float v = f.values[r * static_cast<size_t>(f.cols) + static_cast<size_t>(margin_column)];
    margin.push_back(std::isnan(v) ? 0.0f : v);
  }
  check(XGDMatrixSetFloatInfo(m.h, "base_margin", margin.data(), margin.size()), "XGDMatrixSetFloatInfo");
}

void set_param(BoosterHandle b, const char* name, const std::string& value) {
  check(XGBoosterSetParam(b, name, value.c_str()), "XGBoosterSetParam");
}

// Predictions of the whole booster for every row of m, clamped to [0, 9].
std::vector<double> predict(BoosterHandle b, DMatrixHandle m) {
  const char* config = R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  check(XGBoosterPredictFromDMatrix(b, m, config, &shape, &dim, &result), "XGBoosterPredictFromDMatrix");
  bst_ulong n = 1;
  for (bst_ulong i = 0; i < dim; ++i) n *= shape[i];
  std::vector<double> out(result, result + n);
  for (double& v : out) v = std::clamp(v, 0.0, static_cast<double>(kNumLevels - 1));
  return out;
}

double mae(const std::vector<double>& pred, const std::vector<float>& labels) {
  if (pred.empty()) return NAN;
  double s = 0;
  for (size_t i = 0; i < pred.size(); ++i) s += std::abs(pred[i] - labels[i]);
  return s / static_cast<double>(pred.size());
}

// The value after "<name>-mae:" in an xgboost evaluation line such as "[3]\tval-mae:0.84".
double parse_eval(const char* text, const std::string& name) {
  const std::string s(text ? text : "");
  const std::string key = name + "-mae:";
  const size_t at = s.find(key);
  if (at == std::string::npos) throw Error("xgboost evaluation line without " + key + ": '" + s + "'");
  return std::strtod(s.c_str() + at + key.size(), nullptr);
}

void validate(const GbdtOptions& o) {
  auto bad = [](const std::string& field, const std::string& why) { throw Error("gbdt option " + field + ": " + why); };
  if (o.rounds < 1) bad("rounds", "must be at least 1");
  if (o.early_stopping < 1) bad("early_stopping", "must be at least 1");
  if (o.depth < 1) bad("depth", "must be at least 1");
  if (!(o.eta > 0 && o.eta <= 1)) bad("eta", "must be in (0, 1]");
  if (!(o.min_child_weight >= 0)) bad("min_child_weight", "must not be negative");
  if (!(o.subsample > 0 && o.subsample <= 1)) bad("subsample", "must be in (0, 1]");
  if (!(o.colsample > 0 && o.colsample <= 1)) bad("colsample", "must be in (0, 1]");
  if (o.nthread < 1 || o.nthread > 2) bad("nthread", "must be 1 or 2");
  if (o.objective != "reg:squarederror" && o.objective != "reg:pseudohubererror" && o.objective != "reg:absoluteerror")
    bad("objective", "'" + o.objective + "' (use reg:squarederror, reg:pseudohubererror or reg:absoluteerror)");
}

}  // namespace

nlohmann::json GbdtOptions::to_json() const {
  return {{"rounds", rounds}, {"early_stopping", early_stopping}, {"depth", depth}, {"eta", eta},
          {"min_child_weight", min_child_weight}, {"subsample", subsample}, {"colsample", colsample},
          {"seed", seed}, {"nthread", nthread}, {"objective", objective}, {"tree_method", "hist"},
          {"from_persistence", from_persistence}};
}

GbdtFit fit_gbdt(const Dataset& ds, const TabularFeatures& f, const GbdtOptions& opt) {
  validate(opt);
  if (f.rows != static_cast<int64_t>(ds.samples.size())) throw Error("gbdt: feature rows do not match the dataset's samples");
  std::vector<size_t> train_rows, val_rows, labelled_rows;
  std::vector<float> train_y, val_y, labelled_y;
  for (size_t r = 0; r < ds.samples.size(); ++r) {
    const Sample& s = ds.samples[r];
    if (s.level < 0) continue;
    labelled_rows.push_back(r);
    labelled_y.push_back(static_cast<float>(s.level));
    if (s.split == Split::kTrain) train_rows.push_back(r), train_y.push_back(static_cast<float>(s.level));
    if (s.split == Split::kVal) val_rows.push_back(r), val_y.push_back(static_cast<float>(s.level));
  }
  if (train_rows.empty()) throw Error(ds.dir + "/samples.csv: no labelled train sample to fit the GBDT on");
  if (val_rows.empty()) spdlog::warn("gbdt: no labelled val sample; no early stopping, all {} rounds kept", opt.rounds);
  double base = 0;
  for (float y : train_y) base += y;
  base /= static_cast<double>(train_y.size());

  // From persistence: the trees learn the change from the level the counts already reach (NaN → 0, as persistence).
  const int64_t margin = opt.from_persistence ? f.column("current_level") : -1;
  DMatrix dtrain, dval, dall;
  make_matrix(dtrain, f, train_rows, train_y, margin);
  if (!val_rows.empty()) make_matrix(dval, f, val_rows, val_y, margin);
  make_matrix(dall, f, labelled_rows, labelled_y, margin);

  Booster booster;
  DMatrixHandle cache[2] = {dtrain.h, dval.h};
  check(XGBoosterCreate(cache, val_rows.empty() ? 1 : 2, &booster.h), "XGBoosterCreate");
  set_param(booster.h, "verbosity", "1");
  set_param(booster.h, "objective", opt.objective);
  set_param(booster.h, "eval_metric", "mae");
  set_param(booster.h, "tree_method", "hist");
  set_param(booster.h, "nthread", std::to_string(opt.nthread));
  set_param(booster.h, "seed", std::to_string(opt.seed));
  set_param(booster.h, "max_depth", std::to_string(opt.depth));
  set_param(booster.h, "eta", std::to_string(opt.eta));
  set_param(booster.h, "min_child_weight", std::to_string(opt.min_child_weight));
  set_param(booster.h, "subsample", std::to_string(opt.subsample));
  set_param(booster.h, "colsample_bytree", std::to_string(opt.colsample));
  if (!opt.from_persistence) set_param(booster.h, "base_score", std::to_string(base));

  spdlog::info("gbdt: {} train / {} val samples, {} features, up to {} rounds ({}, depth {}, eta {})", train_rows.size(),
               val_rows.size(), f.cols, opt.rounds, opt.objective, opt.depth, opt.eta);
  GbdtFit fit;
  const auto start = std::chrono::steady_clock::now();
  Progress progress("gbdt", opt.rounds, "rounds");
  double best = INFINITY;
  int best_iter = -1, iter = 0;
  for (; iter < opt.rounds; ++iter) {
    check(XGBoosterUpdateOneIter(booster.h, iter, dtrain.h), "XGBoosterUpdateOneIter");
    progress.update(iter + 1);
    if (val_rows.empty()) {
      best_iter = iter;
      continue;
    }
    DMatrixHandle eval_set[1] = {dval.h};
    const char* names[1] = {"val"};
    const char* line = nullptr;
    check(XGBoosterEvalOneIter(booster.h, iter, eval_set, names, 1, &line), "XGBoosterEvalOneIter");
    const double m = parse_eval(line, "val");
    if (m < best) best = m, best_iter = iter;
    if (iter - best_iter >= opt.early_stopping) {
      ++iter;
      break;
    }
  }
  progress.finish(iter);
  fit.rounds_trained = iter;
  fit.best_iteration = best_iter;

  // Keep the rounds up to the best one only.
  Booster kept;
  check(XGBoosterSlice(booster.h, 0, best_iter + 1, 1, &kept.h), "XGBoosterSlice");
  fit.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::vector<double> all = predict(kept.h, dall.h);
  fit.train_mae = mae(predict(kept.h, dtrain.h), train_y);
  if (!val_rows.empty()) fit.val_mae = mae(predict(kept.h, dval.h), val_y);
  fit.predictions.reserve(labelled_rows.size());
  for (size_t i = 0; i < labelled_rows.size(); ++i) fit.predictions.push_back({ds.samples[labelled_rows[i]].id, all[i]});

  bst_ulong len = 0;
  const char* bytes = nullptr;
  check(XGBoosterSaveModelToBuffer(kept.h, R"({"format": "ubj"})", &len, &bytes), "XGBoosterSaveModelToBuffer");
  fit.model.assign(bytes, len);
  spdlog::info("gbdt: best round {} of {} (val MAE {:.4f}, train MAE {:.4f}) in {:.2f} s", best_iter + 1, iter,
               fit.val_mae, fit.train_mae, fit.seconds);
  return fit;
}

void train_gbdt(const std::string& ds_dir, const GbdtOptions& opt) {
  validate(opt);
  const Dataset ds = load_dataset(ds_dir);
  const LevelRule rule = load_level_rule(ds_dir);
  const TabularFeatures f = tabular_features(ds, rule);
  const GbdtFit fit = fit_gbdt(ds, f, opt);
  const std::string dir = model_dir(ds_dir, "gbdt");
  std::filesystem::create_directories(dir);
  write_file_atomic(dir + "/model.ubj", fit.model);
  save_predictions(dir + "/predictions.csv", fit.predictions);
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  auto number_or_null = [](double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); };
  save_model_info(dir, {{"model", "gbdt"}, {"input", "Tabular"}, {"ablation", ""},
                        {"features", f.names}, {"best_iteration", fit.best_iteration},
                        {"rounds_trained", fit.rounds_trained}, {"val_mae", number_or_null(fit.val_mae)},
                        {"train_mae", number_or_null(fit.train_mae)}, {"training_seconds", fit.seconds},
                        {"predictions", fit.predictions.size()}, {"model_file", "model.ubj"},
                        {"base_margin", opt.from_persistence ? "current_level (0 where missing)" : "none (base_score = train mean)"},
                        {"xgboost_version", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch)},
                        {"options", opt.to_json()}});
  spdlog::info("gbdt: {} predictions and the model written to {}", fit.predictions.size(), dir);
}

}  // namespace spir
