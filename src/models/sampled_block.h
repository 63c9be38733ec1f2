// Sampled neighbourhoods for mini-batch GNNs (paper 5.1: fan-out 50 per relation per layer): for a batch of target
// video nodes, the nodes each layer computes and, per relation, up to fan-out sampled in-neighbours of each of
// them. Attribute relations (non-video heads) point at rows of GraphModelInputs::attributes[i].rows; video→video
// relations are drawn from the implicit groups with sample_in_neighbours (DESIGN.md decisions 2 and 7).
#pragma once
#include <torch/torch.h>

#include <vector>

#include "core/rng.h"
#include "graph/propagation_graph.h"
#include "models/rgcn_inputs.h"

namespace spir {

// One relation's sampled edges into the targets of one layer, sorted by target (CSR).
struct SampledRelation {
  Relation relation;
  torch::Tensor rows;    // attribute relations: int64 [U] distinct rows of the relation's RelationInput::rows used
  torch::Tensor head;    // int64 [E]: attribute relations: position in rows; video relations: position in the
                         // layer's source video list
  torch::Tensor rowptr;  // int64 [T+1]: the edges of target t are [rowptr[t], rowptr[t+1])
  torch::Tensor count;   // float [T]: sampled in-degree of each target
  torch::Tensor tail() const;  // int64 [E]: the target of each edge (expanded from rowptr)
};

// The edges of one layer: from the source videos nodes[l] (and attribute rows) to the targets nodes[l+1].
struct SampledLayer {
  std::vector<SampledRelation> attributes;       // parallel to GraphModelInputs::attributes
  std::vector<SampledRelation> video_relations;  // parallel to GraphModelInputs::video_relations
};

// A batch's computation graph. nodes[L] are the batch targets, nodes[l+1] is a prefix of nodes[l] (a node's own
// previous-layer output is at the same position), layers[l] connects nodes[l] to nodes[l+1].
struct SampledBlock {
  std::vector<torch::Tensor> nodes;   // int64 video node ids, L+1 lists
  std::vector<SampledLayer> layers;   // L layers
  SampledLayer input;                 // attribute relations of nodes[0] (only with BlockOptions::input_attributes)
  int64_t targets() const { return nodes.back().size(0); }
  int64_t edges() const;              // sampled edges over all layers
};

struct BlockOptions {
  int fanout = 50;                // per relation per layer (paper 5.1)
  int layers = 2;
  bool input_attributes = false;  // also sample the attribute relations of nodes[0] (HAN folds them into its input)
};

// Samples the block of targets (distinct video node ids). Deterministic for a given rng state.
SampledBlock sample_block(const PropagationGraph& g, const GraphModelInputs& in, const std::vector<int64_t>& targets,
                          const BlockOptions& opt, Rng& rng);

// out[t] = Σ_{e in [rowptr[t], rowptr[t+1])} weight[e] · x[head[e]], out: [T, d] with T = rowptr.size(0) − 1.
// Differentiable in x and in weight, without an [E, d] intermediate (parallel over targets, and over sources in the
// backward pass).
torch::Tensor gather_sum(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& head, const torch::Tensor& rowptr);

// The mean over each target's sampled heads of x (zero rows where none): gather_sum with weights 1/count.
torch::Tensor sampled_mean(const SampledRelation& s, const torch::Tensor& x);

// Softmax of per-edge scores over the edges of each target (edges given by their target), for attention models.
// Several relations' scores normalise jointly when concatenated first.
torch::Tensor edge_softmax(const torch::Tensor& scores, const torch::Tensor& tail, int64_t targets);

}  // namespace spir
