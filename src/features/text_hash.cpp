#include "features/text_hash.h"

#include "core/utf8.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/progress.h"

namespace spir {

namespace {

constexpr uint64_t kMul1 = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kMul2 = 0xc2b2ae3d27d4eb4fULL;

// A 64-bit finaliser (splitmix64's output mix): every input bit affects every output bit.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Reads up to 8 bytes as a little-endian integer, independent of the host's byte order.
inline uint64_t load_le(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// Per-kind hash seeds, so that a bigram and a word (or two encoders' seeds) never share hashes by construction.
enum FeatureKind : uint64_t { kUnigram = 1, kBigram = 2, kTrigram = 3, kWord = 4 };
inline uint64_t kind_seed(uint64_t seed, uint64_t kind) { return mix64(seed * kMul1 + kind * kMul2 + 0x5bd1e995); }

inline bool is_ascii_alnum(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

class HashTextEncoder : public TextEncoder {
 public:
  HashTextEncoder(int dim, uint64_t seed) : dim_(dim) {
    for (uint64_t k = 1; k <= 4; ++k) seeds_[k] = kind_seed(seed, k);
  }
  std::string name() const override { return "hash"; }
  int dim() const override { return dim_; }

  void encode(const std::vector<std::string>& texts, float* out) const override {
    const int64_t n = static_cast<int64_t>(texts.size());
    const bool report = n >= 100000;
    Progress progress("hash text encoder", n, "texts");
    std::vector<char32_t> cps;
    std::vector<uint64_t> keys;
    std::string word;
    for (int64_t i = 0; i < n; ++i) {
      encode_one(texts[static_cast<size_t>(i)], out + i * dim_, cps, keys, word);
      if (report) progress.update(i + 1);
    }
    if (report) progress.finish(n);
  }

 private:
  // One row: fold the code points, collect feature hashes, count them, add signed log1p(count), L2-normalise.
  void encode_one(const std::string& text, float* row, std::vector<char32_t>& cps, std::vector<uint64_t>& keys,
                  std::string& word) const {
    std::fill(row, row + dim_, 0.0f);
    cps.clear();
    for (char32_t c : decode_utf8(text)) {
      c = fold_code_point(c);
      if (c == 0) continue;
      if (c == U' ' && (cps.empty() || cps.back() == U' ')) continue;  // collapse and left-trim whitespace
      cps.push_back(c);
    }
    while (!cps.empty() && cps.back() == U' ') cps.pop_back();
    if (cps.empty()) return;

    keys.clear();
    const size_t m = cps.size();
    for (size_t j = 0; j < m; ++j) {
      // Code points fit in 21 bits, so three of them pack exactly into one 64-bit key per n.
      const uint64_t a = cps[j];
      if (a != U' ') keys.push_back(mix64(a ^ seeds_[kUnigram]));
      if (j + 1 < m) keys.push_back(mix64((a | static_cast<uint64_t>(cps[j + 1]) << 21) ^ seeds_[kBigram]));
      if (j + 2 < m)
        keys.push_back(mix64((a | static_cast<uint64_t>(cps[j + 1]) << 21 | static_cast<uint64_t>(cps[j + 2]) << 42) ^
                             seeds_[kTrigram]));
    }
    for (size_t j = 0; j < m;) {
      if (!is_ascii_alnum(cps[j])) {
        ++j;
        continue;
      }
      word.clear();
      while (j < m && is_ascii_alnum(cps[j])) word.push_back(static_cast<char>(cps[j++]));
      keys.push_back(hash_bytes(word.data(), word.size(), seeds_[kWord]));
    }

    std::sort(keys.begin(), keys.end());
    for (size_t j = 0; j < keys.size();) {
      size_t k = j;
      while (k < keys.size() && keys[k] == keys[j]) ++k;
      const uint64_t h = keys[j];
      const float w = static_cast<float>(std::log1p(static_cast<double>(k - j)));  // sublinear tf
      // High bits pick the bucket (multiply-shift), the lowest bit the sign.
      const auto bucket = static_cast<size_t>((static_cast<unsigned __int128>(h) * static_cast<uint64_t>(dim_)) >> 64);
      row[bucket] += (h & 1) ? w : -w;
      j = k;
    }
    double norm2 = 0;
    for (int d = 0; d < dim_; ++d) norm2 += static_cast<double>(row[d]) * row[d];
    if (norm2 > 0) {
      const float inv = static_cast<float>(1.0 / std::sqrt(norm2));
      for (int d = 0; d < dim_; ++d) row[d] *= inv;
    }
  }

  int dim_;
  uint64_t seeds_[5] = {};
};

}  // namespace

std::unique_ptr<TextEncoder> make_hash_text_encoder(int dim, uint64_t seed) {
  if (dim < 1) throw Error("hash text encoder: dim must be at least 1, got " + std::to_string(dim));
  return std::make_unique<HashTextEncoder>(dim, seed);
}

uint64_t hash_bytes(const void* data, size_t size, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = mix64(seed ^ (static_cast<uint64_t>(size) * kMul1));
  size_t i = 0;
  for (; i + 8 <= size; i += 8) h = rotl(h ^ mix64(load_le(p + i, 8) * kMul2), 29) * kMul1 + kMul2;
  if (i < size) h = rotl(h ^ mix64((load_le(p + i, size - i) + 1) * kMul2), 29) * kMul1 + kMul2;
  return mix64(h);
}


char32_t fold_code_point(char32_t cp) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // full-width ASCII forms
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0x20 || cp == 0x7F || cp == 0xA0 || cp == 0x3000 || cp == 0x2028 || cp == 0x2029) return U' ';
  if (cp >= 0x80 && cp < 0xA0) return U' ';  // C1 controls
  if ((cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F) return U' ';  // typographic spaces
  if ((cp >= 0x200B && cp <= 0x200F) || cp == 0x2060 || cp == 0xFEFF) return 0;    // zero-width characters
  if ((cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0100 && cp <= 0xE01EF)) return 0;  // variation selectors
  return cp;
}

}  // namespace spir
