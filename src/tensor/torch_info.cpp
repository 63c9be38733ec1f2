#include "tensor/torch_info.h"

#include <torch/torch.h>

namespace spir {

std::string torch_build_summary() {
  std::string s = "LibTorch " + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH) + ", " + std::to_string(torch::get_num_threads()) + " threads";
  s += torch::cuda::is_available() ? ", CUDA available" : ", CPU only";
  return s;
}

}  // namespace spir
