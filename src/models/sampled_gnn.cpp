#include "models/sampled_gnn.h"

#include "core/error.h"
#include "models/gcn.h"
#include "models/han.h"
#include "models/hetsann.h"

namespace spir {

torch::nn::Linear make_linear(int64_t in, int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

torch::Tensor attribute_rows(const GraphModelInputs& in, size_t i, const SampledRelation& s) {
  return in.attributes[i].rows.index_select(0, s.rows);
}

torch::Tensor apply_dropout(const torch::nn::Module& m, const torch::Tensor& x, double p) {
  namespace F = torch::nn::functional;
  return F::dropout(x, F::DropoutFuncOptions().p(p).training(m.is_training()));
}

void check_block(const GraphModelInputs& in, const SampledBlock& block) {
  if (block.layers.size() != 2) throw Error("sampled GNN: the block must have 2 layers, got " + std::to_string(block.layers.size()));
  for (const SampledLayer& l : block.layers)
    if (l.attributes.size() != in.attributes.size() || l.video_relations.size() != in.video_relations.size())
      throw Error("sampled GNN: the block was sampled for other relations than the model's inputs");
}

bool is_sampled_gnn(const std::string& model) {
  return model == "gcn" || model == "han" || model == "hetsann" || model == "rgcn-sampled";
}

std::shared_ptr<SampledGnn> make_sampled_gnn(const std::string& model, const GraphModelInputs& in, const SampledGnnOptions& opt) {
  if (model == "rgcn-sampled") return std::make_shared<RgcnSampledImpl>(in, opt);
  if (model == "gcn") return std::make_shared<GcnImpl>(in, opt);
  if (model == "han") return std::make_shared<HanImpl>(in, opt);
  if (model == "hetsann") return std::make_shared<HetsannImpl>(in, opt);
  throw Error("unknown sampled GNN '" + model + "' (gcn, han, hetsann, rgcn-sampled)");
}

// ---- RGCN over sampled neighbourhoods ----

RgcnSampledImpl::RgcnSampledImpl(const GraphModelInputs& in, const SampledGnnOptions& opt) : opt_(opt) {
  // The registration order and names of RgcnImpl, so that either model loads the other's parameters.
  const int64_t h = opt.hidden, dv = in.video.size(1);
  self1_ = register_module("self1", make_linear(dv, h, true));  // W_0 of layer 1 (self-connection)
  self2_ = register_module("self2", make_linear(h, h, true));
  predictor_ = register_module("predictor", make_linear(h, 1, true));  // W_1, b_1 of Eq. 9
  for (const RelationInput& a : in.attributes) {
    const std::string name = relation_info(a.relation).name;
    const int64_t d = a.rows.size(1);
    head1_.push_back(register_module("head1_" + name, make_linear(d, h, true)));
    rel1_.push_back(register_module("rel1_" + name, make_linear(d, h, false)));
    rel2_.push_back(register_module("rel2_" + name, make_linear(h, h, false)));
  }
  for (Relation r : in.video_relations) {
    const std::string name = relation_info(r).name;
    vrel1_.push_back(register_module("rel1_" + name, make_linear(dv, h, false)));
    vrel2_.push_back(register_module("rel2_" + name, make_linear(h, h, false)));
  }
}

GnnOutput RgcnSampledImpl::forward(const GraphModelInputs& in, const SampledBlock& b) {
  check_block(in, b);
  const auto drop = [&](const torch::Tensor& x) { return apply_dropout(*this, x, opt_.dropout); };
  const SampledLayer &l1 = b.layers[0], &l2 = b.layers[1];
  const int64_t t1 = b.nodes[1].size(0), t2 = b.nodes[2].size(0);
  // W_r is linear (no bias): transform the distinct head rows first when there are fewer of them than targets.
  const auto term = [&](torch::nn::Linear& w, const SampledRelation& s, const torch::Tensor& y, int64_t targets) {
    return y.size(0) < targets ? sampled_mean(s, w(y)) : w(sampled_mean(s, y));
  };
  const torch::Tensor x0 = in.video.index_select(0, b.nodes[0]);
  // Layer 1 (Eq. 8) for nodes[1]: the mean of each relation's sampled neighbours, W_r, plus the self-connection.
  torch::Tensor z1 = self1_(x0.slice(0, 0, t1));
  for (size_t i = 0; i < in.attributes.size(); ++i) z1 = z1 + term(rel1_[i], l1.attributes[i], attribute_rows(in, i, l1.attributes[i]), t1);
  for (size_t i = 0; i < in.video_relations.size(); ++i) z1 = z1 + vrel1_[i](sampled_mean(l1.video_relations[i], x0));
  const torch::Tensor h1 = drop(torch::relu(z1));
  // Layer 2 for the targets: attribute heads have no in-edges, so their layer-1 output is their self-transform.
  torch::Tensor z2 = self2_(h1.slice(0, 0, t2));
  for (size_t i = 0; i < in.attributes.size(); ++i) {
    const torch::Tensor head_h1 = drop(torch::relu(head1_[i](attribute_rows(in, i, l2.attributes[i]))));
    z2 = z2 + rel2_[i](sampled_mean(l2.attributes[i], head_h1));
  }
  for (size_t i = 0; i < in.video_relations.size(); ++i) z2 = z2 + vrel2_[i](sampled_mean(l2.video_relations[i], h1));
  // Eq. 9: ŷ = 9·sigmoid(W1 f + b1)
  return {9.0 * torch::sigmoid(predictor_(z2)).squeeze(1), z2};
}

}  // namespace spir
