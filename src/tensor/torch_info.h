// Facts about the LibTorch build in use (version, threads, BLAS), for --version and benchmark headers.
#pragma once
#include <string>

namespace spir {

std::string torch_build_summary();  // e.g. "LibTorch 1.13.1, 2 threads, BLAS: OpenBLAS"

}  // namespace spir
