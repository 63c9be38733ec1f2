// Stage-1 RGCN epochs at a dataset's scale, with the time of each phase and the peak RSS: what `spir train` does per
// epoch (layer 2 and the loss at the train rows, backward, Adam step, validation pass at the val rows), for
//   exact:        the model of models/rgcn.h (implicit full-neighbourhood means, Eq. 8–9) as spir train runs it:
//                 the validation pass shares layer 1 with the training pass (Rgcn::forward_train_eval),
//   exact-separate: the same model with a validation pass of its own after the step (layer 1 computed twice),
//   materialised: the same equations over materialised edge lists (index_select + index_add_ per relation, every
//                 layer at every video node), the straightforward reference.
// Run each configuration in its own process (bench/stage1.sh does) so that one peak does not hide another.
//   usage: bench_rgcn DS_DIR [exact|exact-separate|materialised] [hidden] [bases] [target_chunk] [epochs]

#include <chrono>
#include <cstdio>
#include <iostream>
#include <cstdlib>
#include <map>

#include <spdlog/spdlog.h>

#include "core/process.h"
#include "data/dataset.h"
#include "features/node_features.h"
#include "graph/aggregate.h"
#include "graph/edges.h"
#include "models/rgcn.h"
#include "tensor/torch_info.h"
#include "train/graph_trainer.h"
#include "train/targets.h"

using namespace spir;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Eq. 8–9 over materialised edges with the model's parameters (full or basis weights), every layer at every video
// node, each head type expanded to one row per head node; dropout as in training.
struct Materialised {
  std::vector<torch::Tensor> edges;   // per relation, Table IV order
  std::vector<torch::Tensor> heads;   // per relation: [head nodes, d] input rows
  torch::Tensor forward(Rgcn& model, const GraphModelInputs& in, double p) {
    auto prm = model->named_parameters();
    auto w_of = [&](int layer, const std::string& name, int64_t d) {
      const std::string full = "rel" + std::to_string(layer) + "_" + name + ".weight";
      if (prm.contains(full)) return prm[full];
      const torch::Tensor bases = layer == 1 ? prm["bases1_w" + std::to_string(d)] : prm["bases2"];
      return torch::tensordot(prm["coef" + std::to_string(layer) + "_" + name], bases, {0}, {0});
    };
    auto lin = [&](const std::string& name, const torch::Tensor& x) { return torch::addmm(prm[name + ".bias"], x, prm[name + ".weight"].t()); };
    auto drop = [&](const torch::Tensor& x) { return torch::dropout(torch::relu(x), p, p > 0); };
    torch::Tensor z1 = lin("self1", in.video);
    std::vector<torch::Tensor> head_h1(kNumRelations);
    for (int i = 0; i < kNumRelations; ++i) {
      const std::string name = relation_info(relation_at(i)).name;
      const torch::Tensor& xh = heads[static_cast<size_t>(i)];
      z1 = z1 + mean_over_edges(edges[static_cast<size_t>(i)], xh, in.videos).matmul(w_of(1, name, xh.size(1)).t());
      if (relation_info(relation_at(i)).head != NodeType::kVideo) head_h1[static_cast<size_t>(i)] = drop(lin("head1_" + name, xh));
    }
    const torch::Tensor h1 = drop(z1);
    torch::Tensor z2 = lin("self2", h1);
    for (int i = 0; i < kNumRelations; ++i) {
      const torch::Tensor& hh = head_h1[static_cast<size_t>(i)].defined() ? head_h1[static_cast<size_t>(i)] : h1;
      z2 = z2 + mean_over_edges(edges[static_cast<size_t>(i)], hh, in.videos).matmul(w_of(2, relation_info(relation_at(i)).name, hh.size(1)).t());
    }
    return 9.0 * torch::sigmoid(lin("predictor", z2)).squeeze(1);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_rgcn DS_DIR [exact|exact-separate|materialised] [hidden] [bases] [target_chunk] [epochs]\n";
    return 2;
  }
  const std::string ds = argv[1], mode = argc > 2 ? argv[2] : "exact";
  RgcnOptions ro;
  ro.hidden = argc > 3 ? std::stoll(argv[3]) : 1024;
  ro.bases = argc > 4 ? std::stoll(argv[4]) : 0;
  ro.target_chunk = argc > 5 ? std::stoll(argv[5]) : 0;
  const int epochs = argc > 6 ? std::stoi(argv[6]) : 2;
  if (mode != "exact" && mode != "exact-separate" && mode != "materialised") {
    std::cerr << "mode must be exact, exact-separate or materialised\n";
    return 2;
  }
  configure_torch_threads(0);  // every core, or OMP_NUM_THREADS, as spir does
  if (std::getenv("SPIR_BENCH_DEBUG")) spdlog::set_level(spdlog::level::debug);
  std::printf("mode %s, hidden %lld, bases %lld, target_chunk %lld, %d epochs, %d threads\n", mode.c_str(),
              static_cast<long long>(ro.hidden), static_cast<long long>(ro.bases), static_cast<long long>(ro.target_chunk),
              epochs, torch::get_num_threads());
  auto t0 = std::chrono::steady_clock::now();
  const Dataset d = load_dataset(ds);
  const PropagationGraph g = build_graph(d.set, d.samples, {});
  const NodeFeatures f = load_features(ds, g);
  std::printf("load dataset + graph + features: %.2f s, RSS peak %.0f MiB\n", seconds_since(t0), peak_rss_mib());
  t0 = std::chrono::steady_clock::now();
  const GraphModelInputs in = make_graph_model_inputs(g, f, Ablation{});
  std::printf("model inputs: %.2f s, RSS peak %.0f MiB\n", seconds_since(t0), peak_rss_mib());
  const TrainTargets targets = train_targets(d, g.videos, ds);
  const std::vector<int64_t>& train_ids = targets.train_ids;
  const std::vector<int64_t>& val_ids = targets.val_ids;
  const torch::Tensor& y = targets.y;
  const torch::Tensor train_idx = torch::tensor(train_ids, torch::kInt64), val_idx = torch::tensor(val_ids, torch::kInt64);
  const torch::Tensor y_train = y.index_select(0, train_idx), y_val = y.index_select(0, val_idx);
  std::printf("%lld video nodes, %zu train, %zu val targets\n", static_cast<long long>(g.videos), train_ids.size(), val_ids.size());

