#include "eval/report.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "core/json_file.h"
#include "core/line_io.h"
#include "data/video_store.h"
#include "eval/predictions.h"

namespace spir {

namespace fs = std::filesystem;

namespace {

// ---- formatting -----------------------------------------------------------------------------------------------

// Four decimals like Tables V and VI; "-" for an undefined value (an empty group).
std::string fmt4(double v) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

// A number for a gnuplot data file.
std::string fmt_dat(double v) {
  if (!std::isfinite(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// NaN becomes null in JSON (nlohmann would write null anyway; explicit for readers).
nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count UTF-8 code points
  return n;
}

// A table of text cells: numeric columns right-aligned, text columns left-aligned.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// A column is numeric when every cell is a number or "-" (the first column never is: it names the rows).
bool right_aligned(const Table& t, size_t col) {
  if (col == 0) return false;
  for (const auto& r : t.rows) {
    if (col >= r.size() || r[col] == "-") continue;
    char* end = nullptr;
    std::strtod(r[col].c_str(), &end);
    if (r[col].empty() || *end != '\0') return false;
  }
  return true;
}

std::string markdown(const Table& t) {
  auto esc = [](const std::string& s) {
    std::string o;
    for (char c : s) o += c == '|' ? std::string("\\|") : std::string(1, c);
    return o;
  };
  std::string out = "|";
  for (const auto& h : t.header) out += " " + esc(h) + " |";
  out += "\n|";
  for (size_t i = 0; i < t.header.size(); ++i) out += right_aligned(t, i) ? "---:|" : "---|";
  out += "\n";
  for (const auto& r : t.rows) {
    out += "|";
    for (const auto& c : r) out += " " + esc(c) + " |";
    out += "\n";
  }
  return out;
}

std::string terminal(const Table& t, const std::string& indent = "  ") {
  std::vector<size_t> w(t.header.size(), 0);
  auto widen = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], display_width(r[i]));
  };
  widen(t.header);
  for (const auto& r : t.rows) widen(r);
  auto line = [&](const std::vector<std::string>& r) {
    std::string out = indent;
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) {
      const std::string pad(w[i] - display_width(r[i]), ' ');
      out += (i == 0 ? "" : "  ") + (right_aligned(t, i) ? pad + r[i] : r[i] + pad);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(t.header);
  for (const auto& r : t.rows) out += line(r);
  return out;
}

// ---- JSON ----------------------------------------------------------------------------------------------------

nlohmann::json summary_json(const ErrorSummary& s) {
  return {{"min", num(s.min)}, {"q1", num(s.q1)}, {"median", num(s.median)}, {"q3", num(s.q3)}, {"max", num(s.max)},
          {"mean", num(s.mean)}};
}

nlohmann::json group_json(const GroupMetrics& g) {
  return {{"group", g.group},
          {"n", g.metrics.n},
          {"acc", num(g.metrics.acc)},
          {"mse", num(g.metrics.mse)},
          {"mae", num(g.metrics.mae)},
          {"squared_error", summary_json(g.squared)},
          {"absolute_error", summary_json(g.absolute)}};
}

Split parse_split(const std::string& s) {
  if (s == "train") return Split::kTrain;
  if (s == "val") return Split::kVal;
  if (s == "test") return Split::kTest;
  throw Error("unknown split '" + s + "' (train, val or test)");
}

std::string info_string(const nlohmann::json& info, const char* key) {
  if (!info.is_object() || !info.contains(key) || info[key].is_null()) return "";
  return info[key].is_string() ? info[key].get<std::string>() : info[key].dump();
}

// A name safe in file names and as one gnuplot word.
std::string file_safe(const std::string& s) {
  std::string o;
  for (char c : s) o += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return o.empty() ? "_" : o;
}

std::string shell_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

}  // namespace

// ---- one model ------------------------------------------------------------------------------------------------

namespace {

// evaluate_model without writing eval.json (the report evaluates every model on the test split only).
EvalReport evaluate_loaded(const Dataset& ds, const std::string& name, const std::string& split) {
  const Split want = parse_split(split);
  const std::string dir = model_dir(ds.dir, name);
  const std::string pred_path = dir + "/predictions.csv";
  if (!fs::exists(pred_path))
    throw Error("model '" + name + "': " + pred_path + " is missing; train the model first (it writes its predictions there)");
  EvalReport r;
  r.name = name;
  r.split = split;
  const nlohmann::json info = fs::exists(dir + "/model.json") ? load_model_info(dir) : nlohmann::json::object();
  r.model = info_string(info, "model");
  if (r.model.empty()) r.model = name;
  r.input = info_string(info, "input");
  r.ablation = info_string(info, "ablation");

  std::unordered_map<int64_t, size_t> index;  // sample id -> position in ds.samples
  index.reserve(ds.samples.size());
  for (size_t i = 0; i < ds.samples.size(); ++i) index.emplace(ds.samples[i].id, i);
  std::vector<double> pred(ds.samples.size(), std::nan(""));
  std::vector<char> has(ds.samples.size(), 0);
  for (const Prediction& p : load_predictions(pred_path)) {
    auto it = index.find(p.sample_id);
    if (it == index.end())
      throw Error("model '" + name + "': " + pred_path + " predicts sample " + std::to_string(p.sample_id) +
                  ", which samples.csv does not have (predictions from another dataset? retrain the model)");
    if (has[it->second]) throw Error("model '" + name + "': " + pred_path + " predicts sample " + std::to_string(p.sample_id) + " twice");
    if (!std::isfinite(p.value))
      throw Error("model '" + name + "': " + pred_path + " holds a non-finite prediction for sample " + std::to_string(p.sample_id));
    has[it->second] = 1;
    pred[it->second] = p.value;
  }

  std::vector<ScoredSample> rows;
  int64_t missing = 0, first_missing = -1;
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    const Sample& s = ds.samples[i];
    if (s.level < 0 || s.split != want) continue;
    if (!has[i]) {
      if (missing++ == 0) first_missing = s.id;
      continue;
    }
    rows.push_back({s.level, pred[i], s.observed_days, ds.set.videos[static_cast<size_t>(s.video)].platform});
  }
  if (missing > 0)
    throw Error("model '" + name + "': " + pred_path + " has no prediction for " + std::to_string(missing) + " labelled " + split +
                " sample(s) (first: sample " + std::to_string(first_missing) + "); retrain or rerun its prediction step");
  r.eval = evaluate_scored(rows);
  return r;
}

}  // namespace

