// Byte-level BPE training with incremental pair counts (a lazy max-heap over pair counts, and for each pair the
// pre-tokens that hold it, so a merge touches only those pre-tokens).
#include "llm/bpe_trainer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <queue>
#include <spdlog/spdlog.h>
#include <system_error>

#include "core/error.h"
#include "core/line_io.h"
#include "core/progress.h"
#include "core/utf8.h"
#include "llm/bpe_tokenizer.h"

namespace spir {

namespace {

// The Qwen2 Split pattern, byte for byte as Qwen2's tokenizer.json holds it.
const char* const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// GPT-2's table: printable bytes map to their own code point, the other 68 to U+0100.. in byte order.
char32_t byte_code_point(unsigned char b) {
  auto printable = [](int c) { return (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255); };
  if (printable(b)) return b;
  int n = 0;
  for (int c = 0; c < b; ++c)
    if (!printable(c)) ++n;
  return char32_t(256 + n);
}

uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

// A heap entry: the count a pair had when pushed (stale when the pair's count has changed since).
struct HeapEntry {
  int64_t count;
  uint64_t pair;
  // Priority order: the higher count first, then the smaller (left, right) pair.
  bool operator<(const HeapEntry& o) const { return count != o.count ? count < o.count : pair > o.pair; }
};

// Loads the tokenizer of a model without merges, through a temporary tokenizer.json, for its pre-tokenizer.
BpeTokenizer base_tokenizer(const BpeModel& base) {
  static std::atomic<int> counter{0};
  const std::filesystem::path tmp = std::filesystem::temp_directory_path() /
                                    ("spir_bpe_base_" + std::to_string(::getpid()) + "_" +
                                     std::to_string(counter++) + ".json");
  write_bpe_tokenizer_json(base, tmp.string());
  struct Remove {
    std::filesystem::path p;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove(p, ec);
    }
  } remove{tmp};
  return BpeTokenizer::from_file(tmp.string());
}

}  // namespace

const char* qwen2_split_pattern() { return kQwen2Pattern; }

std::string byte_level_symbol(unsigned char b) {
  std::string s;
  append_utf8(byte_code_point(b), s);
  return s;
}

std::vector<std::string> byte_level_alphabet() {
  std::vector<std::pair<char32_t, int>> cps;
  for (int b = 0; b < 256; ++b) cps.emplace_back(byte_code_point(static_cast<unsigned char>(b)), b);
  std::sort(cps.begin(), cps.end());
  std::vector<std::string> out;
  for (const auto& [cp, b] : cps) out.push_back(byte_level_symbol(static_cast<unsigned char>(b)));
  return out;
}

std::string BpeModel::merge_string(size_t r) const {
  return vocab[size_t(merges[r].first)] + " " + vocab[size_t(merges[r].second)];
}

