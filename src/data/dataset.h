// A dataset folder loaded whole: the ingested videos and the annotated samples.
#pragma once
#include <string>
#include <vector>

#include "data/samples.h"
#include "data/video.h"

namespace spir {

struct Dataset {
  std::string dir;
  VideoSet set;
  std::vector<Sample> samples;
};

// Loads dir/videos.bin and dir/samples.csv; the Error says which command to run when one is missing.
Dataset load_dataset(const std::string& dir);

}  // namespace spir
