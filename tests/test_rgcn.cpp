// RGCN (Eq. 8–9) and its trainer: the model equals a reference over materialised edge lists (values and gradients),
// ablations drop their relations, resume after a kill is exact, and the fused relu + dropout behaves as defined.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "data/annotate.h"
#include "data/dataset.h"
#include "data/ingest.h"
#include "data/synth.h"
#include "eval/predictions.h"
#include "features/node_features.h"
#include "graph/aggregate.h"
#include "graph/edges.h"
#include "models/gather_sum.h"
#include "models/persistence.h"
#include "models/relu_dropout.h"
#include "models/rgcn.h"
#include "test_util.h"
#include "train/graph_trainer.h"
#include "train/targets.h"

using namespace spir;

namespace {

// A tiny synthetic dataset with hash text features, made once for the whole file.
const std::string& tiny_dataset() {
  static const spir::testing::ScratchDir scratch("rgcn");
  static const std::string ds = spir::testing::make_tiny_dataset(scratch, 3);
  return ds;
}

// Eq. 8–9 written out over explicit edge lists and per-node feature matrices (each head type's rows expanded to one
// row per head node), with the model's weights:
// h1 = relu(W0 x_v + Σ_r W_r mean_{N_r} x), heads' h1 = relu(W_self x), f = W0' h1 + Σ_r W_r' mean_{N_r} h1.
torch::Tensor reference_forward(Rgcn& model, const PropagationGraph& g, const GraphModelInputs& in) {
  auto p = model->named_parameters();
  auto lin = [&](const std::string& name, const torch::Tensor& x) {
    torch::Tensor y = x.matmul(p[name + ".weight"].t());
    return p.contains(name + ".bias") ? y + p[name + ".bias"] : y;
  };
  const torch::Tensor xv = in.video;
  auto head_matrix = [&](Relation r) {
    for (const RelationInput& a : in.attributes)
      if (a.relation == r)
        return relation_info(r).kind == RelationKind::kOneToOne && a.index.defined() ? a.rows.index_select(0, a.index) : a.rows;
    return xv;
  };
  torch::Tensor z1 = lin("self1", xv);
  std::vector<std::pair<Relation, torch::Tensor>> head_h1;
  for (int i = 0; i < kNumRelations; ++i) {
    const Relation r = relation_at(i);
    const RelationInfo& info = relation_info(r);
    const std::string name = info.name;
    const torch::Tensor e = edge_index_tensor(g, r);
    const torch::Tensor xh = head_matrix(r);
    z1 = z1 + lin("rel1_" + name, mean_over_edges(e, xh, g.videos));
    if (info.head != NodeType::kVideo) head_h1.push_back({r, torch::relu(lin("head1_" + name, xh))});
  }
  const torch::Tensor h1 = torch::relu(z1);
  torch::Tensor z2 = lin("self2", h1);
  for (int i = 0; i < kNumRelations; ++i) {
    const Relation r = relation_at(i);
    const RelationInfo& info = relation_info(r);
    torch::Tensor hh = h1;
    for (auto& [rr, t] : head_h1)
      if (rr == r) hh = t;
    z2 = z2 + lin(std::string("rel2_") + info.name, mean_over_edges(edge_index_tensor(g, r), hh, g.videos));
  }
  return 9.0 * torch::sigmoid(lin("predictor", z2)).squeeze(1);
}

}  // namespace

// The implicit, deduplicated, aggregate-then-transform model equals Eq. 8–9 over materialised edges: same outputs
// and same gradients for every parameter.
TEST(Rgcn, EqualsReferenceOverMaterialisedEdges) {
  const Dataset d = load_dataset(tiny_dataset());
  const PropagationGraph g = build_graph(d.set, d.samples, {});
  const NodeFeatures f = load_features(tiny_dataset(), g);
  const GraphModelInputs in = make_graph_model_inputs(g, f, Ablation{});
  torch::manual_seed(1);
  Rgcn model(in, RgcnOptions{8, 0.0});
  model->eval();
  const torch::Tensor w = torch::rand({g.videos});
  const torch::Tensor a = model->forward(in).level;
  (a * w).sum().backward();
  std::map<std::string, torch::Tensor> grads;
  for (auto& kv : model->named_parameters()) grads[kv.key()] = kv.value().grad().clone(), kv.value().mutable_grad().zero_();
  const torch::Tensor b = reference_forward(model, g, in);
  EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-5)) << (a - b).abs().max().item<float>();
  (b * w).sum().backward();
  for (auto& kv : model->named_parameters())
    EXPECT_TRUE(torch::allclose(grads[kv.key()], kv.value().grad(), 1e-3, 1e-4))
        << kv.key() << " " << (grads[kv.key()] - kv.value().grad()).abs().max().item<float>();
}

