// RGCN options for the paper's scale: basis decomposition equals Eq. 8–9 over materialised edges with every W_r
// formed explicitly from the bases; outputs at chosen targets equal the full-graph outputs at those rows; chunked,
// checkpointed layer 2 equals the unchunked one (values and gradients); the shared train + eval pass equals two passes.
#include <gtest/gtest.h>

#include <map>

#include "data/annotate.h"
#include "data/dataset.h"
#include "data/ingest.h"
#include "data/synth.h"
#include "features/node_features.h"
#include "graph/aggregate.h"
#include "graph/edges.h"
#include "models/rgcn.h"
#include "test_util.h"

using namespace spir;

namespace {

struct TinyGraph {
  PropagationGraph g;
  GraphModelInputs in;
};

// A tiny synthetic dataset with hash text features, its graph and model inputs, made once for the whole file.
const TinyGraph& tiny() {
  static const spir::testing::ScratchDir scratch("rgcn_basis");
  static const TinyGraph t = [] {
    const std::string ds = spir::testing::make_tiny_dataset(scratch, 5);
    const Dataset d = load_dataset(ds);
    TinyGraph r;
    r.g = build_graph(d.set, d.samples, {});
    r.in = make_graph_model_inputs(r.g, load_features(ds, r.g), Ablation{});
    return r;
  }();
  return t;
}

// Eq. 8–9 over explicit edge lists (dropout off), with W_r read from the parameters by name: a full "rel<l>_<name>"
// weight, or Σ_b coef<l>_<name>[b] · V_b with V_b from "bases1_w<d>" (layer 1, head width d) or "bases2".
torch::Tensor reference_forward(Rgcn& model, const PropagationGraph& g, const GraphModelInputs& in) {
  auto p = model->named_parameters();
  auto w_of = [&](int layer, const std::string& name, int64_t d) {
    const std::string full = "rel" + std::to_string(layer) + "_" + name + ".weight";
    if (p.contains(full)) return p[full];
    const torch::Tensor coef = p["coef" + std::to_string(layer) + "_" + name];
    const torch::Tensor bases = layer == 1 ? p["bases1_w" + std::to_string(d)] : p["bases2"];
    torch::Tensor w = torch::zeros({bases.size(1), bases.size(2)});
    for (int64_t b = 0; b < bases.size(0); ++b) w = w + coef[b] * bases[b];
    return w;
  };
  auto lin = [&](const std::string& name, const torch::Tensor& x) { return x.matmul(p[name + ".weight"].t()) + p[name + ".bias"]; };
  auto head_matrix = [&](Relation r) {
    for (const RelationInput& a : in.attributes)
      if (a.relation == r)
        return relation_info(r).kind == RelationKind::kOneToOne && a.index.defined() ? a.rows.index_select(0, a.index) : a.rows;
    return in.video;
  };
  torch::Tensor z1 = lin("self1", in.video);
  std::map<Relation, torch::Tensor> head_h1;
  for (int i = 0; i < kNumRelations; ++i) {
    const Relation r = relation_at(i);
    const std::string name = relation_info(r).name;
    const torch::Tensor xh = head_matrix(r);
    z1 = z1 + mean_over_edges(edge_index_tensor(g, r), xh, g.videos).matmul(w_of(1, name, xh.size(1)).t());
    if (relation_info(r).head != NodeType::kVideo) head_h1[r] = torch::relu(lin("head1_" + name, xh));
  }
  const torch::Tensor h1 = torch::relu(z1);
  torch::Tensor z2 = lin("self2", h1);
  for (int i = 0; i < kNumRelations; ++i) {
    const Relation r = relation_at(i);
    const torch::Tensor hh = head_h1.count(r) ? head_h1[r] : h1;
    z2 = z2 + mean_over_edges(edge_index_tensor(g, r), hh, g.videos).matmul(w_of(2, relation_info(r).name, hh.size(1)).t());
  }
  return 9.0 * torch::sigmoid(lin("predictor", z2)).squeeze(1);
}

using Grads = std::map<std::string, torch::Tensor>;

// The gradients of Σ w·out for every parameter, zeroed afterwards.
Grads take_grads(Rgcn& model, const torch::Tensor& out, const torch::Tensor& w) {
  for (auto& kv : model->named_parameters()) kv.value().mutable_grad() = torch::Tensor();
  (out * w).sum().backward();
  Grads g;
  for (auto& kv : model->named_parameters()) g[kv.key()] = kv.value().grad().clone();
  for (auto& kv : model->named_parameters()) kv.value().mutable_grad() = torch::Tensor();
  return g;
}

void expect_same_grads(const Grads& a, const Grads& b, double rtol, double atol) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, ga] : a)
    EXPECT_TRUE(torch::allclose(ga, b.at(k), rtol, atol)) << k << " " << (ga - b.at(k)).abs().max().item<float>();
}

