// Pieces shared by the Hugging Face checkpoint loaders (BERT, ViT): config.json fields and module layout.
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/error.h"

namespace spir::hf {

// Reads config field key into *v; a missing or null field is an error only when required. Errors name file and field.
template <typename T>
void read_field(const nlohmann::json& j, const std::string& path, const char* key, T* v, bool required) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) throw Error(path + ": field '" + key + "': missing");
    return;
  }
  try {
    *v = j[key].get<T>();
  } catch (const std::exception&) {
    throw Error(path + ": field '" + key + "': bad value " + j[key].dump());
  }
}

// An empty module that only groups children, so parameter names follow the checkpoint's key layout.
inline std::shared_ptr<torch::nn::Module> group(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

inline torch::nn::LayerNorm layer_norm(int64_t dim, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps));
}

}  // namespace spir::hf