  Materialised mat;
  if (mode == "materialised") {
    t0 = std::chrono::steady_clock::now();
    int64_t e = 0;
    for (int i = 0; i < kNumRelations; ++i) {
      const Relation r = relation_at(i);
      mat.edges.push_back(edge_index_tensor(g, r));
      e += mat.edges.back().size(1);
      torch::Tensor x = in.video;
      for (const RelationInput& a : in.attributes)
        if (a.relation == r)
          x = relation_info(r).kind == RelationKind::kOneToOne && a.index.defined() ? a.rows.index_select(0, a.index) : a.rows;
      mat.heads.push_back(x);
    }
    std::printf("materialised %lld edges: %.2f s, RSS peak %.0f MiB\n", static_cast<long long>(e), seconds_since(t0), peak_rss_mib());
  }

  torch::manual_seed(7);
  Rgcn model(in, ro);
  torch::optim::Adam optim(model->parameters(), torch::optim::AdamOptions(default_graph_lr(ro.hidden)));
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  std::printf("%lld parameters\n", static_cast<long long>(params));
  double total = 0;
  for (int ep = 0; ep < epochs; ++ep) {
    const auto te = std::chrono::steady_clock::now();
    model->train();
    torch::Tensor pred, shared_val;
    if (mode == "exact") {
      RgcnTrainEvalOutput both = model->forward_train_eval(in, train_idx, val_idx);
      pred = both.train.level;
      shared_val = both.eval_level;
    } else {
      pred = mode == "exact-separate" ? model->forward(in, train_idx).level
                                      : mat.forward(model, in, ro.dropout).index_select(0, train_idx);
    }
    torch::Tensor loss = torch::nn::functional::smooth_l1_loss(pred, y_train);
    const double t_fwd = seconds_since(te);
    optim.zero_grad();
    loss.backward();
    const double t_bwd = seconds_since(te) - t_fwd;
    optim.step();
    const double t_step = seconds_since(te) - t_fwd - t_bwd;
    pred = torch::Tensor();
    double val_mae = 0;
    if (shared_val.defined()) {  // scored in the training pass (the parameters before this step)
      val_mae = (shared_val - y_val).abs().mean().item<double>();
    } else {
      torch::NoGradGuard no_grad;
      model->eval();
      const torch::Tensor v = mode == "exact-separate" ? model->forward(in, val_idx).level
                                                       : mat.forward(model, in, 0.0).index_select(0, val_idx);
      val_mae = (v - y_val).abs().mean().item<double>();
    }
    const double t_all = seconds_since(te);
    total += t_all;
    std::printf("epoch %d: %.2f s (train forward %.2f, backward %.2f, Adam %.2f, val forward %.2f); loss %.4f, val MAE %.4f; RSS peak %.0f MiB\n",
                ep + 1, t_all, t_fwd, t_bwd, t_step, t_all - t_fwd - t_bwd - t_step, loss.item<double>(), val_mae, peak_rss_mib());
    std::fflush(stdout);
  }
  std::printf("mean epoch %.2f s, peak RSS %.0f MiB\n", total / epochs, peak_rss_mib());
  return 0;
}
