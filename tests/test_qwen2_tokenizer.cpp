// The Qwen2 byte-level BPE tokenizer against the reference goldens, plus hand-checked merge order,
// added tokens and NFC.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json_file.h"
#include "llm/bpe_tokenizer.h"
#include "test_util.h"

namespace {

const std::string kTokDir = std::string(SPIR_SHARED_DIR) + "/fixtures/tokenizer";
const std::string kTokJson = kTokDir + "/tokenizer.json";
const std::string kGolden = kTokDir + "/golden_encodings.json";
const std::string kModelTokJson = std::string(SPIR_SHARED_DIR) + "/fixtures/qwen2/tiny-qwen2-fp32-tied/tokenizer.json";

bool have_fixtures() { return std::filesystem::exists(kTokJson) && std::filesystem::exists(kGolden); }

#define SKIP_WITHOUT_FIXTURES()                                                                         \
  do {                                                                                                  \
    if (!have_fixtures())                                                                               \
      GTEST_SKIP() << "tokenizer fixtures not found under " << kTokDir << " (shared/ must sit beside the clone)"; \
  } while (0)

// Writes a small tokenizer.json: byte symbols a, b, c, Ġ and four merges, ranks 0..3.
std::string write_tiny_tokenizer(const spir::testing::ScratchDir& dir) {
  nlohmann::json j;
  j["version"] = "1.0";
  j["added_tokens"] = nlohmann::json::array(
      {{{"id", 8}, {"content", "<|x|>"}, {"special", true}, {"normalized", false}}});
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       nlohmann::json::array({{{"type", "Split"},
                               {"pattern", {{"Regex", " ?\\p{L}+|\\s+"}}},
                               {"behavior", "Isolated"},
                               {"invert", false}},
                              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}};
  j["model"] = {{"type", "BPE"},
                {"vocab",
                 {{"a", 0}, {"b", 1}, {"c", 2}, {"\xC4\xA0", 3}, {"bc", 4}, {"ab", 5}, {"aa", 6}, {"aaaa", 7}}},
                {"merges", nlohmann::json::array({"b c", "a b", "a a", "aa aa"})}};
  const std::string path = dir.path("tokenizer.json");
  std::ofstream(path) << j.dump(2);
  return path;
}

}  // namespace

// Every golden string encodes to exactly the reference ids, tokens and pre-tokens, and decodes to the
// reference text with and without special tokens.
TEST(Qwen2Tokenizer, MatchesGoldenEncodings) {
  SKIP_WITHOUT_FIXTURES();
  const auto tok = spir::BpeTokenizer::from_file(kTokJson);
  const nlohmann::json g = spir::read_json(kGolden);
  ASSERT_EQ(tok.vocab_size(), g["vocab_size_with_added"].get<size_t>());
  ASSERT_FALSE(g["cases"].empty());
  for (const auto& c : g["cases"]) {
    const std::string text = c["text"].get<std::string>();
    SCOPED_TRACE(text);
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.encode(text), ids);
    EXPECT_EQ(tok.tokens(text), c["tokens"].get<std::vector<std::string>>());
    if (c.contains("pretokens") && !c["pretokens"].is_null()) {
      EXPECT_EQ(tok.pretokens(text), c["pretokens"].get<std::vector<std::string>>());
    }
    EXPECT_EQ(tok.decode(ids), c["decoded"].get<std::string>());
    EXPECT_EQ(tok.decode(ids, true), c["decoded_skip_special"].get<std::string>());
  }
}

// The special token ids of the fixture are those the README lists.
TEST(Qwen2Tokenizer, SpecialTokenIds) {
  SKIP_WITHOUT_FIXTURES();
  const auto tok = spir::BpeTokenizer::from_file(kTokJson);
  EXPECT_EQ(tok.token_id("<|endoftext|>"), 456);
  EXPECT_EQ(tok.token_id("<|im_start|>"), 457);
  EXPECT_EQ(tok.token_id("<|im_end|>"), 458);
  EXPECT_EQ(tok.token_id("no such token"), -1);
  EXPECT_EQ(tok.id_to_token(457), "<|im_start|>");
}

// Text that is already NFC round-trips exactly through encode and decode (Chinese, English, emoji, ZWJ).
TEST(Qwen2Tokenizer, MixedTextRoundTrip) {
  SKIP_WITHOUT_FIXTURES();
  const auto tok = spir::BpeTokenizer::from_file(kTokJson);
  const std::vector<std::string> texts = {
      "Hello 世界! 短视频在第一天被分享了 1234 次 🎉🚀👍🏽 family 👨‍👩‍👧 ❤️ café",
      "  \t\n\r\n mixed   whitespace\u3000全角空格 and tabs\t\t",
      "标题：《春节》#热门 @用户123 https://example.com/v?id=42&x=y",
      "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ±×÷ ½ ① Ⅻ ﬁ",
  };
  for (const auto& t : texts) {
    SCOPED_TRACE(t);
    const auto ids = tok.encode(t);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(tok.decode(ids), t);
  }
}

