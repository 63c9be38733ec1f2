#include "train/targets.h"

#include <cctype>

#include "core/error.h"
#include "models/rgcn_inputs.h"

namespace spir {

std::string run_folder_name(const std::string& model, const std::string& ablation, const std::string& name) {
  if (!name.empty()) {
    for (char c : name)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
        throw Error("run name '" + name + "': use letters, digits, '-', '_' and '.' only (it names a folder under DS/models/)");
    if (name == "." || name == "..") throw Error("run name '" + name + "' is not a folder name");
    return name;
  }
  std::string a = Ablation::parse(ablation).name();
  for (char& c : a)
    if (c == ',') c = '-';
  return a.empty() ? model : model + "-" + a;
}

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
