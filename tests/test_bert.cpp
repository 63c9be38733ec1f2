// WordPiece tokenizer and BERT encoder against the reference fixtures in ../shared/fixtures/bert.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/error.h"
#include "features/bert.h"
#include "features/text_bert.h"
#include "features/wordpiece.h"
#include "tensor/safetensors_torch.h"

namespace fs = std::filesystem;
using spir::WordPieceTokenizer;

namespace {

const std::string kBertDir = std::string(SPIR_SHARED_DIR) + "/fixtures/bert/tiny-bert";
const std::string kGoldenDir = std::string(SPIR_SHARED_DIR) + "/fixtures/bert/golden";

#define SKIP_WITHOUT_FIXTURES()                                                       \
  if (!fs::exists(kBertDir + "/config.json") || !fs::exists(kGoldenDir + "/inputs.json")) \
  GTEST_SKIP() << "BERT fixtures not found under " << SPIR_SHARED_DIR "/fixtures/bert"

nlohmann::json inputs() {
  std::ifstream in(kGoldenDir + "/inputs.json");
  return nlohmann::json::parse(in);
}

std::map<std::string, torch::Tensor> golden() {
  return spir::load_safetensors(kGoldenDir + "/tiny-bert.safetensors");
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// A fresh scratch folder, removed when the test ends.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("spir_test_bert_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

// Every golden text tokenizes to exactly the reference basic tokens, WordPiece tokens and ids.
TEST(WordPiece, MatchesGoldenTokensAndIds) {
  SKIP_WITHOUT_FIXTURES();
  const auto tok = WordPieceTokenizer::from_dir(kBertDir);
  for (const auto& c : inputs()["cases"]) {
    const std::string text = c["text"];
    EXPECT_EQ(tok.basic_tokenize(text), c["basic_tokens"].get<std::vector<std::string>>()) << text;
    std::vector<std::string> tokens = {"[CLS]"};
    for (const auto& t : tok.tokenize(text)) tokens.push_back(t);
    tokens.push_back("[SEP]");
    EXPECT_EQ(tokens, c["tokens"].get<std::vector<std::string>>()) << text;
    const auto enc = tok.encode(text);
    EXPECT_EQ(enc.input_ids, c["ids"].get<std::vector<int64_t>>()) << text;
    EXPECT_EQ(enc.attention_mask, std::vector<int64_t>(enc.input_ids.size(), 1));
  }
}

// A sentence pair gives [CLS] a [SEP] b [SEP] with the reference ids and token types 0…0 1…1.
TEST(WordPiece, MatchesGoldenPair) {
  SKIP_WITHOUT_FIXTURES();
  const auto tok = WordPieceTokenizer::from_dir(kBertDir);
  const auto p = inputs()["pair"];
  const auto enc = tok.encode_pair(p["text"], p["text_pair"]);
  EXPECT_EQ(enc.input_ids, p["ids"].get<std::vector<int64_t>>());
  EXPECT_EQ(enc.token_type_ids, p["token_type_ids"].get<std::vector<int64_t>>());
}

// A batch is right-padded with [PAD] (id 0) to its longest row, with attention_mask 0 on the padding.
TEST(WordPiece, BatchPaddingMatchesGolden) {
  SKIP_WITHOUT_FIXTURES();
  const auto tok = WordPieceTokenizer::from_dir(kBertDir);
  const auto in = inputs();
  const auto b = tok.encode_batch(in["texts"].get<std::vector<std::string>>());
  std::vector<int64_t> ids, mask;
  for (const auto& row : in["batch"]["input_ids"])
    for (const auto& v : row) ids.push_back(v);
  for (const auto& row : in["batch"]["attention_mask"])
    for (const auto& v : row) mask.push_back(v);
  EXPECT_EQ(b.rows, 5);
  EXPECT_EQ(b.cols, 23);
  EXPECT_EQ(b.input_ids, ids);
  EXPECT_EQ(b.attention_mask, mask);
}

// Truncation keeps [CLS] … [SEP] within max_length; pairs shorten the longer side first.
TEST(WordPiece, TruncationKeepsFraming) {
  SKIP_WITHOUT_FIXTURES();
  const auto tok = WordPieceTokenizer::from_dir(kBertDir);
  const auto full = tok.encode("Hello, World! UNAFFABLE players are running; jumps.");
  const auto cut = tok.encode("Hello, World! UNAFFABLE players are running; jumps.", 6);
  ASSERT_EQ(cut.input_ids.size(), 6u);
  EXPECT_EQ(cut.input_ids.back(), tok.sep_id());
  EXPECT_TRUE(std::equal(cut.input_ids.begin(), cut.input_ids.end() - 1, full.input_ids.begin()));
  const auto pair = tok.encode_pair("今天天气很好", "we are running", 9);  // 6 + 4 tokens → 3 + 3
  EXPECT_EQ(pair.input_ids, (std::vector<int64_t>{4, 139, 140, 140, 5, 127, 123, 124, 5}));
  EXPECT_EQ(pair.token_type_ids, (std::vector<int64_t>{0, 0, 0, 0, 0, 1, 1, 1, 1}));
}

// Without lowercasing, case and accents are kept and the special tokens still never split.
TEST(WordPiece, CasedKeepsAccentsAndSpecials) {
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Café", "café", "a", "##b"};
  spir::WordPieceOptions opt;
  opt.do_lower_case = false;
  WordPieceTokenizer cased(vocab, opt);
  EXPECT_EQ(cased.tokenize("Café[MASK]ab\xe2\x80\x8b"), (std::vector<std::string>{"Café", "[MASK]", "a", "##b"}));
  WordPieceTokenizer uncased(vocab);
  EXPECT_EQ(uncased.basic_tokenize("CAFÉ Ñandú ŐZ"), (std::vector<std::string>{"cafe", "nandu", "oz"}));
}

// last_hidden_state, every layer's output and the masked-mean pooled vectors agree with the reference within 1e-4.
TEST(Bert, ForwardMatchesGolden) {
  SKIP_WITHOUT_FIXTURES();
  torch::NoGradGuard no_grad;
  auto model = spir::load_bert_model(kBertDir);
  auto g = golden();
  const auto hs = model->hidden_states(g["input_ids"], g["attention_mask"], g["token_type_ids"]);
  ASSERT_EQ(hs.size(), 3u);
  for (size_t i = 0; i < hs.size(); ++i) {
    const double d = max_abs_diff(hs[i], g["hidden_states." + std::to_string(i)]);
    EXPECT_LT(d, 1e-4) << "hidden_states." << i;
  }
  const double d_last = max_abs_diff(hs.back(), g["last_hidden_state"]);
  const double d_pool = max_abs_diff(spir::masked_mean_pool(hs.back(), g["attention_mask"]), g["mean_pooled"]);
  std::cout << "[ max abs diff ] last_hidden_state " << d_last << ", mean_pooled " << d_pool << "\n";
  EXPECT_LT(d_last, 1e-4);
  EXPECT_LT(d_pool, 1e-4);
}

// The sentence pair (token types 0/1) gives the reference last_hidden_state within 1e-4.
TEST(Bert, PairForwardMatchesGolden) {
  SKIP_WITHOUT_FIXTURES();
  torch::NoGradGuard no_grad;
  auto model = spir::load_bert_model(kBertDir);
  auto g = golden();
  const auto h = model->forward(g["pair.input_ids"].unsqueeze(0), {}, g["pair.token_type_ids"].unsqueeze(0));
  const double d = max_abs_diff(h.squeeze(0), g["pair.last_hidden_state"]);
  std::cout << "[ max abs diff ] pair.last_hidden_state " << d << "\n";
  EXPECT_LT(d, 1e-4);
}

// A checkpoint whose keys carry the "bert." prefix (as BertForMaskedLM saves them) gives identical outputs.
TEST(Bert, PrefixedCheckpointGivesSameOutputs) {
  SKIP_WITHOUT_FIXTURES();
  torch::NoGradGuard no_grad;
  TempDir tmp;
  std::map<std::string, torch::Tensor> prefixed;
  for (const auto& [k, v] : spir::load_safetensors(kBertDir + "/model.safetensors")) prefixed["bert." + k] = v;
  prefixed["cls.predictions.bias"] = torch::zeros({181});  // an unused head tensor is ignored
  spir::save_safetensors((tmp.path / "model.safetensors").string(), prefixed, {{"format", "pt"}});
  fs::copy_file(kBertDir + "/config.json", tmp.path / "config.json");
  auto g = golden();
  auto plain = spir::load_bert_model(kBertDir);
  auto pre = spir::load_bert_model(tmp.path.string());
  const auto a = plain->forward(g["input_ids"], g["attention_mask"], g["token_type_ids"]);
  const auto b = pre->forward(g["input_ids"], g["attention_mask"], g["token_type_ids"]);
  EXPECT_TRUE(torch::equal(a, b));
}

// fp16 and bf16 checkpoints load as fp32 models whose outputs stay close to the fp32 reference.
TEST(Bert, HalfPrecisionCheckpointsConvertToFloat32) {
  SKIP_WITHOUT_FIXTURES();
  torch::NoGradGuard no_grad;
  auto g = golden();
  for (auto dt : {torch::kFloat16, torch::kBFloat16}) {
    TempDir tmp;
    std::map<std::string, torch::Tensor> half;
    for (const auto& [k, v] : spir::load_safetensors(kBertDir + "/model.safetensors")) half[k] = v.to(dt);
    spir::save_safetensors((tmp.path / "model.safetensors").string(), half);
    fs::copy_file(kBertDir + "/config.json", tmp.path / "config.json");
    auto model = spir::load_bert_model(tmp.path.string());
    for (const auto& p : model->parameters()) ASSERT_EQ(p.scalar_type(), torch::kFloat32);
    const auto h = model->forward(g["input_ids"], g["attention_mask"], g["token_type_ids"]);
    EXPECT_LT(max_abs_diff(h, g["last_hidden_state"]), dt == torch::kFloat16 ? 0.05 : 0.2);
  }
}

// A checkpoint that lacks a weight fails with an error naming the file and the missing tensor.
TEST(Bert, MissingWeightNamesFileAndTensor) {
  SKIP_WITHOUT_FIXTURES();
  TempDir tmp;
  auto w = spir::load_safetensors(kBertDir + "/model.safetensors");
  w.erase("encoder.layer.1.output.dense.weight");
  spir::save_safetensors((tmp.path / "model.safetensors").string(), w);
  fs::copy_file(kBertDir + "/config.json", tmp.path / "config.json");
  try {
    spir::load_bert_model(tmp.path.string());
    FAIL() << "expected spir::Error";
  } catch (const spir::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("encoder.layer.1.output.dense.weight"), std::string::npos) << e.what();
  }
}

// The bert:DIR text encoder returns the reference masked-mean vectors in batches of any size; empty text → zeros.
TEST(Bert, TextEncoderMatchesGoldenPooled) {
  SKIP_WITHOUT_FIXTURES();
  auto g = golden();
  auto texts = inputs()["texts"].get<std::vector<std::string>>();
  texts.insert(texts.begin() + 2, "");
  spir::TextEncoderOptions opt;
  opt.batch_size = 2;
  auto enc = spir::make_bert_text_encoder(kBertDir, opt);
  ASSERT_EQ(enc->dim(), 32);
  std::vector<float> out(texts.size() * 32, -1.0f);
  enc->encode(texts, out.data());
  auto got = torch::from_blob(out.data(), {static_cast<int64_t>(texts.size()), 32}, torch::kFloat32);
  EXPECT_EQ(got[2].abs().max().item<float>(), 0.0f);
  auto rows = torch::cat({got.slice(0, 0, 2), got.slice(0, 3, 6)});
  const double d = max_abs_diff(rows, g["mean_pooled"]);
  std::cout << "[ max abs diff ] text encoder vs mean_pooled " << d << "\n";
  EXPECT_LT(d, 1e-4);
}
