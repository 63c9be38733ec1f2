// RGCN (paper Eq. 8–9): a 2-layer relational GCN over the propagation graph with the level predictor
// 9·sigmoid(W1 f + b1). Messages are aggregated before they are transformed (DESIGN.md decision 7): per relation
// the mean of the in-neighbours' features (1/|N_r(i)| Σ), then W_r, summed over relations, plus a self-connection.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "models/rgcn_inputs.h"

namespace spir {

struct RgcnOptions {
  int64_t hidden = 1024;  // d_g (paper 5.1)
  double dropout = 0.2;
};

struct RgcnOutput {
  torch::Tensor level;      // [V] predicted level in (0, 9), Eq. 9
  torch::Tensor embedding;  // [V, d_g] f'_v of Eq. 8 (stage 2 reads it)
};

class RgcnImpl : public torch::nn::Module {
 public:
  RgcnImpl(const GraphModelInputs& in, const RgcnOptions& opt);
  RgcnOutput forward(const GraphModelInputs& in);

 private:
  RgcnOptions opt_;
  torch::nn::Linear self1_{nullptr}, self2_{nullptr}, predictor_{nullptr};
  std::vector<torch::nn::Linear> head1_, rel1_, rel2_;  // per attribute relation: head self-transform, W_r^(1), W_r^(2)
  std::vector<torch::nn::Linear> vrel1_, vrel2_;         // per video→video relation: W_r^(1), W_r^(2)
};
TORCH_MODULE(Rgcn);

}  // namespace spir
