// The byte-level BPE trainer: hand-computed merges, round trips, special tokens, and the tokenizer.json it writes
// loaded by BpeTokenizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/json_file.h"
#include "llm/bpe_tokenizer.h"
#include "llm/bpe_trainer.h"
#include "test_util.h"

namespace {

const std::string kRefTokJson = std::string(SPIR_SHARED_DIR) + "/fixtures/tokenizer/tokenizer.json";

std::vector<std::string> repeat(const std::string& s, int n) { return std::vector<std::string>(size_t(n), s); }

spir::BpeTrainerOptions quiet(int64_t vocab) {
  spir::BpeTrainerOptions o;
  o.vocab_size = vocab;
  o.keep_segmentation = true;
  o.progress = false;
  return o;
}

// A mixed Chinese / English / emoji corpus with digits, punctuation, newlines and a ChatML frame.
std::vector<std::string> mixed_corpus() {
  std::vector<std::string> t;
  for (int i = 0; i < 20; ++i) {
    t.push_back("这个视频太好看了！The video is great, I've watched it " + std::to_string(i) + " times 😂😂");
    t.push_back("{\"title\": \"今天的天气很好\", \"description\": \"周末去公园 🌸 with friends\", \"views\": " +
                std::to_string(1000 + 37 * i) + "}");
    t.push_back("<|im_start|>user\nPlease read the following json<|im_end|>\n<|im_start|>assistant\n");
    t.push_back("  indented line\n\n\ttabbed\r\nwindows line   trailing   ");
    t.push_back("Café naïve résumé — “quotes” and 👨‍👩‍👧‍👦 family, 🇨🇳 flag");
  }
  return t;
}

}  // namespace

