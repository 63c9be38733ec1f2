#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "core/error.h"
#include "core/line_io.h"
#include "eval/predictions.h"

namespace spir {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* kCurvesHeader = "step,platform,acc,mse,n";

void check_lengths(size_t labels, size_t predictions) {
  if (labels != predictions)
    throw Error("metrics: " + std::to_string(labels) + " labels but " + std::to_string(predictions) + " predictions");
}

}  // namespace

int round_level(double prediction) {
  if (!std::isfinite(prediction)) return 0;
  const double r = std::floor(prediction + 0.5);  // Eq. 15: halves round up
  return static_cast<int>(std::clamp(r, 0.0, static_cast<double>(kNumLevels - 1)));  // clamp to 0..9
}

Metrics compute_metrics(const std::vector<int>& labels, const std::vector<double>& predictions) {
  check_lengths(labels.size(), predictions.size());
  Metrics m;
  m.n = static_cast<int64_t>(labels.size());
  if (m.n == 0) {
    m.acc = m.mse = m.mae = kNaN;
    return m;
  }
  double hits = 0, se = 0, ae = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double d = labels[i] - predictions[i];
    hits += round_level(predictions[i]) == labels[i] ? 1 : 0;  // Eq. 15
    se += d * d;                                               // Eq. 16
    ae += std::fabs(d);                                        // Eq. 17
  }
  m.acc = hits / m.n;
  m.mse = se / m.n;
  m.mae = ae / m.n;
  return m;
}

ErrorSummary summarize_errors(std::vector<double> values) {
  ErrorSummary s;
  if (values.empty()) {
    s.min = s.q1 = s.median = s.q3 = s.max = s.mean = kNaN;
    return s;
  }
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  s.q1 = quantile_sorted(values, 0.25);
  s.median = quantile_sorted(values, 0.5);
  s.q3 = quantile_sorted(values, 0.75);
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(values.size());
  return s;
}

Period period_of(int64_t observed_days) {
  if (observed_days <= 3) return Period::kShort;
  return observed_days <= 7 ? Period::kMedium : Period::kLong;
}

const char* period_name(Period p) {
  switch (p) {
    case Period::kShort: return "<=3 days";
    case Period::kMedium: return "4-7 days";
    case Period::kLong: return ">7 days";
  }
  return "?";
}

ConfusionMatrix confusion_matrix(const std::vector<int>& labels, const std::vector<double>& predictions) {
  check_lengths(labels.size(), predictions.size());
  ConfusionMatrix c{};
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= kNumLevels)
      throw Error("confusion matrix: label " + std::to_string(labels[i]) + " is outside 0..9");
    ++c[static_cast<size_t>(labels[i])][static_cast<size_t>(round_level(predictions[i]))];
  }
  return c;
}

GroupMetrics group_metrics(const std::string& group, const std::vector<int>& labels, const std::vector<double>& predictions) {
  GroupMetrics g;
  g.group = group;
  g.metrics = compute_metrics(labels, predictions);
  std::vector<double> sq(labels.size()), ab(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    const double d = labels[i] - predictions[i];
    sq[i] = d * d;
    ab[i] = std::fabs(d);
  }
  g.squared = summarize_errors(std::move(sq));
  g.absolute = summarize_errors(std::move(ab));
  return g;
}

Evaluation evaluate_scored(const std::vector<ScoredSample>& rows) {
  struct Lists {
    std::vector<int> labels;
    std::vector<double> predictions;
    void add(const ScoredSample& r) { labels.push_back(r.label), predictions.push_back(r.prediction); }
  };
  Lists all;
  std::map<std::string, Lists> platforms;
  std::array<Lists, kNumPeriods> periods;
  for (const ScoredSample& r : rows) {
    all.add(r);
    platforms[r.platform].add(r);
    periods[static_cast<size_t>(period_of(r.observed_days))].add(r);
  }
  Evaluation e;
  e.overall = group_metrics("all", all.labels, all.predictions);
  for (const auto& [name, l] : platforms) e.by_platform.push_back(group_metrics(name, l.labels, l.predictions));
  for (int p = 0; p < kNumPeriods; ++p)
    e.by_period.push_back(group_metrics(period_name(static_cast<Period>(p)), periods[static_cast<size_t>(p)].labels,
                                        periods[static_cast<size_t>(p)].predictions));
  e.confusion = confusion_matrix(all.labels, all.predictions);
  return e;
}

