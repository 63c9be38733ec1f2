// Text encoders (paper Eq. 4 text node features): hash, fasttext and the factory.
#include <gtest/gtest.h>

#include "core/utf8.h"
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "features/text_encoder.h"
#include "features/text_fasttext.h"
#include "features/text_hash.h"

namespace spir {
namespace {

namespace fs = std::filesystem;

std::vector<float> encode(const TextEncoder& enc, const std::vector<std::string>& texts) {
  std::vector<float> out(texts.size() * static_cast<size_t>(enc.dim()), -1.0f);
  enc.encode(texts, out.data());
  return out;
}

double cosine(const std::vector<float>& m, int dim, size_t a, size_t b) {
  double ab = 0, aa = 0, bb = 0;
  for (int d = 0; d < dim; ++d) {
    const double x = m[a * dim + d], y = m[b * dim + d];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / std::sqrt(aa * bb);
}

double row_norm(const std::vector<float>& m, int dim, size_t r) {
  double s = 0;
  for (int d = 0; d < dim; ++d) s += static_cast<double>(m[r * dim + d]) * m[r * dim + d];
  return std::sqrt(s);
}

// A synthetic corpus: 20 themes of 12 two-character words each; a sentence strings 4–8 words of one theme, with
// punctuation and the odd ASCII word. Texts of one theme share words; texts of different themes share none.
struct SyntheticCorpus {
  std::vector<std::vector<std::string>> themes;
  std::vector<std::string> texts;
};

SyntheticCorpus make_corpus(int n_texts, uint64_t seed) {
  const std::u32string chars = decode_utf8(
      "天地人山水火木金土日月星风云雨雪花草鸟鱼虫马牛羊猫狗车船路桥城村家门窗书笔纸画歌舞茶酒饭面米菜果糖盐油"
      "红黄蓝绿白黑大小高低长短新旧冷热快慢春夏秋冬东南西北前后左右上下里外早晚");
  SyntheticCorpus c;
  Rng rng(seed);
  for (int t = 0; t < 20; ++t) {
    std::vector<std::string> words;
    for (int w = 0; w < 12; ++w) {
      std::string word;
      append_utf8(chars[(t * 12 + w) % chars.size()], word);
      append_utf8(chars[(t * 7 + w * 5 + 3) % chars.size()], word);
      words.push_back(word);
    }
    c.themes.push_back(words);
  }
  const char* punct[] = {"，", "。", "！", " ", "…"};
  for (int i = 0; i < n_texts; ++i) {
    const auto& words = c.themes[rng.below(c.themes.size())];
    std::string s;
    const int n = 4 + static_cast<int>(rng.below(5));
    for (int k = 0; k < n; ++k) {
      s += words[rng.below(words.size())];
      if (rng.bernoulli(0.2)) s += punct[rng.below(5)];
    }
    if (rng.bernoulli(0.1)) s += " Vlog";
    c.texts.push_back(s);
  }
  return c;
}

TextEncoderOptions fasttext_options(const std::string& cache_dir) {
  TextEncoderOptions opt;
  opt.spec = "fasttext";
  opt.dim = 32;
  opt.seed = 11;
  opt.cache_dir = cache_dir;
  return opt;
}

// A fresh, empty temporary folder removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const std::vector<std::string> kHashTexts = {
    "今天天气很好，我们去公园散步吧",   // 0
    "今天天气不错，我们去公园跑步吧",   // 1: shares most n-grams with 0
    "新能源汽车充电价格又降了",         // 2: unrelated to 0
    "",                                  // 3: empty
    "Hello World vlog 666",             // 4
    "hello world VLOG 666!",            // 5: the same words, other case and punctuation
};

// The hash encoder gives the same bytes for the same seed and texts, whether encoded alone or in a batch.
TEST(HashTextEncoder, Deterministic) {
  auto a = make_hash_text_encoder(64, 5);
  auto b = make_hash_text_encoder(64, 5);
  const auto ma = encode(*a, kHashTexts), mb = encode(*b, kHashTexts);
  EXPECT_EQ(ma, mb);
  const auto single = encode(*a, {kHashTexts[2]});
  EXPECT_EQ(std::vector<float>(ma.begin() + 2 * 64, ma.begin() + 3 * 64), single);
  auto c = make_hash_text_encoder(64, 6);
  EXPECT_NE(ma, encode(*c, kHashTexts));
  EXPECT_EQ(a->name(), "hash");
}

// dim() is the requested size and encode writes exactly texts × dim floats; dim < 1 is rejected.
TEST(HashTextEncoder, DimAndBounds) {
  for (int dim : {1, 7, 128, 300}) {
    auto enc = make_hash_text_encoder(dim, 1);
    EXPECT_EQ(enc->dim(), dim);
    std::vector<float> out(kHashTexts.size() * dim + 5, 42.0f);
    enc->encode(kHashTexts, out.data());
    for (size_t i = kHashTexts.size() * dim; i < out.size(); ++i) EXPECT_EQ(out[i], 42.0f);
  }
  EXPECT_THROW(make_hash_text_encoder(0, 1), Error);
}

// Non-empty rows have L2 norm 1; empty and whitespace-only texts give all-zero rows.
TEST(HashTextEncoder, UnitNormAndEmptyZero) {
  auto enc = make_hash_text_encoder(128, 3);
  std::vector<std::string> texts = kHashTexts;
  texts.push_back(" \t\n　");
  texts.push_back("\xff\xfe broken utf-8 \xe4\xbd");
  const auto m = encode(*enc, texts);
  for (size_t r = 0; r < texts.size(); ++r) {
    if (r == 3 || r == 6) {
      for (int d = 0; d < 128; ++d) EXPECT_EQ(m[r * 128 + d], 0.0f) << "row " << r;
    } else {
      EXPECT_NEAR(row_norm(m, 128, r), 1.0, 1e-5) << "row " << r;
    }
  }
}

// Texts that share most character n-grams are closer (cosine) than unrelated texts; case is ignored.
TEST(HashTextEncoder, SimilarTextsCloser) {
  auto enc = make_hash_text_encoder(256, 9);
  const auto m = encode(*enc, kHashTexts);
  EXPECT_GT(cosine(m, 256, 0, 1), cosine(m, 256, 0, 2) + 0.3);
  EXPECT_GT(cosine(m, 256, 4, 5), 0.8);
  EXPECT_GT(cosine(m, 256, 4, 5), cosine(m, 256, 4, 0) + 0.5);
}

// Segmentation: CJK characters alone and as interleaved bigrams, lowercased words, emoji kept, punctuation dropped.
TEST(FastTextSegment, Tokens) {
  EXPECT_EQ(segment_text("今天天气 Hello, World!😂"), "今 今天 天 天天 天 天气 气 hello world 😂");
  EXPECT_EQ(segment_text("【震惊】ＡＢＣ１２３。"), "震 震惊 惊 abc123");
  EXPECT_EQ(segment_text("  ，。！?  "), "");
  EXPECT_EQ(segment_text(""), "");
  EXPECT_EQ(segment_text("❤️好"), "❤ 好");
}

// Two trainings with the same seed on the same corpus give identical vectors; rows are the configured size.
TEST(FastTextEncoder, DeterministicTraining) {
  const auto corpus = make_corpus(3000, 21);
  const auto opt = fasttext_options("");
  auto a = make_fasttext_text_encoder(opt, corpus.texts);
  auto b = make_fasttext_text_encoder(opt, corpus.texts);
  EXPECT_EQ(a->dim(), 32);
  EXPECT_EQ(a->name(), "fasttext");
  const std::vector<std::string> probe(corpus.texts.begin(), corpus.texts.begin() + 50);
  EXPECT_EQ(encode(*a, probe), encode(*b, probe));
}

// A second call with the same corpus and options loads the cached model (says so in the log, trains nothing
// new) and encodes exactly as the first; another seed gets its own cache file.
TEST(FastTextEncoder, CacheHit) {
  TempDir dir("spir-test-fasttext-cache");
  const auto corpus = make_corpus(3000, 22);
  const auto opt = fasttext_options(dir.path.string());

  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));

