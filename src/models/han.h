// HAN baseline (paper 5.1; Wang et al., heterogeneous graph attention): meta-paths video–topic–video
// (has_same_topic_as), video–author–video (has_same_author_as) and video–history–video (is_history_of) over sampled
// neighbourhoods, node-level attention (GAT-style, one head) per meta-path over the node itself and its sampled
// meta-path neighbours, and semantic attention across meta-paths; 2 layers and the predictor of Eq. 9.
// The attribute nodes are not on any meta-path: they are folded into each video node's input representation,
// x'_v = W_video x_v + Σ_r W_r mean_{sampled heads of r}(x_head) (one projection per attribute relation, i.e. per
// head node type), so HAN reads the same inputs as the other models. With no video→video relation (ablation -VV)
// one meta-path of self-loops remains.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "models/sampled_gnn.h"

namespace spir {

// The attention weights of the last forward pass's second layer, for inspection and tests.
struct HanAttention {
  std::vector<torch::Tensor> self_weight;  // per meta-path: [T] α of each target's self-loop
  std::vector<torch::Tensor> edge_weight;  // per meta-path: [E] α of each sampled edge
  std::vector<torch::Tensor> edge_tail;    // per meta-path: [E] the edge's target
  torch::Tensor semantic;                  // [P] β per meta-path (Σ = 1)
};

class HanImpl : public SampledGnn {
 public:
  HanImpl(const GraphModelInputs& in, const SampledGnnOptions& opt);
  GnnOutput forward(const GraphModelInputs& in, const SampledBlock& block) override;
  bool needs_input_attributes() const override { return true; }
  const HanAttention& last_attention() const { return attention_; }

 private:
  struct Layer {
    torch::nn::Linear project{nullptr};            // W^(l): shared node projection
    std::vector<torch::Tensor> att_dst, att_src;   // per meta-path a_φ halves [h]
    torch::nn::Linear semantic{nullptr};           // W_s, b_s of the semantic attention
    torch::Tensor query;                           // q [h]
  };
  // One HAN layer from the sources h (rows of nodes[l]) to the targets (its first t rows).
  torch::Tensor layer_forward(Layer& layer, const SampledLayer& edges, const torch::Tensor& h, int64_t t, bool record);

  SampledGnnOptions opt_;
  size_t paths_ = 0;  // meta-paths (video relations in use, or 1 of self-loops)
  torch::nn::Linear input_video_{nullptr}, predictor_{nullptr};
  std::vector<torch::nn::Linear> input_attr_;  // per attribute relation: W_r of the input representation
  Layer layer1_, layer2_;
  HanAttention attention_;
};

}  // namespace spir
