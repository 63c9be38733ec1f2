#include "train/graph_trainer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "core/error.h"
#include "data/dataset.h"
#include "eval/metrics.h"
#include "eval/predictions.h"
#include "features/node_features.h"
#include "tensor/torch_info.h"
#include "train/checkpoint.h"
#include "train/targets.h"

namespace spir {

namespace fs = std::filesystem;

std::string graph_run_name(const GraphTrainOptions& opt) { return run_folder_name(opt.model, opt.ablation, opt.name); }

double default_graph_lr(int64_t hidden) {
  const double ratio = 64.0 / static_cast<double>(std::max<int64_t>(1, hidden));
  return 3e-3 * std::min(1.0, ratio * ratio);
}

double warmup_lr(double lr, int warmup, int64_t epoch) {
  if (warmup <= 0 || epoch >= warmup) return lr;
  return lr * static_cast<double>(epoch + 1) / static_cast<double>(warmup);
}

GraphTrainResult train_graph_model(const std::string& ds_dir, const GraphTrainOptions& opt) {
  if (opt.model != "rgcn") throw Error("graph model '" + opt.model + "' is not available yet (rgcn)");
  const auto t0 = std::chrono::steady_clock::now();
  GraphTrainResult result;
  result.dir = model_dir(ds_dir, graph_run_name(opt));
  fs::create_directories(result.dir);
  const std::string checkpoint = result.dir + "/checkpoint.pt", best = result.dir + "/best.pt";

  const Dataset d = load_dataset(ds_dir);
  const PropagationGraph g = build_graph(d.set, d.samples, {parse_graph_order(opt.order)});
  const NodeFeatures f = load_features(ds_dir, g);
  const GraphModelInputs in = make_graph_model_inputs(g, f, Ablation::parse(opt.ablation));

  const TrainTargets targets = train_targets(d, g.videos, ds_dir);
  const std::vector<int64_t>& train_ids = targets.train_ids;
  const std::vector<int64_t>& val_ids = targets.val_ids;
  const torch::Tensor& y = targets.y;
  const torch::Tensor train_idx = torch::tensor(train_ids, torch::kInt64), val_idx = torch::tensor(val_ids, torch::kInt64);
  const torch::Tensor y_train = y.index_select(0, train_idx), y_val = y.index_select(0, val_idx);

  RgcnOptions ro = opt.rgcn;
  if (ro.target_chunk < 0) ro.target_chunk = static_cast<int64_t>(train_ids.size()) > kAutoTargetChunk ? kAutoTargetChunk : 0;
  if (ro.target_chunk > 0) spdlog::info("train rgcn: layer 2 in checkpointed chunks of {} targets", ro.target_chunk);
  torch::manual_seed(static_cast<int64_t>(opt.seed));
  Rgcn model(in, ro);
  const double base_lr = opt.lr > 0 ? opt.lr : default_graph_lr(ro.hidden);
  torch::optim::Adam optim(model->parameters(), torch::optim::AdamOptions(base_lr).weight_decay(opt.weight_decay));
  result.trainable_parameters = count_parameters(*model).trainable;
  spdlog::info("train {}: {} trainable parameters, 0 frozen; {} train / {} val samples; {} video nodes",
               graph_run_name(opt), result.trainable_parameters, train_ids.size(), val_ids.size(), g.videos);

  CheckpointState st;
  if (opt.resume && fs::exists(checkpoint)) {
    load_checkpoint(checkpoint, *model, optim, st);
    spdlog::info("train: resumed from {} at epoch {}", checkpoint, st.next_epoch);
  } else if (fs::exists(curves_path(ds_dir, graph_run_name(opt)))) {
    fs::remove(curves_path(ds_dir, graph_run_name(opt)));
  }
  // Training curves (Figure 9) score the train samples by platform.
  std::vector<ScoredSample> curve_rows(train_ids.size());
  for (size_t k = 0; k < train_ids.size(); ++k) {
    const Sample& s = d.samples[static_cast<size_t>(train_ids[k])];
    curve_rows[k] = {s.level, 0.0, s.observed_days, d.set.videos[static_cast<size_t>(s.video)].platform};
  }

  // Validation (early stopping, best.pt) scores the parameters each epoch starts from, in the same pass as its
  // training step (Rgcn::forward_train_eval shares layer 1 between them); the parameters after the last step are
  // scored once after the loop. The best parameters are saved before the step that would change them.
  const std::string name = graph_run_name(opt);
  auto record_val = [&](double val_mae, int64_t steps) {
    const bool better = val_mae < st.best_val_mae - 1e-6;
    if (better) {
      st.best_val_mae = val_mae;
      st.best_epoch = steps - 1;  // best_epoch + 1 = Adam steps taken (0: the initial parameters)
      st.bad_epochs = 0;
      save_parameters(best, *model);
    } else if (steps > 0) {
      ++st.bad_epochs;
    }
  };
  int epochs_this_call = 0;
  bool last_scored = false;  // whether the current parameters have been scored on val
  for (; st.next_epoch < opt.epochs && st.bad_epochs < opt.patience; ++st.next_epoch) {
    if (opt.stop_after > 0 && epochs_this_call == opt.stop_after) break;
    const auto te = std::chrono::steady_clock::now();
    model->train();
    // Layer 2 and the loss only at the labelled train rows (Eq. 9); layer 2 in eval mode at the val rows.
    const RgcnTrainEvalOutput out = model->forward_train_eval(in, train_idx, val_idx);
    const torch::Tensor& pred = out.train.level;
    const double val_mae = (out.eval_level - y_val).abs().mean().item<double>();
    const torch::Tensor loss = torch::nn::functional::smooth_l1_loss(pred, y_train);
    record_val(val_mae, st.next_epoch);
    if (st.bad_epochs >= opt.patience) {  // early stop: these parameters are scored, no step is taken
      last_scored = true;
      spdlog::info("train {}: val MAE {:.4f}, no better in {} epochs: stopping (best {:.4f} after {} steps)", name,
                   val_mae, opt.patience, st.best_val_mae, st.best_epoch + 1);
      break;
    }
    optim.zero_grad();
    loss.backward();
    const double lr = warmup_lr(base_lr, opt.warmup, st.next_epoch);
    for (auto& group : optim.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    optim.step();
    // The curves' per-platform train ACC/MSE come from this epoch's training pass (before its step).
    const torch::Tensor train_pred = pred.detach().to(torch::kFloat64).contiguous();
    for (size_t k = 0; k < curve_rows.size(); ++k) curve_rows[k].prediction = train_pred.data_ptr<double>()[k];
    append_curve_points(curves_path(ds_dir, name), curve_points_at(st.next_epoch + 1, curve_rows));
    spdlog::info("train {} epoch {}: lr {:.3g}, loss {:.4f} and val MAE {:.4f} before its step (best {:.4f} after {} steps), {:.1f} s",
                 name, st.next_epoch + 1, lr, loss.item<double>(), val_mae, st.best_val_mae, st.best_epoch + 1,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - te).count());
    CheckpointState next = st;
    ++next.next_epoch;
    save_checkpoint(checkpoint, *model, optim, next);
    ++epochs_this_call;
  }
  const bool interrupted = opt.stop_after > 0 && epochs_this_call == opt.stop_after && !last_scored && st.next_epoch < opt.epochs;
  if (!interrupted && !last_scored && st.next_epoch > 0) {  // the parameters after the last step
    torch::NoGradGuard no_grad;
    model->eval();
    const double val_mae = (model->forward(in, val_idx).level - y_val).abs().mean().item<double>();
    record_val(val_mae, st.next_epoch);
    spdlog::info("train {}: val MAE {:.4f} after the last step (best {:.4f} after {} steps)", name, val_mae,
                 st.best_val_mae, st.best_epoch + 1);
  }
  result.epochs_run = static_cast<int>(st.next_epoch);
  result.best_epoch = static_cast<int>(st.best_epoch);
  result.best_val_mae = st.best_val_mae;
  if (interrupted) return result;  // stopped on purpose (stop_after): no predictions yet

  // Predictions of the best epoch for every labelled sample.
  load_parameters(best, *model);
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<int64_t> labelled;
  for (const Sample& s : d.samples)
    if (s.level >= 0) labelled.push_back(s.id);
  const torch::Tensor all = model->forward(in, torch::tensor(labelled, torch::kInt64)).level.to(torch::kFloat64).contiguous();
  std::vector<Prediction> preds;
  for (size_t k = 0; k < labelled.size(); ++k) preds.push_back({labelled[k], all.data_ptr<double>()[k]});
  save_predictions(result.dir + "/predictions.csv", preds);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  save_model_info(result.dir, {{"model", opt.model}, {"input", "Graph"}, {"ablation", Ablation::parse(opt.ablation).name()},
                               {"order", opt.order}, {"hidden", opt.rgcn.hidden}, {"dropout", opt.rgcn.dropout},
                               {"bases", opt.rgcn.bases}, {"target_chunk", ro.target_chunk},
                               {"lr", base_lr}, {"warmup", opt.warmup}, {"epochs_run", result.epochs_run}, {"best_epoch", result.best_epoch + 1},
                               {"best_val_mae", result.best_val_mae}, {"trainable_parameters", result.trainable_parameters},
                               {"frozen_parameters", 0}, {"seed", opt.seed}, {"seconds", result.seconds}});
  return result;
}

}  // namespace spir
