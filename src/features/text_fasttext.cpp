#include "features/text_fasttext.h"

#include "core/utf8.h"

#include <fasttext/args.h>
#include <fasttext/fasttext.h>
#include <fasttext/vector.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"
#include "features/text_hash.h"

namespace spir {

namespace fs = std::filesystem;

namespace {

// Training settings. They enter the cache key through kTrainingTag: change one, change the tag.
constexpr int kEpochs = 5;
constexpr int kWindow = 5;
constexpr int kNegatives = 5;
constexpr int kMinCount = 2;           // raised when needed to keep the vocabulary under kMaxVocab
constexpr int64_t kMaxVocab = 100000;  // most frequent tokens kept; rarer ones are dropped from the vocabulary
// No subword n-grams: CJK text is already split into characters and bigrams, and subwords cost ~1.5x in training
// time and a bucket matrix in the cache file. A text whose tokens are all out of vocabulary encodes to zeros.
constexpr int kMinN = 0, kMaxN = 0, kBuckets = 0;
constexpr double kLearningRate = 0.05;
constexpr double kSampleThreshold = 1e-4;
constexpr int kMaxWordBytes = 64;      // longer Latin runs (URLs, noise) are cut
constexpr const char* kTrainingTag = "spir-fasttext-v2 cbow ns ep5 ws5 neg5 min2 vocab100k nosub lr.05 t1e-4";

bool is_cjk(char32_t c) {
  return (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x20000 && c <= 0x2FA1F) ||  // Han ideographs and extensions
         (c >= 0x3040 && c <= 0x30FF) ||    // kana
         (c >= 0xAC00 && c <= 0xD7AF);      // hangul syllables
}

bool is_emoji(char32_t c) {
  return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) || (c >= 0x2B00 && c <= 0x2BFF);
}

// Punctuation and symbols that carry no meaning as tokens (ASCII non-alphanumerics are handled separately).
bool is_punct(char32_t c) {
  return (c >= 0xA1 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2010 && c <= 0x2BFF) ||
         (c >= 0x2E00 && c <= 0x2E7F) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE10 && c <= 0xFE6F) ||
         (c >= 0xFF00 && c <= 0xFFEF) || c == 0xFFFD;
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  return !is_cjk(c) && !is_emoji(c) && !is_punct(c);
}

