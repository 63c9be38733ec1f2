#include "tensor/torch_info.h"

#include <torch/torch.h>

#include <cstdlib>
#include <thread>

namespace spir {

std::string torch_build_summary() {
  std::string s = "LibTorch " + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH) + ", " + std::to_string(torch::get_num_threads()) + " threads";
  s += torch::cuda::is_available() ? ", CUDA available" : ", CPU only";
  return s;
}

int configure_torch_threads(int requested) {
  int n = requested;
  if (n <= 0) {
    const char* env = std::getenv("OMP_NUM_THREADS");
    n = env && std::atoi(env) > 0 ? std::atoi(env) : static_cast<int>(std::thread::hardware_concurrency());
  }
  if (n > 0) torch::set_num_threads(n);
  return torch::get_num_threads();
}

ParameterCounts count_parameters(const torch::nn::Module& model) {
  ParameterCounts c;
  for (const auto& p : model.parameters()) (p.requires_grad() ? c.trainable : c.frozen) += p.numel();
  return c;
}

}  // namespace spir
