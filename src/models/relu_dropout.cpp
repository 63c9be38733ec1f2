#include "models/relu_dropout.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>

#include "core/error.h"

namespace spir {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// SplitMix64: one 64-bit output per call, two 32-bit uniforms each.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t x = (state += 0x9E3779B97F4A7C15ull);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Elements per generator stream: fixed, so the mask does not depend on how the work is split between threads.
constexpr int64_t kBlock = 1 << 14;

void relu_dropout_kernel(const float* z, float* out, int64_t n, double p, uint64_t seed) {
  const uint64_t keep_below = static_cast<uint64_t>(std::llround((1.0 - p) * 4294967296.0));  // P(u32 < t) = 1 - p
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  at::parallel_for(0, (n + kBlock - 1) / kBlock, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      uint64_t state = seed ^ (static_cast<uint64_t>(b) * 0xD1B54A32D192ED03ull);
      const int64_t lo = b * kBlock, hi = std::min(n, lo + kBlock);
      for (int64_t i = lo; i < hi; i += 2) {
        const uint64_t r = splitmix64(state);
        const float z0 = z[i];
        out[i] = (z0 > 0 && (r & 0xFFFFFFFFull) < keep_below) ? z0 * scale : 0.0f;
        if (i + 1 < hi) {
          const float z1 = z[i + 1];
          out[i + 1] = (z1 > 0 && (r >> 32) < keep_below) ? z1 * scale : 0.0f;
        }
      }
    }
  });
}

// The output is zero exactly where relu or the mask is, so it alone gives the backward pass (instead of relu's output
// plus a float mask: a third of the activation memory).
struct ReluDropout : torch::autograd::Function<ReluDropout> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& z, double p) {
    torch::Tensor out;
    double scale = 1.0;
    if (p > 0) {
      if (z.scalar_type() != torch::kFloat32 || !z.device().is_cpu())
        throw Error("relu_dropout: z must be float32 on the CPU");
      const torch::Tensor zc = z.contiguous();
      const uint64_t seed = static_cast<uint64_t>(
          torch::randint(std::numeric_limits<int64_t>::max(), {1}, torch::kInt64).item<int64_t>());
      out = torch::empty_like(zc);
      relu_dropout_kernel(zc.data_ptr<float>(), out.data_ptr<float>(), zc.numel(), p, seed);
      scale = 1.0 / (1.0 - p);
    } else {
      out = torch::relu(z);
    }
    ctx->saved_data["scale"] = scale;
    ctx->save_for_backward({out});
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    torch::Tensor g = torch::threshold_backward(grads[0], ctx->get_saved_variables()[0], 0);
    const double scale = ctx->saved_data["scale"].toDouble();
    if (scale != 1.0) g.mul_(scale);
    return {g, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor relu_dropout(const torch::Tensor& z, double p) {
  if (p < 0 || p >= 1) throw Error("relu_dropout: p must be in [0, 1)");
  return ReluDropout::apply(z, p);
}

}  // namespace spir
