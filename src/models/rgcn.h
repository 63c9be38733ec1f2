// RGCN (paper Eq. 8–9): a 2-layer relational GCN over the propagation graph with the level predictor
// 9·sigmoid(W1 f + b1). Messages are aggregated before they are transformed where that is cheaper (DESIGN.md
// decision 7): per relation the mean of the in-neighbours' features (1/|N_r(i)| Σ), then W_r, summed over relations,
// plus a self-connection. Layer 1 runs over the whole graph; layer 2 only at the target rows asked for (the loss
// needs the labelled train rows only), optionally in chunks recomputed in the backward pass. docs/MODELS.md
// ("Stage 1 at the paper's scale") gives the cost and memory measured.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "models/rgcn_inputs.h"

namespace spir {

struct RgcnOptions {
  int64_t hidden = 1024;     // d_g (paper 5.1)
  double dropout = 0.2;
  int64_t bases = 0;         // 0: a full W_r per relation; B > 0: W_r = Σ_b a_rb V_b (Schlichtkrull et al., basis
                             // decomposition) over layer 2's relations and over each group of layer-1 relations
                             // with the same head width (a width used by one relation keeps its full W_r)
  int64_t target_chunk = 0;  // > 0: layer 2 over at most this many target rows at a time, each chunk recomputed in
                             // the backward pass (activation checkpointing): same values and gradients, less memory
};

struct RgcnOutput {
  torch::Tensor level;      // [T] predicted level in (0, 9) at the targets, Eq. 9
  torch::Tensor embedding;  // [T, d_g] f'_v of Eq. 8 at the targets (stage 2 reads it)
};

struct RgcnTrainEvalOutput {
  RgcnOutput train;         // at the training targets, with dropout when training
  torch::Tensor eval_level; // [E] Eq. 9 at the evaluation targets, without dropout, no gradient
};

class RgcnImpl : public torch::nn::Module {
 public:
  RgcnImpl(const GraphModelInputs& in, const RgcnOptions& opt);
  // targets: int64 video node ids whose outputs are wanted (undefined: every video node, in node order).
  RgcnOutput forward(const GraphModelInputs& in, const torch::Tensor& targets = {});
  // forward() at targets plus, from the same layer-1 pre-activations, the evaluation-mode levels at eval_targets
  // (equal to eval() then forward(in, eval_targets) with the same parameters): a validation pass without its own
  // layer 1, which at the paper's scale is most of that pass.
  RgcnTrainEvalOutput forward_train_eval(const GraphModelInputs& in, const torch::Tensor& targets, const torch::Tensor& eval_targets);
  // W_r of relation r in layer 1 or 2, [d_g, d_head], formed from the bases when they are used.
  torch::Tensor relation_weight(int layer, Relation r) const;
  const RgcnOptions& options() const { return opt_; }

 private:
  struct RelationWeight {  // a full W_r, or a member of a basis group with coefficients a_rb
    Relation relation;
    torch::Tensor full;    // [d_g, d] (undefined when in a group)
    int group = -1;        // index into the layer's bases
    torch::Tensor coef;    // [B]
  };
  struct Layer2Plan;       // what the layer-2 chunks share (rgcn.cpp)

  RgcnOptions opt_;
  torch::nn::Linear self1_{nullptr}, self2_{nullptr}, predictor_{nullptr};
  std::vector<torch::nn::Linear> head1_;   // per attribute relation: the head rows' own layer-1 output
  std::vector<RelationWeight> w1_, w2_;    // per relation (attributes, then video→video), per layer
  std::vector<torch::Tensor> bases1_, bases2_;  // [B, d_g, d] V_b of each basis group, per layer

  const RelationWeight& weight_of(int layer, Relation r) const;
  torch::Tensor weight(int layer, const RelationWeight& w) const;
  // out + Σ over (r, m_r) of W_r m_r, where every m_r is [N, d] at out's rows; basis groups with more members here
  // than bases use Σ_b V_b (Σ_r a_rb m_r): B products instead of one per relation.
  torch::Tensor add_relation_terms(int layer, torch::Tensor out, const std::vector<std::pair<Relation, torch::Tensor>>& agg) const;
  // Layer 1's pre-activations z1 over every video node (Eq. 8 before σ).
  torch::Tensor layer1(const GraphModelInputs& in);
  // Layer 2 and the predictor at the targets (undefined: every video node), reading h1 = dropout(σ(z1)); p: the
  // dropout of the attribute heads' own layer-1 outputs.
  RgcnOutput layer2(const GraphModelInputs& in, const torch::Tensor& h1, const torch::Tensor& targets, double p);
  // Layer 2's attribute terms at the targets tk of one chunk; inputs: the transformed head rows.
  torch::Tensor layer2_chunk(const Layer2Plan& plan, const torch::Tensor& tk, const std::vector<torch::Tensor>& inputs);
};
TORCH_MODULE(Rgcn);

}  // namespace spir
