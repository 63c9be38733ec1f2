#include "train/sampled_trainer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/process.h"
#include "data/dataset.h"
#include "eval/metrics.h"
#include "eval/predictions.h"
#include "features/node_features.h"
#include "tensor/torch_info.h"
#include "train/checkpoint.h"
#include "train/targets.h"

namespace spir {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Random streams: each epoch's batch order and training neighbourhoods come from their own stream of the seed, so a
// resumed run draws exactly what an uninterrupted one would; evaluation always uses the same stream.
constexpr uint64_t kEvalStream = 0;
uint64_t epoch_stream(int64_t epoch) { return 1 + static_cast<uint64_t>(epoch); }

void shuffle(std::vector<int64_t>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(rng.below(i))]);
}

}  // namespace

std::string sampled_run_name(const SampledTrainOptions& opt) { return run_folder_name(opt.model, opt.ablation, opt.name); }

std::vector<double> predict_sampled(SampledGnn& model, const PropagationGraph& g, const GraphModelInputs& in,
                                    const std::vector<int64_t>& targets, const BlockOptions& block, int batch_size, uint64_t seed) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  Rng rng = Rng(seed).split(kEvalStream);
  std::vector<double> out;
  out.reserve(targets.size());
  const auto t0 = Clock::now();
  auto last_log = t0;
  for (size_t b0 = 0; b0 < targets.size(); b0 += static_cast<size_t>(batch_size)) {
    if (seconds_since(last_log) > 30) {  // the paper-scale prediction passes take minutes
      spdlog::info("predict: {}/{} samples, {:.0f} s", b0, targets.size(), seconds_since(t0));
      last_log = Clock::now();
    }
    const std::vector<int64_t> batch(targets.begin() + static_cast<std::ptrdiff_t>(b0),
                                     targets.begin() + static_cast<std::ptrdiff_t>(std::min(targets.size(), b0 + static_cast<size_t>(batch_size))));
    const torch::Tensor level = model.forward(in, sample_block(g, in, batch, block, rng)).level.to(torch::kFloat64).contiguous();
    out.insert(out.end(), level.data_ptr<double>(), level.data_ptr<double>() + level.size(0));
  }
  model.train(was_training);
  return out;
}