// Hash of the whole corpus (order and boundaries included) and the options: the cache file's name.
std::string cache_key(const TextEncoderOptions& opt, const std::vector<std::string>& corpus) {
  uint64_t h = hash_bytes(kTrainingTag, std::char_traits<char>::length(kTrainingTag), 0x7370697266747831ULL);
  const uint64_t params[3] = {static_cast<uint64_t>(opt.dim), opt.seed, static_cast<uint64_t>(kFastTextMaxTrainTokens)};
  h = hash_bytes(params, sizeof(params), h);
  for (const std::string& t : corpus) h = hash_bytes(t.data(), t.size(), h);
  h = hash_bytes(&h, sizeof(h), static_cast<uint64_t>(corpus.size()));
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Removes a file when it goes out of scope (the temporary training text).
struct FileRemover {
  std::string path;
  ~FileRemover() {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
  }
};

class FastTextEncoder : public TextEncoder {
 public:
  explicit FastTextEncoder(std::unique_ptr<fasttext::FastText> ft) : ft_(std::move(ft)), dim_(ft_->getDimension()) {}
  std::string name() const override { return "fasttext"; }
  int dim() const override { return dim_; }

  void encode(const std::vector<std::string>& texts, float* out) const override {
    const int64_t n = static_cast<int64_t>(texts.size());
    const bool report = n >= 50000;
    Progress progress("fasttext text encoder", n, "texts");
    fasttext::Vector vec(dim_);
    std::istringstream line;
    for (int64_t i = 0; i < n; ++i) {
      float* row = out + i * dim_;
      const std::string seg = segment_text(texts[static_cast<size_t>(i)]);
      if (seg.empty()) {
        std::fill(row, row + dim_, 0.0f);
      } else {
        line.clear();
        line.str(seg);
        ft_->getSentenceVector(line, vec);  // mean of the tokens' unit-normalised vectors
        std::copy(vec.data(), vec.data() + dim_, row);
      }
      if (report) progress.update(i + 1);
    }
    if (report) progress.finish(n);
  }

 private:
  std::unique_ptr<fasttext::FastText> ft_;  // read-only after construction
  int dim_;
};

// Writes the training text (one segmented line per distinct text, a seeded sample under the token cap) and
// returns the minCount that keeps the vocabulary under kMaxVocab.
int write_training_text(const std::vector<std::string>& corpus, uint64_t seed, const std::string& path,
                        int64_t& texts_written, int64_t& tokens_written, int64_t& distinct_texts) {
  // Distinct texts, in a seeded random order.
  std::vector<std::pair<uint64_t, size_t>> by_hash;
  by_hash.reserve(corpus.size());
  for (size_t i = 0; i < corpus.size(); ++i)
    if (!corpus[i].empty()) by_hash.emplace_back(hash_bytes(corpus[i].data(), corpus[i].size(), 17), i);
  std::sort(by_hash.begin(), by_hash.end());
  std::vector<size_t> order;
  for (size_t i = 0; i < by_hash.size(); ++i)
    if (i == 0 || by_hash[i].first != by_hash[i - 1].first) order.push_back(by_hash[i].second);
  by_hash = {};
  distinct_texts = static_cast<int64_t>(order.size());
  Rng rng(seed ^ 0x66617374746578ULL);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);

  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error("fasttext: cannot write the training text " + path);
  std::unordered_map<std::string, int64_t> counts;
  texts_written = tokens_written = 0;
  Progress progress("fasttext: segmenting the training sample", kFastTextMaxTrainTokens, "tokens");
  for (size_t idx : order) {
    const std::string seg = segment_text(corpus[idx]);
    if (seg.empty()) continue;
    f << seg << '\n';
    ++texts_written;
    size_t b = 0;
    while (b < seg.size()) {
      size_t e = seg.find(' ', b);
      if (e == std::string::npos) e = seg.size();
      ++counts[seg.substr(b, e - b)];
      ++tokens_written;
      b = e + 1;
    }
    progress.update(tokens_written);
    if (tokens_written >= kFastTextMaxTrainTokens) break;
  }
  f.close();
  if (!f) throw Error("fasttext: failed writing the training text " + path);
  if (tokens_written == 0) throw Error("fasttext: the corpus has no words to train on (" +
                                       std::to_string(corpus.size()) + " texts, all empty or punctuation)");

  std::vector<int64_t> freq;
  freq.reserve(counts.size());
  int64_t at_least_min = 0;
  for (const auto& kv : counts) {
    freq.push_back(kv.second);
    if (kv.second >= kMinCount) ++at_least_min;
  }
  if (at_least_min == 0) return 1;  // a tiny corpus: keep every token
  int min_count = kMinCount;
  if (at_least_min > kMaxVocab) {
    std::nth_element(freq.begin(), freq.begin() + kMaxVocab, freq.end(), std::greater<int64_t>());
    min_count = static_cast<int>(std::max<int64_t>(kMinCount, freq[kMaxVocab] + 1));
  }
  return min_count;
}

std::unique_ptr<fasttext::FastText> train_model(const TextEncoderOptions& opt, const std::vector<std::string>& corpus,
                                                const std::string& train_path) {
  FileRemover remover{train_path};
  int64_t texts = 0, tokens = 0, distinct = 0;
  const int min_count = write_training_text(corpus, opt.seed, train_path, texts, tokens, distinct);
  spdlog::info("fasttext: training on {} of {} distinct texts ({} tokens, cap {}), dim {}, minCount {}, {} epochs",
               texts, distinct, tokens, kFastTextMaxTrainTokens, opt.dim, min_count, kEpochs);

  fasttext::Args args;
  args.input = train_path;
  args.model = fasttext::model_name::cbow;
  args.loss = fasttext::loss_name::ns;
  args.dim = opt.dim;
  args.ws = kWindow;
  args.epoch = kEpochs;
  args.minCount = min_count;
  args.neg = kNegatives;
  args.wordNgrams = 1;
  args.minn = kMinN;
  args.maxn = kMaxN;
  args.bucket = kBuckets;
  args.lr = kLearningRate;
  args.t = kSampleThreshold;
  args.thread = 1;  // one thread: the same seed gives the same model
  args.seed = static_cast<int>(opt.seed & 0x7fffffff);
  args.verbose = 0;

  auto ft = std::make_unique<fasttext::FastText>();
  const int64_t total = (tokens + texts) * kEpochs;  // fastText counts an end-of-line token per line
  Progress progress("fasttext: training", total, "tokens");
  auto last = std::chrono::steady_clock::now();
  try {
    // fastText calls back every 64 lines; log at most every 5 s, with its estimate of the time left.
    ft->train(args, [&](float done, float, double, double, int64_t eta_s) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::seconds(5)) return;
      last = now;
      spdlog::info("fasttext: training {:.0f}% ({:.0f} s, about {} s left)", 100.0 * done, progress.elapsed_s(),
                   eta_s);
    });
  } catch (const std::exception& e) {
    throw Error(std::string("fasttext: training failed: ") + e.what());
  }
  progress.finish(total);
  return ft;
}

}  // namespace

