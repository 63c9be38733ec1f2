#include "models/rgcn.h"

namespace spir {

namespace {

torch::nn::Linear linear(int64_t in, int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

// W_r applied to the mean of relation a's head rows y. W_r is linear (no bias), so mean(W y) = W mean(y): transform
// first when there are fewer distinct rows than video nodes, aggregate first otherwise (comments).
torch::Tensor relation_term(torch::nn::Linear& w, const GraphModelInputs& in, const RelationInput& a, const torch::Tensor& y) {
  return y.size(0) < in.videos ? in.attribute_mean(a, w(y)) : w(in.attribute_mean(a, y));
}

}  // namespace

RgcnImpl::RgcnImpl(const GraphModelInputs& in, const RgcnOptions& opt) : opt_(opt) {
  const int64_t h = opt.hidden, dv = in.video.size(1);
  self1_ = register_module("self1", linear(dv, h, true));  // W_0 of layer 1 (self-connection)
  self2_ = register_module("self2", linear(h, h, true));
  predictor_ = register_module("predictor", linear(h, 1, true));  // W_1, b_1 of Eq. 9
  for (const RelationInput& a : in.attributes) {
    const std::string name = relation_info(a.relation).name;
    const int64_t d = a.rows.size(1);
    head1_.push_back(register_module("head1_" + name, linear(d, h, true)));  // head nodes' own layer-1 output
    rel1_.push_back(register_module("rel1_" + name, linear(d, h, false)));
    rel2_.push_back(register_module("rel2_" + name, linear(h, h, false)));
  }
  for (Relation r : in.video_relations) {
    const std::string name = relation_info(r).name;
    vrel1_.push_back(register_module("rel1_" + name, linear(dv, h, false)));
    vrel2_.push_back(register_module("rel2_" + name, linear(h, h, false)));
  }
}

RgcnOutput RgcnImpl::forward(const GraphModelInputs& in) {
  namespace F = torch::nn::functional;
  const auto drop = [&](const torch::Tensor& x) {
    return F::dropout(x, F::DropoutFuncOptions().p(opt_.dropout).training(is_training()));
  };
  // Layer 1 (Eq. 8): each relation's mean input, transformed per relation, plus the self-connection.
  torch::Tensor z1 = self1_(in.video);
  std::vector<torch::Tensor> head_h1;  // layer-1 outputs of each attribute relation's head rows
  for (size_t i = 0; i < in.attributes.size(); ++i) {
    const RelationInput& a = in.attributes[i];
    z1 = z1 + relation_term(rel1_[i], in, a, a.rows);
    head_h1.push_back(drop(torch::relu(head1_[i](a.rows))));
  }
  for (size_t i = 0; i < in.video_relations.size(); ++i)
    z1 = z1 + vrel1_[i](group_prefix_mean(in.graph.group(in.video_relations[i]), in.video));
  const torch::Tensor h1 = drop(torch::relu(z1));
  // Layer 2: the same relations over layer-1 outputs.
  torch::Tensor z2 = self2_(h1);
  for (size_t i = 0; i < in.attributes.size(); ++i) z2 = z2 + relation_term(rel2_[i], in, in.attributes[i], head_h1[i]);
  for (size_t i = 0; i < in.video_relations.size(); ++i)
    z2 = z2 + vrel2_[i](group_prefix_mean(in.graph.group(in.video_relations[i]), h1));
  // Eq. 9: ŷ = 9·sigmoid(W1 f + b1)
  return {9.0 * torch::sigmoid(predictor_(z2)).squeeze(1), z2};
}

}  // namespace spir
