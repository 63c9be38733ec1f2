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
  std::string order = "ctime";  // graph order (graph/propagation_graph.h)
  int epochs = 200;
  double lr = 1e-3, weight_decay = 0;
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

// The folder name of a run: the model, plus "-" and the ablation ("rgcn", "rgcn-VV").
std::string graph_run_name(const GraphTrainOptions& opt);

// Trains and writes DS/models/<name>/{checkpoint.pt, best.pt, predictions.csv, model.json, curves.csv}.
GraphTrainResult train_graph_model(const std::string& ds_dir, const GraphTrainOptions& opt);

}  // namespace spir
