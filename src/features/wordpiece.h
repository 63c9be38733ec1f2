// BERT's WordPiece tokenizer: basic tokenization (cleaning, CJK and punctuation splits, lowercasing and accent
// stripping) then greedy longest-match-first subwords from vocab.txt, with [CLS]/[SEP] framing and padding.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace spir {

// Options as in a Hugging Face tokenizer_config.json.
struct WordPieceOptions {
  bool do_lower_case = true;
  bool tokenize_chinese_chars = true;     // put spaces around CJK ideographs: one token each
  int strip_accents = -1;                 // -1: follow do_lower_case; 0: keep; 1: strip
  int max_input_chars_per_word = 100;     // longer words become [UNK]
  std::string unk_token = "[UNK]", cls_token = "[CLS]", sep_token = "[SEP]", pad_token = "[PAD]",
              mask_token = "[MASK]";
};

// One encoded sequence: ids with [CLS]/[SEP], segment ids and the attention mask (1 = real token).
struct WordPieceEncoding {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> token_type_ids;
  std::vector<int64_t> attention_mask;
};

// A padded batch, row-major rows × cols.
struct WordPieceBatch {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> input_ids, token_type_ids, attention_mask;
};

class WordPieceTokenizer {
 public:
  // vocab: one token per id (the lines of vocab.txt). Throws spir::Error when a special token is missing.
  WordPieceTokenizer(std::vector<std::string> vocab, WordPieceOptions opt = {});
  // Reads dir/vocab.txt and, when present, dir/tokenizer_config.json (do_lower_case, strip_accents, special tokens).
  static WordPieceTokenizer from_dir(const std::string& dir);

  // Cleaned, split, normalised words before WordPiece (special tokens kept whole).
  std::vector<std::string> basic_tokenize(const std::string& text) const;
  // WordPiece tokens of text, without [CLS]/[SEP].
  std::vector<std::string> tokenize(const std::string& text) const;
  // Ids of tokenize(text).
  std::vector<int64_t> token_ids(const std::string& text) const;
  // [CLS] text [SEP]; max_length > 0 truncates the text so the whole fits (max_length >= 2).
  WordPieceEncoding encode(const std::string& text, int max_length = 0) const;
  // [CLS] a [SEP] b [SEP] with token types 0/1; truncation removes from the longer side first.
  WordPieceEncoding encode_pair(const std::string& a, const std::string& b, int max_length = 0) const;
  // encode() of each text, right-padded with [PAD] to the longest row.
  WordPieceBatch encode_batch(const std::vector<std::string>& texts, int max_length = 0) const;

  int64_t token_to_id(const std::string& token) const;  // -1 when absent
  const std::string& id_to_token(int64_t id) const;
  int64_t vocab_size() const { return static_cast<int64_t>(vocab_.size()); }
  int64_t unk_id() const { return unk_id_; }
  int64_t cls_id() const { return cls_id_; }
  int64_t sep_id() const { return sep_id_; }
  int64_t pad_id() const { return pad_id_; }
  const WordPieceOptions& options() const { return opt_; }

 private:
  void wordpiece(const std::string& word, std::vector<std::string>* out) const;
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int64_t> ids_;
  std::vector<std::string> specials_;
  WordPieceOptions opt_;
  int64_t unk_id_ = -1, cls_id_ = -1, sep_id_ = -1, pad_id_ = -1;
};

}  // namespace spir