// The byte alphabet (ids 0..255) and the Split pattern are exactly those of the reference Qwen2-layout tokenizer.
TEST(BpeTrainer, AlphabetAndPatternMatchReference) {
  if (!std::filesystem::exists(kRefTokJson)) GTEST_SKIP() << "reference tokenizer fixture not found";
  const nlohmann::json j = spir::read_json(kRefTokJson);
  const auto alphabet = spir::byte_level_alphabet();
  ASSERT_EQ(alphabet.size(), 256u);
  for (size_t i = 0; i < 256; ++i) {
    ASSERT_TRUE(j["model"]["vocab"].contains(alphabet[i])) << i;
    EXPECT_EQ(j["model"]["vocab"][alphabet[i]].get<int>(), int(i)) << alphabet[i];
  }
  EXPECT_EQ(j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"].get<std::string>(), spir::qwen2_split_pattern());
  EXPECT_EQ(spir::byte_level_symbol(' '), "\xC4\xA0");  // Ġ
  EXPECT_EQ(spir::byte_level_symbol('\n'), "\xC4\x8A");  // Ċ
}

// Word counts hug 10, pug 5, pun 12, bun 4, hugs 5 give, by hand: u g (20), u n (16), h ug (15), p un (12), then the
// tie p ug (5) = hug s (5) broken by the smaller pair ids (p < hug), then b un (4).
TEST(BpeTrainer, FirstMergesComputedByHand) {
  std::vector<std::string> texts;
  for (const auto& [w, n] : std::vector<std::pair<std::string, int>>{
           {"hug", 10}, {"pug", 5}, {"pun", 12}, {"bun", 4}, {"hugs", 5}})
    for (const auto& s : repeat(w, n)) texts.push_back(s);
  const spir::BpeModel m = spir::train_bpe(texts, quiet(256 + 7));
  std::vector<std::string> merges;
  for (size_t r = 0; r < m.merges.size(); ++r) merges.push_back(m.merge_string(r));
  EXPECT_EQ(merges, (std::vector<std::string>{"u g", "u n", "h ug", "p un", "p ug", "hug s", "b un"}));
  EXPECT_EQ(m.merge_counts, (std::vector<int64_t>{20, 16, 15, 12, 5, 5, 4}));
  EXPECT_EQ(m.pretokens_total, 36);
  EXPECT_EQ(m.pretokens_unique, 5);
  EXPECT_EQ(m.vocab[256], "ug");
  EXPECT_EQ(m.vocab[262], "bun");
  // Every word is now one token; no pair is left, so a larger target stops at the same place.
  const spir::BpeModel more = spir::train_bpe(texts, quiet(300));
  EXPECT_EQ(more.merges.size(), 7u);
}

// Pre-tokens with a leading space merge through Ġ, and a pair below min_frequency is never merged.
TEST(BpeTrainer, SpacePrefixAndMinFrequency) {
  std::vector<std::string> texts = repeat("go go go", 3);  // pre-tokens: go ×3, Ġgo ×6
  texts.push_back("xy");
  const spir::BpeModel m = spir::train_bpe(texts, quiet(400));
  std::vector<std::string> merges;
  for (size_t r = 0; r < m.merges.size(); ++r) merges.push_back(m.merge_string(r));
  // g o: 9, then Ġ go: 6; x y occurs once (< min_frequency 2) and stays unmerged.
  EXPECT_EQ(merges, (std::vector<std::string>{"g o", "\xC4\xA0 go"}));
}

// The written tokenizer.json loads with BpeTokenizer::from_file, encodes every training text exactly as the
// trainer segmented its pre-tokens, and round-trips mixed Chinese / English / emoji text, seen or not.
TEST(BpeTrainer, WrittenTokenizerLoadsMatchesSegmentationAndRoundTrips) {
  spir::testing::ScratchDir dir("bpe_trainer");
  const auto texts = mixed_corpus();
  const spir::BpeModel m = spir::train_bpe(texts, quiet(256 + 150));
  ASSERT_EQ(m.vocab.size(), 256u + 150u);  // the corpus has enough pairs to reach the target
  const std::string path = dir.path("tokenizer.json");
  spir::write_bpe_tokenizer_json(m, path);
  const auto tok = spir::BpeTokenizer::from_file(path);
  EXPECT_EQ(int64_t(tok.vocab_size()), m.size());
  EXPECT_EQ(tok.token_id("<|endoftext|>"), 406);
  EXPECT_EQ(tok.token_id("<|im_start|>"), 407);
  EXPECT_EQ(tok.token_id("<|im_end|>"), 408);

  for (const auto& t : texts) {
    SCOPED_TRACE(t);
    // Added tokens come whole; every other part is the trainer's own segmentation of each pre-token.
    std::vector<int32_t> expect;
    for (const auto& piece : tok.pretokens(t)) {
      auto it = m.segmentation.find(piece);
      ASSERT_NE(it, m.segmentation.end()) << piece;
      expect.insert(expect.end(), it->second.begin(), it->second.end());
    }
    const std::vector<int32_t> got = tok.encode(t);
    std::vector<int32_t> nonspecial;
    for (int32_t id : got)
      if (id < int32_t(m.vocab.size())) nonspecial.push_back(id);
    EXPECT_EQ(nonspecial, expect);
    EXPECT_EQ(tok.decode(got), t);
  }

  const std::vector<std::string> unseen = {
      "全新的句子，没有出现过：量子计算机 🤖🚀 and brand-new English words like 'xylophone'!",
      "Emoji ZWJ 👩‍💻 + skin tone 👍🏽 + keycap 1️⃣, digits 1234567890",
      "", " ", "\n\n\n", "tabs\tand  spaces   ", "日本語とEnglish混合 mixed",
  };
  for (const auto& t : unseen) EXPECT_EQ(tok.decode(tok.encode(t)), t) << t;
}

// Special tokens are cut out before pre-tokenisation: they encode to one id each, even glued to text, and no
// learned token holds any part of them that only they contain.
TEST(BpeTrainer, SpecialTokensNeverSplitNorLearned) {
  spir::testing::ScratchDir dir("bpe_trainer_special");
  const spir::BpeModel m = spir::train_bpe(mixed_corpus(), quiet(256 + 150));
  for (const auto& v : m.vocab) {
    EXPECT_EQ(v.find("im_start"), std::string::npos) << v;
    EXPECT_EQ(v.find("im_end"), std::string::npos) << v;
  }
  spir::write_bpe_tokenizer_json(m, dir.path("tokenizer.json"));
  const auto tok = spir::BpeTokenizer::from_file(dir.path("tokenizer.json"));
  const int32_t s = tok.token_id("<|im_start|>"), e = tok.token_id("<|im_end|>"), eot = tok.token_id("<|endoftext|>");
  const std::string text = "x<|im_start|>assistant\nok<|im_end|><|endoftext|>视频";
  const auto ids = tok.encode(text);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), s), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), e), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), eot), 1);
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_EQ(tok.decode(ids, /*skip_special=*/true), "xassistant\nok视频");
}

// Training is deterministic: the same texts give the same merges whatever the run.
TEST(BpeTrainer, Deterministic) {
  const auto a = spir::train_bpe(mixed_corpus(), quiet(256 + 100));
  const auto b = spir::train_bpe(mixed_corpus(), quiet(256 + 100));
  EXPECT_EQ(a.merges, b.merges);
  EXPECT_EQ(a.vocab, b.vocab);
}
