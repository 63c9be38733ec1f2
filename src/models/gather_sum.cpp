#include "models/gather_sum.h"

#include <ATen/Parallel.h>

#include "core/error.h"
#include "graph/aggregate.h"

namespace spir {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// inputs: the tables, then the indices (an empty tensor where a table is read in order).
struct GatherSum : torch::autograd::Function<GatherSum> {
  static torch::Tensor forward(AutogradContext* ctx, at::TensorList inputs, int64_t rows) {
    const size_t n = inputs.size() / 2;
    const int64_t d = inputs[0].size(1);
    std::vector<torch::Tensor> tables, indices;
    std::vector<const float*> tp;
    std::vector<const int64_t*> ip;
    for (size_t k = 0; k < n; ++k) {
      tables.push_back(inputs[k].contiguous());
      indices.push_back(inputs[n + k].numel() > 0 ? inputs[n + k].contiguous() : torch::Tensor());
      tp.push_back(tables.back().data_ptr<float>());
      ip.push_back(indices.back().defined() ? indices.back().data_ptr<int64_t>() : nullptr);
    }
    torch::Tensor out = torch::empty({rows, d}, torch::kFloat32);
    float* op = out.data_ptr<float>();
    at::parallel_for(0, rows, 256, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        float* o = op + i * d;
        for (size_t k = 0; k < n; ++k) {
          const float* src = tp[k] + (ip[k] ? ip[k][i] : i) * d;
          if (k == 0) {
            for (int64_t c = 0; c < d; ++c) o[c] = src[c];
          } else {
            for (int64_t c = 0; c < d; ++c) o[c] += src[c];
          }
        }
      }
    });
    std::vector<int64_t> table_rows;
    for (const auto& t : tables) table_rows.push_back(t.size(0));
    ctx->saved_data["table_rows"] = table_rows;
    ctx->save_for_backward(indices);  // undefined entries stay undefined
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const std::vector<int64_t> table_rows = ctx->saved_data["table_rows"].toIntVector();
    const variable_list indices = ctx->get_saved_variables();
    const torch::Tensor g = grads[0].contiguous();
    variable_list result;
    for (size_t k = 0; k < table_rows.size(); ++k) {
      if (!ctx->needs_input_grad(k)) {
        result.push_back(torch::Tensor());
      } else if (!indices[k].defined()) {
        result.push_back(g);
      } else {
        torch::Tensor gk = torch::zeros({table_rows[k], g.size(1)}, g.options());
        index_add_rows_(gk, indices[k], g);
        result.push_back(gk);
      }
    }
    for (size_t k = 0; k < table_rows.size(); ++k) result.push_back(torch::Tensor());  // indices
    result.push_back(torch::Tensor());                                                  // rows
    return result;
  }
};

}  // namespace

torch::Tensor gather_sum(const std::vector<torch::Tensor>& tables, const std::vector<torch::Tensor>& indices, int64_t rows) {
  if (tables.empty() || tables.size() != indices.size()) throw Error("gather_sum: one index (or none) per table is needed");
  const int64_t d = tables[0].size(1);
  std::vector<torch::Tensor> inputs(tables.begin(), tables.end());
  for (size_t k = 0; k < tables.size(); ++k) {
    const torch::Tensor& t = tables[k];
    const torch::Tensor& ix = indices[k];
    if (t.dim() != 2 || t.size(1) != d || t.scalar_type() != torch::kFloat32 || !t.device().is_cpu())
      throw Error("gather_sum: table " + std::to_string(k) + " must be float32 [R, " + std::to_string(d) + "] on the CPU");
    if (ix.defined()) {
      if (ix.scalar_type() != torch::kInt64 || ix.dim() != 1 || ix.size(0) != rows)
        throw Error("gather_sum: index " + std::to_string(k) + " must be int64 [" + std::to_string(rows) + "]");
      if (rows > 0 && (ix.min().item<int64_t>() < 0 || ix.max().item<int64_t>() >= t.size(0)))
        throw Error("gather_sum: index " + std::to_string(k) + " points outside its table of " + std::to_string(t.size(0)) + " rows");
    } else if (t.size(0) != rows) {
      throw Error("gather_sum: table " + std::to_string(k) + " has " + std::to_string(t.size(0)) + " rows, not " +
                  std::to_string(rows) + ", and no index");
    }
  }
  for (const torch::Tensor& ix : indices) inputs.push_back(ix.defined() ? ix : torch::empty({0}, torch::kInt64));
  return GatherSum::apply(at::TensorList(inputs), rows);
}

}  // namespace spir
