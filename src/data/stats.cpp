#include "data/stats.h"

#include "core/quantile.h"
#include "core/utf8.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <unordered_map>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/json_file.h"
#include "core/progress.h"
#include "data/levels.h"
#include "data/video_store.h"

namespace spir {

namespace {

// ---- text formatting -------------------------------------------------------------------------------------------

std::string commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string fixed(double x, int precision) {
  if (std::isnan(x)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, x);
  return buf;
}

std::string pct(double share) { return std::isnan(share) ? "-" : fixed(100.0 * share, 1) + "%"; }

double ratio(int64_t num, int64_t den) { return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 0.0; }

// Decodes the code point that starts at s[i] (lenient: a malformed byte counts as one code point) and advances i.
uint32_t next_code_point(std::string_view s, size_t& i) {
  const auto b = static_cast<unsigned char>(s[i++]);
  int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0;
  uint32_t cp = extra == 3 ? b & 0x07u : extra == 2 ? b & 0x0Fu : extra == 1 ? b & 0x1Fu : b;
  while (extra-- > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3Fu);
  return cp;
}

// Terminal columns a code point takes: 2 for East Asian wide characters and emoji, else 1.
int cp_width(uint32_t cp) {
  const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) ||
                    (cp >= 0x20000 && cp <= 0x3FFFD);
  return wide ? 2 : 1;
}

int display_width(std::string_view s) {
  int w = 0;
  for (size_t i = 0; i < s.size();) w += cp_width(next_code_point(s, i));
  return w;
}

// Cuts text to at most max_width terminal columns, marking a cut with "...".
std::string fit(const std::string& s, int max_width) {
  if (display_width(s) <= max_width) return s;
  int w = 0;
  size_t i = 0, keep = 0;
  while (i < s.size()) {
    const int cw = cp_width(next_code_point(s, i));
    if (w + cw > max_width - 3) break;
    w += cw;
    keep = i;
  }
  return s.substr(0, keep) + "...";
}

std::string bar(double frac, int width = 40) {
  if (!(frac > 0)) return "";
  const int n = std::max(1, static_cast<int>(std::lround(std::min(frac, 1.0) * width)));
  return std::string(static_cast<size_t>(n), '#');
}

// A table of text cells; columns named in `left` are left-aligned (by default the first), the others right-aligned.
struct Table {
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> left = {0};

  std::string render(const std::string& indent = "  ") const {
    std::vector<int> w(headers.size(), 0);
    auto widen = [&](const std::vector<std::string>& r) {
      for (size_t c = 0; c < r.size() && c < w.size(); ++c) w[c] = std::max(w[c], display_width(r[c]));
    };
    widen(headers);
    for (const auto& r : rows) widen(r);
    std::string out;
    auto line = [&](const std::vector<std::string>& r) {
      std::string l = indent;
      for (size_t c = 0; c < w.size(); ++c) {
        const std::string& cell = c < r.size() ? r[c] : std::string();
        const std::string pad(static_cast<size_t>(w[c] - display_width(cell)), ' ');
        const bool is_left = std::find(left.begin(), left.end(), c) != left.end();
        if (c > 0) l += "  ";
        l += is_left ? cell + (c + 1 == w.size() ? "" : pad) : pad + cell;
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      out += l + "\n";
    };
    line(headers);
    std::vector<std::string> rule;
    for (int x : w) rule.emplace_back(static_cast<size_t>(x), '-');
    line(rule);
    for (const auto& r : rows) line(r);
    return out;
  }
};

// ---- Figure 4(a): durations ------------------------------------------------------------------------------------

constexpr int kMaxDuration = 300;  // the crawl kept videos shorter than 5 minutes
constexpr int kLipDays = 21;       // Figure 4(e) plots days 1..21

// Histogram bins: 1 s wide from 1 s to 60 s, then 10 s wide up to 300 s (the last bin includes 300 s).
struct DurationHistogram {
  std::vector<double> lo, hi;
  std::vector<int64_t> videos;
  std::vector<int64_t> per_second = std::vector<int64_t>(kMaxDuration + 1, 0);  // floor(d) for d in [0, 300]
  int64_t missing = 0, under_1s = 0, over_300s = 0, with_duration = 0;
  double sum = 0;

