// The fastText text encoder: word vectors trained on the dataset's own (pre-segmented) text, cached on disk.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "features/text_encoder.h"

namespace spir {

// Trains an unsupervised fastText model (cbow, dim = opt.dim, seed = opt.seed, one thread: deterministic) on the
// segmented corpus, or loads it from opt.cache_dir when a model for the same corpus and options is cached there.
// Training sees at most kFastTextMaxTrainTokens tokens of distinct texts (a seeded sample); encode() handles any
// text. A text's row is the mean of its in-vocabulary tokens' unit-normalised vectors; a text with none (empty,
// punctuation only, or only unseen tokens) → zeros.
// Throws Error when the corpus has no tokens or the cache folder cannot be written.
std::unique_ptr<TextEncoder> make_fasttext_text_encoder(const TextEncoderOptions& opt,
                                                        const std::vector<std::string>& corpus);

// The cap on segmented tokens in the training sample (per epoch).
constexpr int64_t kFastTextMaxTrainTokens = 5'000'000;

// Splits text into fastText tokens joined by single spaces: each CJK character alone and each pair of adjacent CJK
// characters (interleaved: 今 今天 天 天气 气), lowercased ASCII/Latin words, emoji as single tokens; punctuation
// and whitespace are dropped.
std::string segment_text(std::string_view text);

}  // namespace spir