EvalReport evaluate_model(const Dataset& ds, const std::string& name, const std::string& split) {
  EvalReport r = evaluate_loaded(ds, name, split);
  write_json(model_dir(ds.dir, name) + "/eval.json", eval_json(r));
  return r;
}

EvalReport evaluate_model(const std::string& ds_dir, const std::string& name, const std::string& split) {
  parse_split(split);  // fail on a bad split before loading anything
  return evaluate_model(load_dataset(ds_dir), name, split);
}

EvalReport evaluate_constant(const Dataset& ds, const std::string& split) {
  const Split want = parse_split(split);
  double sum = 0;
  int64_t n = 0;
  for (const Sample& s : ds.samples)
    if (s.level >= 0 && s.split == Split::kTrain) sum += s.level, ++n;
  if (n == 0) throw Error(ds_path(ds.dir, ds_files::kSamples) + ": no labelled train sample, so no constant predictor");
  const double mean = sum / static_cast<double>(n);
  std::vector<ScoredSample> rows;
  for (const Sample& s : ds.samples)
    if (s.level >= 0 && s.split == want)
      rows.push_back({s.level, mean, s.observed_days, ds.set.videos[static_cast<size_t>(s.video)].platform});
  EvalReport r;
  r.name = "constant";
  r.model = "constant";
  r.input = "train mean " + fmt4(mean);
  r.split = split;
  r.eval = evaluate_scored(rows);
  return r;
}

