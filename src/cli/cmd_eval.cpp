// spir eval: evaluate a trained model with the paper's metrics (Eq. 15-17), per platform and per observation
// period, then rewrite the dataset's report (report.md, report.json, report/ figures) over every model.
#include <cstdio>
#include <iostream>
#include <memory>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "core/json_file.h"
#include "eval/report.h"

namespace spir {

namespace {

struct EvalCommand {
  std::string dir, model, split = "test";
  bool all = false;
};

// A number of report.json as four decimals ("-" for null).
std::string json4(const nlohmann::json& v) {
  if (!v.is_number()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v.get<double>());
  return buf;
}

// Table V as written to report.json, for the terminal.
void print_summary(const std::string& dir) {
  const nlohmann::json j = read_json(dir + "/report.json");
  std::vector<nlohmann::json> rows(j["models"].begin(), j["models"].end());
  if (j["constant"].is_object()) rows.push_back(j["constant"]);
  std::printf("  %-24s %-22s %8s %8s %8s %8s\n", "model", "input", "n", "ACC", "MSE", "MAE");
  for (const auto& r : rows) {
    const bool ref = r.value("reference", false);
    const std::string name = ref ? "constant (reference)" : r.value("name", "?");
    std::printf("  %-24s %-22s %8lld %8s %8s %8s\n", name.c_str(), r.value("input", "").c_str(),
                static_cast<long long>(r.value("n", 0)), json4(r["acc"]).c_str(), json4(r["mse"]).c_str(), json4(r["mae"]).c_str());
  }
  for (const auto& l : j["left_out"]) std::cout << "  left out " << l.value("name", "") << ": " << l.value("reason", "") << "\n";
}

void run_eval(const EvalCommand& c) {
  if (c.all == !c.model.empty()) throw Error("spir eval: give either --model NAME or --all");
  if (!c.model.empty()) {
    const EvalReport r = evaluate_model(c.dir, c.model, c.split);
    std::cout << eval_text(r) << "wrote " << c.dir << "/models/" << c.model << "/eval.json\n";
  }
  write_report(c.dir);
  if (c.all) {
    std::cout << "test split\n";
    print_summary(c.dir);
  }
  std::cout << "wrote " << c.dir << "/report.md, " << c.dir << "/report.json and figures in " << c.dir << "/report/\n";
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto c = std::make_shared<EvalCommand>();
  auto* cmd = app.add_subcommand("eval", "Evaluate models: ACC, MSE, MAE (Eq. 15-17) per platform and observation period; "
                                         "rewrite DS/report.md and DS/report.json");
  cmd->add_option("dataset", c->dir, "dataset folder (holds samples.csv, videos.bin and models/)")->required()->check(CLI::ExistingDirectory);
  auto* model = cmd->add_option("--model", c->model, "model folder name under DS/models/ (e.g. rgcn, rgcn-VV)");
  cmd->add_option("--split", c->split, "split to evaluate the model on (the report always uses test)")
      ->check(CLI::IsMember({"train", "val", "test"}))
      ->capture_default_str()
      ->needs(model);
  cmd->add_flag("--all", c->all, "only rewrite the report for every model folder with predictions")->excludes(model);
  cmd->callback([c] { run_eval(*c); });
}

}  // namespace spir