// ---- curves ---------------------------------------------------------------------------------------------------

std::string curves_path(const std::string& ds_dir, const std::string& name) { return model_dir(ds_dir, name) + "/curves.csv"; }

std::vector<CurvePoint> curve_points_at(int64_t step, const std::vector<ScoredSample>& rows) {
  const Evaluation e = evaluate_scored(rows);
  std::vector<CurvePoint> out;
  for (const GroupMetrics& g : e.by_platform) out.push_back({step, g.group, g.metrics.acc, g.metrics.mse, g.metrics.n});
  out.push_back({step, "all", e.overall.metrics.acc, e.overall.metrics.mse, e.overall.metrics.n});
  return out;
}

namespace {

std::string curve_line(const CurvePoint& p) {
  if (p.platform.empty() || p.platform.find_first_of(",\"\n\r") != std::string::npos)
    throw Error("curves: platform name '" + p.platform + "' is empty or holds a comma, quote or newline");
  char buf[96];
  std::snprintf(buf, sizeof buf, ",%.6f,%.6f,%lld", p.acc, p.mse, static_cast<long long>(p.n));
  return std::to_string(p.step) + "," + p.platform + buf;
}

}  // namespace

void append_curve_points(const std::string& path, const std::vector<CurvePoint>& points) {
  namespace fs = std::filesystem;
  std::string text;
  for (const CurvePoint& p : points) text += curve_line(p) + "\n";
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  bool fresh = !fs::exists(path) || fs::file_size(path) == 0;
  if (!fresh) {
    // Cut a partial last line (a process killed mid-write) back to the last newline.
    const std::string old = read_file(path);
    if (old.back() != '\n') {
      const size_t keep = old.rfind('\n');
      fs::resize_file(path, keep == std::string::npos ? 0 : keep + 1, ec);
      if (ec) throw Error(path + ": cannot truncate a partial last line: " + ec.message());
      fresh = keep == std::string::npos;
    }
  }
  if (fresh) text = std::string(kCurvesHeader) + "\n" + text;
  std::ofstream out(path, std::ios::app | std::ios::binary);
  if (!out) throw Error(path + ": cannot open for appending");
  out << text;
  out.flush();
  if (!out) throw Error(path + ": write failed");
}

void save_curves(const std::string& path, const std::vector<CurvePoint>& points) {
  std::string text = std::string(kCurvesHeader) + "\n";
  for (const CurvePoint& p : points) text += curve_line(p) + "\n";
  write_file_atomic(path, text);
}

std::vector<CurvePoint> load_curves(const std::string& path) {
  LineReader in(path);
  std::string_view line;
  if (!in.next(line) || line != kCurvesHeader)
    throw InputError(path, 1, "", "bad_header", std::string("expected the header '") + kCurvesHeader + "'");
  std::map<std::pair<std::string, int64_t>, CurvePoint> rows;
  while (in.next(line)) {
    if (line.empty()) continue;
    std::vector<std::string> f(1);
    for (char c : line) {
      if (c == ',') f.emplace_back();
      else f.back().push_back(c);
    }
    const int64_t ln = in.line_number();
    if (f.size() != 5) throw InputError(path, ln, "", "bad_row", "expected 5 fields, got " + std::to_string(f.size()));
    CurvePoint p;
    char* end = nullptr;
    auto integer = [&](const std::string& s, const char* field) {
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0') throw InputError(path, ln, field, "bad_value", "not an integer: '" + s + "'");
      return static_cast<int64_t>(v);
    };
    auto number = [&](const std::string& s, const char* field) {
      const double v = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0') throw InputError(path, ln, field, "bad_value", "not a number: '" + s + "'");
      return v;
    };
    p.step = integer(f[0], "step");
    p.platform = f[1];
    if (p.platform.empty()) throw InputError(path, ln, "platform", "bad_value", "empty platform");
    p.acc = number(f[2], "acc");
    p.mse = number(f[3], "mse");
    p.n = integer(f[4], "n");
    rows[{p.platform, p.step}] = p;
  }
  std::vector<CurvePoint> out;
  out.reserve(rows.size());
  for (auto& [key, p] : rows) out.push_back(std::move(p));
  return out;
}

}  // namespace spir
