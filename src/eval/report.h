// Evaluation of trained models against a dataset's labels (paper 5.2-5.6): one model's eval.json, and the
// dataset's report (report.md, report.json, figures in DS/report/) comparing every model that has predictions.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "eval/metrics.h"

namespace spir {

// One model evaluated on one split.
struct EvalReport {
  std::string name;      // the model folder, e.g. "rgcn-VV"
  std::string model;     // model.json "model" (the folder name when absent), e.g. "rgcn"
  std::string input;     // model.json "input", e.g. "Graph"; empty when absent
  std::string ablation;  // model.json "ablation", e.g. "VV"; empty for a full model
  std::string split;     // "train", "val" or "test"
  Evaluation eval;
};

// Loads DS/samples.csv, DS/videos.bin (platform names) and the model's predictions; writes DS/models/<name>/eval.json.
// Throws Error naming the model when a labelled sample of the split has no prediction, a prediction is not finite,
// or predictions.csv repeats or names samples samples.csv does not have.
EvalReport evaluate_model(const std::string& ds_dir, const std::string& name, const std::string& split = "test");
// The same on an already loaded dataset (writes eval.json under ds.dir).
EvalReport evaluate_model(const Dataset& ds, const std::string& name, const std::string& split = "test");

// The constant reference predictor: every sample of `split` predicted as the mean level of the train split.
EvalReport evaluate_constant(const Dataset& ds, const std::string& split = "test");

nlohmann::json eval_json(const EvalReport& r);  // the content of eval.json
std::string eval_text(const EvalReport& r);     // terminal tables: overall, per platform, per period

// Rewrites DS/report.md and DS/report.json, and DS/report/ (figure data, gnuplot scripts, PNGs), for every folder
// under DS/models/ that holds a predictions.csv, on the test split (the models' eval.json files are left as they are). Models that fail to evaluate are listed with
// the reason; a missing gnuplot leaves the data files and a note in report.md.
void write_report(const std::string& ds_dir);

}  // namespace spir
