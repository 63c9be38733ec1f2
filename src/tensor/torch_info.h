// Facts about the LibTorch build in use (version, threads, BLAS), for --version and benchmark headers, and about
// modules (parameter counts).
#pragma once
#include <cstdint>
#include <string>

namespace torch::nn {
class Module;
}

namespace spir {

// Trainable and frozen parameter counts (DESIGN.md decision 8: every training stage says what trains).
struct ParameterCounts {
  int64_t trainable = 0, frozen = 0;
};
ParameterCounts count_parameters(const torch::nn::Module& model);

std::string torch_build_summary();  // e.g. "LibTorch 1.13.0, 2 threads, CPU only"

// Sets LibTorch's intra-op threads: requested > 0, else OMP_NUM_THREADS when set, else every core. (Debian's
// LibTorch starts with one thread when OMP_NUM_THREADS is unset.) Returns the number in use.
int configure_torch_threads(int requested);

}  // namespace spir
