// HetSANN baseline (paper 5.1; Hong et al., type-aware attention for heterogeneous graphs) over sampled
// neighbourhoods: each neighbour's row is projected by its node type's W_τ^(l) (videos share one; each attribute
// relation has its own head type), each edge is scored with its relation's attention vector,
// e_tj = LeakyReLU(a_r^T [W_video h_t ‖ W_τ(j) h_j]), and the scores of all relations and of the self-loop are
// normalised together per target: h'_t = Σ_j α_tj W_τ(j) h_j (ELU after layer 1). One attention head, 2 layers, the
// predictor of Eq. 9. Attribute heads have no in-edges: their layer-1 output is ELU(W_τ^(1) x_head).
#pragma once
#include <torch/torch.h>

#include <vector>

#include "models/sampled_gnn.h"

namespace spir {

class HetsannImpl : public SampledGnn {
 public:
  HetsannImpl(const GraphModelInputs& in, const SampledGnnOptions& opt);
  GnnOutput forward(const GraphModelInputs& in, const SampledBlock& block) override;

 private:
  struct Layer {
    torch::nn::Linear video{nullptr};          // W_video^(l)
    std::vector<torch::nn::Linear> attribute;  // W_τ^(l) per attribute relation (its head type)
    torch::Tensor self_dst, self_src;          // attention vector of the self-loop, halves [h]
    std::vector<torch::Tensor> att_dst, att_src;  // per relation (attributes, then video→video) halves [h]
  };
  // One layer: h (rows of nodes[l]) and heads[i] (rows of layer.attributes[i]'s heads) to the first t rows.
  torch::Tensor layer_forward(Layer& layer, const SampledLayer& edges, const torch::Tensor& h, const std::vector<torch::Tensor>& heads, int64_t t);

  SampledGnnOptions opt_;
  Layer layer1_, layer2_;
  torch::nn::Linear predictor_{nullptr};
};

}  // namespace spir
