// Greedy decoding of a batch of prompts of different lengths with a key/value cache, optionally checking a draft
// (tokens every answer is expected to start with) in the first pass. The LLM-only baseline (paper 5.1) reads its
// levels from this output.
#pragma once
#include <cstdint>
#include <vector>

#include "llm/qwen2.h"

namespace spir {

// The greedy continuation of each prompt (non-empty), up to and including eos, at most max_new tokens each.
// The prompts are left-padded into one batch and read once; each later step feeds one token per row. With a
// draft, the first pass also reads the draft after every prompt and keeps, per row, the draft tokens the model
// would have produced itself, up to and including its first own token; the draft tokens a row did not keep are
// masked out of the cache. The result equals plain greedy decoding of each prompt alone (up to float rounding).
std::vector<std::vector<int32_t>> greedy_generate(Qwen2ForCausalLM& llm, const std::vector<std::vector<int32_t>>& prompts,
                                                  const std::vector<int32_t>& draft, int32_t eos, int64_t max_new);

}  // namespace spir
