// A small seeded random generator with its own distributions, so synthetic data is identical across standard libraries.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace spir {

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next_u64();
  double uniform();                                   // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  uint64_t below(uint64_t n);                         // [0, n), n > 0
  bool bernoulli(double p) { return uniform() < p; }
  double normal();                                    // standard normal
  double normal(double mean, double sd) { return mean + sd * normal(); }
  double lognormal(double mu, double sigma) { return std::exp(normal(mu, sigma)); }
  double exponential(double rate) { return -std::log1p(-uniform()) / rate; }
  int64_t poisson(double mean);
  Rng split(uint64_t stream) const;                   // an independent generator for a sub-task

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

// Samples an index with probability proportional to weights[i] (alias-free: cumulative + binary search).
class Categorical {
 public:
  Categorical() = default;
  explicit Categorical(const std::vector<double>& weights);
  size_t sample(Rng& rng) const;
  size_t size() const { return cum_.size(); }

 private:
  std::vector<double> cum_;
};

}  // namespace spir
