#include "data/alignment.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <set>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "core/utf8.h"

namespace spir {

double alpha_eq1(const std::vector<CountPair>& pairs) {
  double num = 0, den = 0;
  for (const CountPair& p : pairs) {
    const double w = 1.0 / ((p.ref + 1) * (p.ref + 1));
    num += p.ref * p.other * w;
    den += p.other * p.other * w;
  }
  return den > 0 ? num / den : 1.0;
}

double eq1_objective(const std::vector<CountPair>& pairs, double alpha) {
  if (pairs.empty()) return 0;
  double sum = 0;
  for (const CountPair& p : pairs) {
    const double e = (p.ref - alpha * p.other) / (p.ref + 1);
    sum += e * e;
  }
  return sum / static_cast<double>(pairs.size());
}

double alpha_median_log_ratio(const std::vector<CountPair>& pairs) {
  std::vector<double> r;
  for (const CountPair& p : pairs)
    if (p.ref > 0 && p.other > 0) r.push_back(std::log(p.ref / p.other));
  if (r.empty()) return 1.0;
  const size_t mid = r.size() / 2;
  std::nth_element(r.begin(), r.begin() + mid, r.end());
  double m = r[mid];
  if (r.size() % 2 == 0) m = 0.5 * (m + *std::max_element(r.begin(), r.begin() + mid));
  return std::exp(m);
}

namespace {
// Sum of the k largest values over the sum of all (0 when all are 0).
double top_k_share(std::vector<double> terms, size_t k) {
  const double total = std::accumulate(terms.begin(), terms.end(), 0.0);
  if (total <= 0) return 0;
  k = std::min(k, terms.size());
  std::partial_sort(terms.begin(), terms.begin() + k, terms.end(), std::greater<double>());
  return std::accumulate(terms.begin(), terms.begin() + k, 0.0) / total;
}
}  // namespace

double top_pairs_share(const std::vector<CountPair>& pairs, double alpha, size_t k) {
  std::vector<double> terms;
  for (const CountPair& p : pairs) {
    const double e = (p.ref - alpha * p.other) / (p.ref + 1);
    terms.push_back(e * e);
  }
  return top_k_share(std::move(terms), k);
}

double top_weight_share(const std::vector<CountPair>& pairs, size_t k) {
  std::vector<double> w;
  for (const CountPair& p : pairs) w.push_back(p.other * p.other / ((p.ref + 1) * (p.ref + 1)));
  return top_k_share(std::move(w), k);
}

std::map<std::string, std::vector<VideoPairRef>> cross_post_pairs(const VideoSet& set, const std::string& reference) {
  const auto& vs = set.videos;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < vs.size(); ++i) index.emplace(vs[i].platform + '\0' + vs[i].video_id, i);
  // Union-find over cross-post links: a group is one piece of content on several platforms.
  std::vector<size_t> parent(vs.size());
  std::iota(parent.begin(), parent.end(), 0);
  std::function<size_t(size_t)> find = [&](size_t x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
  std::vector<bool> linked(vs.size(), false);
  bool any = false;
  for (size_t i = 0; i < vs.size(); ++i) {
    if (vs[i].cross_platform.empty()) continue;
    auto it = index.find(vs[i].cross_platform + '\0' + vs[i].cross_video_id);
    if (it == index.end()) continue;
    parent[find(i)] = find(it->second);
    linked[i] = linked[it->second] = true;
    any = true;
  }
  std::map<std::string, std::vector<VideoPairRef>> out;
  if (!any) return out;
  std::unordered_map<size_t, std::vector<size_t>> groups;
  for (size_t i = 0; i < vs.size(); ++i)
    if (linked[i]) groups[find(i)].push_back(i);
  for (auto& [root, members] : groups) {
    if (members.size() < 2) continue;
    for (size_t r : members) {
      if (vs[r].platform != reference) continue;
      for (size_t o : members)
        if (vs[o].platform != reference) out[vs[o].platform].push_back({r, o});
    }
  }
  for (auto& [p, v] : out)
    std::sort(v.begin(), v.end(), [](const VideoPairRef& a, const VideoPairRef& b) { return a.other < b.other; });
  return out;
}

namespace {

bool is_punctuation(uint32_t cp) {
  if (cp < 0x80) return !std::isalnum(static_cast<int>(cp));
  return (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFF0F) ||
         (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) ||
         cp == 0x00B7 || cp == 0xFE0F;
}


}  // namespace

std::string normalise_title(const std::string& title) {
  std::string out;
  for (char32_t cp : decode_utf8(title)) {
    if (is_punctuation(cp)) continue;
    append_utf8(cp < 0x80 ? static_cast<char32_t>(std::tolower(static_cast<int>(cp))) : cp, out);
  }
  return out;
}

std::vector<VideoPairRef> title_match_pairs(const VideoSet& set, const std::string& platform, const AlignOptions& opt) {
  const auto& vs = set.videos;
  const int64_t window = opt.match_window_hours * 3600;
  std::unordered_map<std::string, std::vector<size_t>> ref_by_title, other_by_title;
  for (size_t i = 0; i < vs.size(); ++i) {
    if (vs[i].platform != opt.reference && vs[i].platform != platform) continue;
    std::string t = normalise_title(vs[i].title);
    if (static_cast<size_t>(count_code_points(t)) < opt.title_min_chars) continue;
    (vs[i].platform == opt.reference ? ref_by_title : other_by_title)[std::move(t)].push_back(i);
  }
  auto close = [&](size_t a, size_t b) { return std::llabs(vs[a].post_time - vs[b].post_time) <= window; };
  std::vector<VideoPairRef> out;
  for (const auto& [title, others] : other_by_title) {
    auto it = ref_by_title.find(title);
    if (it == ref_by_title.end()) continue;
    for (size_t o : others) {
      size_t match = 0, n = 0;
      for (size_t r : it->second)
        if (close(r, o)) match = r, ++n;
      if (n != 1) continue;  // no match or ambiguous
      size_t back = 0;       // unique from the reference side too
      for (size_t o2 : others) back += close(match, o2);
      if (back == 1) out.push_back({match, o});
    }
  }
  std::sort(out.begin(), out.end(), [](const VideoPairRef& a, const VideoPairRef& b) { return a.other < b.other; });
  return out;
}

std::vector<CountPair> count_pairs(const VideoSet& set, const std::vector<VideoPairRef>& pairs, int indicator, int64_t min_count) {
  std::vector<CountPair> out;
  for (const VideoPairRef& p : pairs) {
    const auto& a = set.videos[p.ref].frames;
    const auto& b = set.videos[p.other].frames;
    // Walk both (sorted) frame lists from the end to their latest common usable date.
    size_t i = a.size(), j = b.size();
    while (i > 0 && j > 0) {
      const Frame& fa = a[i - 1];
      const Frame& fb = b[j - 1];
      if (fa.day > fb.day) { --i; continue; }
      if (fb.day > fa.day) { --j; continue; }
      if (!fa.glitch && !fb.glitch && fa.counts[indicator] != kMissing && fb.counts[indicator] != kMissing) {
        if (fa.counts[indicator] >= min_count && fb.counts[indicator] >= min_count)
          out.push_back({static_cast<double>(fa.counts[indicator]), static_cast<double>(fb.counts[indicator])});
        break;
      }
      --i, --j;
    }
  }
  return out;
}

double AlphaTable::alpha(const std::string& platform, int indicator) const {
  for (const AlphaEntry& e : entries)
    if (e.platform == platform && e.indicator == indicator) return e.alpha;
  return 1.0;
}

nlohmann::json AlphaTable::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const AlphaEntry& e : entries)
    rows.push_back({{"platform", e.platform}, {"indicator", indicator_name(e.indicator)}, {"alpha", e.alpha},
                    {"video_pairs", e.video_pairs}, {"pairs_used", e.pairs_used}, {"source", e.source},
                    {"objective", e.objective}, {"top_pairs_objective_share", e.top_share},
                    {"top_pairs_weight_share", e.top_weight}});
  return {{"reference", reference}, {"estimator", estimator}, {"alphas", rows}};
}

