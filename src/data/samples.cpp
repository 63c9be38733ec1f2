#include "data/samples.h"

#include <algorithm>
#include <charconv>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/line_io.h"

namespace spir {

const char* split_name(Split s) {
  switch (s) {
    case Split::kTrain: return "train";
    case Split::kVal: return "val";
    case Split::kTest: return "test";
  }
  return "?";
}

int label_frame_index(const Video& v, int horizon_days) {
  const int64_t post_day = v.post_day();
  for (size_t i = 0; i < v.frames.size(); ++i)
    if (!v.frames[i].glitch && v.frames[i].day - post_day >= horizon_days) return static_cast<int>(i);
  return -1;
}

std::vector<size_t> sample_frame_indices(const Video& v, int label_index, int min_gap_days) {
  std::vector<size_t> out;
  const size_t end = label_index < 0 ? v.frames.size() : static_cast<size_t>(label_index);
  for (size_t i = 0; i < end; ++i) {
    if (v.frames[i].glitch) continue;
    if (!out.empty() && v.frames[i].day - v.frames[out.back()].day < min_gap_days) continue;
    out.push_back(i);
  }
  return out;
}

int64_t comments_visible_at(const Video& v, int64_t day) {
  const int64_t end = (day + 1) * kSecondsPerDay;  // comments are sorted by time
  auto it = std::lower_bound(v.comments.begin(), v.comments.end(), end,
                             [](const Comment& c, int64_t t) { return c.time < t; });
  return it - v.comments.begin();
}

Split split_of(int64_t post_day, const SplitOptions& opt) {
  if (post_day > opt.cutoff_day) return Split::kTest;
  return post_day > opt.cutoff_day - opt.val_days ? Split::kVal : Split::kTrain;
}

namespace {

const char* kHeader =
    "sample_id,video_index,platform,video_id,post_time,ctime,observed_days,views,likes,shares,collects,comments,fans,"
    "comments_visible,label_date,level,level_indicators,split";

std::string indicators_text(uint8_t mask) {
  std::string s;
  for (int i = 0; i < kNumLevelIndicators; ++i)
    if (mask & (1u << i)) s += (s.empty() ? "" : "|") + std::string(indicator_name(i));
  return s;
}

// CSV field quoting (RFC 4180) for text that may hold commas or quotes.
std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Splits one CSV line into fields (handles quoted fields).
std::vector<std::string> csv_fields(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

int64_t to_int(const std::string& s, const std::string& path, int64_t line, const char* field) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) throw InputError(path, line, field, "bad_value", "not an integer: '" + s + "'");
  return v;
}

}  // namespace

void save_samples_csv(const std::string& path, const std::vector<Sample>& samples, const VideoSet& set) {
  AtomicWriter out(path);
  out.line(kHeader);
  std::string row;
  for (const Sample& s : samples) {
    const Video& v = set.videos[static_cast<size_t>(s.video)];
    row.clear();
    row += std::to_string(s.id) + "," + std::to_string(s.video) + "," + csv_quote(v.platform) + "," + csv_quote(v.video_id) +
           "," + format_datetime(v.post_time) + "," + format_date(s.ctime_day) + "," + std::to_string(s.observed_days);
    for (int64_t c : s.counts) row += "," + (c == kMissing ? std::string() : std::to_string(c));
    row += "," + std::to_string(s.comments_visible) + "," + (s.label_day == INT64_MIN ? std::string() : format_date(s.label_day)) +
           "," + (s.level < 0 ? std::string() : std::to_string(s.level)) + "," + indicators_text(s.level_indicators) + "," +
           split_name(s.split);
    out.line(row);
  }
  out.commit();
}

std::vector<Sample> load_samples_csv(const std::string& path) {
  LineReader in(path);
  std::string_view line;
  if (!in.next(line) || line != kHeader) throw InputError(path, 1, "", "bad_header", "not a spir samples.csv (header differs)");
  std::vector<Sample> out;
  while (in.next(line)) {
    const auto f = csv_fields(line);
    const int64_t ln = in.line_number();
    if (f.size() != 18) throw InputError(path, ln, "", "bad_row", "expected 18 fields, got " + std::to_string(f.size()));
    Sample s;
    s.id = to_int(f[0], path, ln, "sample_id");
    s.video = to_int(f[1], path, ln, "video_index");
    auto day = parse_date(f[5]);
    if (!day) throw InputError(path, ln, "ctime", "bad_date", "not a date: '" + f[5] + "'");
    s.ctime_day = *day;
    s.observed_days = to_int(f[6], path, ln, "observed_days");
    for (int i = 0; i < kNumIndicators; ++i)
      s.counts[i] = f[7 + i].empty() ? kMissing : to_int(f[7 + i], path, ln, indicator_name(i));
    s.comments_visible = to_int(f[13], path, ln, "comments_visible");
    if (!f[14].empty()) {
      auto ld = parse_date(f[14]);
      if (!ld) throw InputError(path, ln, "label_date", "bad_date", "not a date: '" + f[14] + "'");
      s.label_day = *ld;
    }
    s.level = f[15].empty() ? -1 : static_cast<int>(to_int(f[15], path, ln, "level"));
    for (int i = 0; i < kNumLevelIndicators; ++i)
      if (("|" + f[16] + "|").find("|" + std::string(indicator_name(i)) + "|") != std::string::npos)
        s.level_indicators |= static_cast<uint8_t>(1u << i);
    if (f[17] == "train") s.split = Split::kTrain;
    else if (f[17] == "val") s.split = Split::kVal;
    else if (f[17] == "test") s.split = Split::kTest;
    else throw InputError(path, ln, "split", "bad_value", "unknown split '" + f[17] + "'");
    out.push_back(s);
  }
  return out;
}

}  // namespace spir
