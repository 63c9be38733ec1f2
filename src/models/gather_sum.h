// out[i] = Σ_k tables[k][index_k[i]]: the sum of several per-relation message tables gathered at the same rows, in
// one pass over the output (the transform-first relations of Eq. 8: W_r x computed once per distinct head row, then
// gathered at every video node). Separate index_select + add calls would each read and write the whole [rows, d_g]
// output again: at the paper's scale and d_g = 1024 that is 2 GB per relation and pass.
#pragma once
#include <torch/torch.h>

#include <vector>

namespace spir {

// tables[k]: float32 [R_k, d]; indices[k]: int64 [rows] row numbers into tables[k], or undefined when tables[k]
// has exactly `rows` rows read in order. Differentiable in every table (the backward pass of an index_select).
torch::Tensor gather_sum(const std::vector<torch::Tensor>& tables, const std::vector<torch::Tensor>& indices, int64_t rows);

}  // namespace spir
