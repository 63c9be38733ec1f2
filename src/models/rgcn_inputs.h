// What the graph models read: node features arranged per relation (deduplicated rows + a node→row index), the
// graph's index tensors, and the ablations of Table VI that apply without an LLM.
#pragma once
#include <string>
#include <vector>

#include <torch/torch.h>

#include "features/node_features.h"
#include "graph/aggregate.h"

namespace spir {

// Table VI ablations: -V zero video features, -VV no video→video edges, -IV no interaction-count edges
// (ctime, likes, collects, views, shares, comments, fans), -CV no comment edges.
struct Ablation {
  bool no_video_features = false, no_video_edges = false, no_interaction_edges = false, no_comment_edges = false;
  static Ablation parse(const std::string& s);  // "", "V", "VV", "IV", "CV" (comma-separated for several)
  std::string name() const;                     // "" or e.g. "VV"
  bool drops(Relation r) const;                 // whether relation r is removed
};

// The head features of one attribute relation (every relation whose head is not a video node).
struct RelationInput {
  Relation relation;
  torch::Tensor rows;   // [R, d] float32: distinct head feature rows
  torch::Tensor index;  // one-to-one / shared head: [V] node → row; comments: [C] comment → video node
};

struct GraphModelInputs {
  int64_t videos = 0;
  torch::Tensor video;                        // [V, d_video] video node features (Eq. 3, + mask bit)
  std::vector<RelationInput> attributes;      // attribute relations in use, Table IV order
  std::vector<Relation> video_relations;      // implicit video→video relations in use
  GraphTensors graph;
  // The mean over a video node's in-neighbours under attribute relation a of per-row values y ([R, d]).
  torch::Tensor attribute_mean(const RelationInput& a, const torch::Tensor& y) const;
};

// Arranges features for the models; scalar tables are deduplicated (few distinct log-counts) so that per-row
// transforms stay cheap at the paper's scale.
GraphModelInputs make_graph_model_inputs(const PropagationGraph& g, const NodeFeatures& f, const Ablation& ablation);

}  // namespace spir
