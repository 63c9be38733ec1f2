// The NetGPT instruction (paper 4.3, Eq. 12) and response (4.2): a sample's textual information x_v as JSON (the
// fields of Figure 2 without the level), at most 50 comments chosen at random (seeded), at most N tokens.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "llm/bpe_tokenizer.h"

namespace spir {

// Ids of the chat and graph special tokens (registered in the tokenizer by add_prompt_tokens).
struct PromptTokens {
  int32_t im_start = -1, im_end = -1;                      // Qwen2 chat template tokens (added when missing)
  int32_t graph_start = -1, graph_pad = -1, graph_end = -1;  // 4.3: added to the vocabulary
};

// Registers <|im_start|>, <|im_end|> (when the tokenizer lacks them) and <|graph_start|>, <|graph_pad|>,
// <|graph_end|> as special tokens; the model's embeddings must then be resized to tok.vocab_size().
PromptTokens add_prompt_tokens(BpeTokenizer& tok);

// Text from the data never forms a special token: "<|" becomes "< |".
std::string defuse(const std::string& s);
// A count for x_v: the number, or null where the platform does not report it (kMissing).
nlohmann::ordered_json count_or_null(int64_t v);

struct PromptOptions {
  bool graph = true;         // include "Graph 1: <|graph_start|><|graph_pad|><|graph_end|>" (false: LLM-only baseline)
  int max_comments = 50;     // paper 5.1: 50 comments chosen at random when a sample has more
  int64_t max_tokens = 4000;  // paper 5.1: the instruction's token limit (the response comes on top)
  uint64_t seed = 7;         // comment choice: a function of (seed, sample id) only
};

// x_v: the sample's JSON (platform, topic, title, description, author, post time, crawl date, duration, the counts at
// the crawl date with null where the platform has none, fans, and the comments visible at the crawl date). The
// comments are the visible ones, or max_comments of them chosen at random (kept in time order); keep_comments < 0
// keeps all chosen, else the first keep_comments; description / title are cut to at most that many code points
// (< 0: whole). No level.
nlohmann::ordered_json sample_json(const Dataset& d, const Sample& s, const PromptOptions& opt, int64_t keep_comments = -1,
                                   int64_t description_chars = -1, int64_t title_chars = -1);

// The instruction text of Eq. 12 around an already serialised x_v (ends with "<|im_start|>assistant\n").
std::string instruction_text(const std::string& x_v, bool graph);
// The response of 4.2 without the end token: "The influence level of this short-video is y".
std::string response_text(int level);
// The response's fixed prefix, "The influence level of this short-video is " (what a parser looks for).
const char* response_prefix();

// One encoded sample.
struct EncodedPrompt {
  std::vector<int32_t> ids;       // the instruction's tokens (ins), at most max_tokens
  int64_t graph_pad_pos = -1;     // index of <|graph_pad|> in ids (-1 when opt.graph is false)
  int64_t comments_total = 0;     // comments visible at the crawl date
  int64_t comments_kept = 0;      // comments in the JSON after choice and truncation
  bool truncated = false;         // comments, description or title were cut to fit max_tokens
};

// Encodes the instruction for sample s, cutting first the comments (from the latest chosen), then the description,
// then the title until it fits opt.max_tokens; never the instruction or the graph tokens. Throws Error when even
// the shortest form does not fit.
EncodedPrompt encode_prompt(const BpeTokenizer& tok, const Dataset& d, const Sample& s, const PromptOptions& opt);

// The response tokens followed by <|im_end|> (what stage 2 and the LLM baseline learn to generate).
std::vector<int32_t> encode_response(const BpeTokenizer& tok, const PromptTokens& t, int level);

// Reads the level from generated text: the first integer after the response prefix (or anywhere when the prefix is
// absent); -1 when there is none or it is outside 0..9.
int parse_level(const std::string& generated);

}  // namespace spir
