#include "core/rng.h"

#include <algorithm>
#include <stdexcept>

namespace spir {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

uint64_t Rng::below(uint64_t n) { return static_cast<uint64_t>(uniform() * static_cast<double>(n)) % n; }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = uniform() * 2 - 1;
    v = uniform() * 2 - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  const double f = std::sqrt(-2 * std::log(s) / s);
  spare_ = v * f;
  has_spare_ = true;
  return u * f;
}

int64_t Rng::poisson(double mean) {
  if (mean <= 0) return 0;
  if (mean > 30) return std::max<int64_t>(0, std::llround(normal(mean, std::sqrt(mean))));
  const double l = std::exp(-mean);
  int64_t k = 0;
  double p = 1;
  do {
    ++k;
    p *= uniform();
  } while (p > l);
  return k - 1;
}

Rng Rng::split(uint64_t stream) const {
  uint64_t x = s_[0] ^ (stream * 0xd1b54a32d192ed03ULL);
  return Rng(splitmix64(x));
}

Categorical::Categorical(const std::vector<double>& weights) {
  double total = 0;
  cum_.reserve(weights.size());
  for (double w : weights) {
    if (w < 0) throw std::invalid_argument("Categorical: negative weight");
    total += w;
    cum_.push_back(total);
  }
  if (total <= 0) throw std::invalid_argument("Categorical: weights sum to zero");
}

size_t Categorical::sample(Rng& rng) const {
  const double u = rng.uniform() * cum_.back();
  return std::min<size_t>(std::upper_bound(cum_.begin(), cum_.end(), u) - cum_.begin(), cum_.size() - 1);
}

}  // namespace spir
