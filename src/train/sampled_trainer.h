// Mini-batch training of the sampled GNNs (paper 5.1 baselines GCN, HAN, HetSANN, and RGCN over sampled
// neighbourhoods): batches of train targets, one Adam step per batch on the Smooth L1 loss of Eq. 9, a sampled but
// fixed-seed (deterministic) validation MAE every epoch for early stopping, an atomic checkpoint after every epoch,
// and --resume that ends with the parameters of an uninterrupted run. Writes the files of train/graph_trainer.h.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/sampled_gnn.h"

namespace spir {

struct SampledTrainOptions {
  std::string model = "gcn";    // gcn | han | hetsann | rgcn-sampled
  std::string ablation;         // Table VI: "", "V", "VV", "IV", "CV"
  std::string name;             // run folder under DS/models/; empty: the model and ablation (sampled_run_name)
  std::string order = "ctime";  // graph order
  int epochs = 200;
  double lr = 1e-3, weight_decay = 0;
  int patience = 20;            // epochs without a better validation MAE before stopping
  uint64_t seed = 7;            // parameters, dropout, batch order and neighbour sampling
  SampledGnnOptions gnn;
  int fanout = 50;              // sampled in-neighbours per relation per layer (paper 5.1)
  int batch_size = 1024;        // target nodes per Adam step
  bool resume = false;          // continue from DS/models/<name>/checkpoint.pt
  int stop_after = 0;           // > 0: stop (as if killed) after this many epochs of this call; for tests
};

struct SampledTrainResult {
  std::string dir;              // DS/models/<name>
  int epochs_run = 0, best_epoch = -1;
  double best_val_mae = 0, seconds = 0;
  double seconds_per_epoch = 0; // mean over the epochs of this call (training + validation)
  double peak_rss_mib = 0;
  int64_t trainable_parameters = 0, frozen_parameters = 0;
};

// The folder name of a run: opt.name, else the model plus "-" and the ablation ("gcn", "han-VV").
std::string sampled_run_name(const SampledTrainOptions& opt);

// Trains and writes DS/models/<name>/{checkpoint.pt, best.pt, predictions.csv, model.json, curves.csv}.
SampledTrainResult train_sampled_model(const std::string& ds_dir, const SampledTrainOptions& opt);

// Levels predicted for targets (video node ids), in batches, eval mode, neighbours sampled from Rng(seed):
// the same numbers for the same model and seed.
std::vector<double> predict_sampled(SampledGnn& model, const PropagationGraph& g, const GraphModelInputs& in,
                                    const std::vector<int64_t>& targets, const BlockOptions& block, int batch_size, uint64_t seed);

}  // namespace spir
