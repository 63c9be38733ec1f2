// The sampled GNN baselines of paper 5.1 (GCN, HAN, HetSANN, RGCN over sampled neighbourhoods) and their
// mini-batch trainer: the sampler keeps to true edges and the fan-out, the sampled RGCN is the exact RGCN when
// nothing is cut off, attention weights normalise, every model trains end to end, and resume is exact.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "data/annotate.h"
#include "data/dataset.h"
#include "data/ingest.h"
#include "data/synth.h"
#include "eval/predictions.h"
#include "features/node_features.h"
#include "graph/edges.h"
#include "models/han.h"
#include "models/sampled_gnn.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/sampled_trainer.h"

using namespace spir;

namespace {

// A tiny synthetic dataset with hash text features, made once for the whole file.
const std::string& tiny_dataset() {
  static const spir::testing::ScratchDir scratch("gnn_baselines");
  static const std::string ds = spir::testing::make_tiny_dataset(scratch, 3);
  return ds;
}

struct Loaded {
  Dataset d;
  PropagationGraph g;
  GraphModelInputs in;
};
const Loaded& loaded() {
  static const Loaded l = [] {
    Loaded x{load_dataset(tiny_dataset()), {}, {}};
    x.g = build_graph(x.d.set, x.d.samples, {});
    x.in = make_graph_model_inputs(x.g, load_features(tiny_dataset(), x.g), Ablation{});
    return x;
  }();
  return l;
}

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// Every other video node: a batch that is not a prefix of the node order.
std::vector<int64_t> some_targets(const PropagationGraph& g) {
  std::vector<int64_t> t;
  for (int64_t v = 0; v < g.videos; v += 2) t.push_back(v);
  return t;
}

}  // namespace

// Each layer's sampled edges are true edges of their relation (attribute rows are the true head's feature row),
// a target gets min(fan-out, true in-degree) of them, without repeats, and a layer's targets prefix its sources.
TEST(SampledBlock, OnlyTrueEdgesAtMostFanout) {
  const Loaded& l = loaded();
  const int fanout = 3;
  Rng rng(11);
  BlockOptions bo;
  bo.fanout = fanout;
  bo.input_attributes = true;
  const SampledBlock b = sample_block(l.g, l.in, some_targets(l.g), bo, rng);
  ASSERT_EQ(b.nodes.size(), 3u);
  int64_t checked = 0;
  for (size_t li = 0; li < 2; ++li) {
    const std::vector<int64_t> src = to_vector(b.nodes[li]), dst = to_vector(b.nodes[li + 1]);
    ASSERT_LE(dst.size(), src.size());
    for (size_t k = 0; k < dst.size(); ++k) ASSERT_EQ(src[k], dst[k]);
    const SampledLayer& layer = b.layers[li];
    auto check = [&](const SampledRelation& s, auto&& true_head_row, const std::vector<int64_t>& heads_src) {
      const EdgeList all = materialise_edges(l.g, s.relation);
      std::set<std::pair<int64_t, int64_t>> edges;
      std::map<int64_t, int64_t> degree;
      for (int64_t e = 0; e < all.size(); ++e) edges.insert({true_head_row(all.head[static_cast<size_t>(e)]), all.tail[static_cast<size_t>(e)]}), ++degree[all.tail[static_cast<size_t>(e)]];
      const std::vector<int64_t> head = to_vector(s.head), rowptr = to_vector(s.rowptr);
      ASSERT_EQ(rowptr.size(), dst.size() + 1);
      for (size_t t = 0; t < dst.size(); ++t) {
        std::set<int64_t> seen;
        for (int64_t e = rowptr[t]; e < rowptr[t + 1]; ++e) {
          const int64_t h = heads_src[static_cast<size_t>(head[static_cast<size_t>(e)])];
          EXPECT_TRUE(edges.count({h, dst[t]})) << relation_info(s.relation).name << " " << h << "->" << dst[t];
          if (relation_info(s.relation).kind != RelationKind::kOneToOne || s.rows.defined()) seen.insert(head[static_cast<size_t>(e)]);
          ++checked;
        }
        EXPECT_EQ(rowptr[t + 1] - rowptr[t], std::min<int64_t>(fanout, degree[dst[t]])) << relation_info(s.relation).name;
        if (relation_info(s.relation).kind == RelationKind::kGroupOrdered || relation_info(s.relation).kind == RelationKind::kManyToOne) {
          EXPECT_EQ(static_cast<int64_t>(seen.size()), rowptr[t + 1] - rowptr[t]) << "repeated neighbour";
        }
      }
    };
    for (size_t i = 0; i < layer.attributes.size(); ++i) {
      const RelationInput& a = l.in.attributes[i];
      const bool mapped = relation_info(a.relation).kind == RelationKind::kOneToOne && a.index.defined();
      const std::vector<int64_t> index = mapped ? to_vector(a.index) : std::vector<int64_t>();
      check(layer.attributes[i], [&](int64_t h) { return mapped ? index[static_cast<size_t>(h)] : h; }, to_vector(layer.attributes[i].rows));
    }
    for (const SampledRelation& s : layer.video_relations) check(s, [](int64_t h) { return h; }, src);
  }
  EXPECT_EQ(b.input.attributes.size(), l.in.attributes.size());
  EXPECT_EQ(b.input.attributes[0].rowptr.size(0), b.nodes[0].size(0) + 1);
  EXPECT_GT(checked, 1000);
}

