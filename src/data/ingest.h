// Ingest: raw crawl JSONL (plain or gzip) → validated videos in a dataset folder; bad lines → quarantine.jsonl.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "data/video.h"

namespace spir {

struct IngestOptions {
  std::string raw_path;
  std::string out_dir;
  int sniff_lines = 20;             // a file whose first N non-empty lines are all not JSON objects fails fast
  double glitch_drop_ratio = 0.5;   // a count falling below this share of the last good one is a glitch ...
  int64_t glitch_min_count = 10;    // ... when the last good count was at least this
};

struct IngestSummary {
  int64_t lines_read = 0;        // non-empty lines
  int64_t lines_accepted = 0;    // includes lines merged into an earlier duplicate
  int64_t lines_quarantined = 0;
  int64_t duplicates_merged = 0;
  int64_t videos = 0, frames = 0, glitch_frames = 0, comments = 0;
  std::map<std::string, int64_t> quarantined_by_reason, videos_by_platform;
  double seconds = 0;
  nlohmann::json to_json() const;
  std::string to_text() const;   // the terminal summary
};

// Duplicate rule: lines with the same (platform, video_id) are merged when they agree on user_id and
// post_create_time (frames unioned, the later line winning on a date both carry; comments unioned without
// exact repeats; empty text fields filled from the later line). A duplicate that disagrees is quarantined
// with reason "duplicate_conflict".
void merge_duplicate(Video& into, Video&& from);

// Glitch rule (counts are cumulative, so they never fall): a frame is flagged when any indicator falls below
// glitch_drop_ratio × the last good frame's count (that count ≥ glitch_min_count), or when all its present
// counts are zero after a good frame with a nonzero count. Returns the number of frames flagged.
int64_t flag_glitch_frames(Video& v, double drop_ratio, int64_t min_count);

// Runs the whole ingest and writes videos.bin, quarantine.jsonl and ingest.json into out_dir.
IngestSummary run_ingest(const IngestOptions& opt);

// Ingests into memory only (no files): used by tests and by run_ingest.
VideoSet ingest_to_memory(const IngestOptions& opt, IngestSummary& summary, class AtomicWriter* quarantine);

}  // namespace spir
