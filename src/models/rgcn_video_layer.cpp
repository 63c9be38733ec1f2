#include "models/rgcn_video_layer.h"

#include "core/error.h"
#include "core/progress.h"

namespace spir {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What the op needs besides tensors: the relations' group orders.
struct GroupsHolder : torch::CustomClassHolder {
  std::vector<const GroupOrderTensors*> groups;
  int64_t chunk = 0;
};

// inputs: h1, self weight, self bias, then one weight per relation. targets and row_of travel in saved_data.
struct VideoRelationTerms : torch::autograd::Function<VideoRelationTerms> {
  static torch::Tensor forward(AutogradContext* ctx, at::TensorList inputs, torch::Tensor targets,
                               c10::intrusive_ptr<GroupsHolder> holder) {
    const torch::Tensor& h1 = inputs[0];
    const torch::Tensor &ws = inputs[1], &bs = inputs[2];
    const int64_t t = targets.size(0), v = h1.size(0), chunk = holder->chunk;
    torch::Tensor row_of = torch::full({v}, -1, torch::kInt64);
    row_of.index_put_({targets}, torch::arange(t, torch::kInt64));
    torch::Tensor out = torch::empty({t, ws.size(0)}, h1.options());
    for (int64_t lo = 0; lo < t; lo += chunk) {  // W_0 h1[t] + b_0
      const int64_t k = std::min(chunk, t - lo);
      torch::Tensor part = out.narrow(0, lo, k);
      torch::addmm_out(part, bs, h1.index_select(0, targets.narrow(0, lo, k)), ws.t());
    }
    for (size_t r = 0; r < holder->groups.size(); ++r)
      out.addmm_(group_prefix_mean_rows(*holder->groups[r], h1, row_of, t), inputs[3 + r].t());
    ctx->saved_data["holder"] = c10::IValue::make_capsule(holder);
    ctx->saved_data["targets"] = targets;
    ctx->saved_data["row_of"] = row_of;
    ctx->save_for_backward(inputs.vec());
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto holder = c10::static_intrusive_pointer_cast<GroupsHolder>(ctx->saved_data["holder"].toCapsule());
    const torch::Tensor targets = ctx->saved_data["targets"].toTensor();
    const torch::Tensor row_of = ctx->saved_data["row_of"].toTensor();
    const variable_list in = ctx->get_saved_variables();
    const torch::Tensor &h1 = in[0], &ws = in[1];
    const torch::Tensor g = grads[0].contiguous();
    PhaseTimer timer("rgcn layer 2 video op backward");
    const int64_t t = targets.size(0), chunk = holder->chunk;
    const bool need_h1 = ctx->needs_input_grad(0);
    torch::Tensor dh1 = need_h1 ? torch::zeros_like(h1) : torch::Tensor();
    torch::Tensor dws = ctx->needs_input_grad(1) ? torch::zeros_like(ws) : torch::Tensor();
    torch::Tensor dbs = ctx->needs_input_grad(2) ? g.sum(0) : torch::Tensor();
    for (int64_t lo = 0; lo < t; lo += chunk) {  // self-connection, a chunk of targets at a time
      const int64_t k = std::min(chunk, t - lo);
      const torch::Tensor tk = targets.narrow(0, lo, k), gk = g.narrow(0, lo, k);
      if (dws.defined()) dws.addmm_(gk.t(), h1.index_select(0, tk));
      if (need_h1) index_add_rows_(dh1, tk, gk.mm(ws));
    }
    timer.lap("self-connection");
    variable_list result{dh1, dws, dbs};
    for (size_t r = 0; r < holder->groups.size(); ++r) {
      const torch::Tensor& w = in[3 + r];
      torch::Tensor dw;
      if (ctx->needs_input_grad(3 + r))  // the means at the targets again, instead of having kept them
        dw = g.t().mm(group_prefix_mean_rows(*holder->groups[r], h1, row_of, t));
      if (need_h1) group_prefix_mean_adjoint_add(*holder->groups[r], g.mm(w), row_of, dh1);
      result.push_back(dw);
      timer.lap("a video relation");
    }
    result.push_back(torch::Tensor());  // targets
    result.push_back(torch::Tensor());  // holder
    return result;
  }
};

}  // namespace

torch::Tensor video_relation_terms(const torch::Tensor& h1, const torch::Tensor& targets,
                                   const std::vector<const GroupOrderTensors*>& groups, const torch::Tensor& self_weight,
                                   const torch::Tensor& self_bias, const std::vector<torch::Tensor>& weights,
                                   int64_t chunk) {
  if (groups.size() != weights.size()) throw Error("video_relation_terms: one weight per relation is needed");
  if (h1.dim() != 2 || !h1.is_contiguous() || h1.scalar_type() != torch::kFloat32)
    throw Error("video_relation_terms: h1 must be a contiguous float32 [V, d] tensor");
  if (targets.scalar_type() != torch::kInt64 || targets.dim() != 1)
    throw Error("video_relation_terms: targets must be int64 [T]");
  if (chunk <= 0) throw Error("video_relation_terms: chunk must be positive");
  for (const torch::Tensor& w : weights)
    if (w.dim() != 2 || w.size(1) != h1.size(1) || w.size(0) != self_weight.size(0))
      throw Error("video_relation_terms: every weight must be [" + std::to_string(self_weight.size(0)) + ", " +
                  std::to_string(h1.size(1)) + "]");
  auto holder = c10::make_intrusive<GroupsHolder>();
  holder->groups = groups;
  holder->chunk = chunk;
  std::vector<torch::Tensor> inputs{h1, self_weight, self_bias};
  inputs.insert(inputs.end(), weights.begin(), weights.end());
  return VideoRelationTerms::apply(at::TensorList(inputs), targets.contiguous(), holder);
}

}  // namespace spir
