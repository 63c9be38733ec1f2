// The dataset folder's video store: videos.bin (binary, fast to load) and its JSONL export for jq/pandas users.
#pragma once
#include <string>

#include "data/video.h"

namespace spir {

// File names inside a dataset folder, shared by every stage.
namespace ds_files {
inline constexpr const char* kVideos = "videos.bin";          // ingest: accepted videos
inline constexpr const char* kQuarantine = "quarantine.jsonl"; // ingest: rejected lines with line number and reason
inline constexpr const char* kIngestSummary = "ingest.json";
inline constexpr const char* kSamples = "samples.csv";         // annotate: one row per sample (state)
inline constexpr const char* kAlpha = "alpha.json";            // annotate: Eq. 1 scale factors
inline constexpr const char* kAnnotateSummary = "annotate.json";
inline constexpr const char* kStats = "stats.json";
}  // namespace ds_files

std::string ds_path(const std::string& dir, const char* file);  // dir + "/" + file

void save_videos(const std::string& path, const VideoSet& set);  // atomic
VideoSet load_videos(const std::string& path);                   // throws Error naming the file

// Writes the videos back as RAW_FORMAT JSON lines (frames flagged as glitches carry "glitch": true).
// The output re-ingests to the same videos; gzip when path ends in .gz.
void export_videos_jsonl(const VideoSet& set, const std::string& path);

}  // namespace spir
