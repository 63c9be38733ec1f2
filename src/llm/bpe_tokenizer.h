// Byte-level BPE tokenizer of Qwen2, loaded from a Hugging Face tokenizer.json:
// added tokens → NFC → regex Split (PCRE2) → ByteLevel → BPE merges by rank → vocabulary ids.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spir {

// Canonical composition (NFC) of UTF-8 text; invalid bytes become U+FFFD. Coverage is listed in the .cpp.
std::string nfc_normalize(const std::string& text);

class BpeTokenizer {
 public:
  // Loads model.vocab, model.merges, added_tokens and the Split pattern; throws Error naming file and field.
  static BpeTokenizer from_file(const std::string& tokenizer_json);

  BpeTokenizer();
  ~BpeTokenizer();
  BpeTokenizer(BpeTokenizer&&) noexcept;
  BpeTokenizer& operator=(BpeTokenizer&&) noexcept;

  // Text → token ids; added tokens are matched whole first; no BOS/EOS is added (Qwen2 adds none).
  std::vector<int32_t> encode(const std::string& text) const;
  // Text → token strings (byte-level form, e.g. "Ġworld"), for debugging.
  std::vector<std::string> tokens(const std::string& text) const;
  // Text → pre-tokens (byte-level form) of the parts outside added tokens, as the Split step cuts them.
  std::vector<std::string> pretokens(const std::string& text) const;
  // Ids → text; ids without a token are skipped; special added tokens are dropped when skip_special.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
  // Id of a vocabulary or added token, -1 when absent.
  int32_t token_id(const std::string& token) const;
  // Token string of an id ("" when the id has none).
  std::string id_to_token(int32_t id) const;
  // Registers a special token matched whole in encode; returns its new id (or its id if already present).
  int32_t add_special_token(const std::string& token);
  // One more than the largest id that has a token.
  size_t vocab_size() const;

 private:
  struct AddedToken {
    std::string content;
    int32_t id = -1;
    bool special = false;
  };
  struct Regex;  // compiled PCRE2 pattern (opaque, keeps pcre2.h out of this header)

  // Splits text into ordinary segments and added-token ids (leftmost, longest match).
  template <class OnText, class OnAdded>
  void split_added(const std::string& text, OnText on_text, OnAdded on_added) const;
  // Calls f(piece) for every regex pre-token of an already normalised segment.
  template <class F>
  void for_each_piece(std::string_view segment, F f) const;
  // BPE of one pre-token (raw bytes) → ids, through the cache.
  void bpe_piece(const std::string& piece, std::vector<int32_t>& out) const;
  // BPE without the cache.
  void bpe_uncached(const std::string& piece, std::vector<int32_t>& out) const;

  std::string source_;                                   // file the tokenizer came from, for errors
  std::unordered_map<std::string, int32_t> vocab_;       // byte-level token string → id
  std::vector<std::string> id_to_token_;                 // id → token string ("" when none)
  std::vector<std::string> id_bytes_;                    // id → the raw bytes it decodes to
  std::vector<uint8_t> is_special_;                      // id → 1 for special added tokens
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left id, right id) → (rank, merged id)
  int32_t byte_id_[256];                                 // byte → id of its byte-level symbol (-1 if absent)
  std::vector<AddedToken> added_;                        // added tokens, longest first
  bool added_first_byte_[256] = {};                      // bytes that can start an added token
  bool normalize_nfc_ = false;                           // the normalizer is NFC
  std::unique_ptr<Regex> regex_;                         // the Split pattern

  mutable std::mutex cache_mutex_;                                       // guards cache_
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;  // pre-token → ids
};

}  // namespace spir
