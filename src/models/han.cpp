#include "models/han.h"

#include <cmath>

#include "core/error.h"

namespace spir {

HanImpl::HanImpl(const GraphModelInputs& in, const SampledGnnOptions& opt) : opt_(opt) {
  const int64_t h = opt.hidden;
  paths_ = std::max<size_t>(1, in.video_relations.size());
  input_video_ = register_module("input_video", make_linear(in.video.size(1), h, true));
  for (const RelationInput& a : in.attributes)
    input_attr_.push_back(register_module(std::string("input_") + node_type_name(relation_info(a.relation).head),
                                          make_linear(a.rows.size(1), h, false)));
  for (auto [layer, name] : {std::pair<Layer*, std::string>{&layer1_, "layer1"}, {&layer2_, "layer2"}}) {
    layer->project = register_module(name + "_project", make_linear(h, h, false));
    for (size_t p = 0; p < paths_; ++p) {
      const std::string path = in.video_relations.empty() ? "self" : relation_info(in.video_relations[p]).name;
      layer->att_dst.push_back(register_parameter(name + "_att_dst_" + path, torch::randn({h}) / std::sqrt(static_cast<double>(h))));
      layer->att_src.push_back(register_parameter(name + "_att_src_" + path, torch::randn({h}) / std::sqrt(static_cast<double>(h))));
    }
    layer->semantic = register_module(name + "_semantic", make_linear(h, h, true));
    layer->query = register_parameter(name + "_query", torch::randn({h}) / std::sqrt(static_cast<double>(h)));
  }
  predictor_ = register_module("predictor", make_linear(h, 1, true));  // W_1, b_1 of Eq. 9
}

torch::Tensor HanImpl::layer_forward(Layer& layer, const SampledLayer& edges, const torch::Tensor& h, int64_t t, bool record) {
  namespace F = torch::nn::functional;
  const torch::Tensor hp = layer.project(h);  // [S, d]
  const torch::Tensor dst = hp.slice(0, 0, t);
  const torch::Tensor self_tail = torch::arange(t, torch::kInt64);
  std::vector<torch::Tensor> z;  // per meta-path [T, d]
  if (record) attention_ = {};
  for (size_t p = 0; p < paths_; ++p) {
    // Node-level attention: e_tj = LeakyReLU(a_φ^T [h'_t ‖ h'_j]) over j ∈ {t} ∪ N_φ(t), softmax per target.
    const torch::Tensor sd = dst.matmul(layer.att_dst[p]), ss = hp.matmul(layer.att_src[p]);
    torch::Tensor scores = F::leaky_relu(sd + ss.slice(0, 0, t), F::LeakyReLUFuncOptions().negative_slope(0.2));
    torch::Tensor tails = self_tail;
    const SampledRelation* rel = edges.video_relations.empty() ? nullptr : &edges.video_relations[p];
    torch::Tensor tail;
    if (rel) {
      tail = rel->tail();
      scores = torch::cat({scores, F::leaky_relu(sd.index_select(0, tail) + ss.index_select(0, rel->head),
                                                 F::LeakyReLUFuncOptions().negative_slope(0.2))});
      tails = torch::cat({self_tail, tail});
    }
    const torch::Tensor alpha = edge_softmax(scores, tails, t);
    const torch::Tensor a_self = alpha.slice(0, 0, t);
    torch::Tensor out = a_self.unsqueeze(1) * dst;
    if (rel) {
      const torch::Tensor a_edge = alpha.slice(0, t);
      out = out + gather_sum(hp, a_edge, rel->head, rel->rowptr);
      if (record) attention_.edge_weight.push_back(a_edge.detach()), attention_.edge_tail.push_back(tail);
    } else if (record) {
      attention_.edge_weight.push_back(torch::zeros({0})), attention_.edge_tail.push_back(torch::zeros({0}, torch::kInt64));
    }
    if (record) attention_.self_weight.push_back(a_self.detach());
    z.push_back(torch::elu(out));
  }
  // Semantic attention: w_φ = mean_t q^T tanh(W_s z_φ[t] + b_s), β = softmax(w), Z = Σ_φ β_φ z_φ.
  std::vector<torch::Tensor> w;
  for (const torch::Tensor& zp : z) w.push_back(torch::tanh(layer.semantic(zp)).matmul(layer.query).mean());
  const torch::Tensor beta = torch::softmax(torch::stack(w), 0);
  if (record) attention_.semantic = beta.detach();
  torch::Tensor out = beta[0] * z[0];
  for (size_t p = 1; p < z.size(); ++p) out = out + beta[static_cast<int64_t>(p)] * z[p];
  return out;
}

GnnOutput HanImpl::forward(const GraphModelInputs& in, const SampledBlock& b) {
  check_block(in, b);
  if (b.input.attributes.size() != in.attributes.size()) throw Error("HAN: the block needs its input attributes (BlockOptions::input_attributes)");
  const auto drop = [&](const torch::Tensor& x) { return apply_dropout(*this, x, opt_.dropout); };
  // Input representation of nodes[0]: the video's own features plus each attribute relation's projected mean.
  torch::Tensor x = input_video_(in.video.index_select(0, b.nodes[0]));
  for (size_t i = 0; i < in.attributes.size(); ++i)
    x = x + input_attr_[i](sampled_mean(b.input.attributes[i], attribute_rows(in, i, b.input.attributes[i])));
  const torch::Tensor h1 = drop(layer_forward(layer1_, b.layers[0], drop(x), b.nodes[1].size(0), false));
  const torch::Tensor h2 = layer_forward(layer2_, b.layers[1], h1, b.nodes[2].size(0), true);
  return {9.0 * torch::sigmoid(predictor_(drop(h2))).squeeze(1), h2};  // Eq. 9
}

}  // namespace spir
