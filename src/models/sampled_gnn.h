// The mini-batch GNNs of paper 5.1 over sampled neighbourhoods (models/sampled_block.h): one interface so that one
// trainer (train/sampled_trainer.h) runs them all. Every model reads the same inputs (GraphModelInputs, ablations
// included), has 2 layers of width d_g and the level predictor 9·sigmoid(W1 f + b1) of Eq. 9.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "models/sampled_block.h"

namespace spir {

struct SampledGnnOptions {
  int64_t hidden = 1024;  // d_g (paper 5.1)
  double dropout = 0.2;
};

// What a sampled GNN computes for a block's targets.
struct GnnOutput {
  torch::Tensor level;      // [T] predicted level in (0, 9), Eq. 9
  torch::Tensor embedding;  // [T, d_g] the last layer's output f'_v
};

// A GNN that computes the targets of a sampled block.
class SampledGnn : public torch::nn::Module {
 public:
  // Level (Eq. 9) and embedding of block.nodes.back(), in that order.
  virtual GnnOutput forward(const GraphModelInputs& in, const SampledBlock& block) = 0;
  // Whether the block must also hold the attribute relations of its input nodes (BlockOptions::input_attributes).
  virtual bool needs_input_attributes() const { return false; }
};

// "gcn", "han", "hetsann" or "rgcn-sampled"; Error otherwise.
std::shared_ptr<SampledGnn> make_sampled_gnn(const std::string& model, const GraphModelInputs& in, const SampledGnnOptions& opt);
bool is_sampled_gnn(const std::string& model);

// Helpers shared by the models.
torch::nn::Linear make_linear(int64_t in, int64_t out, bool bias);
// The feature rows of attribute relation i that a sampled relation uses ([U, d]).
torch::Tensor attribute_rows(const GraphModelInputs& in, size_t i, const SampledRelation& s);
// Dropout in the module's training mode.
torch::Tensor apply_dropout(const torch::nn::Module& m, const torch::Tensor& x, double p);
// Checks that a block has the 2 layers and the relations of in.
void check_block(const GraphModelInputs& in, const SampledBlock& block);

// RGCN (Eq. 8–9, exactly the equations and parameter names of models/rgcn.h) over sampled neighbourhoods:
// per-relation means over the sampled in-neighbours, W_r, summed over relations, plus the self-connection.
class RgcnSampledImpl : public SampledGnn {
 public:
  RgcnSampledImpl(const GraphModelInputs& in, const SampledGnnOptions& opt);
  GnnOutput forward(const GraphModelInputs& in, const SampledBlock& block) override;

 private:
  SampledGnnOptions opt_;
  torch::nn::Linear self1_{nullptr}, self2_{nullptr}, predictor_{nullptr};
  std::vector<torch::nn::Linear> head1_, rel1_, rel2_, vrel1_, vrel2_;
};

}  // namespace spir