// Ablations remove exactly their relations (Table VI).
TEST(Rgcn, AblationsDropTheirRelations) {
  EXPECT_TRUE(Ablation::parse("VV").drops(Relation::kHasSameTopicAs));
  EXPECT_FALSE(Ablation::parse("VV").drops(Relation::kIsCommentOf));
  EXPECT_TRUE(Ablation::parse("IV").drops(Relation::kIsFansOf));
  EXPECT_TRUE(Ablation::parse("IV").drops(Relation::kIsCurrentTimeOf));
  EXPECT_FALSE(Ablation::parse("IV").drops(Relation::kIsPostTimeOf));
  EXPECT_TRUE(Ablation::parse("CV").drops(Relation::kIsCommentOf));
  EXPECT_THROW(Ablation::parse("XY"), Error);
}

// A run killed after 3 epochs and resumed ends with exactly the parameters of an uninterrupted 6-epoch run.
TEST(Rgcn, ResumeAfterKillEqualsUninterrupted) {
  GraphTrainOptions opt;
  opt.rgcn = {16, 0.2};  // dropout on: the RNG state must be restored too
  opt.epochs = 6;
  opt.patience = 100;
  opt.ablation = "CV";  // its own folder (rgcn-CV), apart from the other tests' runs
  const std::string dir = model_dir(tiny_dataset(), graph_run_name(opt));
  const Dataset d = load_dataset(tiny_dataset());
  const PropagationGraph g = build_graph(d.set, d.samples, {});
  const GraphModelInputs in = make_graph_model_inputs(g, load_features(tiny_dataset(), g), Ablation::parse(opt.ablation));
  auto params_of = [&](const std::string& file) {  // the parameters stored in a checkpoint
    Rgcn model(in, opt.rgcn);
    torch::serialize::InputArchive archive;
    archive.load_from(file);
    model->load(archive);
    return model->parameters();
  };
  train_graph_model(tiny_dataset(), opt);
  const auto straight = params_of(dir + "/checkpoint.pt");
  std::filesystem::remove_all(dir);
  opt.stop_after = 3;
  const GraphTrainResult first = train_graph_model(tiny_dataset(), opt);
  EXPECT_EQ(first.epochs_run, 3);
  opt.stop_after = 0;
  opt.resume = true;
  train_graph_model(tiny_dataset(), opt);
  const auto resumed = params_of(dir + "/checkpoint.pt");
  ASSERT_EQ(straight.size(), resumed.size());
  ASSERT_FALSE(straight.empty());
  for (size_t i = 0; i < straight.size(); ++i) EXPECT_TRUE(torch::equal(straight[i], resumed[i])) << i;
}

// warmup_lr rises linearly, lr·(k+1)/warmup, over the first `warmup` epochs and is lr after; default_graph_lr is
// 3e-3 up to d_g 64 and 3e-3·(64/d_g)² above (hand values).
TEST(GraphTrainer, WarmupAndDefaultLearningRate) {
  EXPECT_DOUBLE_EQ(warmup_lr(1e-3, 0, 0), 1e-3);
  EXPECT_DOUBLE_EQ(warmup_lr(1e-3, 4, 0), 0.25e-3);
  EXPECT_DOUBLE_EQ(warmup_lr(1e-3, 4, 2), 0.75e-3);
  EXPECT_DOUBLE_EQ(warmup_lr(1e-3, 4, 3), 1e-3);
  EXPECT_DOUBLE_EQ(warmup_lr(1e-3, 4, 50), 1e-3);
  EXPECT_DOUBLE_EQ(default_graph_lr(16), 3e-3);
  EXPECT_DOUBLE_EQ(default_graph_lr(64), 3e-3);
  EXPECT_DOUBLE_EQ(default_graph_lr(128), 3e-3 / 4);
  EXPECT_DOUBLE_EQ(default_graph_lr(1024), 3e-3 / 256);
}

