// spir train: trains one model on a dataset and writes DS/models/<name>/ (predictions.csv, model.json, ...).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/error.h"
#include "models/gbdt.h"
#include "models/persistence.h"
#include "train/graph_trainer.h"
#include "train/llm_trainer.h"
#include "train/sampled_trainer.h"

namespace spir {

void add_train_command(CLI::App& app) {
  auto opt = std::make_shared<GraphTrainOptions>();
  auto dir = std::make_shared<std::string>();
  auto gbdt = std::make_shared<GbdtOptions>();
  auto sampled = std::make_shared<SampledTrainOptions>();  // fan-out and batch size of the sampled GNNs
  auto* cmd = app.add_subcommand("train", "Train a model (stage-1 RGCN, the GNN / tabular / count baselines, NetGPT stages 2-3, the LLM-only baseline) and write its predictions");
  cmd->add_option("dataset", *dir, "dataset folder with features ('spir features')")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--model", opt->model, "rgcn (stage 1, Eq. 8-9, full graph); gcn, han, hetsann, rgcn-sampled (sampled neighbourhoods, paper 5.1); gbdt (xgboost on tabular features); persistence (current level); netgpt (stages 2-3, needs --llm and a trained rgcn); llm (LLM-only baseline with LoRA, needs --llm)")
      ->check(CLI::IsMember({"rgcn", "gbdt", "persistence", "gcn", "han", "hetsann", "rgcn-sampled", "netgpt", "llm"}))->capture_default_str();
  cmd->add_option("--ablate", opt->ablation, "Table VI ablation: V, VV, IV or CV (graph models); SLF (netgpt: skip stage 2)")->check(CLI::IsMember({"", "V", "VV", "IV", "CV", "SLF"}));
  cmd->add_option("--name", opt->name, "graph models: the run's folder under DS/models/ (default: the model, plus -ABLATION), to keep several settings of one model side by side in the report");
  cmd->add_flag("--resume", opt->resume, "continue from the last checkpoint of this run");
  cmd->add_option("--epochs", opt->epochs, "most epochs (full-graph steps)")->capture_default_str();
  cmd->add_option("--hidden", opt->rgcn.hidden, "d_g, hidden and output size (paper: 1024)")->capture_default_str();
  cmd->add_option("--bases", opt->rgcn.bases, "rgcn: 0 = a full weight per relation; B > 0 = basis decomposition with B bases")
      ->capture_default_str();
  opt->rgcn.target_chunk = -1;
  cmd->add_option("--target-chunk", opt->rgcn.target_chunk,
                  "rgcn: layer 2 over at most this many target rows at a time, recomputed in the backward pass (0 = all at "
                  "once; -1 = chunks of 65536 when there are more train targets than that)")
      ->capture_default_str();
  cmd->add_option("--dropout", opt->rgcn.dropout, "dropout")->capture_default_str();
  cmd->add_option("--lr", opt->lr, "Adam learning rate; 0 = the model's default (rgcn: 3e-3 up to d_g 64, then 3e-3*(64/d_g)^2, 1.2e-5 at 1024; sampled GNNs: 1e-3)")->capture_default_str();
  cmd->add_option("--warmup", opt->warmup, "rgcn: epochs of linear learning-rate warm-up from lr/warmup to lr")->capture_default_str();
  cmd->add_option("--weight-decay", opt->weight_decay, "Adam weight decay (L2) of the graph models")->capture_default_str();
  cmd->add_option("--patience", opt->patience, "early stopping: epochs without a better validation MAE")->capture_default_str();
  cmd->add_option("--order", opt->order, "graph order: ctime or post")->check(CLI::IsMember({"ctime", "post"}))->capture_default_str();
  cmd->add_option("--seed", opt->seed, "random seed")->capture_default_str();
  cmd->add_option("--fanout", sampled->fanout, "sampled GNNs (gcn, han, hetsann, rgcn-sampled): in-neighbours per relation per layer")
      ->capture_default_str();
  cmd->add_option("--batch-size", sampled->batch_size, "sampled GNNs: target nodes per Adam step")->capture_default_str();
  // netgpt (stages 2-3, paper 4.2-4.4) and llm (the LLM-only baseline with LoRA); --batch-size is shared with the
  // sampled GNNs: when given it sets the prompts per step, else LlmTrainOptions' default.
  auto llm = std::make_shared<LlmTrainOptions>();
  cmd->add_option("--llm", llm->llm_dir, "netgpt, llm: Qwen2 folder (config.json, *.safetensors, tokenizer.json)");
  cmd->add_option("--device", llm->device, "netgpt, llm: cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  cmd->add_option("--rgcn", llm->rgcn, "netgpt: stage-1 run under DS/models/ giving the graph embeddings")->capture_default_str();
  cmd->add_option("--stage2-epochs", llm->stage2_epochs, "netgpt: stage 2 epochs (Eq. 11)")->capture_default_str();
  cmd->add_option("--stage3-epochs", llm->stage3_epochs, "netgpt: stage 3 epochs (Eq. 14)")->capture_default_str();
  cmd->add_option("--lora-epochs", llm->lora_epochs, "llm: LoRA epochs")->capture_default_str();
  cmd->add_option("--stage2-lr", llm->stage2_lr, "netgpt: stage 2 AdamW learning rate")->capture_default_str();
  cmd->add_option("--stage3-lr", llm->stage3_lr, "netgpt: stage 3 AdamW learning rate")->capture_default_str();
  cmd->add_option("--lora-lr", llm->lora_lr, "llm: LoRA AdamW learning rate")->capture_default_str();
  cmd->add_option("--eval-batch-size", llm->eval_batch_size, "netgpt, llm: prompts per prediction batch")->capture_default_str();
  cmd->add_option("--max-train-samples", llm->max_train_samples, "netgpt, llm: random train subset (0 = all)")->capture_default_str();
  cmd->add_option("--max-val-samples", llm->max_val_samples, "netgpt: val subset scored after each stage-3 epoch (0 = all)")
      ->capture_default_str();
  cmd->add_option("--predict", llm->predict_splits, "netgpt, llm: splits whose labelled samples get predictions")->capture_default_str();
  cmd->add_option("--max-prompt-tokens", llm->max_prompt_tokens, "netgpt, llm: instruction token limit (paper: 4000)")
      ->capture_default_str();
  cmd->add_option("--max-comments", llm->max_comments, "netgpt, llm: comments per prompt (paper: 50)")->capture_default_str();
  cmd->add_option("--last-layers", llm->last_layers, "netgpt: decoder layers trained in stage 3 (paper: 4)")->capture_default_str();
  cmd->add_option("--lora-rank", llm->lora_rank, "llm: LoRA rank")->capture_default_str();
  cmd->add_option("--lora-alpha", llm->lora_alpha, "llm: LoRA alpha")->capture_default_str();
  cmd->add_option("--checkpoint-steps", llm->checkpoint_steps, "netgpt, llm: also checkpoint every N steps (0 = per epoch)")
      ->capture_default_str();
  cmd->callback([opt, dir, gbdt, sampled, llm, cmd] {
    const bool graph_model = opt->model == "rgcn" || is_sampled_gnn(opt->model);
    if (!opt->name.empty() && !graph_model)
      throw CLI::ValidationError("--name", "applies to the graph models (rgcn, gcn, han, hetsann, rgcn-sampled) only");
    if (opt->model == "netgpt" || opt->model == "llm") {
      LlmTrainOptions l = *llm;
      l.model = opt->model, l.ablation = opt->ablation, l.seed = opt->seed, l.resume = opt->resume;
      if (cmd->count("--batch-size") > 0) l.batch_size = static_cast<int>(sampled->batch_size);
      const LlmTrainResult r = train_llm_model(*dir, l);
      std::cout << "trained " << r.dir << ": " << r.predictions << " predictions, " << r.trainable_parameters
                << " trainable / " << r.frozen_parameters << " frozen parameters (last stage)";
      if (l.model == "netgpt") std::cout << ", stage 2 " << r.stage2_seconds << " s, stage 3 " << r.stage3_seconds << " s";
      else std::cout << ", LoRA " << r.lora_seconds << " s, " << r.parse_failures << " parse failures";
      std::cout << ", prediction " << r.predict_seconds << " s\n";
      return;
    }
    if (is_sampled_gnn(opt->model)) {
      SampledTrainOptions s = *sampled;
      s.model = opt->model, s.ablation = opt->ablation, s.order = opt->order, s.epochs = opt->epochs;
      if (opt->lr > 0) s.lr = opt->lr;
      s.name = opt->name;
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
