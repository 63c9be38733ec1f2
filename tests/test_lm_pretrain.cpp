// The default language model: the corpus (train split only), pretraining of a tiny Qwen2 model, and the Hugging
// Face folder it writes.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/json_file.h"
#include "llm/bpe_tokenizer.h"
#include "llm/lm_corpus.h"
#include "llm/lm_pretrain.h"
#include "llm/qwen2.h"
#include "test_util.h"

namespace {

// Templated documents with a learnable structure: a JSON-like frame, a few topics, numbers, Chinese and emoji.
std::vector<std::string> docs(int n, int offset) {
  const std::vector<std::string> topics = {"food", "travel", "music", "sports"};
  const std::vector<std::string> zh = {"美食", "旅行", "音乐", "体育"};
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    const int k = (i + offset) % 4;
    out.push_back("{\"topic\": \"" + topics[size_t(k)] + "\", \"title\": \"my " + topics[size_t(k)] + " video " +
                  std::to_string(i + offset) + " " + zh[size_t(k)] + "\", \"comment_list\": [{\"content\": \"love this " +
                  topics[size_t(k)] + " 😍\"}, {\"content\": \"great " + zh[size_t(k)] + "\"}]}");
  }
  return out;
}

spir::LmPretrainOptions tiny() {
  spir::LmPretrainOptions o;
  o.vocab_size = 256 + 3 + 120;
  o.hidden_size = 32;
  o.num_layers = 2;
  o.num_heads = 4;
  o.num_kv_heads = 2;
  o.intermediate_size = 64;
  o.max_position_embeddings = 128;
  o.seq_len = 32;
  o.batch = 8;
  o.steps = 40;
  o.lr = 1e-2;
  o.eval_every = 20;
  o.eval_sequences = 8;
  o.progress = false;
  return o;
}

}  // namespace

// A few dozen steps on a tiny templated corpus bring the held-out loss below its initial value and below the
// unigram cross-entropy; the folder reloads with load_qwen2 to identical logits and its tokenizer loads too.
TEST(LmPretrain, TinyModelLearnsAndReloads) {
  spir::testing::ScratchDir dir("lm_pretrain");
  const spir::LmPretrainResult r = spir::pretrain_lm_on_documents(docs(160, 0), docs(16, 1000), dir.path(), tiny());
  EXPECT_LE(r.vocab_size, 256 + 3 + 120);  // the tiny corpus may run out of pairs to merge before the target
  EXPECT_GT(r.vocab_size, 256 + 3 + 50);
  ASSERT_EQ(r.curve.size(), 3u);  // steps 0, 20, 40
  EXPECT_LT(r.final_heldout_loss, r.initial_heldout_loss - 1.0);
  EXPECT_LT(r.final_heldout_loss, r.unigram_heldout_ce);
  EXPECT_NEAR(r.initial_heldout_loss, std::log(double(r.vocab_size)), 0.5);  // near uniform at initialisation

  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                        "generation_config.json", "pretrain.json"})
    EXPECT_TRUE(std::filesystem::exists(dir.path(f))) << f;
  const auto tok = spir::BpeTokenizer::from_file(dir.path("tokenizer.json"));
  EXPECT_EQ(int64_t(tok.vocab_size()), r.vocab_size);
  const auto cfg = spir::read_json(dir.path("tokenizer_config.json"));
  EXPECT_EQ(cfg["eos_token"], "<|endoftext|>");
  EXPECT_EQ(cfg["added_tokens_decoder"][std::to_string(tok.token_id("<|im_end|>"))]["content"], "<|im_end|>");
  const auto pj = spir::read_json(dir.path("pretrain.json"));
  EXPECT_DOUBLE_EQ(pj["final_heldout_loss"].get<double>(), r.final_heldout_loss);

  auto loaded = spir::load_qwen2(dir.path());
  EXPECT_EQ(loaded->options().vocab_size, r.vocab_size);
  EXPECT_TRUE(loaded->options().tie_word_embeddings);
  const auto ids = tok.encode("{\"topic\": \"music\", \"title\": \"my music video 7 音乐\"}");
  const torch::Tensor x = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).unsqueeze(0);
  torch::NoGradGuard no_grad;
  spir::Qwen2ForCausalLM trained = r.model;
  trained->eval();
  const torch::Tensor a = trained->forward(x).logits, b = loaded->forward(x).logits;
  EXPECT_TRUE(torch::equal(a, b));
}

// Pretraining is deterministic for a seed: two runs give the same learning curve.
TEST(LmPretrain, DeterministicForSeed) {
  spir::testing::ScratchDir d1("lm_pretrain_a"), d2("lm_pretrain_b");
  auto o = tiny();
  o.steps = 10;
  o.eval_every = 5;
  const auto a = spir::pretrain_lm_on_documents(docs(80, 0), docs(8, 500), d1.path(), o);
  const auto b = spir::pretrain_lm_on_documents(docs(80, 0), docs(8, 500), d2.path(), o);
  ASSERT_EQ(a.curve.size(), b.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) EXPECT_EQ(a.curve[i].heldout_loss, b.curve[i].heldout_loss) << i;
}

// The corpus holds train-split videos only (val held out, test never read), one JSON document each with the
// prompt's field names, its title, description and visible comments, and data text cannot form special tokens.
TEST(LmPretrain, CorpusUsesTrainSplitOnly) {
  spir::Dataset d;
  for (int i = 0; i < 3; ++i) {
    spir::Video v;
    v.platform = "douyin";
    v.topic = "food";
    v.title = "title-" + std::to_string(i);
    v.desc = "desc-" + std::to_string(i) + " <|im_end|>";
    v.post_time = 1700000000 + i * 86400;
    v.comments.push_back({1700000100 + i * 86400, "comment-" + std::to_string(i), "u", "n", ""});
    v.comments.push_back({1700900000 + i * 86400, "late-comment-" + std::to_string(i), "u", "n", ""});
    d.set.videos.push_back(v);
    for (int day = 0; day < 2; ++day) {
      spir::Sample s;
      s.id = i * 10 + day;
      s.video = i;
      s.ctime_day = 1700000000 / 86400 + i + day;
      s.comments_visible = 1;
      s.counts = {100, 10, 1, 1, 1, spir::kMissing};
      s.split = i == 0 ? spir::Split::kTrain : (i == 1 ? spir::Split::kVal : spir::Split::kTest);
      d.samples.push_back(s);
    }
  }
  const spir::LmCorpus c = spir::build_lm_corpus(d, {});
  ASSERT_EQ(c.train.size(), 1u);
  ASSERT_EQ(c.heldout.size(), 1u);
  EXPECT_EQ(c.test_videos_skipped, 1);
  const std::string& t = c.train[0];
  for (const char* s : {"\"title\":\"title-0\"", "desc-0", "\"comment_list\"", "comment-0", "\"views\":100",
                        "\"fans\":null", "\"platform\":\"douyin\"", "<|im_start|>user\n"})
    EXPECT_NE(t.find(s), std::string::npos) << s;
  EXPECT_EQ(t.find("late-comment-0"), std::string::npos);  // not visible at the latest crawl date
  EXPECT_NE(t.find("desc-0 < |im_end|>"), std::string::npos);
  EXPECT_NE(c.heldout[0].find("title-1"), std::string::npos);
  for (const auto& doc : c.train)
    EXPECT_EQ(doc.find("title-2"), std::string::npos);
  EXPECT_EQ(c.heldout[0].find("title-2"), std::string::npos);
}
