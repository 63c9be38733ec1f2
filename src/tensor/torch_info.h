// Facts about the LibTorch build in use (version, threads, BLAS), for --version and benchmark headers.
#pragma once
#include <string>

namespace spir {

std::string torch_build_summary();  // e.g. "LibTorch 1.13.0, 2 threads, CPU only"

// Sets LibTorch's intra-op threads: requested > 0, else OMP_NUM_THREADS when set, else every core. (Debian's
// LibTorch starts with one thread when OMP_NUM_THREADS is unset.) Returns the number in use.
int configure_torch_threads(int requested);

}  // namespace spir