std::string segment_text(std::string_view text) {
  std::string out;
  std::string word;
  char32_t prev_cjk = 0;  // the previous code point when it was CJK, for the bigram
  auto emit = [&out](const std::string& tok) {
    if (!out.empty()) out.push_back(' ');
    out += tok;
  };
  auto flush_word = [&]() {
    if (!word.empty()) emit(word);
    word.clear();
  };
  std::string tok;
  for (char32_t c : decode_utf8(text)) {
    c = fold_code_point(c);
    if (c == 0) continue;  // invisible: neither splits nor joins
    if (is_cjk(c)) {
      flush_word();
      if (prev_cjk != 0) {
        tok.clear();
        append_utf8(prev_cjk, tok);
        append_utf8(c, tok);
        emit(tok);
      }
      tok.clear();
      append_utf8(c, tok);
      emit(tok);
      prev_cjk = c;
      continue;
    }
    prev_cjk = 0;
    if (is_word_char(c)) {
      if (static_cast<int>(word.size()) < kMaxWordBytes) append_utf8(c, word);
    } else {
      flush_word();
      if (is_emoji(c)) {
        tok.clear();
        append_utf8(c, tok);
        emit(tok);
      }
    }
  }
  flush_word();
  return out;
}

std::unique_ptr<TextEncoder> make_fasttext_text_encoder(const TextEncoderOptions& opt,
                                                        const std::vector<std::string>& corpus) {
  if (opt.dim < 1) throw Error("fasttext text encoder: dim must be at least 1, got " + std::to_string(opt.dim));
  const std::string key = cache_key(opt, corpus);
  std::string cache_path;
  if (!opt.cache_dir.empty()) {
    std::error_code ec;
    fs::create_directories(opt.cache_dir, ec);
    if (ec) throw Error("fasttext: cannot create the cache folder " + opt.cache_dir + ": " + ec.message());
    cache_path = (fs::path(opt.cache_dir) / ("fasttext-" + key + ".bin")).string();
    if (fs::exists(cache_path, ec)) {
      auto ft = std::make_unique<fasttext::FastText>();
      try {
        ft->loadModel(cache_path);
        if (ft->getDimension() == opt.dim) {
          spdlog::info("fasttext: loaded the cached model {} ({} words, dim {})", cache_path,
                       ft->getDictionary()->nwords(), ft->getDimension());
          return std::make_unique<FastTextEncoder>(std::move(ft));
        }
        spdlog::warn("fasttext: cached model {} has dim {}, expected {}; retraining", cache_path, ft->getDimension(),
                     opt.dim);
      } catch (const std::exception& e) {
        spdlog::warn("fasttext: cannot load the cached model {} ({}); retraining", cache_path, e.what());
      }
    }
  }

  const fs::path tmp_dir = opt.cache_dir.empty() ? fs::temp_directory_path() : fs::path(opt.cache_dir);
  const std::string stem = "fasttext-" + key + "." + std::to_string(::getpid());
  const auto start = std::chrono::steady_clock::now();
  auto ft = train_model(opt, corpus, (tmp_dir / (stem + ".train.txt")).string());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("fasttext: trained in {:.1f} s ({} words in the vocabulary)", secs, ft->getDictionary()->nwords());

  if (!cache_path.empty()) {
    const std::string tmp = (tmp_dir / (stem + ".bin.tmp")).string();
    try {
      ft->saveModel(tmp);
    } catch (const std::exception& e) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw Error("fasttext: cannot save the model to " + tmp + ": " + e.what());
    }
    std::error_code ec;
    fs::rename(tmp, cache_path, ec);
    if (ec) {
      const std::string why = ec.message();
      fs::remove(tmp, ec);
      throw Error("fasttext: cannot move the model to " + cache_path + ": " + why);
    }
    spdlog::info("fasttext: cached the model as {}", cache_path);
  }
  return std::make_unique<FastTextEncoder>(std::move(ft));
}

}  // namespace spir
