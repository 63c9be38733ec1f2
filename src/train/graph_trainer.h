// Training of the graph models (stage 1, paper 4.1): full-graph epochs, Smooth L1 on the train split (Eq. 9),
// Adam, early stopping on the validation split, an atomic checkpoint after every epoch, and --resume.
#pragma once
#include <string>

#include "models/rgcn.h"

namespace spir {

// With target_chunk < 0, layer 2 runs in checkpointed chunks of this many targets when there are more train targets
// than that: the paper's scale at d_g 1024 does not fit in 24 GiB without them, and smaller graphs pay nothing.
constexpr int64_t kAutoTargetChunk = 65536;

struct GraphTrainOptions {
  std::string model = "rgcn";
  std::string ablation;        // Table VI: "", "V", "VV", "IV", "CV"
  std::string name;            // run folder under DS/models/; empty: the model and ablation (graph_run_name)
  std::string order = "ctime";  // graph order (graph/propagation_graph.h)
  int epochs = 200;
  double lr = 0, weight_decay = 0;  // lr 0: default_graph_lr(rgcn.hidden)
  int warmup = 10;             // epochs of linear learning-rate warm-up (see warmup_lr); 0: none
  int patience = 20;           // epochs without a better validation MAE before stopping
  uint64_t seed = 7;
  RgcnOptions rgcn;            // rgcn.target_chunk < 0: automatic (see kAutoTargetChunk)
  bool resume = false;         // continue from DS/models/<name>/checkpoint.pt
  int stop_after = 0;          // > 0: stop (as if killed) after this many epochs of this call; for tests
};

struct GraphTrainResult {
  std::string dir;             // DS/models/<name>
  int epochs_run = 0, best_epoch = -1;
  double best_val_mae = 0, seconds = 0;
  int64_t trainable_parameters = 0;
};

// Adam's learning rate for a full-batch graph model of width d_g when none is given: 3e-3 up to d_g 64, then
// 3e-3·(64/d_g)², 1.2e-5 at the paper's 1024. Adam's first step moves every weight by about lr, and after a ReLU the
// moves of one layer's d_g inputs add up in the same direction, through two layers and the predictor: at a fixed lr
// the first step's change of the Eq. 9 logit grows about as d_g², and at d_g 1024 with 1e-3 it saturates the sigmoid
// (every prediction 0, no gradient left). The rule keeps that change where it is at d_g 64 (bench/RESULTS.md).
double default_graph_lr(int64_t hidden);

// The learning rate of epoch k (0-based): lr·(k+1)/warmup during the first `warmup` epochs, lr after. Each epoch is
// one full-batch Adam step, and Adam's first step moves every weight by about lr: at d_g 1024 that saturates the
// sigmoid of Eq. 9 unless the first steps are small.
double warmup_lr(double lr, int warmup, int64_t epoch);

// The folder name of a run: opt.name, else the model plus "-" and the ablation ("rgcn", "rgcn-VV").
std::string graph_run_name(const GraphTrainOptions& opt);

// Trains and writes DS/models/<name>/{checkpoint.pt, best.pt, predictions.csv, model.json, curves.csv}.
GraphTrainResult train_graph_model(const std::string& ds_dir, const GraphTrainOptions& opt);

}  // namespace spir
