// Raw node inputs that need no learned encoder: the time encoding (paper Eq. 5) and scalar values (Eq. 6).
#pragma once
#include <cstdint>

#include <torch/torch.h>

namespace spir {

constexpr int kTimeEncodingDim = 512;  // Eq. 5

// The time value fed to Eq. 5: hours since 2020-01-01 00:00. Eq. 5 leaves the unit open; in seconds even its slowest
// component (period 2π·10000^(510/512) ≈ 60,700) would wrap every 17 hours, while in hours the components span
// periods from 6 hours to 7 years, which covers what matters here (hours to weeks).
double time_value_hours(int64_t seconds);

// Eq. 5: f[2i] = sin(v / 10000^(2i/512)), f[2i+1] = cos(v / 10000^(2i/512)), i = 0..255. v: [N] (any float type);
// returns [N, 512] float32 (computed in double).
torch::Tensor sinusoidal_time_encoding(const torch::Tensor& v);
// The same encoding written into out (float32 [N, 512], unit column stride, e.g. the columns of a wider table).
void write_sinusoidal_time_encoding(const torch::Tensor& v, torch::Tensor out);

// Eq. 6 with a missing bit: [log(v + 1), 0] for a count, [0, 1] for a missing one (kMissing), as [N, 2] float32.
torch::Tensor scalar_features(const std::vector<int64_t>& counts);

}  // namespace spir