// Invalid UTF-8 input is encoded as U+FFFD per bad byte, and a decode of a cut multi-byte token yields
// U+FFFD instead of broken bytes.
TEST(Qwen2Tokenizer, InvalidUtf8IsReplaced) {
  SKIP_WITHOUT_FIXTURES();
  const auto tok = spir::BpeTokenizer::from_file(kTokJson);
  EXPECT_EQ(tok.decode(tok.encode("\xFF\xFE" "abc")), "\xEF\xBF\xBD\xEF\xBF\xBD" "abc");
  auto ids = tok.encode("\xE4\xBD\xA0");  // 你 = three byte tokens in this vocabulary
  ASSERT_EQ(ids.size(), 3u);
  ids.pop_back();
  EXPECT_EQ(tok.decode(ids), "\xEF\xBF\xBD");
}

// Special tokens are always one id, even glued to text on both sides; a near miss is ordinary text.
TEST(Qwen2Tokenizer, SpecialTokensNeverSplit) {
  SKIP_WITHOUT_FIXTURES();
  const auto tok = spir::BpeTokenizer::from_file(kTokJson);
  const auto ids = tok.encode("a<|im_start|>b<|im_end|><|endoftext|>c");
  const std::vector<int32_t> specials = {457, 458, 456};
  std::vector<int32_t> seen;
  for (int32_t id : ids)
    if (id >= 456) seen.push_back(id);
  EXPECT_EQ(seen, specials);
  EXPECT_EQ(tok.decode(ids), "a<|im_start|>b<|im_end|><|endoftext|>c");
  EXPECT_EQ(tok.decode(ids, true), "abc");

  for (const std::string near : {"<|im_start|", "<|im_start", "|im_start|>", "<|im_sta rt|>", "<|IM_START|>"}) {
    SCOPED_TRACE(near);
    const auto n = tok.encode(near);
    for (int32_t id : n) EXPECT_LT(id, 456);
    EXPECT_EQ(tok.decode(n), near);
  }
}

// Merges apply lowest rank first (not left to right), leftmost among equal ranks, repeatedly; worked by hand.
TEST(Qwen2Tokenizer, MergesApplyInRankOrder) {
  spir::testing::ScratchDir dir("tok_tiny");
  const auto tok = spir::BpeTokenizer::from_file(write_tiny_tokenizer(dir));
  // "abc": (b,c) has rank 0 and beats (a,b) rank 1 → [a, bc]; there is no merge (a, bc).
  EXPECT_EQ(tok.encode("abc"), (std::vector<int32_t>{0, 4}));
  // "ab": only (a,b) applies.
  EXPECT_EQ(tok.encode("ab"), (std::vector<int32_t>{5}));
  // " aaaa": Ġ | a a a a → aa a a (leftmost) → aa aa → aaaa.
  EXPECT_EQ(tok.encode(" aaaa"), (std::vector<int32_t>{3, 7}));
  // "aaa": leftmost pair first → [aa, a].
  EXPECT_EQ(tok.encode("aaa"), (std::vector<int32_t>{6, 0}));
  EXPECT_EQ(tok.tokens("abc aaa"), (std::vector<std::string>{"a", "bc", "\xC4\xA0", "aa", "a"}));
  // The added token is matched whole; its id leaves a gap in the vocabulary.
  EXPECT_EQ(tok.encode("ab<|x|>c"), (std::vector<int32_t>{5, 8, 2}));
  EXPECT_EQ(tok.vocab_size(), 9u);
  // A byte without a symbol ('d') has no id and is dropped; a second call hits the cache and agrees.
  EXPECT_EQ(tok.encode("abcd"), (std::vector<int32_t>{0, 4}));
  EXPECT_EQ(tok.encode("abcd"), (std::vector<int32_t>{0, 4}));
  // Ids without a token (100 is past the end, -1) are skipped, never a crash.
  EXPECT_EQ(tok.decode({5, 100, -1, 4}), "abbc");
}

// A merge naming a token outside the vocabulary is an Error naming the file and the field.
TEST(Qwen2Tokenizer, BadMergeIsAnError) {
  spir::testing::ScratchDir dir("tok_bad");
  nlohmann::json j = spir::read_json(write_tiny_tokenizer(dir));
  j["model"]["merges"].push_back("c c");
  const std::string path = dir.path("bad.json");
  std::ofstream(path) << j.dump();
  try {
    spir::BpeTokenizer::from_file(path);
    FAIL() << "expected an Error";
  } catch (const spir::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("model.merges[4]"), std::string::npos);
  }
  EXPECT_THROW(spir::BpeTokenizer::from_file(dir.path("missing.json")), spir::Error);
}

