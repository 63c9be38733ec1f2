// spir train: trains one model on a dataset and writes DS/models/<name>/ (predictions.csv, model.json, ...).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/error.h"
#include "models/gbdt.h"
#include "models/persistence.h"
#include "train/graph_trainer.h"
#include "train/sampled_trainer.h"

namespace spir {

void add_train_command(CLI::App& app) {
  auto opt = std::make_shared<GraphTrainOptions>();
  auto dir = std::make_shared<std::string>();
  auto gbdt = std::make_shared<GbdtOptions>();
  auto sampled = std::make_shared<SampledTrainOptions>();  // fan-out and batch size of the sampled GNNs
  auto* cmd = app.add_subcommand("train", "Train a model (rgcn, gbdt, persistence) and write its predictions");
  cmd->add_option("dataset", *dir, "dataset folder with features ('spir features')")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--model", opt->model, "rgcn (stage 1, Eq. 8-9), gbdt (xgboost on tabular features), persistence")
      ->check(CLI::IsMember({"rgcn", "gbdt", "persistence", "gcn", "han", "hetsann", "rgcn-sampled"}))->capture_default_str();
  cmd->add_option("--ablate", opt->ablation, "Table VI ablation: V, VV, IV or CV")->check(CLI::IsMember({"", "V", "VV", "IV", "CV"}));
  cmd->add_flag("--resume", opt->resume, "continue from the last checkpoint of this run");
  cmd->add_option("--epochs", opt->epochs, "most epochs (full-graph steps)")->capture_default_str();
  cmd->add_option("--hidden", opt->rgcn.hidden, "d_g, hidden and output size (paper: 1024)")->capture_default_str();
  cmd->add_option("--dropout", opt->rgcn.dropout, "dropout")->capture_default_str();
  cmd->add_option("--lr", opt->lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--patience", opt->patience, "early stopping: epochs without a better validation MAE")->capture_default_str();
  cmd->add_option("--order", opt->order, "graph order: ctime or post")->check(CLI::IsMember({"ctime", "post"}))->capture_default_str();
  cmd->add_option("--seed", opt->seed, "random seed")->capture_default_str();
  cmd->add_option("--fanout", sampled->fanout, "sampled GNNs (gcn, han, hetsann, rgcn-sampled): in-neighbours per relation per layer")
      ->capture_default_str();
  cmd->add_option("--batch-size", sampled->batch_size, "sampled GNNs: target nodes per Adam step")->capture_default_str();
  cmd->callback([opt, dir, gbdt, sampled] {
    if (is_sampled_gnn(opt->model)) {
      SampledTrainOptions s = *sampled;
      s.model = opt->model, s.ablation = opt->ablation, s.order = opt->order, s.epochs = opt->epochs, s.lr = opt->lr;
      s.weight_decay = opt->weight_decay, s.patience = opt->patience, s.seed = opt->seed, s.resume = opt->resume;
      s.gnn.hidden = opt->rgcn.hidden, s.gnn.dropout = opt->rgcn.dropout;
      const SampledTrainResult r = train_sampled_model(*dir, s);
      std::cout << "trained " << r.dir << ": " << r.epochs_run << " epochs, best validation MAE " << r.best_val_mae
                << " at epoch " << r.best_epoch + 1 << ", " << r.trainable_parameters << " trainable parameters, "
                << r.seconds_per_epoch << " s per epoch, peak RSS " << r.peak_rss_mib << " MiB, " << r.seconds << " s\n";
    } else if (opt->model == "persistence") {
      train_persistence(*dir);
      std::cout << "wrote " << *dir << "/models/persistence/\n";
    } else if (opt->model == "gbdt") {
      gbdt->seed = opt->seed;
      train_gbdt(*dir, *gbdt);
      std::cout << "wrote " << *dir << "/models/gbdt/\n";
    } else {
      const GraphTrainResult r = train_graph_model(*dir, *opt);
      std::cout << "trained " << r.dir << ": " << r.epochs_run << " epochs, best validation MAE " << r.best_val_mae
                << " at epoch " << r.best_epoch + 1 << ", " << r.trainable_parameters << " trainable parameters, "
                << r.seconds << " s\n";
    }
  });
}

}  // namespace spir