  const auto t0 = std::chrono::steady_clock::now();
  auto first = make_fasttext_text_encoder(opt, corpus.texts);
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir.path)) files.push_back(e.path());
  const std::string first_log = log.str();
  auto second = make_fasttext_text_encoder(opt, corpus.texts);
  const auto t2 = std::chrono::steady_clock::now();
  const std::string second_log = log.str().substr(first_log.size());
  auto other_opt = opt;
  other_opt.seed = 12;
  auto third = make_fasttext_text_encoder(other_opt, corpus.texts);
  spdlog::set_default_logger(previous);

  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename().string().rfind("fasttext-", 0), 0u);
  EXPECT_EQ(files[0].extension(), ".bin");
  EXPECT_NE(first_log.find("trained in"), std::string::npos) << first_log;
  EXPECT_NE(second_log.find("loaded the cached model"), std::string::npos) << second_log;
  EXPECT_EQ(second_log.find("training"), std::string::npos) << second_log;
  EXPECT_LT(t2 - t1, t1 - t0);
  size_t n_files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) n_files += e.is_regular_file();
  EXPECT_EQ(n_files, 2u);  // one model per (corpus, options); no temporary files left behind

  const std::vector<std::string> probe(corpus.texts.begin(), corpus.texts.begin() + 50);
  EXPECT_EQ(encode(*first, probe), encode(*second, probe));
}