AlphaTable AlphaTable::from_json(const nlohmann::json& j) {
  AlphaTable t;
  t.reference = j.at("reference").get<std::string>();
  t.estimator = j.at("estimator").get<std::string>();
  for (const auto& r : j.at("alphas")) {
    AlphaEntry e;
    e.platform = r.at("platform").get<std::string>();
    const std::string ind = r.at("indicator").get<std::string>();
    for (int i = 0; i < kNumLevelIndicators; ++i)
      if (ind == indicator_name(i)) e.indicator = i;
    e.alpha = r.at("alpha").get<double>();
    e.video_pairs = r.value("video_pairs", int64_t(0));
    e.pairs_used = r.value("pairs_used", int64_t(0));
    e.source = r.value("source", std::string());
    t.entries.push_back(e);
  }
  return t;
}

std::string AlphaTable::to_text() const {
  std::ostringstream s;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-10s %-9s %10s %7s %7s %-11s %8s %8s\n", "platform", "indicator", "alpha", "videos",
                "pairs", "source", "top-obj", "top-wt");
  s << "alignment (Eq. 1, estimator " << estimator << ", reference " << reference
    << "; top-obj / top-wt: share of the objective / of the weight held by the 5 top pairs)\n" << buf;
  for (const AlphaEntry& e : entries) {
    std::snprintf(buf, sizeof buf, "%-10s %-9s %10.4f %7lld %7lld %-11s %8.2f %8.2f\n", e.platform.c_str(),
                  indicator_name(e.indicator), e.alpha, static_cast<long long>(e.video_pairs),
                  static_cast<long long>(e.pairs_used), e.source.c_str(), e.top_share, e.top_weight);
    s << buf;
  }
  return s.str();
}

