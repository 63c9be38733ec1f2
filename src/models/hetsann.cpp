#include "models/hetsann.h"

#include <cmath>

namespace spir {

namespace {
torch::Tensor attention_vector(int64_t h) { return torch::randn({h}) / std::sqrt(static_cast<double>(h)); }
}  // namespace

HetsannImpl::HetsannImpl(const GraphModelInputs& in, const SampledGnnOptions& opt) : opt_(opt) {
  const int64_t h = opt.hidden;
  for (auto [layer, name] : {std::pair<Layer*, std::string>{&layer1_, "layer1"}, {&layer2_, "layer2"}}) {
    const bool first = layer == &layer1_;
    layer->video = register_module(name + "_video", make_linear(first ? in.video.size(1) : h, h, false));
    for (const RelationInput& a : in.attributes)
      layer->attribute.push_back(register_module(name + "_" + node_type_name(relation_info(a.relation).head),
                                                 make_linear(first ? a.rows.size(1) : h, h, false)));
    layer->self_dst = register_parameter(name + "_att_dst_self", attention_vector(h));
    layer->self_src = register_parameter(name + "_att_src_self", attention_vector(h));
    std::vector<Relation> relations;
    for (const RelationInput& a : in.attributes) relations.push_back(a.relation);
    relations.insert(relations.end(), in.video_relations.begin(), in.video_relations.end());
    for (Relation r : relations) {
      layer->att_dst.push_back(register_parameter(name + "_att_dst_" + relation_info(r).name, attention_vector(h)));
      layer->att_src.push_back(register_parameter(name + "_att_src_" + relation_info(r).name, attention_vector(h)));
    }
  }
  predictor_ = register_module("predictor", make_linear(h, 1, true));  // W_1, b_1 of Eq. 9
}

torch::Tensor HetsannImpl::layer_forward(Layer& layer, const SampledLayer& edges, const torch::Tensor& h,
                                         const std::vector<torch::Tensor>& heads, int64_t t) {
  namespace F = torch::nn::functional;
  const auto leaky = [](const torch::Tensor& x) { return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2)); };
  const torch::Tensor hv = layer.video(h);  // [S, d]: videos' messages (and the targets' own projection)
  const torch::Tensor dst = hv.slice(0, 0, t);
  // Per relation: projected head rows, edges, and scores; the self-loop first.
  struct Part {
    torch::Tensor rows, head, rowptr, tail;
  };
  std::vector<Part> parts;
  std::vector<torch::Tensor> scores{leaky(dst.matmul(layer.self_dst) + dst.matmul(layer.self_src))};
  std::vector<torch::Tensor> tails{torch::arange(t, torch::kInt64)};
  size_t k = 0;
  const auto add = [&](const SampledRelation& s, const torch::Tensor& rows) {
    Part p{rows, s.head, s.rowptr, s.tail()};
    scores.push_back(leaky(dst.matmul(layer.att_dst[k]).index_select(0, p.tail) + rows.matmul(layer.att_src[k]).index_select(0, p.head)));
    tails.push_back(p.tail);
    parts.push_back(std::move(p));
    ++k;
  };
  for (size_t i = 0; i < edges.attributes.size(); ++i) add(edges.attributes[i], layer.attribute[i](heads[i]));
  for (const SampledRelation& s : edges.video_relations) add(s, hv);
  // Type-aware attention normalised over every relation's neighbours and the self-loop together.
  const torch::Tensor alpha = edge_softmax(torch::cat(scores), torch::cat(tails), t);
  torch::Tensor out = alpha.slice(0, 0, t).unsqueeze(1) * dst;
  int64_t offset = t;
  for (const Part& p : parts) {
    const int64_t e = p.head.size(0);
    out = out + gather_sum(p.rows, alpha.slice(0, offset, offset + e), p.head, p.rowptr);
    offset += e;
  }
  return out;
}

GnnOutput HetsannImpl::forward(const GraphModelInputs& in, const SampledBlock& b) {
  check_block(in, b);
  const auto drop = [&](const torch::Tensor& x) { return apply_dropout(*this, x, opt_.dropout); };
  const SampledLayer &l1 = b.layers[0], &l2 = b.layers[1];
  std::vector<torch::Tensor> heads1, heads2;
  for (size_t i = 0; i < in.attributes.size(); ++i) {
    heads1.push_back(attribute_rows(in, i, l1.attributes[i]));
    // A head's layer-1 output: attention over its self-loop alone (α = 1).
    heads2.push_back(drop(torch::elu(layer1_.attribute[i](attribute_rows(in, i, l2.attributes[i])))));
  }
  const torch::Tensor x0 = in.video.index_select(0, b.nodes[0]);
  const torch::Tensor h1 = drop(torch::elu(layer_forward(layer1_, l1, x0, heads1, b.nodes[1].size(0))));
  const torch::Tensor h2 = layer_forward(layer2_, l2, h1, heads2, b.nodes[2].size(0));
  return {9.0 * torch::sigmoid(predictor_(h2)).squeeze(1), h2};  // Eq. 9
}

}  // namespace spir