  DurationHistogram() {
    for (int s = 1; s < 60; ++s) lo.push_back(s), hi.push_back(s + 1);
    for (int s = 60; s < kMaxDuration; s += 10) lo.push_back(s), hi.push_back(s + 10);
    videos.assign(lo.size(), 0);
  }
  void add(double d) {
    if (std::isnan(d)) { ++missing; return; }
    ++with_duration;
    sum += d;
    if (d > kMaxDuration) { ++over_300s; return; }
    if (d >= 0) ++per_second[static_cast<size_t>(std::floor(d))];
    if (d < 1) { ++under_1s; return; }
    const size_t bin = d < 60 ? static_cast<size_t>(d) - 1
                              : 59 + std::min<size_t>(static_cast<size_t>((d - 60) / 10), (kMaxDuration - 60) / 10 - 1);
    ++videos[bin];
  }
};

// Peaks of the 1 s duration counts: local maxima of a triangle-smoothed curve (weights 1,2,3,2,1) over a ±5 s window,
// kept when they rise at least 25% above the lowest point between them and a higher kept peak and reach 5% of the
// highest peak. Strongest first, at most three.
std::vector<int> duration_modes(const std::vector<int64_t>& per_second) {
  const int n = static_cast<int>(per_second.size());
  std::vector<double> sm(static_cast<size_t>(n), 0.0);
  for (int s = 1; s < n; ++s) {  // 0 s (under 1 s) is not a duration the crawl kept
    double acc = 0, wsum = 0;
    for (int k = -2; k <= 2; ++k) {
      const int j = s + k;
      if (j < 1 || j >= n) continue;
      const double wk = 3 - std::abs(k);
      acc += wk * static_cast<double>(per_second[static_cast<size_t>(j)]);
      wsum += wk;
    }
    sm[static_cast<size_t>(s)] = acc / wsum;
  }
  std::vector<int> cand;
  for (int s = 1; s < n; ++s) {
    const double h = sm[static_cast<size_t>(s)];
    if (!(h > 0)) continue;
    bool peak = true;
    for (int k = 1; k <= 5 && peak; ++k) {
      if (s - k >= 1 && sm[static_cast<size_t>(s - k)] >= h) peak = false;  // ties go to the earliest second
      if (s + k < n && sm[static_cast<size_t>(s + k)] > h) peak = false;
    }
    if (peak) cand.push_back(s);
  }
  std::stable_sort(cand.begin(), cand.end(), [&](int a, int b) { return sm[static_cast<size_t>(a)] > sm[static_cast<size_t>(b)]; });
  std::vector<int> kept;
  for (int c : cand) {
    if (kept.size() == 3) break;
    const double h = sm[static_cast<size_t>(c)];
    if (!kept.empty()) {
      if (h < 0.05 * sm[static_cast<size_t>(kept[0])]) break;
      int nearest = kept[0];  // the nearest kept (higher) peak
      for (int k : kept) if (std::abs(k - c) < std::abs(nearest - c)) nearest = k;
      double valley = h;
      for (int s = std::min(c, nearest); s <= std::max(c, nearest); ++s) valley = std::min(valley, sm[static_cast<size_t>(s)]);
      if (h < 1.25 * valley) continue;
    }
    kept.push_back(c);
  }
  return kept;
}

// ---- Figure 4(e): LIP ------------------------------------------------------------------------------------------

struct LipAccumulator {
  int max_day;
  std::vector<double> sum;
  std::vector<int64_t> videos;
  explicit LipAccumulator(int max_d)
      : max_day(std::max(0, max_d)), sum(static_cast<size_t>(max_day) + 1, 0.0), videos(static_cast<size_t>(max_day) + 1, 0) {}

