// Layer 2's self-connection and video→video terms of Eq. 8 at the target rows only,
//   out[t] = b_0 + W_0 h1[t] + Σ_r W_r · (1/|N_r(t)|) Σ_{u ∈ N_r(t)} h1[u],
// as one autograd op that keeps nothing but h1 (which layer 1's activation keeps anyway): the neighbour means are
// formed at the targets only, never over every video node, and recomputed in the backward pass instead of stored.
// At the paper's scale and d_g = 1024 this saves a [targets, d_g] tensor per relation (1.3 GB each).
#pragma once
#include <torch/torch.h>

#include <vector>

#include "graph/aggregate.h"

namespace spir {

// h1 [V, d] float32; targets int64 [T] distinct video node ids; groups[i] the implicit relation of weights[i]
// ([d_out, d] each); self_weight [d_out, d], self_bias [d_out]. Returns [T, d_out]; differentiable in h1 and every
// weight. chunk: targets gathered at a time in the self-connection (bounds the temporary memory).
torch::Tensor video_relation_terms(const torch::Tensor& h1, const torch::Tensor& targets,
                                   const std::vector<const GroupOrderTensors*>& groups, const torch::Tensor& self_weight,
                                   const torch::Tensor& self_bias, const std::vector<torch::Tensor>& weights,
                                   int64_t chunk = 65536);

}  // namespace spir
