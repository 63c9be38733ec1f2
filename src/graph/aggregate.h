// Exact neighbour means per relation for the models (paper Eq. 9's 1/|N_r(i)| Σ term), differentiable with
// LibTorch autograd and O(N·d): implicit relations through prefix sums along each group's time order.
#pragma once
#include <torch/torch.h>

#include "graph/propagation_graph.h"

namespace spir {

// The index tensors of one implicit relation (int64, CPU), made once per graph.
struct GroupOrderTensors {
  torch::Tensor node, group_begin, tie_begin;
  torch::Tensor in_degree;  // float [V]: |N_r(v)| per video node
};
GroupOrderTensors to_tensors(const GroupOrder& g);

// out[v] = mean of x[u] over the in-neighbours u of v (members of v's group with a strictly smaller key); zero
// rows where v has none. x: [V, d] float32/float64 on CPU. Exact: sums are accumulated in double, group by group.
// Differentiable in x (its backward is the mirror-image suffix sum).
torch::Tensor group_prefix_mean(const GroupOrderTensors& g, const torch::Tensor& x);

// The rows of group_prefix_mean(g, x) at chosen nodes, without forming the others: out[row_of[v]] = mean at v for
// every v with row_of[v] >= 0 (row_of: contiguous int64 [V]); out is [rows, d]. Not differentiable (the models
// pair it with group_prefix_mean_adjoint_add in their own backward passes).
torch::Tensor group_prefix_mean_rows(const GroupOrderTensors& g, const torch::Tensor& x, const torch::Tensor& row_of,
                                     int64_t rows);

// out += Pᵀ y, where P is group_prefix_mean's linear map and y holds the output gradient at chosen nodes only: row
// row_of[v] of y for v with row_of[v] >= 0, zero elsewhere. out: contiguous [V, d], y: [rows, d], same dtype.
void group_prefix_mean_adjoint_add(const GroupOrderTensors& g, const torch::Tensor& y, const torch::Tensor& row_of,
                                   torch::Tensor& out);

// out[index[i]] += src[i] for every row i (a scatter-add; rows of src may share a target), parallel over columns.
// out: contiguous [N, d]; src: [M, d] of out's dtype; index: int64 [M] in [0, N). LibTorch's index_add_ runs one
// small kernel per row on one thread, which costs seconds at the paper's scale.
void index_add_rows_(torch::Tensor& out, const torch::Tensor& index, const torch::Tensor& src);

// out[v] = mean of x[c] over the comment nodes c of video node v (zeros where none). owner: comment node → video
// node (int64 [C]); counts: float [V] comments per video node. Differentiable in x.
torch::Tensor segment_mean(const torch::Tensor& owner, const torch::Tensor& counts, const torch::Tensor& x, int64_t videos);

// Everything the models need from the graph, as tensors: index maps for shared heads and comments, and the three
// implicit relations.
struct GraphTensors {
  int64_t videos = 0;
  torch::Tensor platform_of, topic_of;          // int64 [V]
  torch::Tensor comment_owner, comment_count;   // int64 [C], float [V]
  GroupOrderTensors same_author, same_topic, history;
  const GroupOrderTensors& group(Relation r) const;
};
GraphTensors to_tensors(const PropagationGraph& g);

// Reference aggregation over a materialised edge list (edge_index [2, E]: heads, tails): index_add_ of the head rows
// into the tails divided by in-degree. Used by tests and benchmarks to check the implicit path.
torch::Tensor mean_over_edges(const torch::Tensor& edge_index, const torch::Tensor& x_head, int64_t num_tails);

// Every edge of relation r as an int64 edge_index [2, E] (row 0 heads, row 1 tails), the layout PyG reads; for the
// implicit relations the full quadratic list (graph/edges.h).
torch::Tensor edge_index_tensor(const PropagationGraph& g, Relation r);

}  // namespace spir