  // Frames are sorted by crawl date, one per date: day t and t−1 are neighbours in the list when both exist.
  void add(const Video& v) {
    const int64_t post_day = v.post_day();
    const Frame* prev = nullptr;  // last usable frame (non-glitch, likes present)
    for (const Frame& f : v.frames) {
      if (f.glitch || f.counts[kLikes] == kMissing) { prev = nullptr; continue; }
      const int64_t t = f.day - post_day;
      if (prev && prev->day == f.day - 1 && t >= 1 && t <= max_day) {
        const double now = static_cast<double>(f.counts[kLikes]), before = static_cast<double>(prev->counts[kLikes]);
        sum[static_cast<size_t>(t)] += (now - before) / (now + 1);  // Eq. 2
        ++videos[static_cast<size_t>(t)];
      }
      prev = &f;
    }
  }
  std::vector<LipPoint> points() const {
    std::vector<LipPoint> out;
    for (int t = 1; t <= max_day; ++t) {
      const int64_t n = videos[static_cast<size_t>(t)];
      out.push_back({t, n > 0 ? sum[static_cast<size_t>(t)] / static_cast<double>(n) : NAN, n});
    }
    return out;
  }
};

// ---- Figure 4(f): text lengths ---------------------------------------------------------------------------------

const std::vector<int64_t> kLengthEdges = {0,    100,  200,  300,   400,   500,   750,  1000,
                                           1500, 2000, 3000, 5000, 10000, 20000, 50000};

// Quantile p of sorted values, interpolating linearly between order statistics (numpy's default).
struct LengthSummary {
  int64_t samples = 0, min = 0, max = 0;
  double q1 = NAN, median = NAN, q3 = NAN, mean = NAN;
  std::vector<int64_t> hist = std::vector<int64_t>(kLengthEdges.size(), 0);  // last bin: ≥ the last edge
};

LengthSummary summarize_lengths(std::vector<int64_t>& v) {
  LengthSummary s;
  s.samples = static_cast<int64_t>(v.size());
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.q1 = quantile_sorted(v, 0.25);
  s.median = quantile_sorted(v, 0.50);
  s.q3 = quantile_sorted(v, 0.75);
  double total = 0;
  for (int64_t x : v) total += static_cast<double>(x);
  s.mean = total / static_cast<double>(v.size());
  size_t bin = 0;
  for (int64_t x : v) {  // v is sorted: walk the bins forward
    while (bin + 1 < kLengthEdges.size() && x >= kLengthEdges[bin + 1]) ++bin;
    ++s.hist[bin];
  }
  return s;
}

nlohmann::json length_json(const LengthSummary& s) {
  auto num = [](double x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); };
  nlohmann::json hist = nlohmann::json::array();
  for (size_t b = 0; b < s.hist.size(); ++b) {
    nlohmann::json bin = {{"lo", kLengthEdges[b]}, {"samples", s.hist[b]}, {"share", ratio(s.hist[b], s.samples)}};
    bin["hi"] = b + 1 < kLengthEdges.size() ? nlohmann::json(kLengthEdges[b + 1]) : nlohmann::json(nullptr);
    hist.push_back(bin);
  }
  return {{"samples", s.samples},
          {"min", s.samples ? nlohmann::json(s.min) : nlohmann::json(nullptr)},
          {"q1", num(s.q1)},
          {"median", num(s.median)},
          {"q3", num(s.q3)},
          {"mean", num(s.mean)},
          {"max", s.samples ? nlohmann::json(s.max) : nlohmann::json(nullptr)},
          {"histogram", hist}};
}

// ---- per-platform / per-topic accumulators ---------------------------------------------------------------------

struct PlatformCounts {
  std::string name;
  int64_t videos = 0, samples = 0, labelled_samples = 0;
};

// A user as (platform, user_id), with a hash that orders almost every comparison on its own.
struct UserRef {
  uint64_t hash;
  uint32_t platform;
  std::string_view id;
  bool operator<(const UserRef& o) const {
    if (hash != o.hash) return hash < o.hash;
    return platform != o.platform ? platform < o.platform : id < o.id;
  }
  bool operator==(const UserRef& o) const { return hash == o.hash && platform == o.platform && id == o.id; }
};

UserRef user_ref(uint32_t platform, const std::string& id) {
  const uint64_t h = std::hash<std::string_view>{}(id) ^ (0x9E3779B97F4A7C15ull * (platform + 1));
  return {h, platform, id};
}

// Sorts and removes duplicates: exact distinct counting without a node-based hash set (fast at a million users).
void sort_unique(std::vector<UserRef>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

int64_t union_size(const std::vector<UserRef>& a, const std::vector<UserRef>& b) {
  int64_t n = 0;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) ++i, ++j;
    else if (a[i] < b[j]) ++i;
    else ++j;
    ++n;
  }
  return n + static_cast<int64_t>(a.size() - i + b.size() - j);
}