nlohmann::json eval_json(const EvalReport& r) {
  nlohmann::json j = {{"name", r.name}, {"model", r.model}, {"input", r.input}, {"ablation", r.ablation}, {"split", r.split}};
  const GroupMetrics& o = r.eval.overall;
  j["n"] = o.metrics.n;
  j["acc"] = num(o.metrics.acc);
  j["mse"] = num(o.metrics.mse);
  j["mae"] = num(o.metrics.mae);
  j["squared_error"] = summary_json(o.squared);
  j["absolute_error"] = summary_json(o.absolute);
  j["by_platform"] = nlohmann::json::array();
  for (const auto& g : r.eval.by_platform) j["by_platform"].push_back(group_json(g));
  j["by_period"] = nlohmann::json::array();
  for (const auto& g : r.eval.by_period) j["by_period"].push_back(group_json(g));
  j["confusion"] = r.eval.confusion;  // rows: true level, columns: rounded prediction (Eq. 15)
  j["rounding"] = "nearest integer, halves up, clamped to 0..9";
  return j;
}

namespace {

Table metrics_table(const std::string& first, const std::vector<GroupMetrics>& groups) {
  Table t{{first, "n", "ACC", "MSE", "MAE"}, {}};
  for (const auto& g : groups)
    t.rows.push_back({g.group, std::to_string(g.metrics.n), fmt4(g.metrics.acc), fmt4(g.metrics.mse), fmt4(g.metrics.mae)});
  return t;
}

// Figure 8's boxes as rows: one per (period, error kind).
Table boxes_table(const std::vector<GroupMetrics>& periods) {
  Table t{{"Period", "Error", "min", "Q1", "median", "Q3", "max", "mean"}, {}};
  for (const auto& g : periods) {
    for (int k = 0; k < 2; ++k) {
      const ErrorSummary& s = k == 0 ? g.squared : g.absolute;
      t.rows.push_back({g.group, k == 0 ? "squared" : "absolute", fmt4(s.min), fmt4(s.q1), fmt4(s.median), fmt4(s.q3), fmt4(s.max),
                        fmt4(s.mean)});
    }
  }
  return t;
}

Table confusion_table(const ConfusionMatrix& c) {
  Table t{{"true \\ predicted"}, {}};
  for (int p = 0; p < kNumLevels; ++p) t.header.push_back(std::to_string(p));
  for (int y = 0; y < kNumLevels; ++y) {
    std::vector<std::string> row{std::to_string(y)};
    for (int p = 0; p < kNumLevels; ++p) row.push_back(std::to_string(c[static_cast<size_t>(y)][static_cast<size_t>(p)]));
    t.rows.push_back(row);
  }
  return t;
}

}  // namespace

std::string eval_text(const EvalReport& r) {
  const Metrics& m = r.eval.overall.metrics;
  std::string out = "model " + r.name + (r.input.empty() ? "" : " (" + r.input + ")") + " on the " + r.split + " split: " +
                    std::to_string(m.n) + " labelled samples\n";
  out += "  ACC " + fmt4(m.acc) + "   MSE " + fmt4(m.mse) + "   MAE " + fmt4(m.mae) + "   (Eq. 15-17)\n";
  out += "per platform\n" + terminal(metrics_table("platform", r.eval.by_platform));
  Table t{{"period", "n", "ACC", "MSE", "MAE", "SE median", "SE mean", "AE median", "AE mean"}, {}};
  for (const auto& g : r.eval.by_period)
    t.rows.push_back({g.group, std::to_string(g.metrics.n), fmt4(g.metrics.acc), fmt4(g.metrics.mse), fmt4(g.metrics.mae),
                      fmt4(g.squared.median), fmt4(g.squared.mean), fmt4(g.absolute.median), fmt4(g.absolute.mean)});
  out += "per observation period (Figure 8)\n" + terminal(t);
  return out;
}

// ---- the dataset report ---------------------------------------------------------------------------------------

namespace {

// Which gnuplot PNG terminal works here: "pngcairo", "png", or "" when gnuplot is missing or has neither.
std::string gnuplot_terminal() {
  if (std::system("gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1") == 0) return "pngcairo";
  if (std::system("gnuplot -e 'set terminal png' >/dev/null 2>&1") == 0) return "png";
  return "";
}

// A figure: its data and script are written to DS/report/; the PNG is made when gnuplot is there.
struct Figure {
  std::string png, caption;
  bool made = false;
  std::string error;  // why the PNG is missing, when gnuplot was there but failed
};

struct FigureWriter {
  std::string dir, term;

