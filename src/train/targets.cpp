#include "train/targets.h"

#include "core/error.h"

namespace spir {

TrainTargets train_targets(const Dataset& d, int64_t videos, const std::string& ds_dir) {
  TrainTargets t;
  std::vector<float> labels(static_cast<size_t>(videos), -1.0f);
  for (const Sample& s : d.samples) {
    if (s.level < 0) continue;
    if (s.id < 0 || s.id >= videos) throw Error(ds_dir + "/samples.csv: sample id " + std::to_string(s.id) + " has no video node");
    labels[static_cast<size_t>(s.id)] = static_cast<float>(s.level);
    if (s.split == Split::kTrain) t.train_ids.push_back(s.id);
    else if (s.split == Split::kVal) t.val_ids.push_back(s.id);
  }
  if (t.train_ids.empty() || t.val_ids.empty())
    throw Error(ds_dir + ": training needs labelled train and val samples (see annotate --val-days)");
  t.y = torch::from_blob(labels.data(), {videos}, torch::kFloat32).clone();
  return t;
}

}  // namespace spir