// At the paper's width (d_g 1024) the default learning rate trains without a warm-up: after 12 full-batch epochs on
// synth tiny the best validation MAE is below the constant (train-mean) predictor's. With Adam's lr 1e-3 and no warm-up,
// the first step saturates the sigmoid of Eq. 9 and the validation MAE stays above the constant predictor's.
TEST(GraphTrainer, DefaultLearningRateTrainsAtPaperWidth) {
  const std::string ds = tiny_dataset();
  const Dataset d = load_dataset(ds);
  double sum = 0, n = 0, val_abs = 0, val_n = 0;
  for (const Sample& s : d.samples)
    if (s.level >= 0 && s.split == Split::kTrain) sum += s.level, ++n;
  for (const Sample& s : d.samples)
    if (s.level >= 0 && s.split == Split::kVal) val_abs += std::abs(s.level - sum / n), ++val_n;
  const double constant_val_mae = val_abs / val_n;
  GraphTrainOptions opt;
  opt.rgcn = {1024, 0.2};
  opt.epochs = 12;
  opt.patience = 100;
  opt.warmup = 0;
  opt.name = "rgcn-width-default";
  const GraphTrainResult tuned = train_graph_model(ds, opt);
  opt.lr = 1e-3;
  opt.epochs = 4;
  opt.name = "rgcn-width-lr1e-3";
  const GraphTrainResult saturated = train_graph_model(ds, opt);
  std::printf("d_g 1024 on tiny: best val MAE %.4f (default lr, 12 epochs), %.4f (lr 1e-3, no warm-up, 4 epochs); constant %.4f\n",
              tuned.best_val_mae, saturated.best_val_mae, constant_val_mae);
  EXPECT_LT(tuned.best_val_mae, constant_val_mae);
  EXPECT_GT(saturated.best_val_mae, constant_val_mae);
}

// A run name is one folder component; the default names the model and its ablation.
TEST(GraphTrainer, RunFolderNames) {
  EXPECT_EQ(run_folder_name("rgcn", "", ""), "rgcn");
  EXPECT_EQ(run_folder_name("rgcn", "VV", ""), "rgcn-VV");
  EXPECT_EQ(run_folder_name("gcn", "V,CV", ""), "gcn-V-CV");
  EXPECT_EQ(run_folder_name("rgcn", "VV", "rgcn-d64"), "rgcn-d64");
  EXPECT_THROW(run_folder_name("rgcn", "", "../x"), Error);
  EXPECT_THROW(run_folder_name("rgcn", "", ".."), Error);
  EXPECT_THROW(run_folder_name("rgcn", "", "a b"), Error);
}

namespace {

// MAE and MSE (Eq. 16-17) of predictions on the test split's labelled samples.
std::pair<double, double> test_mae_mse(const Dataset& d, const std::vector<Prediction>& preds) {
  double ae = 0, se = 0, n = 0;
  for (const Prediction& p : preds) {
    const Sample& s = d.samples.at(static_cast<size_t>(p.sample_id));
    if (s.level < 0 || s.split != Split::kTest) continue;
    const double e = p.value - s.level;
    ae += std::abs(e), se += e * e, ++n;
  }
  return {ae / n, se / n};
}

}  // namespace

// Training quality on synth tiny (seed 3, hash text features, fixed training seed): the trained RGCN's test MAE is at
// least 0.5 below the constant (train-mean) predictor's, and its test MSE at least 0.15 below the persistence
// baseline's. (On MAE persistence is as strong as GBDT at this size: it is exact on every video whose level no
// longer changes, see the closing notes of the stage-1 issue; MSE is where the learned models are clearly better.)
TEST(Rgcn, TrainingBeatsConstantAndPersistenceOnTiny) {
  const std::string ds = tiny_dataset();
  const Dataset d = load_dataset(ds);
  train_persistence(ds);
  const auto [pers_mae, pers_mse] = test_mae_mse(d, load_predictions(model_dir(ds, "persistence") + "/predictions.csv"));
  GraphTrainOptions opt;
  opt.rgcn = {32, 0.2};
  opt.epochs = 150;
  opt.patience = 40;
  opt.lr = 3e-3;
  const GraphTrainResult r = train_graph_model(ds, opt);
  const auto [mae, mse] = test_mae_mse(d, load_predictions(r.dir + "/predictions.csv"));
  double sum = 0, n = 0;
  for (const Sample& s : d.samples)
    if (s.level >= 0 && s.split == Split::kTrain) sum += s.level, ++n;
  std::vector<Prediction> constant;
  for (const Sample& s : d.samples)
    if (s.level >= 0) constant.push_back({s.id, sum / n});
  const auto [const_mae, const_mse] = test_mae_mse(d, constant);
  std::printf("tiny test split: rgcn MAE %.4f MSE %.4f; persistence MAE %.4f MSE %.4f; constant MAE %.4f MSE %.4f\n", mae,
              mse, pers_mae, pers_mse, const_mae, const_mse);
  EXPECT_LT(mae, const_mae - 0.5);
  EXPECT_LT(mse, pers_mse - 0.15);
}

