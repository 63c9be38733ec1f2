#include "features/node_inputs.h"

#include <cmath>

#include "core/civil_time.h"
#include "data/video.h"

namespace spir {

double time_value_hours(int64_t seconds) {
  static const int64_t kEpoch = days_from_civil(2020, 1, 1) * kSecondsPerDay;
  return static_cast<double>(seconds - kEpoch) / 3600.0;
}

torch::Tensor sinusoidal_time_encoding(const torch::Tensor& v) {
  const torch::Tensor i = torch::arange(kTimeEncodingDim / 2, torch::kFloat64);
  const torch::Tensor inv_freq = torch::pow(10000.0, -2.0 * i / kTimeEncodingDim);  // 1 / 10000^(2i/512)
  const torch::Tensor angle = v.to(torch::kFloat64).unsqueeze(1) * inv_freq.unsqueeze(0);
  // interleave: even columns sin, odd columns cos
  return torch::stack({torch::sin(angle), torch::cos(angle)}, 2).reshape({v.size(0), kTimeEncodingDim}).to(torch::kFloat32);
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