BpeModel train_bpe(const std::vector<std::string>& texts, const BpeTrainerOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  if (opt.vocab_size < 256)
    throw Error("BPE training: vocab_size " + std::to_string(opt.vocab_size) + " is below the 256 byte symbols");
  BpeModel m;
  m.vocab = byte_level_alphabet();
  m.special_tokens = opt.special_tokens;
  std::unordered_map<std::string, int32_t> token_id;
  for (size_t i = 0; i < m.vocab.size(); ++i) token_id[m.vocab[i]] = int32_t(i);
  int32_t cp_id[512];
  std::fill(std::begin(cp_id), std::end(cp_id), -1);
  for (size_t i = 0; i < m.vocab.size(); ++i) cp_id[decode_utf8(m.vocab[i])[0]] = int32_t(i);

  // 1. Pre-token counts, with exactly the tokenizer's own pre-tokenizer.
  const BpeTokenizer pre = base_tokenizer(m);
  std::unordered_map<std::string, int64_t> counts;
  {
    Progress prog("BPE pre-tokenising", int64_t(texts.size()), "texts");
    for (size_t i = 0; i < texts.size(); ++i) {
      for (std::string& p : pre.pretokens(texts[i])) {
        ++counts[std::move(p)];
        ++m.pretokens_total;
      }
      if (opt.progress) prog.update(int64_t(i + 1));
    }
    if (opt.progress) prog.finish(int64_t(texts.size()));
  }
  m.pretokens_unique = int64_t(counts.size());

  // Words in a fixed order (by string) so that everything after is independent of hash-map iteration order.
  std::vector<std::string> word_str;
  word_str.reserve(counts.size());
  for (const auto& kv : counts) word_str.push_back(kv.first);
  std::sort(word_str.begin(), word_str.end());
  std::vector<std::vector<int32_t>> words(word_str.size());
  std::vector<int64_t> word_count(word_str.size());
  for (size_t w = 0; w < word_str.size(); ++w) {
    word_count[w] = counts[word_str[w]];
    for (char32_t c : decode_utf8(word_str[w])) {
      if (c >= 512 || cp_id[c] < 0) throw Error("BPE training: pre-token holds a non-byte-level symbol");
      words[w].push_back(cp_id[c]);
    }
  }
  counts.clear();

  // 2. Pair counts and where each pair occurs.
  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<int32_t>> pair_words;
  pair_count.reserve(1 << 16);
  pair_words.reserve(1 << 16);
  for (size_t w = 0; w < words.size(); ++w) {
    const auto& s = words[w];
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const uint64_t k = pair_key(s[i], s[i + 1]);
      pair_count[k] += word_count[w];
      auto& list = pair_words[k];
      if (list.empty() || list.back() != int32_t(w)) list.push_back(int32_t(w));
    }
  }
  std::priority_queue<HeapEntry> heap;
  for (const auto& [k, c] : pair_count) heap.push({c, k});

  // 3. Merges.
  std::vector<int64_t> visited(words.size(), -1);  // merge rank at which a word was last rewritten
  std::vector<uint64_t> touched;                   // pairs holding the new token, to (re)push
  std::vector<int32_t> merged;
  const int64_t target = opt.vocab_size;
  Progress prog("BPE merges", target - int64_t(m.vocab.size()), "merges");
  while (int64_t(m.vocab.size()) < target && !heap.empty()) {
    const HeapEntry top = heap.top();
    heap.pop();
    auto pc = pair_count.find(top.pair);
    const int64_t cur = pc == pair_count.end() ? 0 : pc->second;
    if (cur != top.count) {  // stale entry: counts of existing pairs only fall, so re-queue at the current count
      if (cur > 0) heap.push({cur, top.pair});
      continue;
    }
    if (cur < opt.min_frequency) break;
    const int32_t left = int32_t(top.pair >> 32), right = int32_t(top.pair & 0xFFFFFFFFu);
    const std::string joined = m.vocab[size_t(left)] + m.vocab[size_t(right)];
    int32_t id;
    auto it = token_id.find(joined);
    if (it != token_id.end()) {
      id = it->second;  // the same string reached by another pair: the merge is recorded, the token reused
    } else {
      id = int32_t(m.vocab.size());
      m.vocab.push_back(joined);
      token_id.emplace(joined, id);
    }
    const int64_t rank = int64_t(m.merges.size());
    m.merges.emplace_back(left, right);
    m.merge_counts.push_back(cur);

    std::vector<int32_t> where = std::move(pair_words[top.pair]);
    pair_words.erase(top.pair);
    touched.clear();
    for (int32_t w : where) {
      if (visited[size_t(w)] == rank) continue;
      visited[size_t(w)] = rank;
      auto& s = words[size_t(w)];
      const int64_t c = word_count[size_t(w)];
      bool has = false;
      for (size_t i = 0; i + 1 < s.size() && !has; ++i) has = s[i] == left && s[i + 1] == right;
      if (!has) continue;  // a stale entry: an earlier merge already rewrote this occurrence
      merged.clear();
      for (size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == left && s[i + 1] == right) {
          merged.push_back(id);
          i += 2;
        } else {
          merged.push_back(s[i]);
          ++i;
        }
      }
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        auto p = pair_count.find(pair_key(s[i], s[i + 1]));
        if ((p->second -= c) == 0) pair_count.erase(p);
      }
      for (size_t i = 0; i + 1 < merged.size(); ++i) {
        const uint64_t k = pair_key(merged[i], merged[i + 1]);
        pair_count[k] += c;
        if (merged[i] == id || merged[i + 1] == id) {
          touched.push_back(k);
          auto& list = pair_words[k];
          if (list.empty() || list.back() != w) list.push_back(w);
        }
      }
      s.swap(merged);
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (uint64_t k : touched) {
      auto p = pair_count.find(k);
      if (p != pair_count.end() && p->second > 0) heap.push({p->second, k});
    }
    if (opt.progress) prog.update(int64_t(m.merges.size()));
  }
  if (opt.progress) prog.finish(int64_t(m.merges.size()));

  if (opt.keep_segmentation)
    for (size_t w = 0; w < words.size(); ++w) m.segmentation.emplace(word_str[w], words[w]);
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("BPE: {} pre-tokens ({} distinct), {} merges, {} tokens + {} special, {:.1f} s", m.pretokens_total,
               m.pretokens_unique, m.merges.size(), m.vocab.size(), m.special_tokens.size(), m.seconds);
  return m;
}

nlohmann::ordered_json bpe_tokenizer_json(const BpeModel& m) {
  using J = nlohmann::ordered_json;
  const J byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  J j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  J added = J::array();
  for (size_t i = 0; i < m.special_tokens.size(); ++i)
    added.push_back({{"id", int64_t(m.vocab.size() + i)},
                     {"content", m.special_tokens[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  j["added_tokens"] = std::move(added);
  j["normalizer"] = {{"type", "NFC"}};
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", J::array({{{"type", "Split"},
                                                     {"pattern", {{"Regex", kQwen2Pattern}}},
                                                     {"behavior", "Isolated"},
                                                     {"invert", false}},
                                                    byte_level})}};
  j["post_processor"] = byte_level;
  j["decoder"] = byte_level;
  J vocab = J::object();
  for (size_t i = 0; i < m.vocab.size(); ++i) vocab[m.vocab[i]] = int64_t(i);
  J merges = J::array();
  for (size_t r = 0; r < m.merges.size(); ++r) merges.push_back(m.merge_string(r));
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", ""},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", std::move(vocab)},
                {"merges", std::move(merges)}};
  return j;
}

void write_bpe_tokenizer_json(const BpeModel& m, const std::string& path) {
  write_file_atomic(path, bpe_tokenizer_json(m).dump(2, ' ', /*ensure_ascii=*/false) + "\n");
}

}  // namespace spir