  // Writes <stem>.gp (with the terminal lines prepended) and runs it in dir.
  Figure make(const std::string& stem, const std::string& caption, const std::string& body, const std::string& size) {
    Figure f;
    f.png = stem + ".png";
    f.caption = caption;
    const std::string head = "set terminal " + (term.empty() ? std::string("pngcairo") : term) + " size " + size +
                             "\nset termoption noenhanced\nset output '" + f.png + "'\n";
    write_file_atomic(dir + "/" + stem + ".gp", head + body);
    if (term.empty()) return f;
    const std::string cmd = "cd " + shell_quote(dir) + " && gnuplot " + shell_quote(stem + ".gp") + " >" + shell_quote(stem + ".log") + " 2>&1";
    const int rc = std::system(cmd.c_str());
    f.made = rc == 0 && fs::exists(dir + "/" + f.png);
    if (!f.made) {
      f.error = "gnuplot failed on " + stem + ".gp (see report/" + stem + ".log)";
      spdlog::warn("{}", f.error);
    } else {
      std::error_code ec;
      fs::remove(dir + "/" + stem + ".log", ec);
    }
    return f;
  }
};

// Level counts per split, labelled samples only (Figure 4(d)).
std::array<std::array<int64_t, kNumLevels>, 3> level_counts(const Dataset& ds) {
  std::array<std::array<int64_t, kNumLevels>, 3> c{};
  for (const Sample& s : ds.samples)
    if (s.level >= 0 && s.level < kNumLevels) ++c[static_cast<size_t>(s.split)][static_cast<size_t>(s.level)];
  return c;
}

Figure levels_figure(FigureWriter& fw, const std::array<std::array<int64_t, kNumLevels>, 3>& c) {
  int64_t tr = 0, te = 0;
  for (int l = 0; l < kNumLevels; ++l) tr += c[0][static_cast<size_t>(l)], te += c[2][static_cast<size_t>(l)];
  std::string dat = "# level train_share test_share train_count test_count\n";
  for (int l = 0; l < kNumLevels; ++l) {
    const auto a = c[0][static_cast<size_t>(l)], b = c[2][static_cast<size_t>(l)];
    dat += std::to_string(l) + " " + fmt_dat(tr ? double(a) / tr : 0) + " " + fmt_dat(te ? double(b) / te : 0) + " " +
           std::to_string(a) + " " + std::to_string(b) + "\n";
  }
  write_file_atomic(fw.dir + "/levels.dat", dat);
  const std::string body =
      "set title 'Influence levels of labelled samples: train vs test'\n"
      "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
      "set xlabel 'level'\nset ylabel 'share of samples'\nset yrange [0:*]\nset key top right\nset grid ytics\n"
      "plot 'levels.dat' using 2:xtic(1) title 'train', '' using 3 title 'test'\n";
  return fw.make("levels", "Level distribution, train vs test", body, "800,500");
}

// Figure 8: one candlestick per (period, model), whiskers min..max, box Q1..Q3, a bar at the median, a dot at the mean.
Figure period_figure(FigureWriter& fw, const std::vector<const EvalReport*>& models, bool squared) {
  const std::string kind = squared ? "squared" : "absolute";
  const std::string stem = "fig8_" + kind;
  const size_t m = models.size();
  const double w = 0.8 / static_cast<double>(std::max<size_t>(m, 1));
  std::string dat, titles;
  for (size_t i = 0; i < m; ++i) {
    dat += "# " + models[i]->name + ": x min q1 median q3 max mean n\n";
    titles += (i ? " " : "") + file_safe(models[i]->name);
    for (int p = 0; p < kNumPeriods; ++p) {
      const GroupMetrics& g = models[i]->eval.by_period[static_cast<size_t>(p)];
      if (g.metrics.n == 0) continue;
      const ErrorSummary& s = squared ? g.squared : g.absolute;
      const double x = p + 1 + (static_cast<double>(i) - (static_cast<double>(m) - 1) / 2) * w;
      dat += fmt_dat(x) + " " + fmt_dat(s.min) + " " + fmt_dat(s.q1) + " " + fmt_dat(s.median) + " " + fmt_dat(s.q3) + " " +
             fmt_dat(s.max) + " " + fmt_dat(s.mean) + " " + std::to_string(g.metrics.n) + "\n";
    }
    dat += "\n\n";  // gnuplot data block separator (index i)
  }
  write_file_atomic(fw.dir + "/" + stem + ".dat", dat);
  std::ostringstream b;
  b << "set title 'Figure 8: " << kind << " errors per observation period (test split)'\n"
    << "set xtics ('<=3 days' 1, '4-7 days' 2, '>7 days' 3)\nset xrange [0.4:3.6]\nset yrange [0:*]\n"
    << "set ylabel '" << kind << " error'\nset boxwidth " << fmt_dat(w * 0.85) << " absolute\n"
    << "set style fill solid 0.35 border -1\nset key outside right\nset grid ytics\n"
    << "titles = '" << titles << "'\n"
    << "plot for [i=0:" << (m ? m - 1 : 0) << "] '" << stem << ".dat' index i using 1:3:2:6:5 with candlesticks whiskerbars "
    << "lc i+1 title word(titles, i+1), \\\n"
    << "     for [i=0:" << (m ? m - 1 : 0) << "] '" << stem << ".dat' index i using 1:4:4:4:4 with candlesticks lc i+1 lw 2 notitle, \\\n"
    << "     for [i=0:" << (m ? m - 1 : 0) << "] '" << stem << ".dat' index i using 1:7 with points pt 7 ps 0.8 lc i+1 notitle\n";
  return fw.make(stem, "Figure 8: " + kind + " errors per observation period", b.str(), "1000,550");
}

// Figure 9: ACC and MSE per platform against the training step, from one model's curves.csv.
Figure curve_figure(FigureWriter& fw, const std::string& name, const std::vector<CurvePoint>& points) {
  const std::string stem = "fig9_" + file_safe(name);
  std::map<std::string, std::vector<const CurvePoint*>> by_platform;  // load_curves sorts by platform, then step
  for (const CurvePoint& p : points) by_platform[p.platform].push_back(&p);
  std::string dat, titles;
  for (const auto& [platform, rows] : by_platform) {
    dat += "# " + platform + ": step acc mse n\n";
    titles += (titles.empty() ? "" : " ") + file_safe(platform);
    for (const CurvePoint* p : rows)
      dat += std::to_string(p->step) + " " + fmt_dat(p->acc) + " " + fmt_dat(p->mse) + " " + std::to_string(p->n) + "\n";
    dat += "\n\n";
  }
  write_file_atomic(fw.dir + "/" + stem + ".dat", dat);
  const size_t last = by_platform.empty() ? 0 : by_platform.size() - 1;
  std::ostringstream b;
  b << "titles = '" << titles << "'\nset multiplot layout 1,2 title 'Figure 9: training of " << file_safe(name) << "'\n"
    << "set xlabel 'step'\nset grid\nset key bottom right\n"
    << "set title '(a) ACC'\nset ylabel 'ACC'\n"
    << "plot for [i=0:" << last << "] '" << stem << ".dat' index i using 1:2 with linespoints pt 7 ps 0.4 title word(titles, i+1)\n"
    << "set title '(b) MSE'\nset ylabel 'MSE'\nset key top right\n"
    << "plot for [i=0:" << last << "] '" << stem << ".dat' index i using 1:3 with linespoints pt 7 ps 0.4 title word(titles, i+1)\n"
    << "unset multiplot\n";
  return fw.make(stem, "Figure 9: ACC and MSE per platform during the training of " + name, b.str(), "1200,500");
}

std::string figure_md(const Figure& f) {
  if (f.made) return "![" + f.caption + "](report/" + f.png + ")\n\n";
  return "*" + f.caption + ": not drawn" + (f.error.empty() ? "" : " — " + f.error) + "; data and gnuplot script in `report/`.*\n\n";
}

nlohmann::json figure_json(const Figure& f) {
  return {{"png", "report/" + f.png}, {"caption", f.caption}, {"made", f.made}, {"error", f.error}};
}

Table models_table(const std::vector<const EvalReport*>& models, bool with_input) {
  Table t;
  t.header = {"Model"};
  if (with_input) t.header.push_back("Input");
  for (const char* h : {"n", "ACC↑", "MSE↓", "MAE↓"}) t.header.push_back(h);
  for (const EvalReport* r : models) {
    const Metrics& m = r->eval.overall.metrics;
    std::vector<std::string> row{r->name};
    if (with_input) row.push_back(r->input.empty() ? "-" : r->input);
    for (std::string c : {std::to_string(m.n), fmt4(m.acc), fmt4(m.mse), fmt4(m.mae)}) row.push_back(c);
    t.rows.push_back(row);
  }
  return t;
}

}  // namespace

