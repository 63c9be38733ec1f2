#include "llm/prompt.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/utf8.h"

namespace spir {

PromptTokens add_prompt_tokens(BpeTokenizer& tok) {
  PromptTokens t;
  t.im_start = tok.add_special_token("<|im_start|>");
  t.im_end = tok.add_special_token("<|im_end|>");
  t.graph_start = tok.add_special_token("<|graph_start|>");
  t.graph_pad = tok.add_special_token("<|graph_pad|>");
  t.graph_end = tok.add_special_token("<|graph_end|>");
  return t;
}

nlohmann::ordered_json count_or_null(int64_t v) { return v == kMissing ? nlohmann::ordered_json() : nlohmann::ordered_json(v); }

std::string defuse(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    o += s[i];
    if (s[i] == '<' && i + 1 < s.size() && s[i + 1] == '|') o += ' ';
  }
  return o;
}

namespace {

std::string cut_chars(const std::string& text, int64_t n) {
  const std::string s = defuse(text);
  if (n < 0) return s;
  const std::u32string cps = decode_utf8(s);
  if (static_cast<int64_t>(cps.size()) <= n) return s;
  return encode_utf8(cps, 0, static_cast<size_t>(n));
}

// The visible comments of s chosen for the prompt: all when at most max_comments, else max_comments at random
// (a partial Fisher-Yates draw seeded by (seed, sample id)), returned in time order.
std::vector<size_t> chosen_comments(const Video& v, const Sample& s, const PromptOptions& opt) {
  const size_t visible = static_cast<size_t>(std::clamp<int64_t>(s.comments_visible, 0, static_cast<int64_t>(v.comments.size())));
  std::vector<size_t> idx(visible);
  std::iota(idx.begin(), idx.end(), size_t{0});
  const size_t cap = static_cast<size_t>(std::max(opt.max_comments, 0));
  if (visible <= cap) return idx;
  Rng rng = Rng(opt.seed).split(static_cast<uint64_t>(s.id) + 1);
  for (size_t i = 0; i < cap; ++i) std::swap(idx[i], idx[i + rng.below(visible - i)]);
  idx.resize(cap);
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace

nlohmann::ordered_json sample_json(const Dataset& d, const Sample& s, const PromptOptions& opt, int64_t keep_comments,
                                   int64_t description_chars, int64_t title_chars) {
  const Video& v = d.set.videos.at(static_cast<size_t>(s.video));
  nlohmann::ordered_json j;
  j["platform"] = defuse(v.platform);
  j["topic"] = defuse(v.topic);
  j["title"] = cut_chars(v.title, title_chars);
  j["description"] = cut_chars(v.desc, description_chars);
  j["author"] = defuse(v.nickname);
  j["post_time"] = format_datetime(v.post_time);
  j["crawl_date"] = format_date(s.ctime_day);
  j["duration"] = std::isfinite(v.duration) ? nlohmann::ordered_json(v.duration) : nlohmann::ordered_json();
  for (int i = 0; i < kNumIndicators; ++i) j[indicator_name(i)] = count_or_null(s.counts[static_cast<size_t>(i)]);
  std::vector<size_t> chosen = chosen_comments(v, s, opt);
  if (keep_comments >= 0 && static_cast<int64_t>(chosen.size()) > keep_comments) chosen.resize(static_cast<size_t>(keep_comments));
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (size_t c : chosen) {
    const Comment& cm = v.comments[c];
    list.push_back({{"time", format_datetime(cm.time)}, {"content", defuse(cm.text)}});
  }
  j["comment_list"] = std::move(list);
  return j;
}

std::string instruction_text(const std::string& x_v, bool graph) {
  // Eq. 12.
  std::string s = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n";
  if (graph) s += "Graph 1: <|graph_start|><|graph_pad|><|graph_end|>";
  s += "Please read the following json format information about the short-video and predict the final propagation "
       "influence level (levels 0~9) of the short-video: ";
  s += x_v;
  s += "<|im_end|>\n<|im_start|>assistant\n";
  return s;
}

const char* response_prefix() { return "The influence level of this short-video is "; }

std::string response_text(int level) { return std::string(response_prefix()) + std::to_string(level); }

EncodedPrompt encode_prompt(const BpeTokenizer& tok, const Dataset& d, const Sample& s, const PromptOptions& opt) {
  const Video& v = d.set.videos.at(static_cast<size_t>(s.video));
  EncodedPrompt out;
  out.comments_total = std::clamp<int64_t>(s.comments_visible, 0, static_cast<int64_t>(v.comments.size()));
  const int64_t chosen = std::min<int64_t>(out.comments_total, std::max(opt.max_comments, 0));
  auto encode = [&](int64_t keep, int64_t desc, int64_t title) {
    const std::string x = sample_json(d, s, opt, keep, desc, title).dump(-1, ' ', /*ensure_ascii=*/false,
                                                                         nlohmann::json::error_handler_t::replace);
    return tok.encode(instruction_text(x, opt.graph));
  };
  auto fits = [&](const std::vector<int32_t>& ids) { return static_cast<int64_t>(ids.size()) <= opt.max_tokens; };
  std::vector<int32_t> ids = encode(chosen, -1, -1);
  int64_t kept = chosen;
  if (!fits(ids)) {
    out.truncated = true;
    // Largest number of comments that fits (binary search: the length grows with the comments kept).
    int64_t lo = 0, hi = chosen - 1;  // answer in [-1, chosen - 1]; -1: even none fits
    int64_t best = -1;
    std::vector<int32_t> best_ids;
    while (lo <= hi) {
      const int64_t mid = (lo + hi) / 2;
      std::vector<int32_t> t = encode(mid, -1, -1);
      if (fits(t)) best = mid, best_ids = std::move(t), lo = mid + 1;
      else hi = mid - 1;
    }
    if (best >= 0) {
      kept = best;
      ids = std::move(best_ids);
    } else {
      kept = 0;
      // Then the description, then the title: the longest prefix (in code points) that fits.
      const int64_t desc_len = count_code_points(v.desc), title_len = count_code_points(v.title);
      auto longest = [&](int64_t len, auto make) -> bool {
        int64_t l = 0, h = len, found = -1;
        std::vector<int32_t> f;
        while (l <= h) {
          const int64_t mid = (l + h) / 2;
          std::vector<int32_t> t = make(mid);
          if (fits(t)) found = mid, f = std::move(t), l = mid + 1;
          else h = mid - 1;
        }
        if (found < 0) return false;
        ids = std::move(f);
        return true;
      };
      if (!longest(desc_len, [&](int64_t n) { return encode(0, n, -1); }) &&
          !longest(title_len, [&](int64_t n) { return encode(0, 0, n); }))
        throw Error("prompt of sample " + std::to_string(s.id) + ": the instruction alone needs " +
                    std::to_string(encode(0, 0, 0).size()) + " tokens, more than the limit of " +
                    std::to_string(opt.max_tokens) + " (raise --max-prompt-tokens)");
    }
  }
  out.comments_kept = kept;
  out.ids = std::move(ids);
  if (opt.graph) {
    const int32_t pad = tok.token_id("<|graph_pad|>");
    if (pad < 0) throw Error("prompt: the tokenizer has no <|graph_pad|> token (call add_prompt_tokens first)");
    const auto it = std::find(out.ids.begin(), out.ids.end(), pad);
    if (it == out.ids.end() || std::find(it + 1, out.ids.end(), pad) != out.ids.end())
      throw Error("prompt of sample " + std::to_string(s.id) + ": expected exactly one <|graph_pad|> token");
    out.graph_pad_pos = it - out.ids.begin();
  }
  return out;
}

std::vector<int32_t> encode_response(const BpeTokenizer& tok, const PromptTokens& t, int level) {
  std::vector<int32_t> ids = tok.encode(response_text(level));
  ids.push_back(t.im_end);
  return ids;
}

int parse_level(const std::string& generated) {
  size_t from = generated.find(response_prefix());
  from = from == std::string::npos ? 0 : from + std::char_traits<char>::length(response_prefix());
  size_t i = from;
  while (i < generated.size() && !std::isdigit(static_cast<unsigned char>(generated[i]))) ++i;
  if (i == generated.size()) return -1;
  size_t j = i;
  while (j < generated.size() && std::isdigit(static_cast<unsigned char>(generated[j]))) ++j;
  if (j - i > 2) return -1;
  const int v = std::stoi(generated.substr(i, j - i));
  return v >= 0 && v <= 9 ? v : -1;
}

}  // namespace spir
