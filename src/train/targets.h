// The regression targets of the graph trainers: labelled samples by split and the level of every video node.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace spir {

struct TrainTargets {
  std::vector<int64_t> train_ids, val_ids;  // labelled video nodes (= sample ids) of the train and val splits
  torch::Tensor y;                          // [videos] float level (Table II), -1 where unlabelled
};

// The folder of a graph run under DS/models/: `name` when given (one path component: letters, digits, '-', '_',
// '.'; Error otherwise), else the model plus "-" and the ablation ("rgcn", "rgcn-VV", "gcn-V-CV").
std::string run_folder_name(const std::string& model, const std::string& ablation, const std::string& name);

// Targets of a dataset whose graph has one video node per sample; Error (naming ds_dir) when the train or the val
// split has no labelled sample.
TrainTargets train_targets(const Dataset& d, int64_t videos, const std::string& ds_dir);

}  // namespace spir