bool is_train_side(Split s) { return s == Split::kTrain || s == Split::kVal; }

}  // namespace


int64_t sample_text_code_points(const Video& v, int64_t comments_visible) {
  int64_t n = count_code_points(v.title) + count_code_points(v.desc) + count_code_points(v.content) +
              count_code_points(v.topic);
  const size_t visible = static_cast<size_t>(std::clamp<int64_t>(comments_visible, 0, static_cast<int64_t>(v.comments.size())));
  for (size_t i = 0; i < visible; ++i) n += count_code_points(v.comments[i].text);
  return n;
}

std::vector<LipPoint> likes_increase_percentage(const VideoSet& set, int max_day) {
  LipAccumulator acc(max_day);
  for (const Video& v : set.videos) acc.add(v);
  return acc.points();
}

DatasetStats compute_stats(const VideoSet& set, const std::vector<Sample>& samples) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n_videos = static_cast<int64_t>(set.videos.size());
  const int64_t n_samples = static_cast<int64_t>(samples.size());
  const auto level = n_videos >= 10000 ? spdlog::level::info : spdlog::level::debug;  // quiet on small sets
  spdlog::log(level, "stats: {} videos, {} samples", n_videos, n_samples);

  // ---- one pass over the videos ----
  std::unordered_map<std::string, size_t> platform_index;
  std::vector<PlatformCounts> platforms;
  std::vector<uint32_t> video_platform(set.videos.size());
  std::unordered_map<std::string, int64_t> topic_videos;
  int64_t no_topic = 0;
  std::vector<UserRef> authors, commenters;  // made distinct after the pass
  int64_t comments = 0, frames = 0, glitch_frames = 0;
  int64_t first_crawl = std::numeric_limits<int64_t>::max(), last_crawl = std::numeric_limits<int64_t>::min();
  int64_t first_post = first_crawl, last_post = last_crawl;
  DurationHistogram dur;
  LipAccumulator lip(kLipDays);
  // Code points of each video's fixed text, and running totals over its comments (prefix sums, Figure 4(f)).
  std::vector<int64_t> base_cp(set.videos.size()), comment_cp_start(set.videos.size() + 1, 0);
  for (const Video& v : set.videos) comments += static_cast<int64_t>(v.comments.size());
  std::vector<int64_t> comment_cp_prefix;
  comment_cp_prefix.reserve(static_cast<size_t>(comments + n_videos));
  authors.reserve(set.videos.size());
  commenters.reserve(static_cast<size_t>(comments));

  Progress progress("stats: videos", n_videos, "videos");
  for (size_t vi = 0; vi < set.videos.size(); ++vi) {
    const Video& v = set.videos[vi];
    auto [pit, added] = platform_index.emplace(v.platform, platforms.size());
    if (added) platforms.push_back({v.platform});
    ++platforms[pit->second].videos;
    video_platform[vi] = static_cast<uint32_t>(pit->second);
    if (v.topic.empty()) ++no_topic;
    else ++topic_videos[v.topic];
    const auto pid = static_cast<uint32_t>(pit->second);
    if (!v.user_id.empty()) authors.push_back(user_ref(pid, v.user_id));
    for (const Comment& c : v.comments)
      if (!c.user_id.empty()) commenters.push_back(user_ref(pid, c.user_id));
    for (const Frame& f : v.frames) {
      first_crawl = std::min(first_crawl, f.day);
      last_crawl = std::max(last_crawl, f.day);
      glitch_frames += f.glitch;
    }
    frames += static_cast<int64_t>(v.frames.size());
    first_post = std::min(first_post, v.post_day());
    last_post = std::max(last_post, v.post_day());
    dur.add(v.duration);
    lip.add(v);
    base_cp[vi] = sample_text_code_points(v, 0);
    comment_cp_start[vi] = static_cast<int64_t>(comment_cp_prefix.size());
    int64_t running = 0;
    comment_cp_prefix.push_back(0);
    for (const Comment& c : v.comments) comment_cp_prefix.push_back(running += count_code_points(c.text));
    progress.update(static_cast<int64_t>(vi) + 1);
  }
  comment_cp_start[set.videos.size()] = static_cast<int64_t>(comment_cp_prefix.size());
  if (n_videos >= 10000) progress.finish(n_videos);
  sort_unique(authors);
  sort_unique(commenters);
  const int64_t users = union_size(authors, commenters);

  // ---- one pass over the samples ----
  std::array<int64_t, 3> samples_by_split{}, labelled_by_split{};
  std::array<int64_t, kNumLevels> level_train{}, level_test{};
  std::vector<int64_t> len_train, len_test, len_all;
  len_all.reserve(samples.size());
  for (const Sample& s : samples) {
    if (s.video < 0 || s.video >= n_videos)
      throw Error("sample " + std::to_string(s.id) + " refers to video " + std::to_string(s.video) + ", but the set has " +
                  std::to_string(n_videos) + " videos");
    if (s.level >= kNumLevels || s.level < -1)
      throw Error("sample " + std::to_string(s.id) + " has level " + std::to_string(s.level) + ", outside 0..9");
    const size_t vi = static_cast<size_t>(s.video);
    const size_t split = static_cast<size_t>(s.split);
    const bool labelled = s.level >= 0;
    ++samples_by_split[split];
    PlatformCounts& pc = platforms[video_platform[vi]];
    ++pc.samples;
    const int64_t n_comments = comment_cp_start[vi + 1] - comment_cp_start[vi] - 1;
    const int64_t visible = std::clamp<int64_t>(s.comments_visible, 0, n_comments);
    const int64_t len = base_cp[vi] + comment_cp_prefix[static_cast<size_t>(comment_cp_start[vi] + visible)];
    len_all.push_back(len);
    if (!labelled) continue;
    ++labelled_by_split[split];
    ++pc.labelled_samples;
    if (is_train_side(s.split)) ++level_train[static_cast<size_t>(s.level)], len_train.push_back(len);
    else ++level_test[static_cast<size_t>(s.level)], len_test.push_back(len);
  }
  const int64_t labelled = labelled_by_split[0] + labelled_by_split[1] + labelled_by_split[2];
  const LengthSummary ls_train = summarize_lengths(len_train), ls_test = summarize_lengths(len_test),
                      ls_all = summarize_lengths(len_all);

  // ---- rankings ----
  std::vector<std::pair<std::string, int64_t>> topics(topic_videos.begin(), topic_videos.end());
  std::sort(topics.begin(), topics.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  const int64_t with_topic = n_videos - no_topic;
  const size_t head = topics.empty() ? 0 : static_cast<size_t>(std::ceil(0.1 * static_cast<double>(topics.size())));
  int64_t head_videos = 0;
  for (size_t i = 0; i < head; ++i) head_videos += topics[i].second;
  std::sort(platforms.begin(), platforms.end(), [](const PlatformCounts& a, const PlatformCounts& b) {
    return a.videos != b.videos ? a.videos > b.videos : a.name < b.name;
  });
  const std::vector<int> modes = duration_modes(dur.per_second);
  const std::vector<LipPoint> lip_points = lip.points();

  // ---- JSON ----
  using nlohmann::json;
  auto date_or_null = [](int64_t d, bool ok) { return ok ? json(format_date(d)) : json(nullptr); };
  const bool has_frames = first_crawl <= last_crawl, has_videos = n_videos > 0;
  json j;
  j["totals"] = {
      {"videos", n_videos},
      {"samples", n_samples},
      {"labelled_samples", labelled},
      {"samples_by_split", {{"train", samples_by_split[0]}, {"val", samples_by_split[1]}, {"test", samples_by_split[2]}}},
      {"labelled_samples_by_split",
       {{"train", labelled_by_split[0]}, {"val", labelled_by_split[1]}, {"test", labelled_by_split[2]}}},
      {"comments", comments},
      {"frames", frames},
      {"glitch_frames", glitch_frames},
      {"platforms", static_cast<int64_t>(platforms.size())},
      {"topics", static_cast<int64_t>(topics.size())},
      {"users", static_cast<int64_t>(authors.size())},
      {"commenters", static_cast<int64_t>(commenters.size())},
      {"users_incl_commenters", users},
      {"users_note", "distinct (platform, user_id): users = video authors; users_incl_commenters adds comment authors"},
      {"crawl_dates", {{"first", date_or_null(first_crawl, has_frames)}, {"last", date_or_null(last_crawl, has_frames)}}},
      {"post_dates", {{"first", date_or_null(first_post, has_videos)}, {"last", date_or_null(last_post, has_videos)}}}};

  json dbins = json::array();
  for (size_t b = 0; b < dur.lo.size(); ++b)
    dbins.push_back({{"lo", dur.lo[b]}, {"hi", dur.hi[b]}, {"videos", dur.videos[b]}, {"share", ratio(dur.videos[b], dur.with_duration)}});
  json jmodes = json::array();
  for (int m : modes) jmodes.push_back({{"seconds", m}, {"videos", dur.per_second[static_cast<size_t>(m)]}});
  j["duration"] = {{"figure", "4(a)"},
                   {"unit", "seconds"},
                   {"bins", dbins},
                   {"bins_note", "[lo, hi); the last bin includes 300 s"},
                   {"with_duration", dur.with_duration},
                   {"missing", dur.missing},
                   {"under_1s", dur.under_1s},
                   {"over_300s", dur.over_300s},
                   {"mean", dur.with_duration ? json(dur.sum / static_cast<double>(dur.with_duration)) : json(nullptr)},
                   {"modes", jmodes},
                   {"modes_note", "peaks of the 1 s histogram (smoothed over ±2 s), strongest first; videos: count in that 1 s bin"}};

  json jtopics = json::array();
  for (size_t i = 0; i < topics.size(); ++i)
    jtopics.push_back({{"rank", i + 1}, {"topic", topics[i].first}, {"videos", topics[i].second},
                       {"share", ratio(topics[i].second, with_topic)}});
  j["topics"] = {{"figure", "4(b)"},
                 {"topics", static_cast<int64_t>(topics.size())},
                 {"videos_without_topic", no_topic},
                 {"top_10pct_topics", static_cast<int64_t>(head)},
                 {"top_10pct_videos", head_videos},
                 {"top_10pct_share", ratio(head_videos, with_topic)},
                 {"ranked", jtopics}};

  json jplat = json::array();
  for (const auto& p : platforms)
    jplat.push_back({{"platform", p.name}, {"videos", p.videos}, {"video_share", ratio(p.videos, n_videos)},
                     {"samples", p.samples}, {"sample_share", ratio(p.samples, n_samples)},
                     {"labelled_samples", p.labelled_samples}});
  j["platforms"] = {{"figure", "4(c)"}, {"platforms", jplat}};

  auto level_json = [](const std::array<int64_t, kNumLevels>& c) {
    int64_t total = 0;
    for (int64_t x : c) total += x;
    std::vector<double> shares;
    for (int64_t x : c) shares.push_back(ratio(x, total));
    return json{{"samples", total}, {"counts", c}, {"shares", shares}};
  };
  j["levels"] = {{"figure", "4(d)"},
                 {"note", "labelled samples; train = train + val splits"},
                 {"train", level_json(level_train)},
                 {"test", level_json(level_test)}};

  json jlip = json::array();
  for (const auto& p : lip_points)
    jlip.push_back({{"day", p.day}, {"lip", std::isnan(p.lip) ? json(nullptr) : json(p.lip)}, {"videos", p.videos}});
  j["lip"] = {{"figure", "4(e)"},
              {"equation", "Eq. 2: LIP(t) = E[(Likes(t) - Likes(t-1)) / (Likes(t) + 1)]"},
              {"note", "videos with non-glitch frames and likes on both day t and day t-1 after the post date"},
              {"days", jlip}};

  j["text_length"] = {
      {"figure", "4(f)"},
      {"unit", "unicode_code_points"},
      {"note", "code points of title + desc + content + topic + the comments visible at the sample (the paper counts "
               "Qwen2-VL tokens of the sample's JSON); train/test: labelled samples, train = train + val; all: every sample"},
      {"train", length_json(ls_train)},
      {"test", length_json(ls_test)},
      {"all", length_json(ls_all)}};

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  j["seconds"] = seconds;

  // ---- text ----
  std::ostringstream t;
  t << "Dataset statistics (paper 3.4, Figure 4, Table I)\n\n";
  t << "Totals (Table I)\n";
  {
    Table tb{{"", "count"}, {}};
    auto row = [&](const std::string& k, const std::string& v) { tb.rows.push_back({k, v}); };
    row("videos", commas(n_videos));
    row("samples", commas(n_samples));
    row("labelled samples", commas(labelled));
    row("  train", commas(labelled_by_split[0]));
    row("  val", commas(labelled_by_split[1]));
    row("  test", commas(labelled_by_split[2]));
    row("comments", commas(comments));
    row("platforms", commas(static_cast<int64_t>(platforms.size())));
    row("topics", commas(static_cast<int64_t>(topics.size())));
    row("users (video authors)", commas(static_cast<int64_t>(authors.size())));
    row("users incl. commenters", commas(users));
    row("crawl dates", has_frames ? format_date(first_crawl) + " .. " + format_date(last_crawl) : "-");
    row("post dates", has_videos ? format_date(first_post) + " .. " + format_date(last_post) : "-");
    row("frames (glitches)", commas(frames) + " (" + commas(glitch_frames) + ")");
    t << tb.render() << "\n";
  }

  t << "Figure 4(a) durations: " << commas(dur.with_duration) << " videos with a duration, " << commas(dur.missing)
    << " missing, " << commas(dur.under_1s) << " under 1 s, " << commas(dur.over_300s) << " over 300 s\n";
  t << "  modes:";
  if (modes.empty()) t << " -";
  for (size_t i = 0; i < modes.size(); ++i)
    t << (i ? "," : "") << " " << modes[i] << " s (" << commas(dur.per_second[static_cast<size_t>(modes[i])]) << " videos)";
  t << "\n";
  {
    Table tb{{"seconds", "videos", "share", ""}, {}, {0, 3}};
    const int64_t top = dur.videos.empty() ? 0 : *std::max_element(dur.videos.begin(), dur.videos.end());
    for (size_t b = 0; b < dur.lo.size(); ++b) {
      const std::string range = dur.hi[b] - dur.lo[b] <= 1 ? fixed(dur.lo[b], 0)
                                                           : fixed(dur.lo[b], 0) + "-" + fixed(dur.hi[b], 0);
      tb.rows.push_back({range, commas(dur.videos[b]), pct(ratio(dur.videos[b], dur.with_duration)), bar(ratio(dur.videos[b], top))});
    }
    t << tb.render() << "\n";
  }

  t << "Figure 4(b) topics: " << topics.size() << " topics; the top 10% (" << head << " topics) hold "
    << pct(ratio(head_videos, with_topic)) << " of the videos with a topic";
  if (no_topic) t << "; " << commas(no_topic) << " videos without a topic";
  t << "\n";
  {
    Table tb{{"rank", "topic", "videos", "share", "cumulative"}, {}, {1}};
    int64_t cum = 0;
    for (size_t i = 0; i < topics.size() && i < 20; ++i) {
      cum += topics[i].second;
      tb.rows.push_back({std::to_string(i + 1), fit(topics[i].first, 40), commas(topics[i].second),
                         pct(ratio(topics[i].second, with_topic)), pct(ratio(cum, with_topic))});
    }
    t << tb.render();
    if (topics.size() > 20) t << "  ... " << topics.size() - 20 << " more topics in stats.json\n";
    t << "\n";
  }

  t << "Figure 4(c) platforms\n";
  {
    Table tb{{"platform", "videos", "share", "samples", "share", "labelled"}, {}};
    for (const auto& p : platforms)
      tb.rows.push_back({p.name, commas(p.videos), pct(ratio(p.videos, n_videos)), commas(p.samples),
                         pct(ratio(p.samples, n_samples)), commas(p.labelled_samples)});
    t << tb.render() << "\n";
  }

  t << "Figure 4(d) levels of labelled samples (train = train + val)\n";
  {
    Table tb{{"level", "train", "share", "test", "share"}, {}};
    int64_t ntr = 0, nte = 0;
    for (int L = 0; L < kNumLevels; ++L) ntr += level_train[static_cast<size_t>(L)], nte += level_test[static_cast<size_t>(L)];
    for (size_t L = 0; L < static_cast<size_t>(kNumLevels); ++L)
      tb.rows.push_back({std::to_string(L), commas(level_train[L]), pct(ratio(level_train[L], ntr)), commas(level_test[L]),
                         pct(ratio(level_test[L], nte))});
    tb.rows.push_back({"all", commas(ntr), "", commas(nte), ""});
    t << tb.render() << "\n";
  }

  t << "Figure 4(e) likes increase percentage, Eq. 2\n";
  {
    Table tb{{"day", "LIP", "videos", ""}, {}, {3}};
    double top = 0;
    for (const auto& p : lip_points) if (!std::isnan(p.lip)) top = std::max(top, p.lip);
    for (const auto& p : lip_points)
      tb.rows.push_back({std::to_string(p.day), fixed(p.lip, 4), commas(p.videos), top > 0 ? bar(p.lip / top) : ""});
    t << tb.render() << "\n";
  }

  t << "Figure 4(f) text length per sample, in Unicode code points (not Qwen2-VL tokens)\n";
  {
    Table tb{{"set", "samples", "min", "q1", "median", "q3", "mean", "max"}, {}};
    auto row = [&](const char* name, const LengthSummary& s) {
      tb.rows.push_back({name, commas(s.samples), s.samples ? commas(s.min) : "-", fixed(s.q1, 0), fixed(s.median, 0),
                         fixed(s.q3, 0), fixed(s.mean, 1), s.samples ? commas(s.max) : "-"});
    };
    row("train (labelled)", ls_train);
    row("test (labelled)", ls_test);
    row("all samples", ls_all);
    t << tb.render() << "\n";
    Table th{{"code points", "train", "share", "test", "share"}, {}};
    for (size_t b = 0; b < kLengthEdges.size(); ++b) {
      const std::string range = b + 1 < kLengthEdges.size()
                                    ? commas(kLengthEdges[b]) + "-" + commas(kLengthEdges[b + 1] - 1)
                                    : commas(kLengthEdges[b]) + "+";
      th.rows.push_back({range, commas(ls_train.hist[b]), pct(ratio(ls_train.hist[b], ls_train.samples)),
                         commas(ls_test.hist[b]), pct(ratio(ls_test.hist[b], ls_test.samples))});
    }
    t << th.render();
  }

  spdlog::log(level, "stats: computed in {:.2f} s", seconds);
  return {std::move(j), t.str()};
}

DatasetStats run_stats(const std::string& ds_dir) {
  const VideoSet set = load_videos(ds_path(ds_dir, ds_files::kVideos));
  const std::vector<Sample> samples = load_samples_csv(ds_path(ds_dir, ds_files::kSamples));
  DatasetStats st = compute_stats(set, samples);
  const std::string out = ds_path(ds_dir, ds_files::kStats);
  write_json(out, st.json);
  spdlog::info("stats: wrote {}", out);
  return st;
}

}  // namespace spir
