// The hash text encoder: signed feature hashing of character n-grams and ASCII words (no training, deterministic),
// and the small text helpers (hashing, UTF-8, code-point folding) the text encoders share.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "features/text_encoder.h"

namespace spir {

// Encoder over code-point 1-, 2- and 3-grams plus whole lowercased ASCII words; each feature's seeded 64-bit hash
// picks a bucket in [0, dim) and a sign; weights are log1p(count), rows are L2-normalised. Throws Error if dim < 1.
std::unique_ptr<TextEncoder> make_hash_text_encoder(int dim, uint64_t seed);

// A seeded 64-bit hash of bytes (not cryptographic; the same on every platform and build).
uint64_t hash_bytes(const void* data, size_t size, uint64_t seed);

// Folds a code point for matching: ASCII and full-width letters to lowercase ASCII, full-width digits and
// punctuation to ASCII, whitespace and control characters to ' ', and invisible joiners/variation selectors to 0
// (meaning: drop it). Everything else is returned unchanged.
char32_t fold_code_point(char32_t cp);

}  // namespace spir
