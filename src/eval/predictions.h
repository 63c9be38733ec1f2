// The file every trained model writes and `spir eval` reads: DS/models/<name>/predictions.csv (sample_id,prediction)
// with a continuous level in [0, 9] for every labelled sample of every split, and model.json beside it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace spir {

struct Prediction {
  int64_t sample_id = 0;
  double value = 0;  // predicted level, continuous (Eq. 9's 9·sigmoid(·) for the GNNs)
};

// DS/models/<name>, e.g. models/rgcn or models/rgcn-VV for an ablation.
std::string model_dir(const std::string& ds_dir, const std::string& name);

void save_predictions(const std::string& path, const std::vector<Prediction>& predictions);  // atomic
std::vector<Prediction> load_predictions(const std::string& path);  // Error names file and line

// model.json: {"model": "rgcn", "input": "Graph", "ablation": "", ... free-form training facts}.
void save_model_info(const std::string& dir, const nlohmann::json& info);
nlohmann::json load_model_info(const std::string& dir);

}  // namespace spir
