#include "features/node_inputs.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

#include "core/civil_time.h"
#include "core/error.h"
#include "data/video.h"

namespace spir {

double time_value_hours(int64_t seconds) {
  static const int64_t kEpoch = days_from_civil(2020, 1, 1) * kSecondsPerDay;
  return static_cast<double>(seconds - kEpoch) / 3600.0;
}

void write_sinusoidal_time_encoding(const torch::Tensor& v, torch::Tensor out) {
  // Angles and sin/cos in double (times reach 10^5 hours), written straight into float32, rows in parallel: the
  // paper-scale comment table has 866 k rows of 512 columns.
  constexpr int64_t half = kTimeEncodingDim / 2;
  const torch::Tensor t = v.to(torch::kFloat64).contiguous();
  const int64_t n = t.size(0);
  if (out.scalar_type() != torch::kFloat32 || out.dim() != 2 || out.size(0) != n || out.size(1) != kTimeEncodingDim ||
      out.stride(1) != 1)
    throw Error("write_sinusoidal_time_encoding: out must be float32 [" + std::to_string(n) + ", " +
                std::to_string(kTimeEncodingDim) + "] with unit column stride");
  std::vector<double> inv_freq(half);  // 1 / 10000^(2i/512)
  for (int64_t i = 0; i < half; ++i) inv_freq[static_cast<size_t>(i)] = std::pow(10000.0, -2.0 * static_cast<double>(i) / kTimeEncodingDim);
  const double* tp = t.data_ptr<double>();
  float* op = out.data_ptr<float>();
  const int64_t stride = out.stride(0);
  at::parallel_for(0, n, 1024, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      float* o = op + r * stride;
      for (int64_t i = 0; i < half; ++i) {  // interleaved: even columns sin, odd columns cos
        const double a = tp[r] * inv_freq[static_cast<size_t>(i)];
        o[2 * i] = static_cast<float>(std::sin(a));
        o[2 * i + 1] = static_cast<float>(std::cos(a));
      }
    }
  });
}

torch::Tensor sinusoidal_time_encoding(const torch::Tensor& v) {
  torch::Tensor out = torch::empty({v.size(0), kTimeEncodingDim}, torch::kFloat32);
  write_sinusoidal_time_encoding(v, out);
  return out;
}

torch::Tensor scalar_features(const std::vector<int64_t>& counts) {
  torch::Tensor out = torch::zeros({static_cast<int64_t>(counts.size()), 2}, torch::kFloat32);
  float* p = out.data_ptr<float>();
  for (size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] == kMissing) p[2 * k + 1] = 1.0f;
    else p[2 * k] = static_cast<float>(std::log1p(static_cast<double>(counts[k])));
  }
  return out;
}

}  // namespace spir
