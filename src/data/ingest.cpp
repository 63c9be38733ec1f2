#include "data/ingest.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <unordered_map>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/json_file.h"
#include "core/line_io.h"
#include "core/progress.h"
#include "data/raw_parse.h"
#include "data/video_store.h"

namespace spir {

nlohmann::json IngestSummary::to_json() const {
  return {{"lines_read", lines_read},
          {"lines_accepted", lines_accepted},
          {"lines_quarantined", lines_quarantined},
          {"quarantined_by_reason", quarantined_by_reason},
          {"duplicates_merged", duplicates_merged},
          {"videos", videos},
          {"videos_by_platform", videos_by_platform},
          {"frames", frames},
          {"glitch_frames", glitch_frames},
          {"comments", comments},
          {"seconds", seconds}};
}

std::string IngestSummary::to_text() const {
  std::ostringstream s;
  s << "read " << lines_read << " lines = " << lines_accepted << " accepted + " << lines_quarantined << " quarantined\n";
  for (const auto& [reason, n] : quarantined_by_reason) s << "  quarantined " << reason << ": " << n << "\n";
  s << "videos " << videos << " (" << duplicates_merged << " duplicate lines merged), frames " << frames << " ("
    << glitch_frames << " flagged as glitches, not used), comments " << comments << "\n";
  for (const auto& [p, n] : videos_by_platform) s << "  " << p << ": " << n << " videos\n";
  return s.str();
}

void merge_duplicate(Video& into, Video&& from) {
  // Frames: union by day, the later line wins on a shared day.
  std::vector<Frame> merged;
  merged.reserve(into.frames.size() + from.frames.size());
  size_t i = 0, j = 0;
  while (i < into.frames.size() || j < from.frames.size()) {
    if (j == from.frames.size() || (i < into.frames.size() && into.frames[i].day < from.frames[j].day)) {
      merged.push_back(into.frames[i++]);
    } else if (i == into.frames.size() || from.frames[j].day < into.frames[i].day) {
      merged.push_back(from.frames[j++]);
    } else {
      merged.push_back(from.frames[j++]);
      ++i;
    }
  }
  into.frames = std::move(merged);
  // Comments: union without exact repeats (same time, author and text).
  for (Comment& c : from.comments) {
    auto same = [&](const Comment& x) { return x.time == c.time && x.user_id == c.user_id && x.text == c.text; };
    if (std::none_of(into.comments.begin(), into.comments.end(), same)) into.comments.push_back(std::move(c));
  }
  std::stable_sort(into.comments.begin(), into.comments.end(), [](const Comment& a, const Comment& b) { return a.time < b.time; });
  for (auto [dst, src] : {std::pair{&into.title, &from.title}, {&into.desc, &from.desc}, {&into.content, &from.content},
                          {&into.nickname, &from.nickname}, {&into.url, &from.url}, {&into.video_path, &from.video_path}})
    if (dst->empty()) *dst = std::move(*src);
  if (std::isnan(into.duration)) into.duration = from.duration;
  if (into.cross_platform.empty()) {
    into.cross_platform = std::move(from.cross_platform);
    into.cross_video_id = std::move(from.cross_video_id);
  }
}

int64_t flag_glitch_frames(Video& v, double drop_ratio, int64_t min_count) {
  int64_t flagged = 0;
  const Frame* good = nullptr;
  for (Frame& f : v.frames) {
    f.glitch = false;
    if (good) {
      bool any_present = false, all_zero = true, good_nonzero = false, sharp_drop = false;
      for (int i = 0; i < kNumIndicators; ++i) {
        if (f.counts[i] == kMissing) continue;
        any_present = true;
        all_zero = all_zero && f.counts[i] == 0;
        const int64_t last = good->counts[i];
        if (last == kMissing) continue;
        good_nonzero = good_nonzero || last > 0;
        if (last >= min_count && static_cast<double>(f.counts[i]) < drop_ratio * static_cast<double>(last)) sharp_drop = true;
      }
      f.glitch = sharp_drop || (any_present && all_zero && good_nonzero);
    }
    if (f.glitch) ++flagged;
    else good = &f;
  }
  return flagged;
}

namespace {

std::string truncate_utf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // do not cut a UTF-8 sequence
  return std::string(s.substr(0, n)) + "...";
}

}  // namespace