// Texts from the same theme (sharing words) are closer than texts from different themes; empty and
// punctuation-only texts and texts of unseen tokens only give zero rows; a text mixing seen and unseen tokens does not.
TEST(FastTextEncoder, SharedWordsCloser) {
  const auto corpus = make_corpus(4000, 23);
  auto enc = make_fasttext_text_encoder(fasttext_options(""), corpus.texts);
  const auto& th = corpus.themes;
  std::vector<std::string> probe;
  for (int t = 0; t < 10; ++t) {
    probe.push_back(th[t][0] + th[t][1] + th[t][2] + th[t][3]);       // 2t
    probe.push_back(th[t][2] + th[t][4] + th[t][5] + "，" + th[t][6]);  // 2t+1: same theme, one shared word
  }
  probe.push_back("");
  probe.push_back("，。！");
  probe.push_back("Completelyunseenword");
  probe.push_back("Completelyunseenword " + th[0][0]);
  const auto m = encode(*enc, probe);
  const int dim = enc->dim();
  int wins = 0;
  for (int t = 0; t < 10; ++t) {
    const int u = (t + 1) % 10;
    wins += cosine(m, dim, 2 * t, 2 * t + 1) > cosine(m, dim, 2 * t, 2 * u + 1);
  }
  EXPECT_GE(wins, 9);
  for (size_t r : {size_t{20}, size_t{21}, size_t{22}}) EXPECT_EQ(row_norm(m, dim, r), 0.0) << "row " << r;
  EXPECT_GT(row_norm(m, dim, 23), 0.0);
}

// A corpus with no words at all cannot train and says so.
TEST(FastTextEncoder, EmptyCorpusRejected) {
  EXPECT_THROW(make_fasttext_text_encoder(fasttext_options(""), {"", "，。", "   "}), Error);
}

// The factory makes the named encoder and rejects unknown specs with a message listing the valid ones.
TEST(TextEncoderFactory, Specs) {
  TextEncoderOptions opt;
  opt.spec = "hash";
  opt.dim = 16;
  auto enc = make_text_encoder(opt, {});
  EXPECT_EQ(enc->name(), "hash");
  EXPECT_EQ(enc->dim(), 16);

  opt.spec = "nope";
  try {
    make_text_encoder(opt, {});
    FAIL() << "expected spir::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("nope"), std::string::npos) << msg;
    EXPECT_NE(msg.find("hash"), std::string::npos) << msg;
    EXPECT_NE(msg.find("fasttext"), std::string::npos) << msg;
    EXPECT_NE(msg.find("bert:DIR"), std::string::npos) << msg;
  }
  opt.spec = "bert:";
  EXPECT_THROW(make_text_encoder(opt, {}), Error);
}

}  // namespace
}  // namespace spir