// gather_sum matches index_select + index_add in value and in its gradients for x and for the edge weights.
TEST(SampledBlock, GatherSumMatchesIndexAdd) {
  torch::manual_seed(2);
  const torch::Tensor x = torch::randn({7, 5}, torch::kFloat64).requires_grad_();
  const torch::Tensor w = torch::rand({9}, torch::kFloat64).requires_grad_();
  const torch::Tensor head = torch::tensor({0, 3, 3, 6, 1, 2, 2, 5, 0}, torch::kInt64);
  const torch::Tensor rowptr = torch::tensor({0, 2, 2, 6, 9}, torch::kInt64);  // target 1 has no edges
  const torch::Tensor tail = torch::tensor({0, 0, 2, 2, 2, 2, 3, 3, 3}, torch::kInt64);
  const torch::Tensor g = torch::randn({4, 5}, torch::kFloat64);
  const torch::Tensor a = gather_sum(x, w, head, rowptr);
  const auto ga = torch::autograd::grad({(a * g).sum()}, {x, w});
  const torch::Tensor b = torch::zeros({4, 5}, torch::kFloat64).index_add(0, tail, x.index_select(0, head) * w.unsqueeze(1));
  const auto gb = torch::autograd::grad({(b * g).sum()}, {x, w});
  EXPECT_TRUE(torch::allclose(a, b));
  EXPECT_TRUE(torch::allclose(ga[0], gb[0]));
  EXPECT_TRUE(torch::allclose(ga[1], gb[1]));
  EXPECT_EQ(a[1].abs().sum().item<double>(), 0.0);
}

// The full-graph RGCN of Eq. 8–9 with exact neighbour means (graph/aggregate.h: prefix means over the implicit
// groups, per-video means over attribute heads), written with the named parameters of a model.
static GnnOutput exact_rgcn(SampledGnn& model, const GraphModelInputs& in) {
  auto p = model.named_parameters();
  auto lin = [&](const std::string& name, const torch::Tensor& x) {
    torch::Tensor y = x.matmul(p[name + ".weight"].t());
    return p.contains(name + ".bias") ? y + p[name + ".bias"] : y;
  };
  torch::Tensor z1 = lin("self1", in.video);
  for (const RelationInput& a : in.attributes) z1 = z1 + lin(std::string("rel1_") + relation_info(a.relation).name, in.attribute_mean(a, a.rows));
  for (Relation r : in.video_relations) z1 = z1 + lin(std::string("rel1_") + relation_info(r).name, group_prefix_mean(in.graph.group(r), in.video));
  const torch::Tensor h1 = torch::relu(z1);
  torch::Tensor z2 = lin("self2", h1);
  for (const RelationInput& a : in.attributes) {
    const std::string name = relation_info(a.relation).name;
    z2 = z2 + lin("rel2_" + name, in.attribute_mean(a, torch::relu(lin("head1_" + name, a.rows))));
  }
  for (Relation r : in.video_relations) z2 = z2 + lin(std::string("rel2_") + relation_info(r).name, group_prefix_mean(in.graph.group(r), h1));
  return {9.0 * torch::sigmoid(lin("predictor", z2)).squeeze(1), z2};
}

