#include "models/gcn.h"

namespace spir {

namespace {

// Per-edge weights 1 / (1 + Σ_r |sampled N_r(t)|) of one relation's edges: the mean over self ∪ all neighbours.
torch::Tensor union_weights(const SampledRelation& s, const torch::Tensor& inv_total) {
  return inv_total.index_select(0, s.tail());
}

// mean over {t} ∪ ⋃_r N_r(t) of the projected rows; self: the targets' own rows [T, h].
torch::Tensor union_mean(const SampledLayer& layer, const torch::Tensor& self, const std::vector<torch::Tensor>& head_rows,
                         const torch::Tensor& video_rows) {
  torch::Tensor total = torch::ones({self.size(0)}, torch::kFloat32);
  for (const SampledRelation& s : layer.attributes) total = total + s.count;
  for (const SampledRelation& s : layer.video_relations) total = total + s.count;
  const torch::Tensor inv = (1.0 / total).to(self.scalar_type());
  torch::Tensor sum = self * inv.unsqueeze(1);
  for (size_t i = 0; i < layer.attributes.size(); ++i) {
    const SampledRelation& s = layer.attributes[i];
    sum = sum + gather_sum(head_rows[i], union_weights(s, inv), s.head, s.rowptr);
  }
  for (const SampledRelation& s : layer.video_relations) sum = sum + gather_sum(video_rows, union_weights(s, inv), s.head, s.rowptr);
  return sum;
}

}  // namespace

GcnImpl::GcnImpl(const GraphModelInputs& in, const SampledGnnOptions& opt) : opt_(opt) {
  const int64_t h = opt.hidden;
  project_video_ = register_module("project_video", make_linear(in.video.size(1), h, true));
  for (const RelationInput& a : in.attributes)
    project_.push_back(register_module(std::string("project_") + node_type_name(relation_info(a.relation).head),
                                       make_linear(a.rows.size(1), h, true)));
  layer1_ = register_module("layer1", make_linear(h, h, true));
  layer2_ = register_module("layer2", make_linear(h, h, true));
  predictor_ = register_module("predictor", make_linear(h, 1, true));  // W_1, b_1 of Eq. 9
}

GnnOutput GcnImpl::forward(const GraphModelInputs& in, const SampledBlock& b) {
  check_block(in, b);
  const auto drop = [&](const torch::Tensor& x) { return apply_dropout(*this, x, opt_.dropout); };
  const SampledLayer &l1 = b.layers[0], &l2 = b.layers[1];
  const int64_t t1 = b.nodes[1].size(0), t2 = b.nodes[2].size(0);
  const torch::Tensor p0 = project_video_(in.video.index_select(0, b.nodes[0]));
  std::vector<torch::Tensor> heads1, heads2;
  for (size_t i = 0; i < in.attributes.size(); ++i) {
    heads1.push_back(project_[i](attribute_rows(in, i, l1.attributes[i])));
    // A head's own layer-1 output: the mean over itself alone.
    heads2.push_back(drop(torch::relu(layer1_(project_[i](attribute_rows(in, i, l2.attributes[i]))))));
  }
  const torch::Tensor h1 = drop(torch::relu(layer1_(union_mean(l1, p0.slice(0, 0, t1), heads1, p0))));
  const torch::Tensor h2 = torch::relu(layer2_(union_mean(l2, h1.slice(0, 0, t2), heads2, h1)));
  return {9.0 * torch::sigmoid(predictor_(drop(h2))).squeeze(1), h2};  // Eq. 9
}

}  // namespace spir
