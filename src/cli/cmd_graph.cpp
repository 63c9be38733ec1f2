// spir graph: build the propagation graph (Tables III–IV) and print its exact node and edge counts;
// spir graph export: materialised edge lists for Python users.
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/error.h"
#include "core/json_file.h"
#include "data/dataset.h"
#include "data/video_store.h"
#include "graph/export_pyg.h"
#include "graph/propagation_graph.h"

namespace spir {

namespace {

struct GraphCommand {
  std::string dir, order = "ctime";
  // export
  std::string format = "pyg", out, relations;
  double memory_limit_gb = 0;
};

void run_graph(const GraphCommand& c) {
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset d = load_dataset(c.dir);
  const PropagationGraph g = build_graph(d.set, d.samples, {parse_graph_order(c.order)});
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << graph_tables_text(g) << "built in " << secs << " s\n";
  nlohmann::json j = graph_tables_json(g);
  j["seconds"] = secs;
  const std::string path = c.dir + "/graph-" + c.order + ".json";
  write_json(path, j);
  std::cout << "wrote " << path << "\n";
}

void run_export(const GraphCommand& c) {
  if (c.format != "pyg") throw Error("unknown export format '" + c.format + "' (only pyg)");
  const Dataset d = load_dataset(c.dir);
  const PropagationGraph g = build_graph(d.set, d.samples, {parse_graph_order(c.order)});
  ExportOptions opt;
  opt.relations = parse_relations(c.relations);
  opt.memory_limit_bytes = static_cast<int64_t>(c.memory_limit_gb * 1e9);
  const int64_t edges = export_pyg(g, c.out, opt);
  std::cout << "wrote " << edges << " edges to " << c.out << " (Python: d = torch.load('" << c.out
            << "'); d['edge_index']['video|is_history_of|video'])\n";
}

}  // namespace

void add_graph_command(CLI::App& app) {
  auto c = std::make_shared<GraphCommand>();
  auto* cmd = app.add_subcommand("graph", "Build the propagation graph and print Tables III and IV (exact counts)");
  cmd->add_option("dataset", c->dir, "dataset folder written by 'spir annotate'")->check(CLI::ExistingDirectory);
  cmd->add_option("--order", c->order, "video-to-video time order: ctime (no look-ahead) or post (the paper's)")
      ->check(CLI::IsMember({"ctime", "post"}))->capture_default_str();
  auto* exp = cmd->add_subcommand("export", "Write materialised edge lists (PyG-style dict, torch.load-able)");
  exp->add_option("dataset", c->dir, "dataset folder written by 'spir annotate'")->required()->check(CLI::ExistingDirectory);
  exp->add_option("--format", c->format, "pyg")->capture_default_str();
  exp->add_option("--out", c->out, "output file, e.g. g.pt")->required();
  exp->add_option("--order", c->order, "ctime or post")->check(CLI::IsMember({"ctime", "post"}))->capture_default_str();
  exp->add_option("--relations", c->relations, "comma-separated Table IV relation names (default: all 17)");
  exp->add_option("--memory-limit-gb", c->memory_limit_gb, "refuse above this much memory (default: 70% of available)");
  exp->callback([c] { run_export(*c); });
  cmd->callback([c, cmd, exp] {
    if (exp->parsed()) return;
    if (c->dir.empty()) throw CLI::RequiredError("dataset");
    run_graph(*c);
  });
}

}  // namespace spir