void write_report(const std::string& ds_dir) {
  const Dataset ds = load_dataset(ds_dir);
  const std::string split = "test";

  // Every model folder with predictions, by name.
  std::vector<std::string> names;
  const fs::path models_root = fs::path(ds_dir) / "models";
  if (fs::is_directory(models_root))
    for (const auto& e : fs::directory_iterator(models_root))
      if (e.is_directory() && fs::exists(e.path() / "predictions.csv")) names.push_back(e.path().filename().string());
  // Table V's order (graph models, then language models, then NetGPT), then the practitioner baselines; ablation
  // runs ("rgcn-VV") follow their base model; anything else alphabetically at the end.
  auto table_rank = [](const std::string& name) {
    static const char* kOrder[] = {"gcn", "han", "hetsann", "rgcn", "rgcn-sampled", "llm", "netgpt", "gbdt", "persistence"};
    int best = 100;
    size_t best_len = 0;
    for (int i = 0; i < static_cast<int>(std::size(kOrder)); ++i) {
      const std::string m = kOrder[i];
      const bool match = name == m || (name.size() > m.size() && name.compare(0, m.size(), m) == 0 && name[m.size()] == '-');
      if (match && m.size() > best_len) best = i, best_len = m.size();
    }
    return best;
  };
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    const int ra = table_rank(a), rb = table_rank(b);
    return ra != rb ? ra < rb : a < b;
  });

  std::vector<EvalReport> reports;
  std::vector<std::pair<std::string, std::string>> left_out;  // name, reason
  for (const std::string& n : names) {
    try {
      reports.push_back(evaluate_loaded(ds, n, split));
    } catch (const Error& e) {
      spdlog::warn("report: {} left out: {}", n, e.what());
      left_out.emplace_back(n, e.what());
    }
  }
  std::optional<EvalReport> constant;
  std::string constant_note;
  try {
    constant = evaluate_constant(ds, split);
  } catch (const Error& e) {
    constant_note = e.what();
  }

  // Full models (Table V) and ablation runs grouped under their base model (Table VI).
  std::vector<const EvalReport*> full, all;
  std::map<std::string, std::vector<const EvalReport*>> ablations;  // base model -> runs
  for (const EvalReport& r : reports) {
    all.push_back(&r);
    if (r.ablation.empty()) full.push_back(&r);
    else ablations[r.model].push_back(&r);
  }
  auto base_of = [&](const std::string& model) -> const EvalReport* {
    const EvalReport* found = nullptr;
    for (const EvalReport* r : full)
      if (r->model == model && (!found || r->name == model)) found = r;
    return found;
  };
  const EvalReport* const_ptr = constant ? &*constant : nullptr;
  std::vector<const EvalReport*> with_constant = all;
  if (const_ptr) with_constant.push_back(const_ptr);
  auto heading = [&](const EvalReport* r) { return r == const_ptr ? std::string("constant (reference)") : r->name; };

  // Figures.
  const std::string fig_dir = (fs::path(ds_dir) / "report").string();
  fs::create_directories(fig_dir);
  for (const auto& e : fs::directory_iterator(fig_dir)) {  // stale figures of models since removed
    const std::string ext = e.path().extension().string();
    std::error_code ec;
    if (e.is_regular_file() && (ext == ".png" || ext == ".dat" || ext == ".gp" || ext == ".log")) fs::remove(e.path(), ec);
  }
  FigureWriter fw{fig_dir, gnuplot_terminal()};
  if (fw.term.empty()) spdlog::warn("report: gnuplot (pngcairo or png terminal) not found; writing figure data and scripts only");
  const auto levels = level_counts(ds);
  std::vector<Figure> figures;
  figures.push_back(levels_figure(fw, levels));
  const Figure levels_fig = figures.back();
  std::vector<Figure> period_figs;
  if (!with_constant.empty()) {
    period_figs.push_back(period_figure(fw, with_constant, true));
    period_figs.push_back(period_figure(fw, with_constant, false));
    for (const auto& f : period_figs) figures.push_back(f);
  }
  std::vector<std::pair<std::string, Figure>> curve_figs;
  nlohmann::json curves_json = nlohmann::json::object();
  for (const EvalReport* r : all) {
    const std::string path = curves_path(ds_dir, r->name);
    if (!fs::exists(path)) continue;
    try {
      const std::vector<CurvePoint> pts = load_curves(path);
      nlohmann::json arr = nlohmann::json::array();
      for (const CurvePoint& p : pts)
        arr.push_back({{"step", p.step}, {"platform", p.platform}, {"acc", num(p.acc)}, {"mse", num(p.mse)}, {"n", p.n}});
      curves_json[r->name] = arr;
      curve_figs.emplace_back(r->name, curve_figure(fw, r->name, pts));
      figures.push_back(curve_figs.back().second);
    } catch (const Error& e) {
      spdlog::warn("report: curves of {} left out: {}", r->name, e.what());
      left_out.emplace_back(r->name + " (curves.csv)", e.what());
    }
  }

  // report.md
  int64_t labelled = 0, test_labelled = 0;
  for (const Sample& s : ds.samples) {
    if (s.level < 0) continue;
    ++labelled;
    if (s.split == Split::kTest) ++test_labelled;
  }
  std::string md = "# SPIR evaluation report\n\n";
  md += "Dataset `" + ds_dir + "`: " + std::to_string(ds.samples.size()) + " samples, " + std::to_string(labelled) +
        " labelled, " + std::to_string(test_labelled) + " labelled in the test split. " + std::to_string(reports.size()) +
        " model(s) evaluated on the test split. Metrics of paper 5.2: ACC (Eq. 15; the prediction is rounded to the "
        "nearest level, halves up, and clamped to 0..9), MSE (Eq. 16), MAE (Eq. 17) on the continuous prediction.\n\n";

  md += "## Results on the test split (Table V)\n\n";
  {
    Table t = models_table(full, true);
    if (constant) {
      const Metrics& m = constant->eval.overall.metrics;
      t.rows.push_back({"constant (reference)", constant->input, std::to_string(m.n), fmt4(m.acc), fmt4(m.mse), fmt4(m.mae)});
    }
    md += markdown(t) + "\n";
    md += constant ? "The *constant (reference)* row is not a model: it predicts the mean level of the train split for every "
                     "sample, computed here; a model should beat it.\n\n"
                   : "No constant reference row: " + constant_note + "\n\n";
  }

  md += "## Ablations (Table VI)\n\n";
  if (ablations.empty()) md += "No ablation runs (a model.json with a non-empty \"ablation\").\n\n";
  for (const auto& [base, runs] : ablations) {
    md += "### " + base + "\n\n";
    std::vector<const EvalReport*> rows = runs;
    const EvalReport* b = base_of(base);
    if (b) rows.push_back(b);
    Table t = models_table(rows, false);
    t.header.insert(t.header.begin() + 1, "Ablation");
    for (size_t i = 0; i < rows.size(); ++i) t.rows[i].insert(t.rows[i].begin() + 1, rows[i]->ablation.empty() ? "(full)" : rows[i]->ablation);
    md += markdown(t) + "\n";
    if (!b) md += "The base model '" + base + "' has no evaluated predictions.\n\n";
  }

  md += "## Per platform (test split)\n\n";
  for (const EvalReport* r : with_constant)
    md += "### " + heading(r) + "\n\n" +
          markdown(metrics_table("Platform", r->eval.by_platform)) + "\n";

  md += "## Per observation period (Figure 8)\n\nObservation period = crawl date − post date of the sample: ≤3 days, "
        "4–7 days, >7 days. Boxes: Q1..Q3 with the median, whiskers min..max, dot: mean.\n\n";
  for (const Figure& f : period_figs) md += figure_md(f);
  for (const EvalReport* r : with_constant)
    md += "### " + heading(r) + "\n\n" +
          markdown(metrics_table("Period", r->eval.by_period)) + "\n" + markdown(boxes_table(r->eval.by_period)) + "\n";

  md += "## Confusion matrices (test split)\n\nRows: true level; columns: rounded prediction (Eq. 15).\n\n";
  for (const EvalReport* r : all) md += "### " + r->name + "\n\n" + markdown(confusion_table(r->eval.confusion)) + "\n";

  md += "## Level distribution (train vs test)\n\n";
  {
    Table t{{"Level", "train", "val", "test"}, {}};
    for (int l = 0; l < kNumLevels; ++l)
      t.rows.push_back({std::to_string(l), std::to_string(levels[0][static_cast<size_t>(l)]),
                        std::to_string(levels[1][static_cast<size_t>(l)]), std::to_string(levels[2][static_cast<size_t>(l)])});
    md += markdown(t) + "\n" + figure_md(levels_fig);
  }

  md += "## Training curves (Figure 9)\n\n";
  if (curve_figs.empty()) md += "No model wrote a curves.csv.\n\n";
  for (const auto& [name, f] : curve_figs) md += "### " + name + "\n\n" + figure_md(f);

  if (!left_out.empty()) {
    md += "## Left out\n\n";
    for (const auto& [n, why] : left_out) md += "- **" + n + "**: " + why + "\n";
    md += "\n";
  }
  md += "## Figures\n\n";
  md += fw.term.empty() ? "gnuplot was not found (or has no PNG terminal), so no PNG was drawn: the figure data (`.dat`) and "
                          "gnuplot scripts (`.gp`) are in `report/`; run `gnuplot NAME.gp` there to draw them.\n"
                        : "Drawn with gnuplot (" + fw.term + " terminal); data (`.dat`) and scripts (`.gp`) are in `report/`.\n";

  // report.json
  nlohmann::json j;
  j["dataset"] = ds_dir;
  j["split"] = split;
  j["samples"] = ds.samples.size();
  j["labelled"] = labelled;
  j["labelled_test"] = test_labelled;
  j["rounding"] = "nearest integer, halves up, clamped to 0..9";
  j["models"] = nlohmann::json::array();
  for (const EvalReport* r : all) j["models"].push_back(eval_json(*r));
  if (constant) {
    j["constant"] = eval_json(*constant);
    j["constant"]["reference"] = true;
  } else {
    j["constant"] = nullptr;
  }
  j["ablations"] = nlohmann::json::array();
  for (const auto& [base, runs] : ablations) {
    nlohmann::json a = {{"base", base}, {"base_evaluated", base_of(base) != nullptr}, {"runs", nlohmann::json::array()}};
    for (const EvalReport* r : runs) a["runs"].push_back(r->name);
    j["ablations"].push_back(a);
  }
  j["levels"] = {{"train", levels[0]}, {"val", levels[1]}, {"test", levels[2]}};
  j["curves"] = curves_json;
  j["gnuplot"] = fw.term.empty() ? nlohmann::json(nullptr) : nlohmann::json(fw.term);
  j["figures"] = nlohmann::json::array();
  for (const Figure& f : figures) j["figures"].push_back(figure_json(f));
  j["left_out"] = nlohmann::json::array();
  for (const auto& [n, why] : left_out) j["left_out"].push_back({{"name", n}, {"reason", why}});

  write_file_atomic((fs::path(ds_dir) / "report.md").string(), md);
  write_json((fs::path(ds_dir) / "report.json").string(), j);
  spdlog::info("report: {} model(s), {} figure(s) in {}", reports.size(), figures.size(), fig_dir);
}

}  // namespace spir