// With a fan-out at least the largest in-degree nothing is cut off, so rgcn-sampled computes exactly the
// full-graph RGCN (Eq. 8–9, exact per-relation means) with the same weights: same level and embedding f' for every
// target; and a fan-out of 1 does cut (the check is not vacuous).
TEST(RgcnSampled, EqualsFullGraphRgcnWhenFanoutCoversEveryNeighbour) {
  const Loaded& l = loaded();
  int64_t max_degree = 0;
  for (int64_t c : {l.g.same_author.edges(), l.g.same_topic.edges(), l.g.history.edges(), l.g.comment_nodes()}) max_degree = std::max(max_degree, c);
  torch::manual_seed(1);
  const auto sampled = make_sampled_gnn("rgcn-sampled", l.in, SampledGnnOptions{8, 0.0});
  sampled->eval();
  torch::NoGradGuard no_grad;
  const GnnOutput want = exact_rgcn(*sampled, l.in);
  BlockOptions bo;
  bo.fanout = static_cast<int>(max_degree + 1);
  Rng rng(5);
  const std::vector<int64_t> targets = some_targets(l.g);
  const SampledBlock b = sample_block(l.g, l.in, targets, bo, rng);
  const GnnOutput got = sampled->forward(l.in, b);
  const torch::Tensor idx = torch::tensor(targets, torch::kInt64);
  EXPECT_TRUE(torch::allclose(got.level, want.level.index_select(0, idx), 1e-4, 1e-5))
      << (got.level - want.level.index_select(0, idx)).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(got.embedding, want.embedding.index_select(0, idx), 1e-4, 1e-4))
      << (got.embedding - want.embedding.index_select(0, idx)).abs().max().item<float>();
  bo.fanout = 1;
  const GnnOutput cut = sampled->forward(l.in, sample_block(l.g, l.in, targets, bo, rng));
  EXPECT_FALSE(torch::allclose(cut.level, want.level.index_select(0, idx), 1e-4, 1e-5));
}

// HAN's node-level attention weights (self-loop + sampled meta-path neighbours) sum to 1 for every target and
// meta-path, its semantic weights sum to 1 over the 3 meta-paths, and both stay so under an ablation without
// video→video edges (one meta-path of self-loops, α = β = 1).
TEST(Han, AttentionWeightsNormalise) {
  const Loaded& l = loaded();
  for (const std::string ablation : {"", "VV"}) {
    const GraphModelInputs in = ablation.empty() ? l.in : make_graph_model_inputs(l.g, load_features(tiny_dataset(), l.g), Ablation::parse(ablation));
    torch::manual_seed(4);
    HanImpl han(in, SampledGnnOptions{8, 0.0});
    han.eval();
    BlockOptions bo;
    bo.fanout = 5;
    bo.input_attributes = true;
    Rng rng(9);
    const SampledBlock b = sample_block(l.g, in, some_targets(l.g), bo, rng);
    const GnnOutput out = han.forward(in, b);
    EXPECT_EQ(out.level.size(0), b.targets());
    const HanAttention& a = han.last_attention();
    ASSERT_EQ(a.self_weight.size(), ablation.empty() ? 3u : 1u);
    int64_t edges = 0;
    for (size_t p = 0; p < a.self_weight.size(); ++p) {
      const torch::Tensor sum = a.self_weight[p].index_add(0, a.edge_tail[p], a.edge_weight[p]);
      EXPECT_TRUE(torch::allclose(sum, torch::ones_like(sum), 1e-5, 1e-5)) << p;
      EXPECT_TRUE((a.edge_weight[p] >= 0).all().item<bool>());
      edges += a.edge_weight[p].size(0);
    }
    EXPECT_NEAR(a.semantic.sum().item<double>(), 1.0, 1e-6);
    EXPECT_EQ(a.semantic.size(0), static_cast<int64_t>(a.self_weight.size()));
    if (ablation.empty()) EXPECT_GT(edges, 0);
    else EXPECT_EQ(edges, 0);
  }
}

