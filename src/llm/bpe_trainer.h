// Byte-level BPE training in the Qwen2 layout: texts → NFC → the Qwen2 Split pattern → ByteLevel → pre-token
// counts → repeated merging of the most frequent adjacent pair → a Hugging Face tokenizer.json that
// BpeTokenizer::from_file loads unchanged.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace spir {

// The Qwen2 pre-tokenizer Split pattern (tokenizer.json: pre_tokenizer.pretokenizers[0].pattern.Regex).
const char* qwen2_split_pattern();
// The ByteLevel symbol (UTF-8) of one byte in the GPT-2 byte ↔ unicode table.
std::string byte_level_symbol(unsigned char b);
// The 256 byte symbols in id order: sorted by code point, as Hugging Face's byte-level alphabet (ids 0..255).
std::vector<std::string> byte_level_alphabet();

struct BpeTrainerOptions {
  int64_t vocab_size = 8189;   // BPE tokens (256 byte symbols + merged tokens); the special tokens come on top
  int64_t min_frequency = 2;   // stop when the best pair occurs fewer times (pre-token counts weighted)
  std::vector<std::string> special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};  // ids after the BPE ones
  bool keep_segmentation = false;  // fill BpeModel::segmentation (for tests and diagnostics)
  bool progress = true;            // log progress lines while counting and merging
};

// A trained vocabulary. Ids: 0..255 the byte alphabet, then merged tokens in order of first creation, then the
// special tokens.
struct BpeModel {
  std::vector<std::string> vocab;                    // id → byte-level token string
  std::vector<std::pair<int32_t, int32_t>> merges;   // rank → (left id, right id)
  std::vector<int64_t> merge_counts;                 // rank → the pair's count when it was merged
  std::vector<std::string> special_tokens;           // special token i has id vocab.size() + i
  std::unordered_map<std::string, std::vector<int32_t>> segmentation;  // pre-token (byte-level) → final ids
  int64_t pretokens_total = 0;                       // pre-tokens in the corpus
  int64_t pretokens_unique = 0;                      // distinct pre-tokens
  double seconds = 0;                                // training time
  // Vocabulary plus special tokens.
  int64_t size() const { return int64_t(vocab.size() + special_tokens.size()); }
  // "left right" of merge rank r (the tokenizer.json form).
  std::string merge_string(size_t r) const;
};

// Trains on texts. Pre-tokenisation is BpeTokenizer's own (loaded from the tokenizer.json of the empty model), so
// special tokens in the text are cut out whole and never learned. Each step merges the pair with the highest count;
// ties go to the smaller (left id, right id). Within a pre-token a merge replaces occurrences left to right. Pair
// counts are updated incrementally from the pre-tokens that hold the merged pair only. Stops at opt.vocab_size
// tokens or when no pair reaches opt.min_frequency.
BpeModel train_bpe(const std::vector<std::string>& texts, const BpeTrainerOptions& opt);

// The Hugging Face tokenizer.json of a model: BPE vocab + merges, NFC normaliser, Sequence[Split(Qwen2 pattern),
// ByteLevel] pre-tokenizer, ByteLevel decoder, the special tokens as added tokens.
nlohmann::ordered_json bpe_tokenizer_json(const BpeModel& m);
// Writes bpe_tokenizer_json(m) to path (atomically).
void write_bpe_tokenizer_json(const BpeModel& m, const std::string& path);

}  // namespace spir