// relu_dropout keeps each positive entry with probability 1 − p, scaled by 1/(1 − p), zeroes the rest and every
// non-positive entry; the same seed gives the same mask with 1 or 2 threads; the gradient flows exactly where the
// output is non-zero, scaled by 1/(1 − p).
TEST(ReluDropout, KeepsOneMinusPScaledAndIsReproducible) {
  const double p = 0.2;
  torch::manual_seed(1);
  const torch::Tensor z = torch::randn({1000, 1000});
  const int threads = torch::get_num_threads();
  torch::manual_seed(5);
  torch::set_num_threads(1);
  const torch::Tensor a = relu_dropout(z, p);
  torch::manual_seed(5);
  torch::set_num_threads(2);
  const torch::Tensor b = relu_dropout(z, p);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(a, b));
  const torch::Tensor pos = z.gt(0), kept = a.ne(0);
  EXPECT_EQ(kept.logical_and(pos.logical_not()).sum().item<int64_t>(), 0);
  const double keep = kept.sum().item<double>() / pos.sum().item<double>();
  EXPECT_NEAR(keep, 1 - p, 0.003);  // about 500,000 positive entries: 4.5 standard deviations
  EXPECT_TRUE(torch::allclose(a.index({kept}), z.index({kept}) / (1 - p)));
  // Row and column halves keep the same share (no block of the mask is degenerate).
  EXPECT_NEAR(kept.slice(0, 0, 500).sum().item<double>() / pos.slice(0, 0, 500).sum().item<double>(), 1 - p, 0.005);
  EXPECT_NEAR(kept.slice(1, 500).sum().item<double>() / pos.slice(1, 500).sum().item<double>(), 1 - p, 0.005);
  torch::manual_seed(6);
  EXPECT_FALSE(torch::equal(relu_dropout(z, p), a));
  // Gradient
  const torch::Tensor zl = z.clone().requires_grad_(true);
  torch::manual_seed(5);
  const torch::Tensor c = relu_dropout(zl, p);
  EXPECT_TRUE(torch::equal(c, a));
  const torch::Tensor g = torch::randn_like(c);
  c.backward(g);
  EXPECT_TRUE(torch::allclose(zl.grad(), g * kept.to(torch::kFloat32) / (1 - p)));
  // p = 0 is plain relu.
  EXPECT_TRUE(torch::equal(relu_dropout(z, 0.0), torch::relu(z)));
}

// gather_sum equals the sum of index_select calls (one table read in order), in values and in every table's
// gradient, with repeated indices; a bad index is an error.
TEST(GatherSum, EqualsSumOfIndexSelects) {
  torch::manual_seed(3);
  const int64_t rows = 37, d = 5;
  const torch::Tensor a0 = torch::randn({rows, d}), b0 = torch::randn({4, d}), c0 = torch::randn({50, d});
  const torch::Tensor ib = torch::randint(4, {rows}, torch::kInt64), ic = torch::randint(50, {rows}, torch::kInt64);
  const torch::Tensor w = torch::randn({rows, d});
  auto leaf = [](const torch::Tensor& x) { return x.clone().requires_grad_(true); };
  torch::Tensor a1 = leaf(a0), b1 = leaf(b0), c1 = leaf(c0), a2 = leaf(a0), b2 = leaf(b0), c2 = leaf(c0);
  const torch::Tensor ours = gather_sum({a1, b1, c1}, {torch::Tensor(), ib, ic}, rows);
  const torch::Tensor ref = a2 + b2.index_select(0, ib) + c2.index_select(0, ic);
  EXPECT_TRUE(torch::allclose(ours, ref, 1e-6, 1e-6));
  (ours * w).sum().backward();
  (ref * w).sum().backward();
  EXPECT_TRUE(torch::allclose(a1.grad(), a2.grad(), 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(b1.grad(), b2.grad(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(c1.grad(), c2.grad(), 1e-6, 1e-6));
  EXPECT_THROW(gather_sum({b0}, {torch::full({rows}, 4, torch::kInt64)}, rows), Error);
  EXPECT_THROW(gather_sum({b0}, {torch::Tensor()}, rows), Error);
}