namespace {

// Trains a sampled model on the tiny dataset with small, fast settings.
SampledTrainOptions small_options(const std::string& model) {
  SampledTrainOptions o;
  o.model = model;
  o.gnn = {16, 0.1};
  o.epochs = 10;
  o.patience = 100;
  o.lr = 3e-3;
  o.fanout = 8;
  o.batch_size = 128;
  return o;
}

// Validation MAE of the best constant-free baseline: every val sample predicted as the train mean level.
double constant_val_mae(const Dataset& d) {
  double sum = 0, n = 0;
  for (const Sample& s : d.samples)
    if (s.level >= 0 && s.split == Split::kTrain) sum += s.level, ++n;
  const double mean = sum / n;
  double mae = 0, m = 0;
  for (const Sample& s : d.samples)
    if (s.level >= 0 && s.split == Split::kVal) mae += std::abs(s.level - mean), ++m;
  return mae / m;
}

void expect_trains_end_to_end(const std::string& model) {
  const SampledTrainOptions o = small_options(model);
  const SampledTrainResult r = train_sampled_model(tiny_dataset(), o);
  const Dataset& d = loaded().d;
  int64_t labelled = 0;
  for (const Sample& s : d.samples) labelled += s.level >= 0;
  const std::vector<Prediction> p = load_predictions(r.dir + "/predictions.csv");
  EXPECT_EQ(static_cast<int64_t>(p.size()), labelled);
  for (const Prediction& x : p) {
    EXPECT_GE(x.value, 0.0);
    EXPECT_LE(x.value, 9.0);
  }
  EXPECT_TRUE(std::isfinite(r.best_val_mae));
  const double constant = constant_val_mae(d);
  EXPECT_LT(r.best_val_mae, constant - 0.25) << model << " vs constant " << constant;
  EXPECT_GT(r.trainable_parameters, 0);
  EXPECT_EQ(r.frozen_parameters, 0);
  const nlohmann::json info = load_model_info(r.dir);
  EXPECT_EQ(info["trainable_parameters"].get<int64_t>(), r.trainable_parameters);
  EXPECT_EQ(info["fanout"].get<int>(), o.fanout);
  std::printf("%s: best val MAE %.4f (constant %.4f), %.2f s per epoch\n", model.c_str(), r.best_val_mae, constant, r.seconds_per_epoch);
}

}  // namespace

// GCN trains and evaluates end to end: predictions for every labelled sample, in [0, 9], a val MAE at least 0.25
// below the constant (train-mean) predictor's, parameter counts in model.json.
TEST(SampledTrainer, GcnTrainsEndToEnd) { expect_trains_end_to_end("gcn"); }

// The same for HAN.
TEST(SampledTrainer, HanTrainsEndToEnd) { expect_trains_end_to_end("han"); }

// The same for HetSANN.
TEST(SampledTrainer, HetsannTrainsEndToEnd) { expect_trains_end_to_end("hetsann"); }

// The same for RGCN over sampled neighbourhoods.
TEST(SampledTrainer, RgcnSampledTrainsEndToEnd) { expect_trains_end_to_end("rgcn-sampled"); }

// A run stopped after 2 epochs and resumed ends with exactly the parameters of an uninterrupted 4-epoch run (dropout
// on, so the torch RNG state matters; batch order and neighbourhoods come from per-epoch sampler streams).
TEST(SampledTrainer, ResumeAfterKillEqualsUninterrupted) {
  SampledTrainOptions o = small_options("gcn");
  o.epochs = 4;
  o.gnn.dropout = 0.3;
  o.ablation = "CV";  // its own folder (gcn-CV)
  const std::string dir = model_dir(tiny_dataset(), sampled_run_name(o));
  const GraphModelInputs in = make_graph_model_inputs(loaded().g, load_features(tiny_dataset(), loaded().g), Ablation::parse(o.ablation));
  auto params_of = [&](const std::string& file) {
    const auto model = make_sampled_gnn(o.model, in, o.gnn);
    load_parameters(file, *model);
    return model->parameters();
  };
  train_sampled_model(tiny_dataset(), o);
  const auto straight = params_of(dir + "/checkpoint.pt");
  std::filesystem::remove_all(dir);
  o.stop_after = 2;
  EXPECT_EQ(train_sampled_model(tiny_dataset(), o).epochs_run, 2);
  EXPECT_FALSE(std::filesystem::exists(dir + "/predictions.csv"));
  o.stop_after = 0;
  o.resume = true;
  train_sampled_model(tiny_dataset(), o);
  const auto resumed = params_of(dir + "/checkpoint.pt");
  ASSERT_EQ(straight.size(), resumed.size());
  ASSERT_FALSE(straight.empty());
  for (size_t i = 0; i < straight.size(); ++i) EXPECT_TRUE(torch::equal(straight[i], resumed[i])) << i;
}