VideoSet ingest_to_memory(const IngestOptions& opt, IngestSummary& sum, AtomicWriter* quarantine) {
  LineReader reader(opt.raw_path);
  RawLineParser parser;
  VideoSet set;
  set.source = opt.raw_path;
  std::unordered_map<std::string, size_t> index;  // platform + '\0' + video_id → position in set.videos
  Progress progress("ingest " + opt.raw_path, reader.file_size() >> 20, "MB");
  int64_t sniffed_bad = 0;
  std::string first_error;

  auto quarantine_line = [&](int64_t line_no, const std::string& reason, const std::string& field,
                             const std::string& message, std::string_view line) {
    ++sum.lines_quarantined;
    ++sum.quarantined_by_reason[reason];
    if (quarantine) {
      nlohmann::json q = {{"file", opt.raw_path}, {"line", line_no}, {"reason", reason}, {"field", field},
                          {"message", message}, {"raw", truncate_utf8(line, 2000)}};
      quarantine->line(q.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (sum.lines_quarantined <= 5)
      spdlog::warn("{}", format_location(opt.raw_path, line_no, field, message + " [" + reason + "]"));
  };

  std::string_view line;
  Video v;
  RawLineError err;
  while (reader.next(line)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank lines are not records
    ++sum.lines_read;
    const int64_t line_no = reader.line_number();
    if (!parser.parse(line, v, err)) {
      if (sum.lines_accepted == 0 && (err.reason == "not_json" || err.reason == "not_object")) {
        if (first_error.empty()) first_error = format_location(opt.raw_path, line_no, err.field, err.message);
        if (++sniffed_bad >= opt.sniff_lines)
          throw Error(opt.raw_path + ": does not look like JSON Lines (RAW_FORMAT.md): the first " +
                      std::to_string(sniffed_bad) + " lines are not JSON objects; first: " + first_error);
      }
      quarantine_line(line_no, err.reason, err.field, err.message, line);
      continue;
    }
    v.source_line = line_no;
    const std::string key = v.platform + '\0' + v.video_id;
    auto [it, fresh] = index.try_emplace(key, set.videos.size());
    if (fresh) {
      set.videos.push_back(std::move(v));
    } else {
      Video& old = set.videos[it->second];
      if (old.user_id != v.user_id || old.post_time != v.post_time) {
        quarantine_line(line_no, "duplicate_conflict", old.user_id != v.user_id ? "user_id" : "post_create_time",
                        "duplicate of line " + std::to_string(old.source_line) + " (" + v.platform + ", " +
                            v.video_id + ") with a different " + (old.user_id != v.user_id ? "author" : "post time"),
                        line);
        continue;
      }
      merge_duplicate(old, std::move(v));
      ++sum.duplicates_merged;
    }
    ++sum.lines_accepted;
    progress.update(reader.bytes_read() >> 20);
  }
  for (Video& x : set.videos) {
    sum.glitch_frames += flag_glitch_frames(x, opt.glitch_drop_ratio, opt.glitch_min_count);
    sum.frames += static_cast<int64_t>(x.frames.size());
    sum.comments += static_cast<int64_t>(x.comments.size());
    ++sum.videos_by_platform[x.platform];
  }
  sum.videos = static_cast<int64_t>(set.videos.size());
  sum.seconds = progress.elapsed_s();
  progress.finish(reader.bytes_read() >> 20);
  return set;
}

IngestSummary run_ingest(const IngestOptions& opt) {
  std::filesystem::create_directories(opt.out_dir);
  IngestSummary sum;
  AtomicWriter quarantine(ds_path(opt.out_dir, ds_files::kQuarantine));
  VideoSet set = ingest_to_memory(opt, sum, &quarantine);
  if (set.videos.empty()) throw Error(opt.raw_path + ": no valid video in " + std::to_string(sum.lines_read) + " lines");
  quarantine.commit();
  save_videos(ds_path(opt.out_dir, ds_files::kVideos), set);
  write_json(ds_path(opt.out_dir, ds_files::kIngestSummary), sum.to_json());
  return sum;
}

}  // namespace spir