// Every third video node, in reverse order (targets need not be sorted).
torch::Tensor some_targets(int64_t videos) { return torch::arange(videos - 1, -1, -3, torch::kInt64); }

}  // namespace

// With B bases (fewer than the aggregated relations of layer 2 and of the video-input group of layer 1, so the
// Σ_b V_b (Σ_r a_rb m_r) path runs; and more, so each W_r is formed), outputs and gradients equal the reference with
// each W_r = Σ_b a_rb V_b formed explicitly.
TEST(RgcnBasis, EqualsReferenceWithExplicitWeights) {
  const TinyGraph& t = tiny();
  for (int64_t nb : {2, 8}) {
    torch::manual_seed(11);
    Rgcn model(t.in, RgcnOptions{8, 0.0, nb, 0});
    model->eval();
    auto p = model->named_parameters();
    EXPECT_TRUE(p.contains("bases2")) << nb;
    EXPECT_TRUE(p.contains("bases1_w" + std::to_string(t.in.video.size(1)))) << nb;  // the 3 video relations
    EXPECT_FALSE(p.contains("rel2_is_history_of.weight")) << nb;
    const torch::Tensor w = torch::rand({t.g.videos});
    const torch::Tensor a = model->forward(t.in).level;
    const Grads ga = take_grads(model, a, w);
    const torch::Tensor b = reference_forward(model, t.g, t.in);
    EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-5)) << nb << " " << (a - b).abs().max().item<float>();
    expect_same_grads(ga, take_grads(model, b, w), 1e-3, 1e-4);
    // relation_weight gives the same W_r as the reference's sum.
    const torch::Tensor coef = p["coef2_is_history_of"], bases = p["bases2"];
    EXPECT_TRUE(torch::allclose(model->relation_weight(2, Relation::kIsHistoryOf), (coef.view({-1, 1, 1}) * bases).sum(0), 1e-5, 1e-6));
  }
}

// Outputs at chosen targets (layer 2 only there) equal the full-graph outputs at those rows, with the same gradients.
TEST(RgcnBasis, TargetsEqualFullGraphRows) {
  const TinyGraph& t = tiny();
  for (int64_t nb : {0, 3}) {
    torch::manual_seed(12);
    Rgcn model(t.in, RgcnOptions{8, 0.0, nb, 0});
    model->train();  // dropout 0: training mode, deterministic
    const torch::Tensor tg = some_targets(t.g.videos);
    const torch::Tensor w = torch::rand({tg.size(0)});
    const torch::Tensor full = model->forward(t.in).level.index_select(0, tg);
    const Grads gf = take_grads(model, full, w);
    const torch::Tensor part = model->forward(t.in, tg).level;
    ASSERT_EQ(part.size(0), tg.size(0));
    EXPECT_TRUE(torch::allclose(part, full, 1e-5, 1e-6)) << (part - full).abs().max().item<float>();
    expect_same_grads(gf, take_grads(model, part, w), 1e-3, 1e-4);
  }
}

