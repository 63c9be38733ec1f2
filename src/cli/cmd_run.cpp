// spir run: the main job on the embedded default — synthetic crawls → ingest → annotate → stats → graph → features
// → train (persistence, GBDT, stage-1 RGCN, the sampled GNN baselines; with --llm also the default language model,
// NetGPT stages 2-3 and the LLM-only baseline) → evaluation report.
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/json_file.h"
#include "data/annotate.h"
#include "data/ingest.h"
#include "data/stats.h"
#include "data/synth.h"
#include "data/dataset.h"
#include "data/video_store.h"
#include "features/node_features.h"
#include "eval/report.h"
#include "graph/propagation_graph.h"
#include "models/gbdt.h"
#include "models/persistence.h"
#include "llm/lm_pretrain.h"
#include "train/graph_trainer.h"
#include "train/llm_trainer.h"
#include "train/sampled_trainer.h"

namespace spir {

namespace {

struct RunOptions {
  std::string out = "spir-run";
  std::string scale = "small";
  uint64_t seed = 7;
  double video_fraction = 0.05;
  std::string text = "fasttext";
  int64_t hidden = 64;          // d_g of every graph model (the paper's 1024 is slow on 2 cores)
  int rgcn_epochs = 150;        // full-graph epochs (one Adam step each)
  double rgcn_lr = 3e-3;
  int gnn_epochs = 4;           // sampled GNN baselines
  int fanout = 10;              // sampled GNN baselines (paper: 50)
  std::string ablations = "V,VV,IV,CV";  // Table VI ablations of the RGCN, each its own run ("none": skip)
  bool llm = false;             // also the language-model stages
  int64_t lm_steps = 100;       // spir llm pretrain steps
  int64_t llm_train_samples = 500;  // smaller than spir train's defaults: every stage runs on 2 CPU cores
  int64_t llm_prompt_tokens = 512;
  int llm_comments = 5;
};

// "" (the full model) followed by each ablation of a comma-separated list; "none" gives the full model only.
std::vector<std::string> run_ablations(const std::string& list) {
  std::vector<std::string> out{""};
  if (list == "none") return out;
  std::stringstream ss(list);
  std::string part;
  while (std::getline(ss, part, ','))
    if (!part.empty()) out.push_back(Ablation::parse(part).name());  // throws on an unknown name
  return out;
}

void run_pipeline(const RunOptions& opt) {
  const std::vector<std::string> ablations = run_ablations(opt.ablations);  // checked before any work starts
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  nlohmann::json report;
  auto step = [&](const char* name, auto&& fn) {
    spdlog::info("run: {} ...", name);
    const auto t0 = clock::now();
    fn();
    report["seconds"][name] = std::chrono::duration<double>(clock::now() - t0).count();
  };
  std::filesystem::create_directories(opt.out);
  const std::string raw = opt.out + "/raw.jsonl.gz";
  const std::string ds = opt.out + "/ds";

  step("synth", [&] {
    SynthOptions s;
    s.scale = opt.scale;
    s.seed = opt.seed;
    s.out = raw;
    s.video_fraction = opt.video_fraction;
    report["synth"] = write_synthetic_crawl(s).to_json();
  });
  step("ingest", [&] {
    IngestOptions i;
    i.raw_path = raw;
    i.out_dir = ds;
    const IngestSummary sum = run_ingest(i);
    std::cout << sum.to_text();
    report["ingest"] = sum.to_json();
  });
  step("annotate", [&] {
    const AnnotateOptions annotate_opt;
    const AnnotateSummary sum = run_annotate(ds, annotate_opt);
    std::cout << sum.to_text();
    report["annotate"] = sum.to_json();
  });
  step("stats", [&] {
    const DatasetStats st = run_stats(ds);
    std::cout << st.text;
  });
  step("graph", [&] {
    const Dataset d = load_dataset(ds);
    for (GraphOrder order : {GraphOrder::kCtime, GraphOrder::kPost}) {
      const PropagationGraph g = build_graph(d.set, d.samples, {order});
      std::cout << graph_tables_text(g);
      report["graph"][graph_order_name(order)] = graph_tables_json(g);
    }
  });
  step("features", [&] {
    FeatureOptions f;
    f.text.spec = opt.text;
    const FeatureSummary sum = run_features(ds, f);
    std::cout << sum.to_text();
    report["features"] = sum.manifest;
  });
  step("train", [&] {
    train_persistence(ds);
    train_gbdt(ds, GbdtOptions{});
    GraphTrainOptions g;
    g.epochs = opt.rgcn_epochs;
    g.lr = opt.rgcn_lr;
    g.patience = 30;
    g.rgcn.hidden = opt.hidden;
    g.seed = opt.seed;
    // The RGCN, then each Table VI ablation with the same settings (report.md compares them with it).
    for (const std::string& ablation : ablations) {
      g.ablation = ablation;
      const GraphTrainResult r = train_graph_model(ds, g);
      report[graph_run_name(g)] = {{"epochs", r.epochs_run}, {"best_val_mae", r.best_val_mae}, {"seconds", r.seconds}};
    }
    for (const char* model : {"gcn", "han", "hetsann"}) {
      SampledTrainOptions s;
      s.model = model;
      s.gnn.hidden = opt.hidden;
      s.epochs = opt.gnn_epochs;
      s.fanout = opt.fanout;
      s.lr = 3e-3;
      s.seed = opt.seed;
      const SampledTrainResult sr = train_sampled_model(ds, s);
      report[model] = {{"epochs", sr.epochs_run}, {"best_val_mae", sr.best_val_mae}, {"seconds", sr.seconds}};
    }
  });
  if (opt.llm) {
    const std::string lm = opt.out + "/lm";
    step("llm pretrain", [&] {
      LmPretrainOptions p;
      p.steps = opt.lm_steps;
      p.seed = opt.seed;
      p.corpus.seed = opt.seed;
      const LmPretrainResult r = pretrain_lm(ds, lm, p);
      report["llm_pretrain"] = {{"parameters", r.parameters}, {"final_heldout_loss", r.final_heldout_loss},
                                {"tokens_per_second", r.tokens_per_second}, {"seconds", r.seconds}};
    });
    step("llm train", [&] {
      for (const char* model : {"netgpt", "llm"}) {
        LlmTrainOptions l;
        l.model = model;
        l.llm_dir = lm;
        l.seed = opt.seed;
        l.max_train_samples = opt.llm_train_samples;
        l.max_prompt_tokens = opt.llm_prompt_tokens;
        l.max_comments = opt.llm_comments;
        l.predict_splits = "test";  // the report reads the test split
        l.batch_size = 8;
        l.eval_batch_size = 16;
        const LlmTrainResult r = train_llm_model(ds, l);
        report[model] = {{"seconds_stage2", r.stage2_seconds}, {"seconds_stage3", r.stage3_seconds},
                         {"seconds_lora", r.lora_seconds}, {"seconds_predict", r.predict_seconds},
                         {"parse_failures", r.parse_failures}};
      }
    });
  }
  step("eval", [&] {
    write_report(ds);
    std::cout << "report: " << ds << "/report.md\n";
  });
  report["total_seconds"] = std::chrono::duration<double>(clock::now() - start).count();
  write_json(opt.out + "/run.json", report);
  std::cout << "spir run: done in " << report["total_seconds"].get<double>() << " s; dataset in " << ds
            << "/, summary in " << opt.out << "/run.json\n";
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto opt = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Run the whole pipeline on a built-in synthetic dataset");
  cmd->add_option("--out", opt->out, "working folder for every output")->capture_default_str();
  cmd->add_option("--scale", opt->scale, "synthetic scale: tiny, small or paper")
      ->check(CLI::IsMember({"tiny", "small", "paper"}))->capture_default_str();
  cmd->add_option("--seed", opt->seed, "random seed")->capture_default_str();
  cmd->add_option("--video-fraction", opt->video_fraction, "share of synthetic videos with an MP4 file")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--text", opt->text, "text encoder for node features (fasttext, hash, bert:DIR)")->capture_default_str();
  cmd->add_option("--hidden", opt->hidden, "d_g of every graph model (the paper's 1024 is slow on 2 cores)")->capture_default_str();
  cmd->add_option("--rgcn-epochs", opt->rgcn_epochs, "RGCN full-graph epochs (one Adam step each)")->capture_default_str();
  cmd->add_option("--rgcn-lr", opt->rgcn_lr, "RGCN Adam learning rate")->capture_default_str();
  cmd->add_option("--gnn-epochs", opt->gnn_epochs, "epochs of the sampled GNN baselines (gcn, han, hetsann)")->capture_default_str();
  cmd->add_option("--fanout", opt->fanout, "sampled GNN baselines: in-neighbours per relation per layer (paper: 50)")
      ->capture_default_str();
  cmd->add_option("--ablations", opt->ablations, "RGCN ablations of Table VI to train after it, comma-separated (V, VV, IV, CV), or none")
      ->capture_default_str();
  cmd->add_flag("--llm", opt->llm, "also pretrain the default language model and train NetGPT (stages 2-3) and the LLM-only baseline");
  cmd->add_option("--lm-steps", opt->lm_steps, "--llm: spir llm pretrain steps")->capture_default_str();
  cmd->add_option("--llm-train-samples", opt->llm_train_samples, "--llm: train samples for stages 2-3 and LoRA")->capture_default_str();
  cmd->add_option("--llm-prompt-tokens", opt->llm_prompt_tokens, "--llm: instruction token limit (paper: 4000)")->capture_default_str();
  cmd->add_option("--llm-comments", opt->llm_comments, "--llm: comments per prompt (paper: 50)")->capture_default_str();
  cmd->callback([opt] { run_pipeline(*opt); });
}

}  // namespace spir
