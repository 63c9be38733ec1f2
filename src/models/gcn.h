// GCN baseline (paper 5.1), relation-agnostic: every node type's input is projected to d_g, then each layer takes
// the mean over the node itself and the union of its sampled in-neighbours of all relations, W^(l), ReLU, dropout;
// 2 layers and the predictor of Eq. 9. Attribute heads have no in-edges: their layer-1 output is their own row's.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "models/sampled_gnn.h"

namespace spir {

class GcnImpl : public SampledGnn {
 public:
  GcnImpl(const GraphModelInputs& in, const SampledGnnOptions& opt);
  GnnOutput forward(const GraphModelInputs& in, const SampledBlock& block) override;

 private:
  SampledGnnOptions opt_;
  torch::nn::Linear project_video_{nullptr}, layer1_{nullptr}, layer2_{nullptr}, predictor_{nullptr};
  std::vector<torch::nn::Linear> project_;  // per attribute relation (= per head node type): input projection to d_g
};

}  // namespace spir