// Layer 2 in checkpointed chunks of 7 target rows gives the values, embeddings and gradients of the unchunked pass.
TEST(RgcnBasis, ChunkedCheckpointedEqualsUnchunked) {
  const TinyGraph& t = tiny();
  for (int64_t nb : {0, 2}) {
    const torch::Tensor tg = some_targets(t.g.videos);
    const torch::Tensor w = torch::rand({tg.size(0)});
    torch::manual_seed(13);
    Rgcn plain(t.in, RgcnOptions{8, 0.0, nb, 0});
    torch::manual_seed(13);
    Rgcn chunked(t.in, RgcnOptions{8, 0.0, nb, 7});
    plain->train();
    chunked->train();
    const RgcnOutput a = plain->forward(t.in, tg), b = chunked->forward(t.in, tg);
    EXPECT_TRUE(torch::allclose(a.level, b.level, 1e-5, 1e-6)) << (a.level - b.level).abs().max().item<float>();
    EXPECT_TRUE(torch::allclose(a.embedding, b.embedding, 1e-5, 1e-6));
    expect_same_grads(take_grads(plain, a.level, w), take_grads(chunked, b.level, w), 1e-3, 1e-4);
  }
}

// With dropout on, a checkpointed pass recomputes with the masks of its forward pass: one checkpointed chunk gives the
// values and gradients of the plain pass from the same random state.
TEST(RgcnBasis, CheckpointReplaysDropoutMasks) {
  const TinyGraph& t = tiny();
  const torch::Tensor tg = some_targets(t.g.videos);
  const torch::Tensor w = torch::rand({tg.size(0)});
  torch::manual_seed(14);
  Rgcn plain(t.in, RgcnOptions{8, 0.5, 0, 0});
  torch::manual_seed(14);
  Rgcn chunked(t.in, RgcnOptions{8, 0.5, 0, 1 << 20});
  plain->train();
  chunked->train();
  torch::manual_seed(99);
  const torch::Tensor a = plain->forward(t.in, tg).level;
  const Grads ga = take_grads(plain, a, w);
  torch::manual_seed(99);
  const torch::Tensor b = chunked->forward(t.in, tg).level;
  const Grads gb = take_grads(chunked, b, w);
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6)) << (a - b).abs().max().item<float>();
  expect_same_grads(ga, gb, 1e-3, 1e-4);
}

// forward_train_eval is forward() twice with the same parameters: its training output (dropout on, checkpointed
// chunks) has the values and gradients of forward() from the same random state, and its evaluation levels equal
// eval() then forward() at the evaluation targets.
TEST(RgcnBasis, TrainEvalPassEqualsSeparatePasses) {
  const TinyGraph& t = tiny();
  const torch::Tensor tg = some_targets(t.g.videos);
  const torch::Tensor ev = torch::arange(1, t.g.videos, 3, torch::kInt64);
  const torch::Tensor w = torch::rand({tg.size(0)});
  torch::manual_seed(15);
  Rgcn model(t.in, RgcnOptions{8, 0.5, 0, 5});
  model->train();
  torch::manual_seed(98);
  const torch::Tensor a = model->forward(t.in, tg).level;
  const Grads ga = take_grads(model, a, w);
  torch::manual_seed(98);
  const RgcnTrainEvalOutput both = model->forward_train_eval(t.in, tg, ev);
  EXPECT_FALSE(both.eval_level.requires_grad());
  const Grads gb = take_grads(model, both.train.level, w);
  EXPECT_TRUE(torch::allclose(a, both.train.level, 1e-5, 1e-6)) << (a - both.train.level).abs().max().item<float>();
  expect_same_grads(ga, gb, 1e-3, 1e-4);
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor e = model->forward(t.in, ev).level;
  ASSERT_EQ(both.eval_level.size(0), ev.size(0));
  EXPECT_TRUE(torch::allclose(e, both.eval_level, 1e-5, 1e-6)) << (e - both.eval_level).abs().max().item<float>();
}
