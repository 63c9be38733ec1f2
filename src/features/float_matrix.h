// A plain row-major float matrix: what encoders fill and feature files store (no torch needed to use it).
#pragma once
#include <cstdint>
#include <vector>

namespace spir {

struct FloatMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> data;  // rows × cols, row-major

  FloatMatrix() = default;
  FloatMatrix(int64_t r, int64_t c) : rows(r), cols(c), data(static_cast<size_t>(r * c), 0.0f) {}
  float* row(int64_t i) { return data.data() + i * cols; }
  const float* row(int64_t i) const { return data.data() + i * cols; }
};

}  // namespace spir