AlphaTable estimate_alphas(const VideoSet& set, const AlignOptions& opt) {
  if (opt.estimator != "eq1" && opt.estimator != "median-log")
    throw Error("unknown alignment estimator '" + opt.estimator + "' (use eq1 or median-log)");
  AlphaTable table;
  table.reference = opt.reference;
  table.estimator = opt.estimator;
  std::set<std::string> platforms;
  for (const Video& v : set.videos) platforms.insert(v.platform);
  if (!platforms.count(opt.reference))
    spdlog::warn("alignment: reference platform '{}' has no videos; every alpha is 1", opt.reference);
  const auto cross = cross_post_pairs(set, opt.reference);
  for (const std::string& p : platforms) {
    std::vector<VideoPairRef> pairs;
    std::string source = "cross_post";
    if (p != opt.reference) {
      if (auto it = cross.find(p); it != cross.end()) pairs = it->second;
      if (static_cast<int64_t>(pairs.size()) < opt.min_pairs && platforms.count(opt.reference)) {
        pairs = title_match_pairs(set, p, opt);
        source = "title_match";
      }
    }
    for (int ind = 0; ind < kNumLevelIndicators; ++ind) {
      AlphaEntry e;
      e.platform = p;
      e.indicator = ind;
      e.video_pairs = static_cast<int64_t>(pairs.size());
      if (p == opt.reference) {
        e.source = "reference";
        table.entries.push_back(e);
        continue;
      }
      const std::vector<CountPair> cp = count_pairs(set, pairs, ind, opt.min_count);
      e.pairs_used = static_cast<int64_t>(cp.size());
      if (e.pairs_used < opt.min_pairs) {
        e.source = "default";
        spdlog::warn("alignment: {} {}: {} usable pairs (< {}), alpha = 1", p, indicator_name(ind), e.pairs_used, opt.min_pairs);
      } else {
        e.source = source;
        e.alpha = opt.estimator == "eq1" ? alpha_eq1(cp) : alpha_median_log_ratio(cp);
        e.objective = eq1_objective(cp, e.alpha);
        e.top_share = top_pairs_share(cp, e.alpha, opt.top_k);
        e.top_weight = top_weight_share(cp, opt.top_k);
      }
      table.entries.push_back(e);
    }
  }
  return table;
}

}  // namespace spir
