// relu followed by dropout as one autograd op (Eq. 8's σ and the dropout of paper 5.1) that keeps only its output
// for the backward pass, with the dropout mask drawn by a fast counter-based generator: LibTorch's bernoulli_ costs
// about as much as a d_g = 1024 layer's matrix products at the paper's scale.
#pragma once
#include <torch/torch.h>

namespace spir {

// out = relu(z) · keep / (1 − p), keep ~ Bernoulli(1 − p) per element (p = 0: plain relu). The mask comes from one
// 64-bit seed drawn from LibTorch's default CPU generator, so torch::manual_seed (and restoring the generator's
// state, as activation checkpointing does) reproduces it, whatever the number of threads. z: float32 on the CPU.
torch::Tensor relu_dropout(const torch::Tensor& z, double p);

}  // namespace spir