// add_special_token appends new ids after the vocabulary, returns the same id twice, and the token is
// matched whole in encode and dropped by decode(skip_special).
TEST(Qwen2Tokenizer, AddSpecialToken) {
  SKIP_WITHOUT_FIXTURES();
  auto tok = spir::BpeTokenizer::from_file(kTokJson);
  const int32_t start = tok.add_special_token("<|graph_start|>");
  const int32_t pad = tok.add_special_token("<|graph_pad|>");
  const int32_t end = tok.add_special_token("<|graph_end|>");
  EXPECT_EQ(start, 459);
  EXPECT_EQ(pad, 460);
  EXPECT_EQ(end, 461);
  EXPECT_EQ(tok.vocab_size(), 462u);
  EXPECT_EQ(tok.add_special_token("<|graph_pad|>"), pad);
  EXPECT_EQ(tok.add_special_token("<|im_end|>"), 458);
  EXPECT_EQ(tok.token_id("<|graph_pad|>"), pad);

  const std::string text = "video<|graph_start|><|graph_pad|><|graph_pad|><|graph_end|>level";
  const auto ids = tok.encode(text);
  const std::vector<int32_t> head = {start, pad, pad, end};
  auto it = std::search(ids.begin(), ids.end(), head.begin(), head.end());
  EXPECT_NE(it, ids.end());
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_EQ(tok.decode(ids, true), "videolevel");
  // Text around the new tokens encodes as before.
  auto plain = tok.encode("video");
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), ids.begin()));
}

// The tokenizer.json of the Qwen2 fixture model loads and agrees with the tokenizer fixture; ids with no
// token (459–511 of the 512-row embedding) are skipped when decoding.
TEST(Qwen2Tokenizer, ModelFolderTokenizerLoads) {
  if (!std::filesystem::exists(kModelTokJson)) GTEST_SKIP() << "missing " << kModelTokJson;
  SKIP_WITHOUT_FIXTURES();
  const auto model_tok = spir::BpeTokenizer::from_file(kModelTokJson);
  const auto tok = spir::BpeTokenizer::from_file(kTokJson);
  EXPECT_EQ(model_tok.vocab_size(), 459u);
  const std::string chat = "<|im_start|>user\n短视频 level?<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(model_tok.encode(chat), tok.encode(chat));
  EXPECT_EQ(model_tok.decode({39, 500, 68, 511}), "He");
}

// NFC composes base letters with combining marks (after canonical reordering), Hangul jamo, and singletons.
TEST(Qwen2Tokenizer, NfcNormalizer) {
  EXPECT_EQ(spir::nfc_normalize("Cafe\xCC\x81 nai\xCC\x88ve"), "Caf\xC3\xA9 na\xC3\xAFve");
  EXPECT_EQ(spir::nfc_normalize("A\xCC\x8A c\xCC\xA7 n\xCC\x83 o\xCC\x82 a\xCC\x80"),
            "\xC3\x85 \xC3\xA7 \xC3\xB1 \xC3\xB4 \xC3\xA0");
  // a + circumflex (230) + dot below (220) → reorder → U+1EAD.
  EXPECT_EQ(spir::nfc_normalize("a\xCC\x82\xCC\xA3"), "\xE1\xBA\xAD");
  // Hangul L + V + T → U+AC01; the Angstrom sign → U+00C5; a CJK compatibility ideograph → U+8C48.
  EXPECT_EQ(spir::nfc_normalize("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");
  EXPECT_EQ(spir::nfc_normalize("\xE2\x84\xAB"), "\xC3\x85");
  EXPECT_EQ(spir::nfc_normalize("\xEF\xA4\x80"), "\xE8\xB1\x88");
  // Already-composed text and plain Chinese are unchanged; a mark with no composite stays.
  EXPECT_EQ(spir::nfc_normalize("短视频 Café"), "短视频 Café");
  EXPECT_EQ(spir::nfc_normalize("x\xCC\x81"), "x\xCC\x81");
  EXPECT_EQ(spir::nfc_normalize(""), "");
}

// Encoding about 1 MB of mixed text round-trips exactly; the throughput is printed.
TEST(Qwen2Tokenizer, ThroughputOnMixedText) {
  SKIP_WITHOUT_FIXTURES();
  const auto tok = spir::BpeTokenizer::from_file(kTokJson);
  const std::vector<std::string> parts = {
      "The short video was shared 12345 times on day 3. ", "短视频在第一天被很多用户分享，播放量突破十万！",
      "emoji 🎉🚀 and 👍🏽 ", "\n\n  indented line\twith tabs\n", "It's DON'T we'LL I'M they've you'd ",
      "传播等级 level 7/9, 2024年3月15日 ", "#热门话题 @用户_42 https://example.com/v/8 "};
  std::string text;
  for (size_t i = 0; text.size() < (1u << 20); ++i) text += parts[(i * 7 + i / 3) % parts.size()];
  const auto t0 = std::chrono::steady_clock::now();
  const auto ids = tok.encode(text);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[ throughput ] " << text.size() / 1e6 / secs << " MB/s (" << ids.size() << " tokens from "
            << text.size() << " bytes in " << secs << " s)\n";
  EXPECT_EQ(tok.decode(ids), text);
}
