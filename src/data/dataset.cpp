#include "data/dataset.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/error.h"
#include "data/video_store.h"

namespace spir {

Dataset load_dataset(const std::string& dir) {
  Dataset d;
  d.dir = dir;
  const std::string videos = ds_path(dir, ds_files::kVideos), samples = ds_path(dir, ds_files::kSamples);
  if (!std::filesystem::exists(videos)) throw Error(videos + ": missing; run 'spir ingest --raw FILE --out " + dir + "' first");
  if (!std::filesystem::exists(samples)) throw Error(samples + ": missing; run 'spir annotate " + dir + "' first");
  d.set = load_videos(videos);
  d.samples = load_samples_csv(samples);
  for (const Sample& s : d.samples)
    if (s.video < 0 || static_cast<size_t>(s.video) >= d.set.videos.size())
      throw Error(samples + ": sample " + std::to_string(s.id) + " refers to a video videos.bin does not have; rerun 'spir annotate " + dir + "'");
  spdlog::info("loaded {}: {} videos, {} samples", dir, d.set.videos.size(), d.samples.size());
  return d;
}

}  // namespace spir