SampledTrainResult train_sampled_model(const std::string& ds_dir, const SampledTrainOptions& opt) {
  if (!is_sampled_gnn(opt.model)) throw Error("sampled GNN '" + opt.model + "' unknown (gcn, han, hetsann, rgcn-sampled)");
  if (opt.batch_size <= 0) throw Error("--batch-size must be positive");
  const auto t0 = Clock::now();
  const std::string name = sampled_run_name(opt);
  SampledTrainResult result;
  result.dir = model_dir(ds_dir, name);
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

  torch::manual_seed(static_cast<int64_t>(opt.seed));
  const std::shared_ptr<SampledGnn> model = make_sampled_gnn(opt.model, in, opt.gnn);
  torch::optim::Adam optim(model->parameters(), torch::optim::AdamOptions(opt.lr).weight_decay(opt.weight_decay));
  const ParameterCounts counts = count_parameters(*model);
  result.trainable_parameters = counts.trainable;
  result.frozen_parameters = counts.frozen;
  BlockOptions block;
  block.fanout = opt.fanout;
  block.input_attributes = model->needs_input_attributes();
  spdlog::info("train {}: {} trainable parameters, {} frozen; {} train / {} val samples; {} video nodes; fan-out {}, batch {}",
               name, counts.trainable, counts.frozen, train_ids.size(), val_ids.size(), g.videos, opt.fanout, opt.batch_size);

  CheckpointState st;
  if (opt.resume && fs::exists(checkpoint)) {
    load_checkpoint(checkpoint, *model, optim, st);
    spdlog::info("train: resumed from {} at epoch {}", checkpoint, st.next_epoch);
  } else if (fs::exists(curves_path(ds_dir, name))) {
    fs::remove(curves_path(ds_dir, name));
  }
  const torch::Tensor y_val = y.index_select(0, torch::tensor(val_ids, torch::kInt64)).to(torch::kFloat64).contiguous();
  const std::vector<double> val_labels(y_val.data_ptr<double>(), y_val.data_ptr<double>() + y_val.numel());

  int epochs_this_call = 0;
  double epoch_seconds = 0;
  for (; st.next_epoch < opt.epochs && st.bad_epochs < opt.patience; ++st.next_epoch) {
    if (opt.stop_after > 0 && epochs_this_call == opt.stop_after) break;
    const auto te = Clock::now();
    Rng rng = Rng(opt.seed).split(epoch_stream(st.next_epoch));
    std::vector<int64_t> order = train_ids;
    shuffle(order, rng);
    model->train();
    // Training curves (Figure 9) score the train samples by platform, with the predictions made in each batch's
    // forward pass (before its step): no second pass over the train split.
    std::vector<ScoredSample> curve_rows;
    curve_rows.reserve(order.size());
    double loss_sum = 0, sample_seconds = 0;
    int64_t edges = 0;
    auto last_log = Clock::now();
    const size_t batches = (order.size() + static_cast<size_t>(opt.batch_size) - 1) / static_cast<size_t>(opt.batch_size);
    for (size_t bi = 0; bi < batches; ++bi) {
      const size_t b0 = bi * static_cast<size_t>(opt.batch_size), b1 = std::min(order.size(), b0 + static_cast<size_t>(opt.batch_size));
      const std::vector<int64_t> batch(order.begin() + static_cast<std::ptrdiff_t>(b0), order.begin() + static_cast<std::ptrdiff_t>(b1));
      const auto ts = Clock::now();
      const SampledBlock b = sample_block(g, in, batch, block, rng);
      sample_seconds += seconds_since(ts);
      edges += b.edges();
      const torch::Tensor pred = model->forward(in, b).level;
      const torch::Tensor target = y.index_select(0, b.nodes.back());
      const torch::Tensor loss = torch::nn::functional::smooth_l1_loss(pred, target);  // Eq. 9
      optim.zero_grad();
      loss.backward();
      optim.step();
      loss_sum += loss.item<double>() * static_cast<double>(batch.size());
      const torch::Tensor p = pred.detach().to(torch::kFloat64).contiguous();
      for (size_t k = 0; k < batch.size(); ++k) {
        const Sample& s = d.samples[static_cast<size_t>(batch[k])];
        curve_rows.push_back({s.level, p.data_ptr<double>()[k], s.observed_days, d.set.videos[static_cast<size_t>(s.video)].platform});
      }
      if (seconds_since(last_log) > 30) {
        spdlog::info("train {} epoch {}: batch {}/{}, {:.0f} s", name, st.next_epoch + 1, bi + 1, batches, seconds_since(te));
        last_log = Clock::now();
      }
    }
    append_curve_points(curves_path(ds_dir, name), curve_points_at(st.next_epoch + 1, curve_rows));
    // Validation MAE for early stopping, neighbourhoods sampled from the fixed evaluation stream.
    const std::vector<double> val_pred = predict_sampled(*model, g, in, val_ids, block, opt.batch_size, opt.seed);
    double val_mae = 0;
    for (size_t k = 0; k < val_pred.size(); ++k) val_mae += std::abs(val_pred[k] - val_labels[k]);
    val_mae /= static_cast<double>(val_pred.size());
    if (val_mae < st.best_val_mae - 1e-6) {
      st.best_val_mae = val_mae;
      st.best_epoch = st.next_epoch;
      st.bad_epochs = 0;
      save_parameters(best, *model);
    } else {
      ++st.bad_epochs;
    }
    const double secs = seconds_since(te);
    epoch_seconds += secs;
    spdlog::info("train {} epoch {}: loss {:.4f}, val MAE {:.4f} (best {:.4f} at {}), {:.1f} s (sampling {:.1f} s, {} sampled edges), "
                 "peak RSS {:.0f} MiB", name, st.next_epoch + 1, loss_sum / static_cast<double>(order.size()), val_mae,
                 st.best_val_mae, st.best_epoch + 1, secs, sample_seconds, edges, peak_rss_mib());
    CheckpointState next = st;
    ++next.next_epoch;
    save_checkpoint(checkpoint, *model, optim, next);
    ++epochs_this_call;
  }
  result.epochs_run = static_cast<int>(st.next_epoch);
  result.best_epoch = static_cast<int>(st.best_epoch);
  result.best_val_mae = st.best_val_mae;
  result.seconds_per_epoch = epochs_this_call > 0 ? epoch_seconds / epochs_this_call : 0;
  result.peak_rss_mib = peak_rss_mib();
  if (opt.stop_after > 0 && epochs_this_call == opt.stop_after && st.next_epoch < opt.epochs && st.bad_epochs < opt.patience)
    return result;  // interrupted on purpose: no predictions yet

  // Predictions of the best epoch for every labelled sample.
  load_parameters(best, *model);
  std::vector<int64_t> labelled;
  for (const Sample& s : d.samples)
    if (s.level >= 0) labelled.push_back(s.id);
  const std::vector<double> all = predict_sampled(*model, g, in, labelled, block, opt.batch_size, opt.seed);
  std::vector<Prediction> preds;
  for (size_t k = 0; k < labelled.size(); ++k) preds.push_back({labelled[k], all[k]});
  save_predictions(result.dir + "/predictions.csv", preds);
  result.seconds = seconds_since(t0);
  result.peak_rss_mib = peak_rss_mib();
  save_model_info(result.dir, {{"model", opt.model}, {"input", "Graph"}, {"ablation", Ablation::parse(opt.ablation).name()},
                               {"order", opt.order}, {"hidden", opt.gnn.hidden}, {"dropout", opt.gnn.dropout},
                               {"fanout", opt.fanout}, {"batch_size", opt.batch_size}, {"layers", 2},
                               {"lr", opt.lr}, {"epochs_run", result.epochs_run}, {"best_epoch", result.best_epoch + 1},
                               {"best_val_mae", result.best_val_mae}, {"trainable_parameters", result.trainable_parameters},
                               {"frozen_parameters", result.frozen_parameters}, {"seed", opt.seed}, {"seconds", result.seconds},
                               {"seconds_per_epoch", result.seconds_per_epoch}, {"peak_rss_mib", result.peak_rss_mib}});
  spdlog::info("train {}: {} epochs, best val MAE {:.4f} at epoch {}, {:.1f} s per epoch, peak RSS {:.0f} MiB", name,
               result.epochs_run, result.best_val_mae, result.best_epoch + 1, result.seconds_per_epoch, result.peak_rss_mib);
  return result;
}

}  // namespace spir
