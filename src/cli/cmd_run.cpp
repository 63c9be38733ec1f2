// spir run: the main job on the embedded default — synthetic crawls → ingest → annotate → stats → graph → features
// → train (persistence, GBDT, RGCN) → evaluation report.
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

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
#include "train/graph_trainer.h"

namespace spir {

namespace {

struct RunOptions {
  std::string out = "spir-run";
  std::string scale = "small";
  uint64_t seed = 7;
  double video_fraction = 0.05;
  std::string text = "fasttext";
  int rgcn_epochs = 40;
  int64_t rgcn_hidden = 64;
};

void run_pipeline(const RunOptions& opt) {
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
    g.rgcn.hidden = opt.rgcn_hidden;
    g.seed = opt.seed;
    const GraphTrainResult r = train_graph_model(ds, g);
    report["rgcn"] = {{"epochs", r.epochs_run}, {"best_val_mae", r.best_val_mae}, {"seconds", r.seconds}};
  });
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
  cmd->add_option("--rgcn-epochs", opt->rgcn_epochs, "RGCN training epochs")->capture_default_str();
  cmd->add_option("--rgcn-hidden", opt->rgcn_hidden, "RGCN d_g (the paper's 1024 is slow on 2 cores)")->capture_default_str();
  cmd->callback([opt] { run_pipeline(*opt); });
}

}  // namespace spir
